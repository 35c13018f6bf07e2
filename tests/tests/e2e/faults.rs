//! Fault injection on the real control plane (`make test-faults`; a short variant runs in `make
//! test`): the controller SIGKILLed at random points while hundreds of SealedSecrets are created,
//! updated and deleted, kube-apiserver and etcd killed and restarted, the pod's network cut, the
//! API server answering 429 (API priority and fairness) and 5xx (a fault-injecting proxy in front
//! of it), SIGKILL in the middle of key generation and renewal, key Secrets corrupted or deleted
//! by hand, and kubeseal against a controller Service that never answers, trickles or truncates,
//! and an API server that goes away mid-request. After each fault: every SealedSecret converges to exactly the Secret upstream's
//! controller makes of it (its template's type and labels, the sealed data, owned by it), no
//! Secret the controller does not own is created, changed or deleted, no key is lost or
//! duplicated, the controller runs (no crash), and nothing secret is in its log (also scanned at
//! the suite's teardown, with the audit log's writes against its permissions:
//! tests/src/lib.rs `OwnCluster::down`). docs/reliability.md lists the faults and the figures.
//!
//! `FAULT_RUNS=N` runs the SIGKILL workload with N seeds (default 2; `make test-faults`: 10), each
//! printed; `SEED=S` replays one.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Test;
use e2e::fault_proxy::{Counts, Fault, FaultProxy};
use e2e::{
    Cluster, b64decode, can_i_list, controller_writes, fixture, ours, process_start, random_hex,
    stderr, stdout, wait_for, writes_outside_permissions,
};
use serde_json::Value;

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster:
            permissions_are_the_checked_in_can_i_list,
            sigkill_during_500_sealed_secrets,
            apiserver_killed_and_restarted,
            etcd_killed_and_restarted,
            pod_network_cut_for_30s_and_restored,
            api_server_answers_429_for_a_while,
            api_server_answers_5xx_for_a_while,
            sigkill_in_the_middle_of_key_renewal,
            sigkill_in_the_middle_of_the_first_key_generation,
            key_secret_corrupted_then_deleted_by_hand,
            kubeseal_deadlines_against_a_silent_trickling_truncating_or_vanishing_server,
            // Last: what the controller wrote during every fault above.
            every_write_of_the_controller_is_one_of_its_permissions,
    ]
    .to_vec()
}

const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The controller's flags in this suite: every debug line is logged (and scanned); client-side
/// rate limiting well above the default 5 requests/s (upstream's), so that hundreds of
/// SealedSecrets converge within the suite's time and the faults, not the queue, are tested.
const CONTROLLER_FLAGS: &[&str] = &[
    "--log-level",
    "DEBUG",
    "--kubeclient-qps",
    "100",
    "--kubeclient-burst",
    "200",
];
const CONVERGE_SECS: u64 = 120;

// ---------------------------------------------------------------------------------------------
// a small seeded generator (the runs must be replayable from their seed)

struct Rng(u64);

impl Rng {
    /// SplitMix64.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

// ---------------------------------------------------------------------------------------------
// the cluster's parts

fn env_now(c: &Cluster) -> Cluster {
    Cluster::from_env_file(&c.dir)
}

fn controller_pid(c: &Cluster) -> String {
    env_now(c).var("SSRS_CONTROLLER_PID").to_string()
}

fn controller_running(c: &Cluster) -> bool {
    let pid = controller_pid(c);
    !pid.is_empty() && process_start(&pid).is_some()
}

fn kill_controller(c: &Cluster) {
    c.script(&["kill-replica", "0"]);
}

/// Starts the controller again (the flags it ran with) and waits for its /readyz.
fn start_controller(c: &Cluster) {
    c.script(&["start-replica", "0"]);
}

fn signal(pid: &str, sig: &str) {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

/// Waits until the API server answers /readyz (after it or etcd came back).
fn wait_apiserver_ready(c: &Cluster, secs: u64) {
    wait_for(secs, "kube-apiserver /readyz", || {
        let out = c.kubectl(&["get", "--raw", "/readyz", "--request-timeout=3s"], b"");
        (out.status.success() && stdout(&out) == "ok").then_some(())
    });
}

/// The key Secrets: name -> tls.crt (base64).
fn keys(c: &Cluster) -> BTreeMap<String, String> {
    c.key_secrets(KEY_LABEL)
        .iter()
        .map(|k| {
            (
                k["metadata"]["name"].as_str().unwrap().to_string(),
                k["data"]["tls.crt"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// Every key Secret is whole: a certificate and a private key in PEM, no two with one certificate.
fn assert_keys_whole(c: &Cluster) {
    let mut certs = Vec::new();
    for k in c.key_secrets(KEY_LABEL) {
        let name = k["metadata"]["name"].as_str().unwrap().to_string();
        let crt = String::from_utf8(b64decode(k["data"]["tls.crt"].as_str().unwrap_or_default()))
            .unwrap_or_default();
        let key = String::from_utf8(b64decode(k["data"]["tls.key"].as_str().unwrap_or_default()))
            .unwrap_or_default();
        assert!(
            crt.starts_with("-----BEGIN CERTIFICATE-----\n"),
            "key Secret {name}: no certificate"
        );
        assert!(
            key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
                || key.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "key Secret {name}: no private key"
        );
        assert!(!certs.contains(&crt), "key Secret {name}: a duplicate key");
        certs.push(crt);
    }
}

/// The certificate the controller serves (through the service proxy, as kubeseal fetches it).
fn served_cert(c: &Cluster) -> String {
    let out = c.run(
        &ours(),
        &["--fetch-cert", "--request-timeout", "10s"],
        b"",
        &[],
    );
    assert!(out.status.success(), "--fetch-cert: {}", stderr(&out));
    stdout(&out)
}

// ---------------------------------------------------------------------------------------------
// the invariants

/// What must hold after a fault, taken before it: the Secrets the controller does not own
/// (canaries made here, and every other unowned Secret of the cluster, key Secrets aside) with
/// their resourceVersions, the key Secrets, the controller log's length.
struct Before {
    unowned: BTreeMap<(String, String), String>,
    keys: BTreeMap<String, String>,
    log_from: u64,
}

/// Secrets without a SealedSecret owner, key Secrets aside: (namespace, name) -> resourceVersion.
fn unowned_secrets(c: &Cluster) -> BTreeMap<(String, String), String> {
    let list: Value =
        serde_json::from_str(&c.kubectl_ok(&["get", "secrets", "-A", "-o", "json"], b"")).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            !s["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|r| r["kind"] == "SealedSecret"))
                && s["metadata"]["labels"][KEY_LABEL].is_null()
        })
        .map(|s| {
            let m = &s["metadata"];
            (
                (
                    m["namespace"].as_str().unwrap().to_string(),
                    m["name"].as_str().unwrap().to_string(),
                ),
                m["resourceVersion"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

impl Before {
    fn take(c: &Cluster) -> Before {
        let log = env_now(c).var("SSRS_CONTROLLER_LOG").to_string();
        Before {
            unowned: unowned_secrets(c),
            keys: keys(c),
            log_from: std::fs::metadata(log).map(|m| m.len()).unwrap_or(0),
        }
    }

    /// The invariants, with the key Secrets expected unchanged.
    fn check(&self, c: &Cluster, workloads: &[&Workload]) {
        self.check_keys(c, |now| {
            assert_eq!(
                now.keys().collect::<Vec<_>>(),
                self.keys.keys().collect::<Vec<_>>(),
                "a key Secret was lost or added"
            );
            assert_eq!(*now, self.keys, "a key Secret changed");
        });
        for w in workloads {
            w.wait_converged(c, CONVERGE_SECS);
        }
        self.check_rest(c, workloads);
    }

    fn check_keys(&self, c: &Cluster, f: impl FnOnce(&BTreeMap<String, String>)) {
        assert_keys_whole(c);
        f(&keys(c));
    }

    /// Everything but the keys: unowned Secrets untouched, the controller running without a
    /// panic, the log clean of the workloads' plaintexts and of key material.
    fn check_rest(&self, c: &Cluster, workloads: &[&Workload]) {
        let now = unowned_secrets(c);
        // Secrets in the workloads' namespaces that nobody owns would be the controller's doing.
        let mut created: Vec<_> = now
            .keys()
            .filter(|k| !self.unowned.contains_key(*k))
            .collect();
        created.retain(|(ns, _)| workloads.iter().any(|w| w.ns == *ns) || ns == "kube-system");
        assert!(created.is_empty(), "unowned Secrets appeared: {created:?}");
        for (k, rv) in &self.unowned {
            // A namespace deleted by an earlier case takes its Secrets with it.
            if !namespace_exists(c, &k.0) {
                continue;
            }
            assert_eq!(
                now.get(k),
                Some(rv),
                "the unowned Secret {}/{} was changed or deleted",
                k.0,
                k.1
            );
        }
        assert!(controller_running(c), "the controller is not running");
        let env = env_now(c);
        let log = std::path::PathBuf::from(env.var("SSRS_CONTROLLER_LOG"));
        let text = std::fs::read(&log).unwrap_or_default();
        let text = String::from_utf8_lossy(text.get(self.log_from as usize..).unwrap_or_default())
            .into_owned();
        assert!(!text.contains("panicked at"), "the controller panicked");
        let plaintexts: Vec<String> = workloads
            .iter()
            .flat_map(|w| w.plaintexts.iter().cloned())
            .collect();
        e2e::assert_log_clean(
            &log,
            self.log_from,
            &plaintexts,
            &e2e::private_key_material(c),
        );
    }
}

fn namespace_exists(c: &Cluster, ns: &str) -> bool {
    c.kubectl(&["get", "namespace", ns], b"").status.success()
}

// ---------------------------------------------------------------------------------------------
// the workload

/// SealedSecrets of one namespace, and the Secret each must unseal to (`None`: deleted, so its
/// Secret must be gone too).
struct Workload {
    ns: String,
    cert: std::path::PathBuf,
    _dir: tempfile::TempDir,
    /// name -> (value, generation label) of the Secret it must become
    want: BTreeMap<String, Option<(String, u32)>>,
    plaintexts: Vec<String>,
    next: usize,
}

impl Workload {
    fn new(c: &Cluster, prefix: &str) -> Workload {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, served_cert(c)).unwrap();
        Workload {
            ns: c.namespace(prefix),
            cert,
            _dir: dir,
            want: BTreeMap::new(),
            plaintexts: Vec::new(),
            next: 0,
        }
    }

    /// Seals `(name, value, generation)` with our kubeseal (one run for all) and returns the
    /// SealedSecrets as YAML documents.
    fn seal(&self, c: &Cluster, items: &[(String, String, u32)]) -> String {
        let secrets: String = items
            .iter()
            .map(|(name, v, g)| {
                format!(
                    "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {}\n  \
                     labels:\n    app: faults\n    generation: \"{g}\"\ntype: example.com/faults\n\
                     stringData:\n  v: \"{v}\"\n",
                    self.ns
                )
            })
            .collect();
        let out = c.run(
            &ours(),
            &["--cert", self.cert.to_str().unwrap(), "-o", "yaml"],
            secrets.as_bytes(),
            &[],
        );
        assert!(out.status.success(), "kubeseal: {}", stderr(&out));
        stdout(&out)
    }

    fn fresh_value(&mut self, c: &Cluster) -> String {
        let v = format!("plaintext-{}-faults", random_hex(12));
        c.register_plaintext(&v);
        self.plaintexts.push(v.clone());
        v
    }

    /// Creates `n` new SealedSecrets (applied in batches of 50); their names.
    fn create(&mut self, c: &Cluster, n: usize) -> Vec<String> {
        let items: Vec<(String, String, u32)> = (0..n)
            .map(|_| {
                self.next += 1;
                (format!("s-{}", self.next), self.fresh_value(c), 1)
            })
            .collect();
        self.apply(c, &items);
        items.into_iter().map(|(n, _, _)| n).collect()
    }

    /// New values (and the next generation label) for `names`.
    fn update(&mut self, c: &Cluster, names: &[String]) {
        let items: Vec<(String, String, u32)> = names
            .iter()
            .map(|n| {
                let g = self
                    .want
                    .get(n)
                    .and_then(|w| w.as_ref().map(|(_, g)| g + 1))
                    .unwrap_or(1);
                (n.clone(), self.fresh_value(c), g)
            })
            .collect();
        self.apply(c, &items);
    }

    fn apply(&mut self, c: &Cluster, items: &[(String, String, u32)]) {
        for chunk in items.chunks(50) {
            let sealed = self.seal(c, chunk);
            apply_retrying(c, sealed.as_bytes());
            for (n, v, g) in chunk {
                self.want.insert(n.clone(), Some((v.clone(), *g)));
            }
        }
    }

    fn delete(&mut self, c: &Cluster, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let mut args = vec!["delete", "sealedsecret", "-n", &self.ns, "--wait=false"];
        args.extend(names.iter().map(String::as_str));
        c.kubectl_ok(&args, b"");
        for n in names {
            self.want.insert(n.clone(), None);
        }
    }

    /// Deletes the namespace and waits until it is gone: a controller restart re-reads every
    /// SealedSecret of the cluster, and a debug build takes minutes for thousands of them.
    fn remove(self, c: &Cluster) {
        c.kubectl_ok(
            &[
                "delete",
                "namespace",
                &self.ns,
                "--wait=true",
                "--timeout=300s",
            ],
            b"",
        );
    }

    fn live(&self) -> Vec<String> {
        self.want
            .iter()
            .filter(|(_, w)| w.is_some())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// What is wrong with the namespace now, if anything: every live SealedSecret's Secret has
    /// exactly the template's type and labels, the sealed data and the SealedSecret as its owner,
    /// and its status says Synced for the current generation; a deleted one has no Secret.
    fn diff(&self, c: &Cluster) -> Result<(), String> {
        let get = |kind: &str| -> Result<BTreeMap<String, Value>, String> {
            let out = c.kubectl(
                &[
                    "get",
                    kind,
                    "-n",
                    &self.ns,
                    "-o",
                    "json",
                    "--request-timeout=20s",
                ],
                b"",
            );
            if !out.status.success() {
                return Err(format!("kubectl get {kind}: {}", stderr(&out)));
            }
            let list: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
            Ok(list["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|o| (o["metadata"]["name"].as_str().unwrap_or("").to_string(), o))
                .collect())
        };
        let secrets = get("secrets")?;
        let sealed = get("sealedsecrets")?;
        for (name, want) in &self.want {
            let secret = secrets.get(name);
            let Some((value, generation)) = want else {
                if secret.is_some() || sealed.contains_key(name) {
                    return Err(format!("{name}: deleted, but still there"));
                }
                continue;
            };
            let ss = sealed
                .get(name)
                .ok_or_else(|| format!("{name}: no SealedSecret"))?;
            let secret = secret.ok_or_else(|| format!("{name}: no Secret yet"))?;
            let data = secret["data"]["v"].as_str().map(b64decode);
            if data.as_deref() != Some(value.as_bytes()) {
                return Err(format!("{name}: data differs"));
            }
            if secret["data"].as_object().map(|d| d.len()) != Some(1) {
                return Err(format!("{name}: other data keys"));
            }
            if secret["type"] != "example.com/faults" {
                return Err(format!("{name}: type {}", secret["type"]));
            }
            let labels = &secret["metadata"]["labels"];
            let want_labels =
                serde_json::json!({"app": "faults", "generation": generation.to_string()});
            if *labels != want_labels {
                return Err(format!("{name}: labels {labels}"));
            }
            let owners = secret["metadata"]["ownerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if owners.len() != 1
                || owners[0]["kind"] != "SealedSecret"
                || owners[0]["uid"] != ss["metadata"]["uid"]
                || owners[0]["controller"] != true
            {
                return Err(format!("{name}: owners {owners:?}"));
            }
            let synced = ss["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Synced").cloned());
            let ok = synced.as_ref().is_some_and(|s| s["status"] == "True")
                && ss["status"]["observedGeneration"] == ss["metadata"]["generation"];
            if !ok {
                return Err(format!("{name}: status {}", ss["status"]));
            }
        }
        if let Some(extra) = secrets.keys().find(|n| !self.want.contains_key(*n)) {
            return Err(format!("an unexpected Secret {extra}"));
        }
        Ok(())
    }

    fn wait_converged(&self, c: &Cluster, secs: u64) -> Duration {
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_secs(secs);
        loop {
            match self.diff(c) {
                Ok(()) => return t0.elapsed(),
                Err(e) if Instant::now() >= deadline => panic!(
                    "{}: not converged after {secs}s ({} SealedSecrets): {e}",
                    self.ns,
                    self.want.len()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(500)),
            }
        }
    }
}

/// The SealedSecrets of `ns` the controller gave up on (`Error updating, giving up`) since
/// `before`.
fn given_up_in_log(c: &Cluster, before: &Before, ns: &str) -> BTreeSet<String> {
    let log = std::fs::read(env_now(c).var("SSRS_CONTROLLER_LOG")).unwrap_or_default();
    let log = String::from_utf8_lossy(log.get(before.log_from as usize..).unwrap_or_default())
        .into_owned();
    let key = format!("key={ns}/");
    log.lines()
        .filter(|l| l.contains("\"Error updating, giving up\""))
        .filter_map(|l| l.split_once(&key))
        .filter_map(|(_, rest)| rest.split_whitespace().next().map(str::to_string))
        .collect()
}

/// `kubectl apply`, retried for a while: the API server itself may be recovering from a fault.
fn apply_retrying(c: &Cluster, docs: &[u8]) {
    let mut last = String::new();
    for _ in 0..30 {
        let out = c.kubectl(&["apply", "-f", "-", "--request-timeout=30s"], docs);
        if out.status.success() {
            return;
        }
        last = stderr(&out);
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!("kubectl apply failed 30 times: {last}");
}

/// Canary Secrets nobody owns, one plain and one carrying the managed annotation's cousin labels;
/// [`Before::check_rest`] proves that the faults leave them alone.
fn canaries(c: &Cluster, ns: &str) {
    let v = format!("plaintext-{}-canary", random_hex(12));
    c.register_plaintext(&v);
    c.kubectl_ok(
        &[
            "create",
            "secret",
            "generic",
            "canary",
            "-n",
            ns,
            &format!("--from-literal=v={v}"),
        ],
        b"",
    );
}

// ---------------------------------------------------------------------------------------------
// the cases

/// The controller's effective permissions are exactly the checked-in ones (deploy/base/rbac.yaml
/// and Kubernetes' defaults for every authenticated user): in its own namespace, in `default` and
/// in any other namespace it serves.
fn permissions_are_the_checked_in_can_i_list(c: &Cluster) {
    // The rest of the suite runs the controller at its most verbose level.
    let mut args = vec!["restart-controller", "--"];
    args.extend_from_slice(CONTROLLER_FLAGS);
    c.script(&args);
    let other = c.namespace("can-i");
    for (ns, file) in [
        (c.controller_namespace.as_str(), "kube-system.txt"),
        ("default", "other-namespace.txt"),
        (other.as_str(), "other-namespace.txt"),
    ] {
        let path = fixture("can-i").join(file);
        let rows = can_i_list(c, ns).unwrap();
        if std::env::var_os("UPDATE_CAN_I").is_some() {
            std::fs::write(&path, rows.join("\n") + "\n").unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            rows.join("\n") + "\n",
            want,
            "kubectl auth can-i --list -n {ns} (UPDATE_CAN_I=1 rewrites {})",
            path.display()
        );
    }
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("SEED").ok().and_then(|s| s.parse().ok()) {
        return vec![seed];
    }
    let runs: usize = std::env::var("FAULT_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    (0..runs)
        .map(|_| u64::from_str_radix(&random_hex(12), 16).unwrap())
        .collect()
}

/// The controller SIGKILLed at random points (seeded) while 500 SealedSecrets are created, then
/// 100 of them updated and 100 deleted, some batches applied while it is down.
fn sigkill_during_500_sealed_secrets(c: &Cluster) {
    let canary_ns = c.namespace("canary");
    canaries(c, &canary_ns);
    for seed in seeds() {
        println!("faults: sigkill_during_500_sealed_secrets seed {seed} (replay: SEED={seed})");
        let t0 = Instant::now();
        let mut rng = Rng(seed);
        let before = Before::take(c);
        let mut w = Workload::new(c, "kill");
        let mut kills = 0;
        // 10 batches of creations, then 2 of updates and 2 of deletions, in a seeded order
        let mut batches: Vec<&str> = vec!["create"; 10];
        for _ in 0..2 {
            let at = 3 + rng.below(batches.len() as u64 - 2) as usize;
            batches.insert(at, "update");
            let at = 3 + rng.below(batches.len() as u64 - 2) as usize;
            batches.insert(at, "delete");
        }
        let mut down_for = 0;
        for op in batches {
            let live = w.live();
            match op {
                "create" => {
                    w.create(c, 50);
                }
                "update" => {
                    let names: Vec<String> = (0..50)
                        .map(|_| live[rng.below(live.len() as u64) as usize].clone())
                        .collect();
                    let mut names = names;
                    names.sort();
                    names.dedup();
                    w.update(c, &names);
                }
                _ => {
                    let mut names: Vec<String> = (0..50)
                        .map(|_| live[rng.below(live.len() as u64) as usize].clone())
                        .collect();
                    names.sort();
                    names.dedup();
                    w.delete(c, &names);
                }
            }
            if down_for > 0 {
                down_for -= 1;
                if down_for == 0 {
                    start_controller(c);
                }
                continue;
            }
            // SIGKILL with probability 1/3, after 0 to 2 s (in the middle of the batch's work);
            // it stays down for the next 0 to 2 batches
            if rng.below(3) == 0 {
                std::thread::sleep(Duration::from_millis(rng.below(2000)));
                kill_controller(c);
                kills += 1;
                down_for = rng.below(3);
                if down_for == 0 {
                    start_controller(c);
                }
            }
        }
        if !controller_running(c) {
            start_controller(c);
        }
        let converged = w.wait_converged(c, CONVERGE_SECS);
        before.check(c, &[&w]);
        println!(
            "faults: seed {seed}: {} SealedSecrets ({} live), {kills} SIGKILLs, converged {:.1}s \
             after the last operation, {:.1}s in all",
            w.want.len(),
            w.live().len(),
            converged.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
        w.remove(c);
    }
}

/// A fresh workload of `n` converged SealedSecrets, the invariants' starting point, the
/// controller's pid.
fn settled(c: &Cluster, prefix: &str, n: usize) -> (Workload, Before, String) {
    let mut w = Workload::new(c, prefix);
    w.create(c, n);
    w.wait_converged(c, CONVERGE_SECS);
    (w, Before::take(c), controller_pid(c))
}

/// Operations after a fault, then the invariants: 30 new SealedSecrets, 10 updated, 10 deleted.
fn after_fault(c: &Cluster, before: &Before, w: &mut Workload, what: &str) {
    let t0 = Instant::now();
    let live = w.live();
    w.create(c, 30);
    w.update(c, &live[..10]);
    w.delete(c, &live[10..20]);
    let converged = w.wait_converged(c, CONVERGE_SECS);
    before.check(c, &[w]);
    println!(
        "faults: {what}: converged {:.1}s after the operations ({:.1}s with them)",
        converged.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
}

fn apiserver_killed_and_restarted(c: &Cluster) {
    killed_and_restarted(c, "apiserver", |_| {});
}

fn etcd_killed_and_restarted(c: &Cluster) {
    killed_and_restarted(c, "etcd", |w| {
        // the API server answers 5xx meanwhile (what a client sees of a dead etcd)
        let out = c.kubectl(
            &["get", "secrets", "-n", &w.ns, "--request-timeout=5s"],
            b"",
        );
        assert!(
            !out.status.success(),
            "the API server answered without etcd"
        );
    });
}

/// `daemon` (`apiserver` or `etcd`) SIGKILLed, `while_down`, back after 5 s; then work and the
/// invariants, the controller never restarted.
fn killed_and_restarted(c: &Cluster, daemon: &str, while_down: impl FnOnce(&Workload)) {
    let (mut w, before, pid) = settled(c, daemon, 40);
    c.script(&[&format!("kill-{daemon}")]);
    while_down(&w);
    std::thread::sleep(Duration::from_secs(5));
    c.script(&[&format!("start-{daemon}")]);
    wait_apiserver_ready(c, 60);
    after_fault(c, &before, &mut w, &format!("{daemon} SIGKILLed for 5 s"));
    assert_eq!(controller_pid(c), pid, "the controller was restarted");
    w.remove(c);
}

fn pod_network_cut_for_30s_and_restored(c: &Cluster) {
    let (mut w, before, pid) = settled(c, "netcut", 40);
    c.script(&["cut-network", "0"]);
    let t0 = Instant::now();
    // The cut is real: the service proxy cannot reach the pod.
    let out = c.run(
        &ours(),
        &["--fetch-cert", "--request-timeout", "5s"],
        b"",
        &[],
    );
    assert!(
        !out.status.success(),
        "the controller answered through a cut link"
    );
    // Work arrives while the pod is cut off.
    let live = w.live();
    w.create(c, 30);
    w.update(c, &live[..10]);
    w.delete(c, &live[10..20]);
    if let Some(rest) = Duration::from_secs(30).checked_sub(t0.elapsed()) {
        std::thread::sleep(rest);
    }
    c.script(&["restore-network", "0"]);
    let t1 = Instant::now();
    let converged = w.wait_converged(c, 180);
    before.check(c, &[&w]);
    assert_eq!(controller_pid(c), pid, "the controller was restarted");
    println!(
        "faults: pod network cut for 30 s: converged {:.1}s after the restore ({:.1}s)",
        converged.as_secs_f64(),
        t1.elapsed().as_secs_f64()
    );
    w.remove(c);
}

/// API priority and fairness: the controller's ServiceAccount on a priority level of no nominal
/// seats that rejects what it cannot seat (429), for 15 s under work, then the limit lifted.
fn api_server_answers_429_for_a_while(c: &Cluster) {
    let (mut w, before, pid) = settled(c, "throttle", 20);
    let name = format!("faults-{}", random_hex(6));
    let apf = format!(
        r#"apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: {name}
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 0
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse:
      type: Reject
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: {name}
spec:
  priorityLevelConfiguration:
    name: {name}
  matchingPrecedence: 50
  distinguisherMethod:
    type: ByUser
  rules:
  - subjects:
    - kind: ServiceAccount
      serviceAccount:
        name: {}
        namespace: {}
    resourceRules:
    - verbs: ["*"]
      apiGroups: ["*"]
      resources: ["*"]
      clusterScope: true
      namespaces: ["*"]
"#,
        c.controller_name, c.controller_namespace
    );
    c.kubectl_ok(&["apply", "-f", "-"], apf.as_bytes());
    let ns = w.ns.clone();
    let count_429 = || {
        controller_writes(c)
            .iter()
            .filter(|w| w.namespace == ns && w.code == 429)
            .count()
    };
    let live = w.live();
    // The writes of this work are what the controller will be refused.
    let t_limit = Instant::now();
    w.create(c, 100);
    w.update(c, &live[..10]);
    wait_for(60, "429s for the controller's writes", || {
        (count_429() > 0).then_some(())
    });
    if let Some(rest) = Duration::from_secs(15).checked_sub(t_limit.elapsed()) {
        std::thread::sleep(rest);
    }
    let refused = count_429();
    c.kubectl_ok(
        &["delete", "flowschema,prioritylevelconfiguration", &name],
        b"",
    );
    let t0 = Instant::now();
    let converged = w.wait_converged(c, CONVERGE_SECS);
    before.check(c, &[&w]);
    assert_eq!(controller_pid(c), pid, "the controller was restarted");
    println!(
        "faults: 429s for the controller for 15 s ({refused} refused writes in the audit log): \
         converged {:.1}s after the limit was lifted ({:.1}s)",
        converged.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    w.remove(c);
}

/// The API server answering 5xx, through a fault-injecting proxy in front of it for the controller
/// only (tests/src/fault_proxy.rs; the pod's in-cluster address points at it), 8 s each under
/// work: writes refused with 503 and 500 (reads go through), writes carried out whose answer is
/// lost (504), then everything refused, the watches cut. Each fault proved by the proxy's counts.
fn api_server_answers_5xx_for_a_while(c: &Cluster) {
    let host: std::net::IpAddr = c.var("SSRS_HOST_IP").parse().unwrap();
    let apiserver: u16 = c.var("SSRS_APISERVER_PORT").parse().unwrap();
    let pki = c.dir.join("pki");
    let proxy = FaultProxy::start(
        host,
        std::net::SocketAddr::new([127, 0, 0, 1].into(), apiserver),
        &pki.join("apiserver.crt"),
        &pki.join("apiserver.key"),
        &pki.join("ca.crt"),
    );
    let port = proxy.port();
    let pod_env = format!(
        "KUBERNETES_SERVICE_PORT={port} KUBERNETES_SERVICE_PORT_HTTPS={port} \
         KUBERNETES_PORT=tcp://{host}:{port}"
    );
    let mut args = vec!["restart-controller", "--"];
    args.extend_from_slice(CONTROLLER_FLAGS);
    c.script_with(&args, &[("CONTROLLER_ENV", &pod_env)]);
    let direct = DirectAgain(c);
    let (mut w, before, pid) = settled(c, "apierrors", 20);
    assert!(
        proxy.counts().forwarded > 0,
        "the controller does not go through the proxy"
    );
    let t0 = Instant::now();
    let phase = |w: &mut Workload, fault: Fault, proof: &dyn Fn(Counts) -> usize, what: &str| {
        let t = Instant::now();
        proxy.set(fault);
        let live = w.live();
        w.create(c, 20);
        w.update(c, &live[..5]);
        if fault == Fault::LoseWriteAnswers {
            w.delete(c, &live[5..10]);
        }
        wait_for(60, what, || (proof(proxy.counts()) > 0).then_some(()));
        if let Some(rest) = Duration::from_secs(8).checked_sub(t.elapsed()) {
            std::thread::sleep(rest);
        }
    };
    phase(
        &mut w,
        Fault::RefuseWrites,
        &|n| n.refused_writes,
        "writes of the controller refused",
    );
    phase(
        &mut w,
        Fault::LoseWriteAnswers,
        &|n| n.lost_answers,
        "answers to the controller's writes lost",
    );
    phase(
        &mut w,
        Fault::RefuseAll,
        &|n| n.refused_reads.min(n.cut_connections),
        "the controller's watches cut and its reads refused",
    );
    proxy.set(Fault::None);
    let t1 = Instant::now();
    // A write refused with a 500 (kube's client retries 503 and 504 itself, not 500) fails the
    // reconcile. Upstream's `processNextItem` gives up after `--max-unseal-retries` (5) quick
    // requeues and the SealedSecret stays unsynced until its next change; ours retries transient
    // API errors on with a capped backoff, and a status update that met one (a lost answer) too
    // (controller/src/reconcile.rs `retry_decision`, docs/compatibility.md). So every SealedSecret
    // converges without being changed again, and none is given up.
    let converged = w.wait_converged(c, CONVERGE_SECS);
    let given_up = given_up_in_log(c, &before, &w.ns);
    assert!(given_up.is_empty(), "given up: {given_up:?}");
    before.check(c, &[&w]);
    assert_eq!(controller_pid(c), pid, "the controller was restarted");
    let n = proxy.counts();
    println!(
        "faults: 5xx for the controller for {:.0} s ({n:?}): converged {:.1}s after the last fault",
        (t1 - t0).as_secs_f64(),
        converged.as_secs_f64(),
    );
    drop(direct);
    drop(proxy);
    w.remove(c);
}

/// Restarts the controller without the proxy when dropped: the rest of the suite talks to the API
/// server itself again, also after a failure of the 5xx case (which would otherwise leave it
/// pointed at a proxy that is gone, and fail every case after it).
struct DirectAgain<'a>(&'a Cluster);

impl Drop for DirectAgain<'_> {
    fn drop(&mut self) {
        let mut args = vec!["restart-controller", "--"];
        args.extend_from_slice(CONTROLLER_FLAGS);
        if !std::thread::panicking() {
            self.0.script(&args);
        } else if !self.0.try_script(&args) {
            eprintln!("faults: the controller could not be restarted without the proxy");
        }
    }
}

/// SIGUSR1 (a key renewal) and SIGKILL after 0 to 3 s, three times: each renewal makes one whole
/// key or none, the served certificate is a key Secret's, and every SealedSecret still unseals.
fn sigkill_in_the_middle_of_key_renewal(c: &Cluster) {
    let mut w = Workload::new(c, "renewal");
    w.create(c, 20);
    w.wait_converged(c, CONVERGE_SECS);
    let mut rng = Rng(u64::from_str_radix(&random_hex(12), 16).unwrap());
    for round in 0..3 {
        let before = Before::take(c);
        let delay = rng.below(3000);
        signal(&controller_pid(c), "USR1");
        std::thread::sleep(Duration::from_millis(delay));
        kill_controller(c);
        start_controller(c);
        before.check_keys(c, |now| {
            let old: Vec<_> = before.keys.keys().collect();
            let kept: Vec<_> = now
                .keys()
                .filter(|k| before.keys.contains_key(*k))
                .collect();
            assert_eq!(kept, old, "a key was lost");
            for k in before.keys.keys() {
                assert_eq!(now[k], before.keys[k], "key {k} changed");
            }
            assert!(
                now.len() <= before.keys.len() + 1,
                "one renewal made {} keys",
                now.len() - before.keys.len()
            );
            println!(
                "faults: key renewal SIGKILLed after {delay} ms (round {round}): {} new key",
                now.len() - before.keys.len()
            );
        });
        let served = served_cert(c);
        assert!(
            keys(c)
                .values()
                .any(|crt| b64decode(crt) == served.as_bytes()),
            "the served certificate is no key Secret's"
        );
        w.cert = w._dir.path().join(format!("cert-{round}.pem"));
        std::fs::write(&w.cert, &served).unwrap();
        let live = w.live();
        w.update(c, &live[..5]);
        w.create(c, 5);
        w.wait_converged(c, CONVERGE_SECS);
        before.check_rest(c, &[&w]);
    }
    w.remove(c);
}

/// Every key Secret deleted (backed up first), the controller started and SIGKILLed while it makes
/// its first key, three times at random moments (0 to 0.8 s after its start), then started for good: exactly one new key, and
/// with the old keys restored every SealedSecret unseals again.
fn sigkill_in_the_middle_of_the_first_key_generation(c: &Cluster) {
    let (mut w, before, _) = settled(c, "firstkey", 20);
    c.register_key_material();
    let backup = c.kubectl_ok(
        &[
            "get",
            "secret",
            "-n",
            &c.controller_namespace,
            "-l",
            KEY_LABEL,
            "-o",
            "json",
        ],
        b"",
    );
    let mut backup: Value = serde_json::from_str(&backup).unwrap();
    for item in backup["items"].as_array_mut().unwrap() {
        let m = as_backup(item);
        // Restored under another name: the key the controller makes after the loss is named
        // `sealed-secrets-key-initial` again (controller/src/keymgr.rs successor_key_name), so the
        // backup's `sealed-secrets-key-initial` would collide with it (upstream's generateName
        // names never do; docs/reliability.md).
        let name = format!("{}-restored", m["name"].as_str().unwrap());
        m.insert("name".into(), name.into());
    }
    kill_controller(c);
    c.kubectl_ok(
        &[
            "delete",
            "secret",
            "-n",
            &c.controller_namespace,
            "-l",
            KEY_LABEL,
        ],
        b"",
    );
    let netns = c.var("SSRS_NETNS").to_string();
    let mut rng = Rng(u64::from_str_radix(&random_hex(12), 16).unwrap());
    for round in 0..3 {
        let delay = rng.below(800);
        let dir = c.dir.clone();
        // start-replica waits for /readyz, which comes after the key: run it aside, SIGKILL the
        // controller process (the only process of the pod's network namespace) meanwhile
        let starter = std::thread::spawn(move || {
            Command::new(e2e::workspace_root().join("scripts/cluster.sh"))
                .args(["start-replica", "0"])
                .env("SSRS_CLUSTER_DIR", &dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
        });
        let pid = wait_for(30, "the controller process in the pod", || {
            let out = Command::new("ip")
                .args(["netns", "pids", &netns])
                .output()
                .unwrap();
            let pids = stdout(&out);
            pids.lines().next().map(str::to_string)
        });
        std::thread::sleep(Duration::from_millis(delay));
        let made_before_kill = keys(c).len();
        signal(&pid, "KILL");
        let _ = starter.join().unwrap();
        c.script(&["kill-replica", "0"]);
        let now = keys(c);
        assert!(now.len() <= 1, "round {round}: {} keys", now.len());
        assert_keys_whole(c);
        println!(
            "faults: first key generation SIGKILLed after {delay} ms (round {round}): {} key \
             ({made_before_kill} just before the kill)",
            now.len()
        );
    }
    start_controller(c);
    let made = keys(c);
    assert_eq!(made.len(), 1, "keys after the restart: {made:?}");
    assert_keys_whole(c);
    // the old keys back and the controller restarted, as docs/operations.md's restore says;
    // every SealedSecret unseals again (those that failed meanwhile too)
    c.kubectl_ok(&["create", "-f", "-"], backup.to_string().as_bytes());
    kill_controller(c);
    start_controller(c);
    let live = w.live();
    w.update(c, &live[..5]);
    before.check_keys(c, |now| {
        for (k, crt) in &before.keys {
            let restored = format!("{k}-restored");
            assert_eq!(now.get(&restored), Some(crt), "key {k} not restored");
        }
        assert_eq!(now.len(), before.keys.len() + 1);
    });
    before.check_rest(c, &[&w]);
    w.remove(c);
}

/// `secret` as a backup holds it: without the fields the API server sets; its metadata.
fn as_backup(secret: &mut Value) -> &mut serde_json::Map<String, Value> {
    let m = secret["metadata"].as_object_mut().unwrap();
    for f in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "managedFields",
    ] {
        m.remove(f);
    }
    m
}

/// The active key Secret's private key overwritten with garbage, then the Secret deleted, by
/// hand while the controller runs: it keeps running, keeps the key it loaded (SealedSecrets keep
/// unsealing), makes no key of its own, and takes the restored Secret back.
fn key_secret_corrupted_then_deleted_by_hand(c: &Cluster) {
    let (mut w, before, pid) = settled(c, "keyedit", 10);
    c.register_key_material();
    let newest = c.key_secrets(KEY_LABEL).last().cloned().unwrap();
    let name = newest["metadata"]["name"].as_str().unwrap().to_string();
    let garbage = e2e::b64encode(
        b"-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n",
    );
    c.kubectl_ok(
        &[
            "patch",
            "secret",
            "-n",
            &c.controller_namespace,
            &name,
            "--type=merge",
            "-p",
            &format!("{{\"data\":{{\"tls.key\":\"{garbage}\"}}}}"),
        ],
        b"",
    );
    // three updated and three new SealedSecrets converge, by the same controller process
    let churn = |w: &mut Workload, updated: std::ops::Range<usize>, after: &str| {
        let live = w.live();
        w.update(c, &live[updated]);
        w.create(c, 3);
        w.wait_converged(c, CONVERGE_SECS);
        assert_eq!(controller_pid(c), pid, "the controller stopped on {after}");
    };
    churn(&mut w, 0..3, "a corrupt key Secret");
    c.kubectl_ok(
        &["delete", "secret", "-n", &c.controller_namespace, &name],
        b"",
    );
    churn(&mut w, 3..6, "a deleted key Secret");
    let now = keys(c);
    assert!(
        now.keys().all(|k| before.keys.contains_key(k)),
        "the controller made a key of its own: {now:?}"
    );
    // restore, as from a backup
    let mut restored = newest.clone();
    as_backup(&mut restored);
    c.kubectl_ok(&["create", "-f", "-"], restored.to_string().as_bytes());
    let live = w.live();
    w.update(c, &live[6..9]);
    before.check(c, &[&w]);
    assert_eq!(controller_pid(c), pid);
    w.remove(c);
}

// ---------------------------------------------------------------------------------------------
// kubeseal's deadlines

/// A stand-in for the controller in its pod (network namespace, port 8080, behind the Service's
/// endpoints), misbehaving as `mode` says: `silent` accepts and never answers, `trickle` sends a
/// status line and then a byte a second, `truncated` promises 4096 bytes and closes after 60.
struct BadServer(Child);

impl BadServer {
    fn start(c: &Cluster, mode: &str) -> BadServer {
        let program = r#"
import socket, sys, threading, time
mode = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(64)
print("listening", flush=True)
def serve(conn):
    try:
        conn.recv(65536)
        if mode == "silent":
            time.sleep(3600)
        elif mode == "trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: 4096\r\n\r\n")
            for _ in range(3600):
                conn.sendall(b"-"); time.sleep(1)
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: 4096\r\n\r\n-----BEGIN CERTIFICATE-----\nMIIE")
            conn.close()
    except OSError:
        pass
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;
        let python = which("python3");
        let mut child = Command::new("ip")
            .args(["netns", "exec", c.var("SSRS_NETNS")])
            .arg(python)
            .args(["-c", program, mode])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "listening", "the {mode} server did not start");
        BadServer(child)
    }
}

impl Drop for BadServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn which(program: &str) -> std::path::PathBuf {
    let out = Command::new("bash")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{program} not found");
    let p = std::path::PathBuf::from(stdout(&out).trim());
    std::fs::canonicalize(&p).unwrap_or(p)
}

/// Runs `kubeseal args` on `input` with output file `out` (which holds `previous`), expecting a
/// one-line `error: ...` within `bound`; the output file is left as it was.
fn kubeseal_fails_in_time(
    c: &Cluster,
    args: &[&str],
    input: &[u8],
    bound: Duration,
    what: &str,
) -> (Duration, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("sealed.yaml");
    std::fs::write(&out_file, "previous\n").unwrap();
    let mut all: Vec<&str> = args.to_vec();
    let out_arg = out_file.to_str().unwrap().to_string();
    if !args.contains(&"--fetch-cert") {
        all.extend(["-w", &out_arg]);
    }
    let t0 = Instant::now();
    let out = c.run(&ours(), &all, input, &[]);
    let took = t0.elapsed();
    let err = stderr(&out);
    assert!(!out.status.success(), "{what}: kubeseal succeeded");
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{what}: {err}"
    );
    assert!(took < bound, "{what}: took {took:?}");
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "previous\n",
        "{what}: the output file changed"
    );
    assert!(out.stdout.is_empty(), "{what}: partial output on stdout");
    println!(
        "faults: kubeseal {what}: `{}` after {:.1}s",
        err.trim_end(),
        took.as_secs_f64()
    );
    (took, err)
}

fn kubeseal_deadlines_against_a_silent_trickling_truncating_or_vanishing_server(c: &Cluster) {
    let secret = c.kubectl_ok(
        &[
            "create",
            "secret",
            "generic",
            "deadline",
            "-n",
            "default",
            "--from-literal=v=plaintext-deadline",
            "--dry-run=client",
            "-o",
            "yaml",
        ],
        b"",
    );
    c.register_plaintext("plaintext-deadline");
    // the controller stops; the endpoints still list its pod (a hung process, not a gone one)
    c.script(&["stop-controller"]);
    let bound = Duration::from_secs(15);
    {
        let _server = BadServer::start(c, "silent");
        for args in [
            &["--fetch-cert", "--request-timeout", "3s"][..],
            &["--request-timeout", "3s"][..],
            &["--validate", "--request-timeout", "3s"][..],
        ] {
            let input = if args.contains(&"--validate") {
                "{\"apiVersion\":\"bitnami.com/v1alpha1\",\"kind\":\"SealedSecret\",\"metadata\":{\"name\":\"x\",\"namespace\":\"default\"},\"spec\":{\"encryptedData\":{\"a\":\"AgA=\"}}}".as_bytes().to_vec()
            } else {
                secret.as_bytes().to_vec()
            };
            let (_, err) = kubeseal_fails_in_time(
                c,
                args,
                &input,
                bound,
                &format!("{args:?} against a silent controller"),
            );
            assert!(err.contains("deadline exceeded"), "{err}");
        }
        // upstream kubeseal: the same deadline, the same words
        let out = c.run(
            &c.upstream_kubeseal,
            &["--fetch-cert", "--request-timeout", "3s"],
            b"",
            &[],
        );
        assert!(!out.status.success());
        println!(
            "faults: upstream kubeseal against a silent controller: `{}`",
            stderr(&out).trim_end()
        );
        // an API server that goes away mid-request (no deadline given): the connection's end is
        // the error, at once
        let dir = c.dir.clone();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            e2e::cluster_script(&dir, &["kill-apiserver"]);
        });
        let (took, _) = kubeseal_fails_in_time(
            c,
            &[],
            secret.as_bytes(),
            Duration::from_secs(20),
            "against an API server killed mid-request",
        );
        killer.join().unwrap();
        assert!(
            took >= Duration::from_secs(2),
            "failed before the kill: {took:?}"
        );
        c.script(&["start-apiserver"]);
        wait_apiserver_ready(c, 60);
    }
    {
        let _server = BadServer::start(c, "trickle");
        kubeseal_fails_in_time(
            c,
            &["--request-timeout", "3s"],
            secret.as_bytes(),
            bound,
            "against a controller that trickles (3s deadline)",
        );
    }
    {
        let _server = BadServer::start(c, "truncated");
        kubeseal_fails_in_time(
            c,
            &[],
            secret.as_bytes(),
            Duration::from_secs(30),
            "against a controller that truncates its answer",
        );
        kubeseal_fails_in_time(
            c,
            &["--fetch-cert"],
            b"",
            Duration::from_secs(30),
            "--fetch-cert against a controller that truncates its answer",
        );
    }
    let mut args = vec!["start-controller", "--"];
    args.extend_from_slice(CONTROLLER_FLAGS);
    c.script(&args);
    served_cert(c);
}

/// Every write the controller made during the faults is one of its permissions (the teardown
/// checks it again for every suite); and the audit log does hold its writes.
fn every_write_of_the_controller_is_one_of_its_permissions(c: &Cluster) {
    let bad = writes_outside_permissions(c).unwrap();
    assert!(bad.is_empty(), "{bad:#?}");
    let writes = controller_writes(c);
    let kinds: std::collections::BTreeSet<(String, String)> = writes
        .iter()
        .map(|w| (w.verb.clone(), w.resource.clone()))
        .collect();
    for want in [
        ("create", "secrets"),
        ("update", "secrets"),
        ("update", "sealedsecrets.bitnami.com/status"),
        ("create", "events"),
    ] {
        assert!(
            kinds.contains(&(want.0.to_string(), want.1.to_string())),
            "no {want:?} in the audit log: {kinds:?}"
        );
    }
    println!(
        "faults: {} writes of the controller in the audit log, of {} kinds: {kinds:?}",
        writes.len(),
        kinds.len()
    );
}

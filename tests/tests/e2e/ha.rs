//! High availability on a real control plane: three of our controllers with `--leader-elect`
//! (short timings: lease 4 s, renew deadline 3 s, retry 1 s) against one kube-apiserver, each a
//! process of its own with its own HTTP ports. Exactly one leads (metrics), creates the first key
//! and unseals; every replica serves the same certificate; SIGTERM hands over at once, SIGKILL
//! fails over after the lease duration, a key renewal forced during a failover makes one key.
//! Also: a SIGTERM right after start exits at once, and the HA overlay of deploy/ renders.
//!
//! Most cases run the replicas on the host with the admin kubeconfig (quick to start, signals
//! straight to the process). The control plane also has three controller pods
//! (`REPLICAS=3 scripts/cluster.sh up`: network namespace, Pod object, service account token each,
//! all behind the one Service), which the pod cases start with `start-replica` and signal with
//! `stop-replica` / `kill-replica`: a rolling restart while kubeseal runs through the API server's
//! service proxy, and the leader SIGKILLed twice while 300 SealedSecrets are created.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Test;
use e2e::{
    Cluster, b64decode, http_request, metric_value, ours, random_hex, stderr, wait_for,
    workspace_root,
};
use serde_json::Value;

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster: ha_overlay_renders, sigterm_right_after_start_exits_at_once, one_leader_hands_over_and_fails_over,
            two_renewals_of_one_key_make_one_key, pods_roll_while_kubeseal_runs,
            pods_leader_killed_during_300_sealed_secrets
    ]
    .to_vec()
}

const ACTIVE: &str = "sealedsecrets.bitnami.com/sealed-secrets-key=active";
const ELECTION: &[&str] = &[
    "--leader-elect",
    "--leader-elect-lease-duration=4s",
    "--leader-elect-renew-deadline=3s",
    "--leader-elect-retry-period=1s",
    "--key-size=2048",
    // 120 SealedSecrets at the default 5 requests/s would take minutes; the Lease has its own
    // client either way.
    "--kubeclient-qps=-1",
];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One controller process.
struct Replica {
    name: String,
    child: Child,
    api: String,
    metrics: String,
    log: PathBuf,
}

impl Replica {
    fn start(c: &Cluster, name: &str, args: &[&str]) -> Replica {
        let (api, metrics) = (free_port(), free_port());
        let log = std::env::temp_dir().join(format!("ssrs-ha-{}-{name}.log", random_hex(4)));
        // One open file for both streams, so that neither overwrites the other.
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(e2e::our_controller())
            .args([
                format!("--listen-addr=127.0.0.1:{api}"),
                format!("--listen-metrics-addr=127.0.0.1:{metrics}"),
            ])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("KUBECONFIG", c.var("KUBECONFIG"))
            .env("POD_NAMESPACE", c.var("SSRS_CONTROLLER_NAMESPACE"))
            .env("POD_NAME", name)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Replica {
            name: name.to_string(),
            child,
            api: format!("http://127.0.0.1:{api}"),
            metrics: format!("http://127.0.0.1:{metrics}"),
            log,
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} {}", self.name);
    }

    fn metric(&self, name: &str) -> Option<f64> {
        let reply = http_request(&self.metrics, "GET", "/metrics", &[], b"").ok()?;
        metric_value(&reply.text(), name, &[])
    }

    fn leads(&self) -> bool {
        self.metric("sealed_secrets_controller_leader") == Some(1.0)
    }

    fn cert(&self) -> Option<String> {
        let reply = http_request(&self.api, "GET", "/v1/cert.pem", &[], b"").ok()?;
        (reply.status == 200).then(|| reply.text())
    }

    fn healthy(&self) -> bool {
        http_request(&self.api, "GET", "/healthz", &[], b"").is_ok_and(|r| r.status == 200)
    }

    /// Waits for the exit; how long it took.
    fn wait_exit(&mut self, secs: u64) -> Duration {
        let start = Instant::now();
        wait_for(secs, &format!("{} to exit", self.name), || {
            self.child.try_wait().unwrap().map(|_| ())
        });
        start.elapsed()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Kept for a failing test, to read.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// The index of the one replica that leads, once exactly one does (of the running ones).
fn the_leader(replicas: &mut [Replica], secs: u64) -> usize {
    wait_for(secs, "exactly one leader", || {
        let leading: Vec<usize> = (0..replicas.len())
            .filter(|&i| replicas[i].child.try_wait().unwrap().is_none() && replicas[i].leads())
            .collect();
        (leading.len() == 1).then(|| leading[0])
    })
}

/// A fix: a SIGTERM within milliseconds of the first `/healthz` answer (the first lists still
/// running) exits at once instead of after the 10 s grace period.
fn sigterm_right_after_start_exits_at_once(c: &Cluster) {
    for _ in 0..5 {
        let mut r = Replica::start(c, "early", &["--key-size=2048"]);
        wait_for(30, "the first /healthz answer", || {
            r.healthy().then_some(())
        });
        r.signal("TERM");
        let took = r.wait_exit(15);
        assert!(
            took < Duration::from_secs(3),
            "exit took {took:?} after an early SIGTERM:\n{}",
            r.log_text()
        );
        assert!(
            !r.log_text().contains("graceful shutdown timed out"),
            "{}",
            r.log_text()
        );
    }
}

fn seal(cert: &str, ns: &str, name: &str, value: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ssrs-ha-{}", random_hex(6)));
    std::fs::create_dir_all(&dir).unwrap();
    let cert_file = dir.join("cert.pem");
    std::fs::write(&cert_file, cert).unwrap();
    let secret = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\"}},\"stringData\":{{\"v\":\"{value}\"}}}}"
    );
    let out = e2e::run_with_stdin(
        Command::new(ours()).args(["--cert", cert_file.to_str().unwrap(), "-o", "json"]),
        secret.as_bytes(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "kubeseal: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Secrets `ns/name` with `v: value`, sealed by one kubeseal run (a YAML stream in, one out); the
/// SealedSecrets as YAML documents.
fn seal_many(cert: &str, ns: &str, values: &[(String, String)]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("ssrs-ha-{}", random_hex(6)));
    std::fs::create_dir_all(&dir).unwrap();
    let cert_file = dir.join("cert.pem");
    std::fs::write(&cert_file, cert).unwrap();
    let secrets: String = values
        .iter()
        .map(|(name, v)| {
            format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\nstringData:\n  v: \"{v}\"\n")
        })
        .collect();
    let out = e2e::run_with_stdin(
        Command::new(ours()).args(["--cert", cert_file.to_str().unwrap(), "-o", "yaml"]),
        secrets.as_bytes(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "kubeseal: {}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .split("\n---\n")
        .map(|d| d.trim_start_matches("---\n").to_string())
        .filter(|d| d.contains("kind: SealedSecret"))
        .collect()
}

fn apply_yaml(c: &Cluster, docs: &[String]) {
    c.kubectl_ok(&["apply", "-f", "-"], docs.join("\n---\n").as_bytes());
}

fn apply(c: &Cluster, docs: &[String]) {
    let list = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}",
        docs.join(",")
    );
    c.kubectl_ok(&["apply", "-f", "-"], list.as_bytes());
}

/// The unsealed value of Secret `ns/name`, once it exists.
fn unsealed(c: &Cluster, ns: &str, name: &str) -> Option<String> {
    let s = c.get_json("secret", ns, name)?;
    Some(String::from_utf8(b64decode(s["data"]["v"].as_str()?)).unwrap())
}

fn key_names(c: &Cluster) -> Vec<String> {
    c.key_secrets(ACTIVE)
        .iter()
        .map(|k| k["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn one_leader_hands_over_and_fails_over(c: &Cluster) {
    let ns = c.namespace("ha");
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| Replica::start(c, &format!("replica-{i}"), ELECTION))
        .collect();
    let leader = the_leader(&mut replicas, 30);
    // The leader made the first key, once; every replica serves it (followers through the watch).
    let keys = wait_for(20, "the first key", || {
        let k = key_names(c);
        (!k.is_empty()).then_some(k)
    });
    assert_eq!(keys, ["sealed-secrets-key-initial"]);
    let cert = wait_for(20, "the certificate on every replica", || {
        let certs: Vec<Option<String>> = replicas.iter().map(Replica::cert).collect();
        (certs[0].is_some() && certs.iter().all(|x| x == &certs[0]))
            .then(|| certs[0].clone().unwrap())
    });
    // A follower ignores SIGUSR1 (only the leader makes keys).
    let follower = (leader + 1) % 3;
    replicas[follower].signal("USR1");
    wait_for(10, "the follower's SIGUSR1 log line", || {
        replicas[follower]
            .log_text()
            .contains("this replica is not the leader: no key generated")
            .then_some(())
    });

    // ---- SIGTERM: handover at once; a SealedSecret created at that instant is unsealed
    let value = random_hex(8);
    let ss = seal(&cert, &ns, "at-sigterm", &value);
    let t0 = Instant::now();
    replicas[leader].signal("TERM");
    apply(c, &[ss]);
    let next = wait_for(10, "a new leader after SIGTERM", || {
        (0..3).find(|&i| i != leader && replicas[i].leads())
    });
    let handover = t0.elapsed();
    wait_for(20, "the SealedSecret created at SIGTERM", || {
        (unsealed(c, &ns, "at-sigterm")? == value).then_some(())
    });
    let unsealed_after = t0.elapsed();
    println!("ha: handover after SIGTERM {handover:?}, unsealed after {unsealed_after:?}");
    assert!(
        handover < Duration::from_secs(3),
        "handover took {handover:?}"
    );
    let exit = replicas[leader].wait_exit(15);
    assert!(
        exit < Duration::from_secs(5),
        "the old leader took {exit:?} to exit"
    );
    assert!(
        replicas[leader]
            .log_text()
            .contains("released the leader election Lease")
    );
    replicas[leader] = Replica::start(c, &format!("replica-{leader}"), ELECTION);
    let leader = next;

    // ---- SIGKILL: a follower leads after the lease duration, no new key (with SealedSecrets
    // being created meanwhile: pods_leader_killed_during_300_sealed_secrets)
    let t1 = Instant::now();
    replicas[leader].signal("KILL");
    let after_kill = the_leader(&mut replicas, 20);
    let failover = t1.elapsed();
    assert_ne!(after_kill, leader);
    println!("ha: failover after SIGKILL {failover:?}");
    assert!(
        failover < Duration::from_secs(4 + 4),
        "failover took {failover:?}"
    );
    assert_eq!(key_names(c), keys, "a key was generated again");
    replicas[leader].wait_exit(5);
    replicas[leader] = Replica::start(c, &format!("replica-{leader}"), ELECTION);
    let leader = after_kill;

    // ---- a key renewal forced, the leader killed right after writing the key: exactly one new
    // key, served by every replica
    replicas[leader].signal("USR1");
    wait_for(20, "the leader's new key", || {
        (key_names(c).len() == 2).then_some(())
    });
    replicas[leader].signal("KILL");
    let survivor = the_leader(&mut replicas, 20);
    assert_ne!(survivor, leader);
    replicas[leader].wait_exit(5);
    std::thread::sleep(Duration::from_secs(2));
    let after = key_names(c);
    assert!(
        after.len() == 2 && after.starts_with(&keys),
        "keys {after:?}"
    );
    let newest: Value = c.key_secrets(ACTIVE).last().cloned().unwrap();
    let newest_cert =
        String::from_utf8(b64decode(newest["data"]["tls.crt"].as_str().unwrap())).unwrap();
    wait_for(
        20,
        "the newest certificate on every running replica",
        || {
            replicas
                .iter_mut()
                .all(|r| {
                    r.child.try_wait().unwrap().is_some()
                        || r.cert().is_some_and(|pem| pem.trim() == newest_cert.trim())
                })
                .then_some(())
        },
    );
    // Exactly one leader among the survivors, still.
    assert_eq!(the_leader(&mut replicas, 5), survivor);
}

/// deploy/overlays/ha: 3 replicas, leader election, PodDisruptionBudget, spread, no unavailable
/// replica during a rolling update, readiness on /readyz, the Lease Role by name; the base stays
/// one replica without --leader-elect.
fn ha_overlay_renders(c: &Cluster) {
    let render = |dir: &str| -> Vec<Value> {
        let rendered = c.kubectl_ok(
            &["kustomize", workspace_root().join(dir).to_str().unwrap()],
            b"",
        );
        let out = c.kubectl(
            &["create", "--dry-run=client", "-o", "json", "-f", "-"],
            rendered.as_bytes(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::Deserializer::from_slice(&out.stdout)
            .into_iter::<Value>()
            .map(Result::unwrap)
            .collect()
    };
    let find = |docs: &[Value], kind: &str, name: &str| -> Value {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    let ha = render("deploy/overlays/ha");
    let d = find(&ha, "Deployment", "sealed-secrets-controller");
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    let pod = &d["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["args"], serde_json::json!(["--leader-elect"]));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(
        pod["topologySpreadConstraints"][0]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert!(
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "POD_NAME")
    );
    let pdb = find(&ha, "PodDisruptionBudget", "sealed-secrets-controller");
    assert_eq!(pdb["spec"]["minAvailable"], 2);
    let role = find(&ha, "Role", "sealed-secrets-leader-election");
    assert_eq!(role["rules"][0]["verbs"], serde_json::json!(["create"]));
    assert_eq!(
        role["rules"][1]["resourceNames"],
        serde_json::json!(["sealed-secrets-controller"])
    );
    let base = render("deploy");
    let d = find(&base, "Deployment", "sealed-secrets-controller");
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["args"],
        serde_json::json!([])
    );
    find(&base, "Role", "sealed-secrets-leader-election");
}

/// Two controllers without leader election (a rolling update of the base) renewing the same key
/// at once: they conflict on the renewal's key Secret name, so one key is added, not two, and
/// both serve it.
fn two_renewals_of_one_key_make_one_key(c: &Cluster) {
    let args = &["--key-size=2048", "--kubeclient-qps=-1"];
    let a = Replica::start(c, "rolling-a", args);
    let b = Replica::start(c, "rolling-b", args);
    let before = wait_for(30, "both serving one certificate", || {
        let (ca, cb) = (a.cert()?, b.cert()?);
        (ca == cb).then(|| key_names(c))
    });
    assert!(!before.is_empty());
    a.signal("USR1");
    b.signal("USR1");
    let after = wait_for(30, "the renewal's key", || {
        let k = key_names(c);
        (k.len() > before.len()).then_some(k)
    });
    std::thread::sleep(Duration::from_secs(3));
    let settled = key_names(c);
    assert_eq!(settled, after, "a second key appeared");
    assert_eq!(settled.len(), before.len() + 1, "{settled:?}");
    let newest = c.key_secrets(ACTIVE).last().cloned().unwrap();
    let pem = String::from_utf8(b64decode(newest["data"]["tls.crt"].as_str().unwrap())).unwrap();
    wait_for(20, "the new certificate on both", || {
        [&a, &b]
            .iter()
            .all(|r| r.cert().is_some_and(|p| p.trim() == pem.trim()))
            .then_some(())
    });
    let logs = a.log_text() + &b.log_text();
    assert_eq!(logs.matches("New key written").count(), 1, "{logs}");
    assert_eq!(
        logs.matches("already created by another replica").count(),
        1,
        "{logs}"
    );
}

/// The controller pods of the suite's control plane (`scripts/cluster.sh start-replica`), with
/// ELECTION; stopped again (SIGTERM, the Lease released) when dropped, so that the next case
/// starts on a free Lease.
struct Pods<'a> {
    c: &'a Cluster,
    n: usize,
}

impl<'a> Pods<'a> {
    fn start(c: &'a Cluster) -> Pods<'a> {
        let n = c.replicas();
        assert_eq!(n, 3, "the ha suite's control plane has 3 controller pods");
        let pods = Pods { c, n };
        for i in 0..n {
            pods.start_one(i);
        }
        pods
    }

    fn start_one(&self, i: usize) {
        let i = i.to_string();
        let mut args = vec!["start-replica", &i, "--controller", "ours", "--"];
        args.extend_from_slice(ELECTION);
        self.c.script(&args);
    }

    /// `stop-replica I` (not ready, then SIGTERM) or `kill-replica I` (SIGKILL).
    fn stop(&self, i: usize, how: &str) {
        self.c.script(&[&format!("{how}-replica"), &i.to_string()]);
    }

    fn metrics_url(&self, i: usize) -> &str {
        self.c.var(&format!("SSRS_METRICS_URL_{i}"))
    }

    fn leads(&self, i: usize) -> bool {
        http_request(self.metrics_url(i), "GET", "/metrics", &[], b"")
            .ok()
            .and_then(|r| metric_value(&r.text(), "sealed_secrets_controller_leader", &[]))
            == Some(1.0)
    }

    /// The one pod that leads, once exactly one of those in `up` does (and none of the others).
    fn the_leader(&self, up: &[usize], secs: u64) -> usize {
        wait_for(secs, "exactly one leading pod", || {
            let leading: Vec<usize> = (0..self.n).filter(|&i| self.leads(i)).collect();
            (leading.len() == 1 && up.contains(&leading[0])).then(|| leading[0])
        })
    }

    fn cert(&self, i: usize) -> Option<String> {
        let url = self.c.var(&format!("SSRS_CONTROLLER_URL_{i}"));
        let reply = http_request(url, "GET", "/v1/cert.pem", &[], b"").ok()?;
        (reply.status == 200).then(|| reply.text())
    }

    /// Waits until every pod serves the same certificate; that one.
    fn same_cert(&self) -> String {
        wait_for(30, "the same certificate on every pod", || {
            let certs: Vec<Option<String>> = (0..self.n).map(|i| self.cert(i)).collect();
            let first = certs[0].clone()?;
            certs
                .iter()
                .all(|c| c.as_deref() == Some(&first))
                .then_some(first)
        })
    }

    /// The pod logs (for a failure message).
    fn logs(&self) -> String {
        (0..self.n)
            .map(|i| {
                let log = self.c.var(&format!("SSRS_CONTROLLER_LOG_{i}"));
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                format!(
                    "--- {log}\n{}\n",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect()
    }
}

impl Drop for Pods<'_> {
    fn drop(&mut self) {
        for i in 0..self.n {
            let _ = Command::new(workspace_root().join("scripts/cluster.sh"))
                .args(["stop-replica", &i.to_string()])
                .env("SSRS_CLUSTER_DIR", &self.c.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Rolls the three pods one by one (SIGTERM, start again, ready) while a loop of our kubeseal
/// `--fetch-cert`, sealing + `kubectl apply` and `--validate` runs through the API server's
/// service proxy: no kubeseal call fails, every SealedSecret is unsealed.
fn pods_roll_while_kubeseal_runs(c: &Cluster) {
    let pods = Pods::start(c);
    pods.the_leader(&[0, 1, 2], 30);
    let cert = pods.same_cert();
    let ns = c.namespace("ha-roll");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (calls, failures, applied) = std::thread::scope(|s| {
        let looper = s.spawn(|| {
            let (mut calls, mut failures, mut applied) = (0, Vec::new(), Vec::new());
            let call = |args: &[&str], stdin: &[u8], calls: &mut usize| {
                *calls += 1;
                let out = c.run(&ours(), args, stdin, &[]);
                (out.status.success(), out)
            };
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let (ok, out) = call(&["--fetch-cert"], b"", &mut calls);
                if !ok || String::from_utf8_lossy(&out.stdout).trim() != cert.trim() {
                    failures.push(format!("--fetch-cert: {}", stderr(&out)));
                }
                let (name, value) = (format!("roll-{i}"), random_hex(6));
                let secret = format!(
                    "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\"}},\"stringData\":{{\"v\":\"{value}\"}}}}"
                );
                // sealing fetches the certificate through the proxy too
                let (ok, sealed) = call(&["-o", "json"], secret.as_bytes(), &mut calls);
                if !ok {
                    failures.push(format!("seal: {}", stderr(&sealed)));
                    continue;
                }
                c.kubectl_ok(&["apply", "-f", "-"], &sealed.stdout);
                applied.push((name, value));
                let (ok, out) = call(&["--validate"], &sealed.stdout, &mut calls);
                if !ok {
                    failures.push(format!("--validate: {}", stderr(&out)));
                }
            }
            (calls, failures, applied)
        });
        for i in 0..3 {
            pods.stop(i, "stop");
            std::thread::sleep(Duration::from_millis(500));
            pods.start_one(i);
            std::thread::sleep(Duration::from_millis(500));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        looper.join().unwrap()
    });
    assert!(
        failures.is_empty(),
        "{} of {calls} kubeseal calls failed during the rolling restart: {failures:#?}\n{}",
        failures.len(),
        pods.logs()
    );
    assert!(
        applied.len() >= 6,
        "only {} rounds of the loop",
        applied.len()
    );
    for (name, v) in &applied {
        wait_for(60, &format!("{ns}/{name} unsealed"), || {
            (unsealed(c, &ns, name)? == *v).then_some(())
        });
    }
    println!(
        "ha: rolling restart of 3 pods: {calls} kubeseal calls, 0 failed, {} SealedSecrets unsealed",
        applied.len()
    );
    pods.the_leader(&[0, 1, 2], 20);
}

/// The leading pod SIGKILLed twice (early, then in the middle) while 300 SealedSecrets are
/// created: every Secret is correct, the survivors elect one leader, no key is generated again.
fn pods_leader_killed_during_300_sealed_secrets(c: &Cluster) {
    let pods = Pods::start(c);
    let mut leader = pods.the_leader(&[0, 1, 2], 30);
    let cert = pods.same_cert();
    let keys = key_names(c);
    let ns = c.namespace("ha-kill");
    let values: Vec<(String, String)> = (0..300)
        .map(|i| (format!("s-{i}"), random_hex(6)))
        .collect();
    let sealed = seal_many(&cert, &ns, &values);
    assert_eq!(sealed.len(), 300);
    let t0 = Instant::now();
    let mut failovers = Vec::new();
    for (n, batch) in sealed.chunks(25).enumerate() {
        // early (after 25) and in the middle (after 150)
        if n == 1 || n == 6 {
            let killed = leader;
            pods.stop(killed, "kill");
            let t1 = Instant::now();
            let up: Vec<usize> = (0..3).filter(|&i| i != killed).collect();
            std::thread::scope(|s| {
                s.spawn(|| apply_yaml(c, batch));
                leader = pods.the_leader(&up, 20);
            });
            failovers.push(t1.elapsed());
            assert_ne!(leader, killed);
            pods.start_one(killed);
        } else {
            apply_yaml(c, batch);
        }
    }
    for (name, v) in &values {
        wait_for(60, &format!("{ns}/{name} unsealed"), || {
            (unsealed(c, &ns, name)? == *v).then_some(())
        });
    }
    println!(
        "ha: pods, leader SIGKILLed twice during 300 SealedSecrets: failovers {failovers:?}, all \
         unsealed after {:?}",
        t0.elapsed()
    );
    for f in &failovers {
        assert!(*f < Duration::from_secs(4 + 4), "failover took {f:?}");
    }
    assert_eq!(key_names(c), keys, "a key was generated again");
    assert_eq!(pods.the_leader(&[0, 1, 2], 10), leader, "{}", pods.logs());
    assert_eq!(pods.same_cert(), cert);
}

//! High availability on a real control plane: three of our controllers with `--leader-elect`
//! (short timings: lease 4 s, renew deadline 3 s, retry 1 s) against one kube-apiserver, each a
//! process of its own with its own HTTP ports. Exactly one leads (metrics), creates the first key
//! and unseals; every replica serves the same certificate; SIGTERM hands over at once, SIGKILL
//! fails over after the lease duration, and SealedSecrets created meanwhile (many, with the kill
//! in the middle) all end up unsealed, with no key generated twice. Also: a SIGTERM right after
//! start exits at once, and the HA overlay of deploy/ renders.
//!
//! The replicas run on the host with the admin kubeconfig, not each in a pod of its own behind
//! the Service (scripts/cluster.sh runs one pod): kubeseal's service-proxy path is covered by the
//! other suites.

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
            two_renewals_of_one_key_make_one_key
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

    // ---- SIGKILL in the middle of many SealedSecrets: all unsealed, one leader, no new key
    let values: Vec<(String, String)> = (0..120)
        .map(|i| (format!("bulk-{i}"), random_hex(6)))
        .collect();
    let sealed: Vec<String> = values
        .iter()
        .map(|(name, v)| seal(&cert, &ns, name, v))
        .collect();
    let (before, after) = sealed.split_at(40);
    for batch in before.chunks(20) {
        apply(c, batch);
    }
    let t1 = Instant::now();
    replicas[leader].signal("KILL");
    let (after_kill, failover) = std::thread::scope(|s| {
        s.spawn(|| {
            for batch in after.chunks(20) {
                apply(c, batch);
            }
        });
        let next = the_leader(&mut replicas, 20);
        (next, t1.elapsed())
    });
    assert_ne!(after_kill, leader);
    for (name, v) in &values {
        wait_for(60, &format!("{ns}/{name} unsealed"), || {
            (unsealed(c, &ns, name)? == *v).then_some(())
        });
    }
    println!(
        "ha: failover after SIGKILL {failover:?}, all 120 unsealed after {:?}",
        t1.elapsed()
    );
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

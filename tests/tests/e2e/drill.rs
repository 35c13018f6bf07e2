//! Disaster-recovery drill on real control planes (docs/operations.md): a cluster's controller keys
//! are backed up with `kubeseal --backup-keys`, the cluster is destroyed (etcd included), and a fresh
//! cluster gets the keys back with `kubeseal --restore-keys`; the SealedSecrets "from Git" then
//! unseal to identical Secrets.
//!
//! Timeline, for our controller and for upstream's in cluster 1:
//! 1. cluster 1: key k1; three SealedSecrets (strict, namespace-wide, cluster-wide) sealed with
//!    k1 into files; backup B1 (k1). SIGUSR1: key k2; three more sealed with k2; backup B2 (k1, k2);
//!    the key Secrets carry the backed-up-at annotation. `scripts/cluster.sh down`.
//! 2. cluster 2 without a controller: a restore as an unprivileged user fails and writes nothing;
//!    B1 restored (twice: the second run skips), then our controller starts: no new key, it seals
//!    with k1, the first three files unseal to identical Secrets.
//! 3. B2 restored into the running controller: k1 skipped, k2 created and picked up without a
//!    restart (the certificate becomes k2's); the other three files unseal to identical Secrets.
//!
//! Each test manages its own clusters (two in sequence), so its suite (`drill` in main.rs) has none.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use crate::Test;
use e2e::{
    OwnCluster, b64encode, http_request, metric_value, ours, run_with_stdin, stderr, stdout,
    wait_for,
};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        ignored: drill_with_our_controller, drill_with_upstream_controller_keys
    ]
    .to_vec()
}

const NS: &str = "drill";
const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
const BACKED_UP_AT: &str = "sealedsecrets-rs.io/backed-up-at";
const PASSPHRASE: &str = "correct horse battery staple drill";

/// Extra kubeseal arguments and environment that make or open one backup.
type Access<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)]);

/// Our kubeseal against `c` (admin kubeconfig unless `kubeconfig` is given).
fn kubeseal(c: &OwnCluster, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(ours());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &c.dir)
        .env("KUBECONFIG", c.var("KUBECONFIG"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_with_stdin(&mut cmd, stdin)
}

fn kubeseal_ok(
    c: &OwnCluster,
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> (String, String) {
    let out = kubeseal(c, args, stdin, env);
    assert!(
        out.status.success(),
        "kubeseal {args:?} failed: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        !err.contains("PRIVATE KEY") && !err.contains(PASSPHRASE),
        "secret material on stderr: {err}"
    );
    (stdout(&out), err)
}

fn fetch_cert(c: &OwnCluster) -> String {
    kubeseal_ok(c, &["--fetch-cert"], b"", &[]).0
}

/// Key Secrets in the controller namespace: name → object.
fn key_secrets(c: &OwnCluster) -> Vec<Value> {
    c.cluster().key_secrets(KEY_LABEL)
}

fn key_names(c: &OwnCluster) -> BTreeSet<String> {
    key_secrets(c)
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn not_backed_up_metric(c: &OwnCluster) -> Option<f64> {
    let reply = http_request(c.var("SSRS_METRICS_URL"), "GET", "/metrics", &[], b"").ok()?;
    metric_value(
        &reply.text(),
        "sealed_secrets_controller_keys_not_backed_up",
        &[],
    )
}

/// The Secrets of one "commit": (file name, scope, Secret manifest).
fn secrets_of_set(set: u32) -> Vec<(String, &'static str, Value)> {
    let b64 = b64encode;
    let labels = json!({"app": "drill", "set": set.to_string()});
    vec![
        (
            format!("strict-{set}"),
            "strict",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("strict-{set}"), "namespace": NS, "labels": labels},
                   "type": "Opaque", "data": {"password": b64(format!("s3cret-strict-{set}").as_bytes()), "bin": b64(&[0, 1, 2, 255])}}),
        ),
        (
            format!("nsw-{set}"),
            "namespace-wide",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("nsw-{set}"), "namespace": NS, "labels": labels},
                   "type": "kubernetes.io/basic-auth", "stringData": {"username": "admin", "password": format!("pw-nsw-{set}")}}),
        ),
        (
            format!("cw-{set}"),
            "cluster-wide",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("cw-{set}"), "namespace": NS, "labels": labels},
                   "type": "Opaque", "data": {"token": b64(format!("tok-cw-{set}").as_bytes())}}),
        ),
    ]
}

/// Seals one set with `cert` into `repo/<name>.yaml`, as a Git repository would hold them.
fn seal_set(c: &OwnCluster, repo: &Path, cert: &str, set: u32) -> Vec<String> {
    let cert_file = repo.join(format!("cert-{set}.pem"));
    std::fs::write(&cert_file, cert).unwrap();
    let mut names = Vec::new();
    for (name, scope, manifest) in secrets_of_set(set) {
        let file = repo.join(format!("{name}.yaml"));
        kubeseal_ok(
            c,
            &[
                "--cert",
                cert_file.to_str().unwrap(),
                "--scope",
                scope,
                "-w",
                file.to_str().unwrap(),
            ],
            manifest.to_string().as_bytes(),
            &[],
        );
        names.push(name);
    }
    names
}

/// Applies the files and waits for each Secret; returns (name, data, type, labels) per Secret.
fn apply_and_collect(
    c: &OwnCluster,
    repo: &Path,
    names: &[String],
) -> Vec<(String, Value, Value, Value)> {
    let k = c.cluster();
    for name in names {
        k.kubectl_ok(
            &[
                "apply",
                "-f",
                repo.join(format!("{name}.yaml")).to_str().unwrap(),
            ],
            b"",
        );
    }
    names
        .iter()
        .map(|name| {
            let s = wait_for(60, &format!("Secret {NS}/{name}"), || {
                k.get_json("secret", NS, name)
            });
            (
                name.clone(),
                s["data"].clone(),
                s["type"].clone(),
                s["metadata"]["labels"].clone(),
            )
        })
        .collect()
}

fn backup(c: &OwnCluster, file: &Path, args: &[&str], env: &[(&str, &str)], keys: usize) {
    let mut all = vec!["--backup-keys", "-w", file.to_str().unwrap()];
    all.extend_from_slice(args);
    let (out, err) = kubeseal_ok(c, &all, b"", env);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.matches("backed up kube-system/").count(), keys, "{err}");
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
        "not armored age"
    );
    assert!(!text.contains("PRIVATE KEY"));
    // Every key Secret now says it is in a backup.
    let secrets = key_secrets(c);
    assert_eq!(secrets.len(), keys);
    for s in secrets {
        assert!(
            s["metadata"]["annotations"][BACKED_UP_AT].is_string(),
            "{}",
            s["metadata"]
        );
    }
}

fn restore(c: &OwnCluster, file: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["--restore-keys", file.to_str().unwrap()];
    all.extend_from_slice(args);
    kubeseal_ok(c, &all, b"", env).1
}

fn drill(controller: &str) {
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let (identity, recipient) = sealed_secrets::backup::generate_identity();
    let id_file = work.path().join("identity.txt");
    std::fs::write(&id_file, identity.as_bytes()).unwrap();
    let id_path = id_file.to_str().unwrap().to_string();
    let b1 = work.path().join("b1.age");
    let b2 = work.path().join("b2.age");
    let pass_env = [("SEALED_SECRETS_BACKUP_PASSPHRASE", PASSPHRASE)];
    // Ours: B1 to an age recipient, B2 with a passphrase; upstream's drill the other way round.
    let with_recipient: Access = (vec!["--backup-recipient", &recipient], &[]);
    let with_identity: Access = (vec!["--backup-identity", &id_path], &[]);
    let with_passphrase: Access = (vec![], &pass_env);
    let ((b1_make, b1_open), (b2_make, b2_open)) = if controller == "ours" {
        (
            (with_recipient, with_identity),
            (with_passphrase.clone(), with_passphrase),
        )
    } else {
        (
            (with_passphrase.clone(), with_passphrase),
            (with_recipient, with_identity),
        )
    };
    let (b1_args, b1_env) = b1_make;
    let (b2_args, b2_env) = b2_make;
    let open_b1 = b1_open;
    let open_b2 = b2_open;

    // ---- cluster 1
    let c1 = OwnCluster::up(&format!("drill1-{controller}"), controller, &[]);
    c1.cluster().kubectl_ok(&["create", "namespace", NS], b"");
    let cert1 = fetch_cert(&c1);
    let set1 = seal_set(&c1, &repo, &cert1, 1);
    let orig1 = apply_and_collect(&c1, &repo, &set1);
    let k1: Vec<String> = key_names(&c1).into_iter().collect();
    assert_eq!(k1.len(), 1, "{k1:?}");
    if controller == "ours" {
        let n = wait_for(30, "keys_not_backed_up = 1", || {
            not_backed_up_metric(&c1).filter(|v| *v == 1.0)
        });
        assert_eq!(n, 1.0);
        let events = c1.cluster().kubectl_ok(
            &[
                "get",
                "events",
                "-n",
                "kube-system",
                "--field-selector",
                "reason=KeyNotBackedUp",
                "-o",
                "name",
            ],
            b"",
        );
        assert!(!events.trim().is_empty(), "no KeyNotBackedUp event");
    }
    backup(&c1, &b1, &b1_args, b1_env, 1);
    if controller == "ours" {
        wait_for(30, "keys_not_backed_up = 0", || {
            not_backed_up_metric(&c1).filter(|v| *v == 0.0)
        });
    }

    // Key renewal (SIGUSR1), then the second set is sealed with the new key.
    let pid = c1.var("SSRS_CONTROLLER_PID").to_string();
    let kill = Command::new("kill").args(["-USR1", &pid]).status().unwrap();
    assert!(kill.success());
    let cert2 = wait_for(60, "a renewed certificate", || {
        let c = fetch_cert(&c1);
        (c != cert1).then_some(c)
    });
    let set2 = seal_set(&c1, &repo, &cert2, 2);
    let orig2 = apply_and_collect(&c1, &repo, &set2);
    if controller == "ours" {
        wait_for(30, "keys_not_backed_up = 1", || {
            not_backed_up_metric(&c1).filter(|v| *v == 1.0)
        });
    }
    let keys1 = key_names(&c1);
    assert_eq!(keys1.len(), 2, "{keys1:?}");
    let k2: Vec<String> = keys1
        .difference(&k1.iter().cloned().collect())
        .cloned()
        .collect();
    backup(&c1, &b2, &b2_args, b2_env, 2);
    if controller == "ours" {
        wait_for(30, "keys_not_backed_up = 0", || {
            not_backed_up_metric(&c1).filter(|v| *v == 0.0)
        });
    }
    let dir1 = c1.dir.clone();
    // ---- cluster 2: no controller yet
    let mut c2 = c1.then_up(&format!("drill2-{controller}"), "none", &[]);
    assert!(!dir1.exists(), "cluster 1 state (etcd data) still there");
    c2.cluster().kubectl_ok(&["create", "namespace", NS], b"");
    // Without permission: one clear line, nothing written.
    let user = c2.var("SSRS_USER_KUBECONFIG").to_string();
    let mut args = vec!["--restore-keys", b1.to_str().unwrap()];
    args.extend_from_slice(&open_b1.0);
    let mut env: Vec<(&str, &str)> = open_b1.1.to_vec();
    env.push(("KUBECONFIG", &user));
    let denied = kubeseal(&c2, &args, b"", &env);
    assert_eq!(denied.status.code(), Some(1), "{}", stderr(&denied));
    let err = stderr(&denied);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot restore keys into namespace kube-system: ")
            && err.contains("forbidden"),
        "{err}"
    );
    assert!(key_secrets(&c2).is_empty());

    let err = restore(&c2, &b1, &open_b1.0, open_b1.1);
    assert!(
        err.contains(&format!("created kube-system/{}", k1[0])),
        "{err}"
    );
    let err = restore(&c2, &b1, &open_b1.0, open_b1.1);
    assert!(
        err.contains(&format!("skipped kube-system/{}: already present", k1[0])),
        "{err}"
    );
    assert!(!err.contains("created "), "{err}");

    c2.script(&["start-controller", "--controller", "ours"]);
    c2.reload_env();
    // No new key while the restored one is current, and it is the one that seals.
    assert_eq!(key_names(&c2), k1.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(fetch_cert(&c2), cert1);
    let got1 = apply_and_collect(&c2, &repo, &set1);
    assert_eq!(got1, orig1, "Secrets of set 1 differ after the restore");
    wait_for(30, "keys_not_backed_up = 0", || {
        not_backed_up_metric(&c2).filter(|v| *v == 0.0)
    });

    // B2 into the running controller: k1 skipped, k2 created and used without a restart.
    let err = restore(&c2, &b2, &open_b2.0, open_b2.1);
    assert!(
        err.contains(&format!("skipped kube-system/{}: already present", k1[0])),
        "{err}"
    );
    assert!(
        err.contains(&format!("created kube-system/{}", k2[0])),
        "{err}"
    );
    let pid = c2.var("SSRS_CONTROLLER_PID").to_string();
    let cert = wait_for(30, "the restored newest certificate", || {
        let c = fetch_cert(&c2);
        (c == cert2).then_some(c)
    });
    assert_eq!(cert, cert2);
    let got2 = apply_and_collect(&c2, &repo, &set2);
    assert_eq!(got2, orig2, "Secrets of set 2 differ after the restore");
    assert_eq!(key_names(&c2), keys1, "a key was generated or lost");
    c2.reload_env();
    assert_eq!(
        c2.var("SSRS_CONTROLLER_PID"),
        pid,
        "the controller was restarted"
    );
    assert_eq!(not_backed_up_metric(&c2), Some(0.0));

    // A different Secret under a key's name is never overwritten: the key is restored under
    // backup::restored_name (keys are found by label), exit 0; a second run finds it there.
    let k = c2.cluster();
    k.kubectl_ok(&["create", "namespace", "other"], b"");
    k.kubectl_ok(
        &[
            "create",
            "secret",
            "generic",
            &k1[0],
            "-n",
            "other",
            "--from-literal=keep=me",
        ],
        b"",
    );
    let mut args = vec![
        "--restore-keys",
        b2.to_str().unwrap(),
        "--controller-namespace",
        "other",
    ];
    args.extend_from_slice(&open_b2.0);
    let out = kubeseal(&c2, &args, b"", open_b2.1);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let note = format!(
        " (under a new name: other/{} is a different Secret, not overwritten)",
        k1[0]
    );
    let line = err
        .lines()
        .find(|l| l.ends_with(&note))
        .unwrap_or_else(|| panic!("no restore under a new name: {err}"));
    let (renamed, fingerprint) = line
        .trim_start_matches("created other/")
        .trim_end_matches(&note)
        .split_once(' ')
        .unwrap();
    assert_eq!(
        renamed,
        sealed_secrets::backup::restored_name(&k1[0], fingerprint)
    );
    assert!(err.contains(&format!("created other/{}", k2[0])), "{err}");
    let kept = k.get_json("secret", "other", &k1[0]).unwrap();
    assert_eq!(kept["data"], json!({"keep": "bWU="}));
    assert!(kept["metadata"]["labels"].is_null(), "{}", kept["metadata"]);
    let restored = k.get_json("secret", "other", renamed).unwrap();
    assert_eq!(
        restored["metadata"]["labels"]["sealedsecrets.bitnami.com/sealed-secrets-key"],
        "active"
    );
    let again = kubeseal(&c2, &args, b"", open_b2.1);
    let err = stderr(&again);
    assert_eq!(again.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("skipped other/{renamed}: already present")),
        "{err}"
    );
    c2.down();
    eprintln!(
        "drill with {controller} controller keys: {:?}",
        started.elapsed()
    );
}

fn drill_with_our_controller() {
    drill("ours");
}

fn drill_with_upstream_controller_keys() {
    drill("upstream");
}

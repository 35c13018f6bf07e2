//! Re-sealing a repository in place after a key renewal (docs/operations.md, "Re-encrypting a
//! repository after a renewal"), on a real control plane with our controller: a tree sealed under
//! key 1 (plus items and files sealed under key 2 after a SIGUSR1 renewal) is re-sealed by
//! `kubeseal --re-encrypt-path` through the controller (`/v1/rotate`) and offline (the key Secrets
//! as a backup, and the new certificate); only the key-1 items change, byte for byte in place,
//! and every Secret unseals after `kubectl apply`.
//!
//! Suite `reseal` of the e2e binary (main.rs); its one case renews the suite's key.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Test;
use crate::case::*;
use e2e::{Cluster, ours, stderr, stdout, wait_for};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![cluster: reseal_tree_after_renewal_through_the_controller_and_offline].to_vec()
}

const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

fn fetch_cert(c: &Cluster) -> Vec<u8> {
    let out = c.run(&ours(), &["--fetch-cert"], b"", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

/// Our kubeseal sealing `secret` for `cert`, as YAML.
fn seal_yaml(c: &Cluster, cert: &Path, secret: &Value, args: &[&str]) -> String {
    let mut all = vec!["--cert", cert.to_str().unwrap(), "-o", "yaml"];
    all.extend_from_slice(args);
    let out = c.run(&ours(), &all, &serde_json::to_vec(secret).unwrap(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn secret(ns: &str, name: &str, annotations: Value, data: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.to_string(), json!(e2e::b64encode(v.as_bytes()))))
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": name, "namespace": ns, "annotations": annotations},
           "data": data})
}

/// What a tree holds once unsealed: (name, data).
type Expected = Vec<(&'static str, Vec<(&'static str, String)>)>;

/// The key-1 part of a tree for namespace `ns` in `dir`: `apps/app.yaml` (a comment, a ConfigMap,
/// SealedSecret `db` with items `password` and `user`), `apps/api.json` (namespace-wide `api`).
fn seal_key1_part(case: &mut Case, dir: &Path, ns: &str, cert1: &Path) -> Expected {
    let c = case.c;
    let (password, user, token) = (
        case.plaintext("password"),
        case.plaintext("user"),
        case.plaintext("token"),
    );
    std::fs::create_dir_all(dir.join("apps")).unwrap();
    let db = seal_yaml(
        c,
        cert1,
        &secret(
            ns,
            "db",
            json!({}),
            &[("password", &password), ("user", &user)],
        ),
        &[],
    );
    std::fs::write(dir.join("db.sealed.yaml"), db).unwrap();
    let api = seal_yaml(
        c,
        cert1,
        &secret(ns, "api", json!({}), &[("token", &token)]),
        &["--scope", "namespace-wide", "-o", "json"],
    );
    std::fs::write(dir.join("apps/api.json"), api).unwrap();
    vec![
        ("db", vec![("password", password), ("user", user)]),
        ("api", vec![("token", token)]),
    ]
}

/// The key-2 part: item `extra` merged into `db`, SealedSecret `cache` appended to app.yaml, and
/// `apps/current.yaml` (`registry`), all sealed for key 2 and never to change.
fn seal_key2_part(case: &mut Case, dir: &Path, ns: &str, cert2: &Path, expected: &mut Expected) {
    let c = case.c;
    let (extra, cache, registry) = (
        case.plaintext("extra"),
        case.plaintext("cache"),
        case.plaintext("registry"),
    );
    let db_file = dir.join("db.sealed.yaml");
    let merge = c.run(
        &ours(),
        &[
            "--cert",
            cert2.to_str().unwrap(),
            "-o",
            "yaml",
            "--merge-into",
            db_file.to_str().unwrap(),
        ],
        &serde_json::to_vec(&secret(ns, "db", json!({}), &[("extra", &extra)])).unwrap(),
        &[],
    );
    assert!(merge.status.success(), "{}", stderr(&merge));
    let cache_ss = seal_yaml(
        c,
        cert2,
        &secret(ns, "cache", json!({}), &[("url", &cache)]),
        &[],
    );
    let app = format!(
        "# The application's configuration and credentials.\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: {ns}\ndata:\n  host: db   # not secret\n---\n{}---\n# sealed after the renewal\n{cache_ss}",
        std::fs::read_to_string(&db_file).unwrap()
    );
    std::fs::remove_file(&db_file).unwrap();
    std::fs::write(dir.join("apps/app.yaml"), app).unwrap();
    let reg = seal_yaml(
        c,
        cert2,
        &secret(ns, "registry", json!({}), &[("auth", &registry)]),
        &[],
    );
    std::fs::write(dir.join("apps/current.yaml"), reg).unwrap();
    expected[0].1.push(("extra", extra));
    expected.push(("cache", vec![("url", cache)]));
    expected.push(("registry", vec![("auth", registry)]));
}

fn read_tree(dir: &Path) -> Vec<(String, String)> {
    ["apps/app.yaml", "apps/api.json", "apps/current.yaml"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read_to_string(dir.join(f)).unwrap()))
        .collect()
}

/// A git-style line diff: the same number of lines, and exactly the lines of the key-1 items
/// (`password`, `user` in app.yaml, `token` in api.json) differ; current.yaml is identical.
fn assert_minimal_diff(before: &[(String, String)], after: &[(String, String)], how: &str) {
    for ((file, old), (_, new)) in before.iter().zip(after) {
        let changed: Vec<&str> = old
            .lines()
            .zip(new.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.trim_start().split(':').next().unwrap())
            .collect();
        assert_eq!(old.lines().count(), new.lines().count(), "{how} {file}");
        let want: &[&str] = match file.as_str() {
            "apps/app.yaml" => &["password", "user"],
            "apps/api.json" => &["\"token\""],
            _ => &[],
        };
        assert_eq!(changed, want, "{how} {file}:\n{new}");
        if want.is_empty() {
            assert_eq!(old, new, "{how} {file}");
        }
    }
}

fn key_list(secrets: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "List", "items": secrets})).unwrap()
}

fn reseal_tree_after_renewal_through_the_controller_and_offline(c: &Cluster) {
    let mut case = Case::new(c, "reseal");
    let ns_ctl = case.ns.clone();
    let ns_off = case.other_namespace("reseal-off");
    let work = case.dir.path().to_path_buf();
    let (tree_ctl, tree_off) = (work.join("ctl"), work.join("off"));

    let cert1 = work.join("cert1.pem");
    std::fs::write(&cert1, fetch_cert(c)).unwrap();
    let mut expected_ctl = seal_key1_part(&mut case, &tree_ctl, &ns_ctl, &cert1);
    let mut expected_off = seal_key1_part(&mut case, &tree_off, &ns_off, &cert1);

    // Renewal: SIGUSR1 to the controller; the certificate changes.
    let pid = c.var("SSRS_CONTROLLER_PID").to_string();
    assert!(
        Command::new("kill")
            .args(["-USR1", &pid])
            .status()
            .unwrap()
            .success()
    );
    let cert1_pem = std::fs::read(&cert1).unwrap();
    let cert2_pem = wait_for(60, "a renewed certificate", || {
        let now = fetch_cert(c);
        (now != cert1_pem).then_some(now)
    });
    let cert2 = work.join("cert2.pem");
    std::fs::write(&cert2, &cert2_pem).unwrap();
    seal_key2_part(&mut case, &tree_ctl, &ns_ctl, &cert2, &mut expected_ctl);
    seal_key2_part(&mut case, &tree_off, &ns_off, &cert2, &mut expected_off);

    // The keys as a backup would hold them: both, and the new one alone.
    let keys = c.key_secrets(KEY_LABEL);
    assert_eq!(keys.len(), 2, "two keys after the renewal");
    let all_keys = work.join("keys.json");
    std::fs::write(&all_keys, key_list(&keys)).unwrap();
    let new_key = work.join("key2.json");
    std::fs::write(&new_key, key_list(&keys[1..])).unwrap();

    // Through the controller: a dry run lists and writes nothing, then the run.
    let before_ctl = read_tree(&tree_ctl);
    let dry = c.run(
        &ours(),
        &[
            "--re-encrypt-path",
            tree_ctl.to_str().unwrap(),
            "--re-encrypt-dry-run",
        ],
        b"",
        &[],
    );
    assert!(dry.status.success(), "{}", stderr(&dry));
    let t = tree_ctl.display();
    assert_eq!(
        stdout(&dry),
        format!(
            "{t}/apps/api.json: {ns_ctl}/api (token)\n{t}/apps/app.yaml: {ns_ctl}/db (password, user)\n"
        )
    );
    assert!(
        stderr(&dry).ends_with("would re-encrypt 3 items in 2 files (3 items already current)\n"),
        "{}",
        stderr(&dry)
    );
    assert_eq!(read_tree(&tree_ctl), before_ctl);
    let run = c.run(
        &ours(),
        &["--re-encrypt-path", tree_ctl.to_str().unwrap()],
        b"",
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).ends_with("re-encrypted 3 items in 2 files (3 items already current)\n"),
        "{}",
        stderr(&run)
    );
    assert_minimal_diff(&before_ctl, &read_tree(&tree_ctl), "controller");

    // Offline: the key Secrets as a backup, the new certificate; no cluster access needed.
    let before_off = read_tree(&tree_off);
    let offline = |dir: &Path, keys: &Path, dry_run: bool| {
        let mut cmd = Command::new(ours());
        cmd.args(["--re-encrypt-path"])
            .arg(dir)
            .arg("--cert")
            .arg(&cert2)
            .arg("--recovery-private-key")
            .arg(keys)
            .env_clear()
            .env("HOME", &work)
            .env("KUBECONFIG", "/nonexistent");
        if dry_run {
            cmd.arg("--re-encrypt-dry-run");
        }
        cmd.output().unwrap()
    };
    let run = offline(&tree_off, &all_keys, false);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).ends_with("re-encrypted 3 items in 2 files (3 items already current)\n"),
        "{}",
        stderr(&run)
    );
    assert_minimal_diff(&before_off, &read_tree(&tree_off), "offline");

    // Every item of both trees now opens with the new key alone: nothing left to re-seal.
    for tree in [&tree_ctl, &tree_off] {
        let check = offline(tree, &new_key, true);
        assert!(check.status.success(), "{}", stderr(&check));
        assert!(
            stderr(&check)
                .ends_with("would re-encrypt 0 items in 0 files (6 items already current)\n"),
            "{}",
            stderr(&check)
        );
    }

    // Applied, every Secret unseals to its original data.
    for (tree, ns, expected) in [
        (&tree_ctl, &ns_ctl, &expected_ctl),
        (&tree_off, &ns_off, &expected_off),
    ] {
        let apply = c.kubectl(&["apply", "-R", "-f", tree.to_str().unwrap()], b"");
        assert!(apply.status.success(), "{}", stderr(&apply));
        for (name, data) in expected.iter() {
            let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
            case.wait_secret(ns, name, &data);
        }
    }
    let _: PathBuf = work;
}

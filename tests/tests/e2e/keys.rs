//! Key inventory and retirement (docs/operations.md "Key inventory and retirement") on a real
//! control plane with our controller:
//!
//! - two SealedSecrets sealed with key 1, a renewal (SIGUSR1), one sealed with key 2: the Secrets
//!   name the key that unsealed them, `kubeseal --list-keys` shows 2 keys with counts 2/1 and key 2
//!   active, the `key_sealed_secrets` gauge agrees;
//! - `--retire-key` of key 1 is refused (in use), of key 2 always (active, even with `--force`);
//! - the two re-sealed through the controller (`--re-encrypt`) and applied: counts 0/3; retiring
//!   key 1 is refused (in no backup) until `--backup-keys`, then it is deleted;
//! - afterwards all three Secrets are unchanged, a new SealedSecret unseals, the controller is
//!   healthy and generated no key.
//!
//! Suite `keys` of the e2e binary (main.rs).

use std::process::{Command, Output};

use crate::Test;
use crate::case::*;
use e2e::{Cluster, http_request, metric_value, ours, stderr, stdout};
use serde_json::Value;

pub fn tests() -> Vec<Test> {
    e2e_tests![cluster: inventory_counts_then_retirement_refused_then_allowed].to_vec()
}

const ANNOTATION: &str = "sealedsecrets-rs.io/sealing-keys";
const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

fn kubeseal(c: &Cluster, args: &[&str], stdin: &[u8]) -> Output {
    let mut all = vec![
        "--controller-namespace",
        c.controller_namespace.as_str(),
        "--controller-name",
        c.controller_name.as_str(),
    ];
    all.extend_from_slice(args);
    c.run(&ours(), &all, stdin, &[])
}

fn kubeseal_ok(c: &Cluster, args: &[&str], stdin: &[u8]) -> String {
    let out = kubeseal(c, args, stdin);
    assert!(out.status.success(), "kubeseal {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `kubeseal --list-keys -o json`.
fn inventory(c: &Cluster) -> Value {
    serde_json::from_str(&kubeseal_ok(c, &["--list-keys", "-o", "json"], b"")).unwrap()
}

/// (name, fingerprint, active, backed up, count) of each key, oldest first.
fn rows(inv: &Value) -> Vec<(String, String, bool, bool, u64)> {
    inv["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_string(),
                k["fingerprint"].as_str().unwrap().to_string(),
                k["active"].as_bool().unwrap(),
                k["backedUp"].as_bool().unwrap(),
                k["sealedSecrets"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Waits until the inventory shows these counts (oldest key first) and no unknown.
fn wait_counts(c: &Cluster, counts: &[u64]) -> Value {
    eventually(&format!("--list-keys counts {counts:?}"), || {
        let inv = inventory(c);
        let got: Vec<u64> = rows(&inv).iter().map(|r| r.4).collect();
        if got == counts && inv["unknown"] == 0 {
            Ok(inv)
        } else {
            Err(format!("{inv}"))
        }
    })
}

fn usage_metric(c: &Cluster, fingerprint: &str) -> Option<f64> {
    let reply = http_request(c.var("SSRS_METRICS_URL"), "GET", "/metrics", &[], b"").ok()?;
    metric_value(
        &reply.text(),
        "sealed_secrets_controller_key_sealed_secrets",
        &[("key", fingerprint)],
    )
}

fn wait_metric(c: &Cluster, fingerprint: &str, want: f64) {
    eventually(
        &format!("key_sealed_secrets{{key={fingerprint}}} = {want}"),
        || match usage_metric(c, fingerprint) {
            Some(v) if v == want => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
}

/// Seals `name` (`foo=<value>`) with `cert` and creates the SealedSecret.
fn seal_and_create_only(t: &Case, cert: &str, name: &str, value: &str) {
    let cert_file = t.file("cert.pem", cert.as_bytes());
    let secret = t.secret(&t.ns, name, &[], &[("foo", value)]);
    let sealed = kubeseal_ok(
        t.c,
        &["--cert", cert_file.to_str().unwrap(), "-o", "json"],
        &serde_json::to_vec(&secret).unwrap(),
    );
    let ss: Value = serde_json::from_str(&sealed).unwrap();
    t.create(&ss);
}

/// Seals `name` (`foo=<value>`) with the controller's current certificate, creates it and waits
/// for its Secret.
fn seal_and_create(t: &Case, cert: &str, name: &str, value: &str) -> Value {
    seal_and_create_only(t, cert, name, value);
    t.wait_secret(&t.ns, name, &[("foo", value)])
}

fn refused(c: &Cluster, args: &[&str], message: &str) {
    let out = kubeseal(c, args, b"");
    assert!(!out.status.success(), "kubeseal {args:?} succeeded");
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l == format!("error: {message}")),
        "kubeseal {args:?}: {err}"
    );
}

fn inventory_counts_then_retirement_refused_then_allowed(c: &Cluster) {
    let mut t = Case::new(c, "keys");
    let cert1 = kubeseal_ok(c, &["--fetch-cert"], b"");
    let values: Vec<String> = (0..4).map(|i| t.plaintext(&format!("v{i}"))).collect();
    seal_and_create(&t, &cert1, "one", &values[0]);
    seal_and_create(&t, &cert1, "two", &values[1]);

    // Renewal: key 2 becomes active.
    let pid = c.var("SSRS_CONTROLLER_PID").to_string();
    let kill = Command::new("kill").args(["-USR1", &pid]).status().unwrap();
    assert!(kill.success());
    let cert2 = eventually("a renewed certificate", || {
        let cert = kubeseal_ok(c, &["--fetch-cert"], b"");
        if cert != cert1 {
            Ok(cert)
        } else {
            Err("same certificate".to_string())
        }
    });
    seal_and_create(&t, &cert2, "three", &values[2]);

    let inv = wait_counts(c, &[2, 1]);
    let keys = rows(&inv);
    assert_eq!(keys.len(), 2, "{inv}");
    let (key1, fp1) = (keys[0].0.clone(), keys[0].1.clone());
    let (key2, fp2) = (keys[1].0.clone(), keys[1].1.clone());
    assert_eq!(
        (keys[0].2, keys[1].2),
        (false, true),
        "key 2 is active: {inv}"
    );
    assert_eq!((keys[0].3, keys[1].3), (false, false), "{inv}");
    assert_eq!(inv["sealedSecrets"], 3);
    for (name, fp) in [("one", &fp1), ("two", &fp1), ("three", &fp2)] {
        let s = t.get("secret", &t.ns, name).unwrap();
        assert_eq!(
            s["metadata"]["annotations"][ANNOTATION],
            fp.as_str(),
            "{name}"
        );
    }
    wait_metric(c, &fp1, 2.0);
    wait_metric(c, &fp2, 1.0);
    // The table: a header, one line per key, the unknown count.
    let table = kubeseal_ok(c, &["--list-keys"], b"");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("NAME "), "{table}");
    assert!(lines[1].starts_with(&format!("{key1} ")), "{table}");
    assert!(
        lines[2].contains(&fp2) && lines[2].ends_with(" 1"),
        "{table}"
    );
    assert!(lines[3].contains(", 0 of them unknown"), "{table}");

    refused(
        c,
        &["--retire-key", &key1],
        &format!(
            "key {key1:?} is still needed by 2 SealedSecret(s): re-encrypt them first (kubeseal --re-encrypt), or give --force"
        ),
    );
    let active = format!(
        "key {key2:?} is the active sealing key: it is never retired (renew the key first, then re-encrypt)"
    );
    refused(c, &["--retire-key", &key2], &active);
    refused(c, &["--retire-key", &key2, "--force"], &active);

    // Re-seal the two through the controller and apply them.
    for name in ["one", "two"] {
        let mut ss = t.get(SS, &t.ns, name).unwrap();
        ss.as_object_mut().unwrap().remove("status");
        let rotated = kubeseal_ok(
            c,
            &["--re-encrypt", "-o", "json"],
            &serde_json::to_vec(&ss).unwrap(),
        );
        t.replace(serde_json::from_str(&rotated).unwrap());
    }
    wait_counts(c, &[0, 3]);
    wait_metric(c, &fp1, 0.0);
    wait_metric(c, &fp2, 3.0);

    // A SealedSecret none of the controller's keys opens has no Secret: unknown, so it may need
    // key 1 (it is deleted again before the retirement).
    let foreign = std::fs::read_to_string(e2e::fixture("keys/other-cert.pem")).unwrap();
    let stray = t.plaintext("stray");
    seal_and_create_only(&t, &foreign, "foreign", &stray);
    t.assert_cannot_unseal(&t.ns, "foreign");
    let inv = inventory(c);
    assert_eq!(
        (inv["unknown"].as_u64(), inv["sealedSecrets"].as_u64()),
        (Some(1), Some(4)),
        "{inv}"
    );
    refused(
        c,
        &["--retire-key", &key1],
        &format!(
            "1 SealedSecret(s) do not say which key unsealed them (their Secret has no {ANNOTATION} annotation) and may need key {key1:?}: wait for the controller to unseal them again, or give --force"
        ),
    );
    t.delete(SS, &t.ns, "foreign");
    wait_counts(c, &[0, 3]);

    refused(
        c,
        &["--retire-key", &key1],
        &format!(
            "key {key1:?} is in no backup (no sealedsecrets-rs.io/backed-up-at annotation): run kubeseal --backup-keys first, or give --force"
        ),
    );
    let backup = kubeseal_ok(c, &["--backup-keys", "--backup-plaintext"], b"");
    assert!(backup.contains(&key1), "the backup holds key 1");
    let inv = inventory(c);
    assert!(rows(&inv).iter().all(|r| r.3), "both backed up: {inv}");

    let out = kubeseal(c, &["--retire-key", &key1], b"");
    assert!(out.status.success(), "retire: {}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "retired key {}/{key1} {fp1}",
            c.controller_namespace
        )),
        "{}",
        stderr(&out)
    );
    let remaining: Vec<String> = c
        .key_secrets(KEY_LABEL)
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        remaining,
        std::slice::from_ref(&key2),
        "key 1's Secret is gone"
    );
    refused(
        c,
        &["--retire-key", &key1],
        &format!(
            "key Secret {key1:?} not found in namespace {} (see kubeseal --list-keys)",
            c.controller_namespace
        ),
    );

    // The controller keeps working with the remaining key: the Secrets stay, a new one unseals.
    for (name, value) in [
        ("one", &values[0]),
        ("two", &values[1]),
        ("three", &values[2]),
    ] {
        t.wait_secret(&t.ns, name, &[("foo", value)]);
        t.wait_synced(&t.ns, name, "True");
    }
    seal_and_create(&t, &cert2, "four", &values[3]);
    wait_counts(c, &[4]);
    wait_metric(c, &fp2, 4.0);
    assert_eq!(kubeseal_ok(c, &["--fetch-cert"], b""), cert2, "no new key");
    assert_eq!(c.key_secrets(KEY_LABEL).len(), 1, "no key generated");
    t.finish();
}

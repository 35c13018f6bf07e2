//! No RSA work for unchanged SealedSecrets (docs/architecture.md "No RSA work for unchanged
//! SealedSecrets"), on a real control plane with our controller, counted by
//! `sealed_secrets_controller_rsa_private_key_operations_total` and the API server's audit log:
//!
//! - the first unseal of `N` SealedSecrets of 3 items costs exactly 3 RSA operations each, and no
//!   GET of a Secret (the Secret cache says it does not exist yet);
//! - with the controller stopped: one Secret edited by hand, one SealedSecret re-sealed with a new
//!   value, one Secret deleted, and a second key added for a SealedSecret that could not be
//!   unsealed; after the start every one of them is reconciled as upstream would (the Secret
//!   restored, updated, re-created, created) with exactly the RSA operations that takes (the old
//!   key is tried first: 2 per item of the new key's SealedSecret), and the `N` unchanged ones cost
//!   none and are not written;
//! - a restart with everything unchanged: 0 RSA operations, and no write of any kind in the
//!   namespace.
//!
//! Suite `scale` of the e2e binary (main.rs); one case, as it restarts the controller.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::Test;
use crate::case::*;
use e2e::{Cluster, b64encode, http_request, metric_value, ours, stderr};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![cluster: restarts_cost_rsa_work_only_for_what_changed].to_vec()
}

/// SealedSecrets that stay unchanged throughout.
const N: usize = 20;
const ITEMS: usize = 3;
const OTHER_KEY: &[u8] = include_bytes!("../../../tests/fixtures/keys/other-key.pem");
const OTHER_CERT: &[u8] = include_bytes!("../../../tests/fixtures/keys/other-cert.pem");

fn metrics(c: &Cluster) -> String {
    http_request(c.var("SSRS_METRICS_URL"), "GET", "/metrics", &[], b"")
        .map(|r| r.text())
        .unwrap_or_default()
}

fn counter(c: &Cluster, name: &str) -> Option<u64> {
    metric_value(&metrics(c), name, &[]).map(|v| v as u64)
}

fn rsa_operations(c: &Cluster) -> u64 {
    counter(
        c,
        "sealed_secrets_controller_rsa_private_key_operations_total",
    )
    .expect("no RSA operation counter")
}

/// Waits until the controller has reconciled at least `n` SealedSecrets since it started, then
/// until its RSA counter holds still for 2 s; returns the count.
fn settled_rsa_operations(c: &Cluster, n: u64) -> u64 {
    eventually(&format!("{n} reconciles"), || {
        match counter(c, "sealed_secrets_controller_unseal_requests_total") {
            Some(got) if got >= n => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let mut last = rsa_operations(c);
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let now = rsa_operations(c);
        if now == last {
            return now;
        }
        last = now;
    }
}

/// The controller's requests on namespaced objects of `ns` in the audit log after byte `from`:
/// "verb resource[/subresource]" -> count.
fn requests(c: &Cluster, ns: &str, from: usize) -> BTreeMap<String, usize> {
    let user = format!(
        "system:serviceaccount:{}:{}",
        c.controller_namespace, c.controller_name
    );
    let log = std::fs::read_to_string(c.var("SSRS_AUDIT_LOG")).unwrap();
    let mut counts = BTreeMap::new();
    for e in log
        .get(from..)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["stage"] == "ResponseComplete" && e["user"]["username"] == user)
        .filter(|e| e["objectRef"]["namespace"] == ns)
    {
        let r = &e["objectRef"];
        let mut what = format!(
            "{} {}",
            e["verb"].as_str().unwrap_or("?"),
            r["resource"].as_str().unwrap_or("?")
        );
        if let Some(sub) = r["subresource"].as_str() {
            what = format!("{what}/{sub}");
        }
        *counts.entry(what).or_default() += 1;
    }
    counts
}

fn audit_len(c: &Cluster) -> usize {
    std::fs::metadata(c.var("SSRS_AUDIT_LOG")).map_or(0, |m| m.len() as usize)
}

fn items(t: &mut Case, what: &str) -> Vec<(String, String)> {
    (0..ITEMS)
        .map(|i| (format!("k{i}"), t.plaintext(&format!("{what}{i}"))))
        .collect()
}

fn pairs(items: &[(String, String)]) -> Vec<(&str, &str)> {
    items
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Seals Secret `name` with `items` for `cert`.
fn sealed(t: &Case, cert: &[u8], name: &str, items: &[(String, String)]) -> Value {
    let cert_file = t.file("seal-cert.pem", cert);
    let secret = t.secret(&t.ns, name, &[], &pairs(items));
    let out = t.c.run(
        &ours(),
        &["--cert", cert_file.to_str().unwrap(), "-o", "json"],
        &serde_json::to_vec(&secret).unwrap(),
        &[],
    );
    assert!(out.status.success(), "kubeseal: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn resource_version(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn restarts_cost_rsa_work_only_for_what_changed(c: &Cluster) {
    let mut t = Case::new(c, "scale");
    let ns = t.ns.clone();
    let cert = c.sealing_cert().to_vec();

    // First unseal: 3 RSA operations per SealedSecret, no GET of a Secret.
    let names: Vec<String> = (0..N).map(|i| format!("s{i}")).collect();
    let mut values = BTreeMap::new();
    for name in names
        .iter()
        .chain(["edited", "updated", "deleted"].map(String::from).iter())
    {
        values.insert(name.clone(), items(&mut t, name));
    }
    let before = rsa_operations(c);
    let audit_before = audit_len(c);
    for (name, v) in &values {
        t.create(&sealed(&t, &cert, name, v));
    }
    let mut secrets = BTreeMap::new();
    for (name, v) in &values {
        secrets.insert(name.clone(), t.wait_secret(&ns, name, &pairs(v)));
        t.wait_synced(&ns, name, "True");
    }
    let first = values.len();
    assert_eq!(
        settled_rsa_operations(c, 0) - before,
        (first * ITEMS) as u64,
        "RSA operations of the first unseal"
    );
    let first_requests = requests(c, &ns, audit_before);
    eprintln!("scale: requests of {first} first unseals: {first_requests:?}");
    assert_eq!(
        first_requests.get("create secrets"),
        Some(&first),
        "{first_requests:?}"
    );
    assert_eq!(
        first_requests.get("get secrets"),
        None,
        "{first_requests:?}"
    );

    // A SealedSecret for a key the controller does not have yet.
    let newkey = items(&mut t, "newkey");
    t.create(&sealed(&t, OTHER_CERT, "newkey", &newkey));
    t.wait_synced(&ns, "newkey", "False");

    // While the controller is down.
    c.script(&["stop-controller"]);
    let hand = t.plaintext("hand");
    c.kubectl_ok(
        &[
            "patch",
            "secret",
            "-n",
            &ns,
            "edited",
            "--type=merge",
            "-p",
            &json!({"data": {"k0": b64encode(hand.as_bytes())}}).to_string(),
        ],
        b"",
    );
    let updated = items(&mut t, "updated-again");
    t.replace(sealed(&t, &cert, "updated", &updated));
    c.kubectl_ok(&["delete", "secret", "-n", &ns, "deleted"], b"");
    let key_secret = json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": format!("scale-key-{}", ns), "namespace": c.controller_namespace,
                     "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
        "data": {"tls.crt": b64encode(OTHER_CERT), "tls.key": b64encode(OTHER_KEY)}
    });
    c.kubectl_ok(
        &["create", "-f", "-"],
        &serde_json::to_vec(&key_secret).unwrap(),
    );
    let unchanged: Vec<(String, String)> = names
        .iter()
        .map(|n| {
            let ss = t.get(SS, &ns, n).unwrap();
            (resource_version(&secrets[n]), resource_version(&ss))
        })
        .collect();
    let audit_before = audit_len(c);
    c.script(&["start-controller"]);

    // Every change is reconciled, with exactly the RSA work it takes.
    t.wait_secret(&ns, "edited", &pairs(&values["edited"]));
    t.wait_secret(&ns, "updated", &pairs(&updated));
    t.wait_secret(&ns, "deleted", &pairs(&values["deleted"]));
    t.wait_secret(&ns, "newkey", &pairs(&newkey));
    t.wait_synced(&ns, "newkey", "True");
    let total = (N + 4) as u64;
    let after_changes = settled_rsa_operations(c, total);
    assert_eq!(
        after_changes,
        (3 * ITEMS + 2 * ITEMS) as u64,
        "RSA operations after the start: 3 changed SealedSecrets, 1 of the new key (old key first)"
    );
    // The unchanged ones: no write, not even their status.
    for (n, (secret_rv, ss_rv)) in names.iter().zip(&unchanged) {
        let secret = t.get("secret", &ns, n).unwrap();
        assert_eq!(
            &resource_version(&secret),
            secret_rv,
            "Secret {n} was written"
        );
        assert_eq!(
            &resource_version(&t.get(SS, &ns, n).unwrap()),
            ss_rv,
            "SealedSecret {n} was written"
        );
    }
    let restart_requests = requests(c, &ns, audit_before);
    eprintln!("scale: requests of a start with {N} unchanged and 4 changed: {restart_requests:?}");
    assert_eq!(
        restart_requests.get("create secrets"),
        Some(&2),
        "{restart_requests:?}"
    );
    assert_eq!(
        restart_requests.get("update secrets"),
        Some(&2),
        "{restart_requests:?}"
    );

    // Nothing changed: no RSA work, no request at all in the namespace.
    let audit_before = audit_len(c);
    c.script(&["restart-controller"]);
    assert_eq!(
        settled_rsa_operations(c, total),
        0,
        "RSA operations of an unchanged restart"
    );
    std::thread::sleep(Duration::from_secs(1));
    let idle_requests = requests(c, &ns, audit_before);
    assert!(
        idle_requests.is_empty(),
        "requests of an unchanged restart: {idle_requests:?}"
    );
    for (n, v) in &values {
        if n != "updated" {
            t.wait_secret(&ns, n, &pairs(v));
        }
    }

    c.kubectl_ok(
        &[
            "delete",
            "secret",
            "-n",
            &c.controller_namespace,
            &format!("scale-key-{ns}"),
        ],
        b"",
    );
    t.finish();
}

//! Takeover on a real control plane: upstream's controller creates its key and unseals a varied set
//! of SealedSecrets; it is stopped and ours starts in the same pod with the same key Secrets
//! (`scripts/cluster.sh restart-controller --controller ours`). The SealedSecrets must
//! stay as they are (no Secret or status rewritten, no new key), and everything keeps working: new
//! SealedSecrets, updates, re-creation of deleted Secrets, kubeseal through the service proxy.
//!
//! Restarting the controller affects the whole cluster, hence a suite (and a control plane) of its
//! own, with one test; its control plane starts with upstream's controller.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::Test;
use crate::case::*;
use e2e::{Cluster, our_controller, stderr, stdout};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![cluster: our_controller_takes_over_from_upstream].to_vec()
}

/// The variables of `$SSRS_CLUSTER_DIR/env` as they are now (the file is rewritten on each
/// controller start).
fn current_env(c: &Cluster) -> BTreeMap<String, String> {
    Cluster::from_env_file(&c.dir).env
}

/// The key Secrets in the controller namespace: name → resourceVersion.
fn key_secrets(t: &Case) -> BTreeMap<String, String> {
    t.c.key_secrets("sealedsecrets.bitnami.com/sealed-secrets-key")
        .iter()
        .map(|s| {
            (
                s["metadata"]["name"].as_str().unwrap().to_string(),
                s["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

/// What must not change across the takeover: the Secret (uid, resourceVersion, data, metadata)
/// and the SealedSecret (resourceVersion, hence status).
#[derive(Debug, PartialEq)]
struct Snapshot {
    secret: Option<(Value, Value, BTreeMap<String, String>, Value)>,
    sealed_secret: (Value, Value),
}

fn snapshot(t: &Case, ns: &str, name: &str) -> Snapshot {
    let secret = t.get("secret", ns, name).map(|s| {
        let mut meta = s["metadata"].clone();
        meta.as_object_mut().unwrap().remove("managedFields");
        (
            s["metadata"]["uid"].clone(),
            s["metadata"]["resourceVersion"].clone(),
            decoded_data(&s),
            meta,
        )
    });
    let ss = t.get(SS, ns, name).expect("SealedSecret");
    Snapshot {
        secret,
        sealed_secret: (
            ss["metadata"]["resourceVersion"].clone(),
            ss["status"].clone(),
        ),
    }
}

/// A SealedSecret upstream unsealed: namespace, name, and the Secret data it must have.
type Expected = (String, String, Vec<(&'static str, String)>);

fn fetch_cert(t: &Case) -> Vec<u8> {
    let out = t.c.run(&t.c.upstream_kubeseal, &["--fetch-cert"], b"", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

fn our_controller_takes_over_from_upstream(c: &Cluster) {
    let env = current_env(c);
    assert_eq!(
        env.get("SSRS_CONTROLLER").map(String::as_str),
        Some("upstream"),
        "the takeover suite starts with upstream's controller"
    );
    let mut t = Case::new(c, "takeover");
    let ns = t.ns.clone();
    let ns2 = t.other_namespace("takeoverb");
    let keys_before = key_secrets(&t);
    assert_eq!(
        keys_before.len(),
        1,
        "upstream made one key: {keys_before:?}"
    );
    let cert_before = fetch_cert(&t);

    // ---- what upstream unseals (sealed by both kubeseals; certificates from upstream's controller)
    let foo = t.plaintext("foo");
    let user = t.plaintext("user");
    let docker = format!(
        r#"{{"auths":{{"registry.example":{{"auth":"{}"}}}}}}"#,
        t.plaintext("auth")
    );
    t.remember(&docker);
    let upper = foo.to_uppercase();
    t.remember(&upper);
    let config = format!(r#"{{"password": "{foo}", "user": "{user}"}}"#);
    t.remember(&config);

    let mut expected: Vec<Expected> = Vec::new();
    let mut create = |t: &Case, ss: Value, data: Vec<(&'static str, String)>| {
        let created = t.create(&ss);
        let (n, name) = (
            created["metadata"]["namespace"]
                .as_str()
                .unwrap()
                .to_string(),
            created["metadata"]["name"].as_str().unwrap().to_string(),
        );
        expected.push((n, name, data));
    };

    // plain strict, with an empty value (Go writes a nil []byte)
    let ss = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "plain", &[], &[("foo", &foo), ("empty", "")]),
        &[],
    );
    create(&t, ss, vec![("foo", foo.clone()), ("empty", String::new())]);
    // namespace-wide, renamed
    let mut ss = t.seal(
        Sealer::Ours,
        &t.secret(
            &ns,
            "nswide-src",
            &[(NAMESPACE_WIDE, "true")],
            &[("foo", &foo)],
        ),
        &[],
    );
    ss["metadata"]["name"] = json!("nswide");
    create(&t, ss, vec![("foo", foo.clone())]);
    // cluster-wide, moved to another namespace
    let mut ss = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "cwide", &[(CLUSTER_WIDE, "true")], &[("foo", &foo)]),
        &[],
    );
    ss["metadata"]["namespace"] = json!(ns2);
    create(&t, ss, vec![("foo", foo.clone())]);
    // templates: our renderer must produce upstream's bytes, or the Secret would be rewritten
    let mut ss = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "templated", &[], &[("foo", &foo), ("user", &user)]),
        &[],
    );
    ss["spec"]["template"]["data"] = json!({
        "config.json": r#"{"password": {{ toJson .foo }}, "user": {{ .user | quote }}}"#,
        "upper": "{{ .foo | upper }}",
        "encoded": r#"{{ index . "foo" | b64enc }}"#,
        "greeting": r#"{{ printf "%s-%d" .user 42 }}"#,
    });
    let encoded = e2e::b64encode(foo.as_bytes());
    create(
        &t,
        ss,
        vec![
            ("foo", foo.clone()),
            ("user", user.clone()),
            ("config.json", config.clone()),
            ("upper", upper.clone()),
            ("encoded", encoded),
            ("greeting", format!("{user}-42")),
        ],
    );
    // another Secret type; template labels and annotations
    let mut secret = t.secret(
        &ns,
        "docker",
        &[("example.com/note", "kept")],
        &[(".dockerconfigjson", &docker)],
    );
    secret["type"] = json!("kubernetes.io/dockerconfigjson");
    let ss = t.seal(Sealer::Ours, &secret, &[]);
    create(&t, ss, vec![(".dockerconfigjson", docker.clone())]);
    // immutable
    let mut ss = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "immutable", &[], &[("foo", &foo)]),
        &[],
    );
    ss["spec"]["template"]["immutable"] = json!(true);
    create(&t, ss, vec![("foo", foo.clone())]);
    // no ownerReference, managed through the template's annotation
    let ss = t.seal(
        Sealer::Upstream,
        &t.secret(
            &ns,
            "unowned",
            &[
                (
                    "sealedsecrets.bitnami.com/skip-set-owner-references",
                    "true",
                ),
                (MANAGED, "true"),
            ],
            &[("foo", &foo)],
        ),
        &[],
    );
    create(&t, ss, vec![("foo", foo.clone())]);
    // pre-existing Secrets: patched, and managed
    let old = t.plaintext("old");
    let mut pre = t.secret(
        &ns,
        "patched",
        &[(PATCH, "true")],
        &[("foo", &old), ("extra", &old)],
    );
    pre["metadata"]["labels"]["other"] = json!("label");
    t.create(&pre);
    let ss = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "patched", &[], &[("foo", &foo)]),
        &[],
    );
    create(&t, ss, vec![("foo", foo.clone()), ("extra", old.clone())]);
    t.create(&t.secret(&ns, "managed", &[(MANAGED, "true")], &[("stale", &old)]));
    let ss = t.seal(
        Sealer::Ours,
        &t.secret(&ns, "managed", &[], &[("foo", &foo)]),
        &[],
    );
    create(&t, ss, vec![("foo", foo.clone())]);
    // one that no key opens (sealed for another name)
    let mut broken = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "elsewhere", &[], &[("foo", &foo)]),
        &[],
    );
    broken["metadata"]["name"] = json!("broken");
    t.create(&broken);

    for (n, name, data) in &expected {
        let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
        t.wait_secret(n, name, &data);
        t.wait_synced(n, name, "True");
    }
    let broken_status = t.wait_synced(&ns, "broken", "False");
    assert_eq!(synced(&broken_status).unwrap()["message"], NO_KEY);
    t.wait_event_count(&ns, "broken", "ErrUnsealFailed", 1 + MAX_UNSEAL_RETRIES);
    let mut all: Vec<(String, String)> = expected
        .iter()
        .map(|(n, name, _)| (n.clone(), name.clone()))
        .collect();
    all.push((ns.clone(), "broken".to_string()));
    let before: Vec<Snapshot> = all.iter().map(|(n, name)| snapshot(&t, n, name)).collect();
    let events_before: Vec<i64> = all
        .iter()
        .map(|(n, name)| {
            t.event_count(n, name, "Unsealed") + t.event_count(n, name, "ErrUnsealFailed")
        })
        .collect();

    // ---- the takeover
    let log_offset = std::fs::metadata(&t.log).unwrap().len();
    // With --leader-elect: upstream's RBAC has no Lease permission, so ours runs as a single
    // instance (and says so) and the takeover is the same.
    c.script(&[
        "restart-controller",
        "--controller",
        "ours",
        "--",
        "--leader-elect",
    ]);
    let env = current_env(c);
    assert_eq!(env["SSRS_CONTROLLER"], "ours");
    assert_eq!(
        PathBuf::from(&env["SSRS_CONTROLLER_BIN"]),
        our_controller().canonicalize().unwrap()
    );
    t.log_start = log_offset;

    // Ours reconciles every SealedSecret once at start (an event each)...
    for ((n, name), before) in all.iter().zip(&events_before) {
        eventually(
            &format!("our controller's first reconcile of {n}/{name}"),
            || {
                let now =
                    t.event_count(n, name, "Unsealed") + t.event_count(n, name, "ErrUnsealFailed");
                if now > *before {
                    Ok(())
                } else {
                    Err(format!("{now} events"))
                }
            },
        );
    }
    t.wait_event_count(
        &ns,
        "broken",
        "ErrUnsealFailed",
        2 * (1 + MAX_UNSEAL_RETRIES),
    );
    // ...and changes nothing: same Secrets, same statuses, same keys, same certificate.
    for ((n, name), before) in all.iter().zip(&before) {
        assert_eq!(
            &snapshot(&t, n, name),
            before,
            "{n}/{name} changed in the takeover"
        );
    }
    assert!(t.get("secret", &ns, "broken").is_none());
    assert_eq!(key_secrets(&t), keys_before, "the key Secrets changed");
    let log = std::fs::read_to_string(&t.log).unwrap();
    let ours_log = &log[log_offset as usize..];
    assert!(
        ours_log.contains("starting ours controller"),
        "not our controller's log"
    );
    assert!(
        !ours_log.contains("New key written"),
        "our controller generated a key at start"
    );
    assert_eq!(
        ours_log
            .matches("leader election disabled: no permission on the Lease")
            .count(),
        1,
        "the single-instance fallback is not logged once"
    );
    let metrics =
        e2e::http_request(c.var("SSRS_METRICS_URL"), "GET", "/metrics", &[], b"").unwrap();
    for (name, want) in [
        ("sealed_secrets_controller_leader_election_unavailable", 1.0),
        ("sealed_secrets_controller_leader", 1.0),
    ] {
        assert_eq!(
            e2e::metric_value(&metrics.text(), name, &[]),
            Some(want),
            "{name}"
        );
    }
    assert_eq!(
        fetch_cert(&t),
        cert_before,
        "the sealing certificate changed"
    );

    // ---- and keeps working
    // new SealedSecrets, sealed by both kubeseals against our controller
    let foo2 = t.plaintext("foo2");
    let ss = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "new-upstream", &[], &[("foo", &foo2)]),
        &[],
    );
    t.create(&ss);
    let ss = t.seal(
        Sealer::Ours,
        &t.secret(&ns, "new-ours", &[], &[("foo", &foo2)]),
        &[],
    );
    t.create(&ss);
    t.wait_secret(&ns, "new-upstream", &[("foo", &foo2)]);
    t.wait_secret(&ns, "new-ours", &[("foo", &foo2)]);
    t.wait_synced(&ns, "new-ours", "True");

    // a Secret upstream made (owned by the SealedSecret's UID) is re-created when deleted
    let old_uid = before[0].secret.as_ref().unwrap().0.clone();
    t.delete("secret", &ns, "plain");
    let again = eventually("plain re-created by our controller", || {
        let s = t.get("secret", &ns, "plain").ok_or("absent")?;
        if s["metadata"]["uid"] != old_uid {
            Ok(s)
        } else {
            Err("old one".into())
        }
    });
    assert_eq!(
        decoded_data(&again),
        [("foo", foo.as_str()), ("empty", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    );
    let plain_ss = t.get(SS, &ns, "plain").unwrap();
    assert_eq!(owner_refs(&again)[0]["uid"], plain_ss["metadata"]["uid"]);

    // an update of a SealedSecret upstream unsealed
    let foo3 = t.plaintext("foo3");
    std::thread::sleep(Duration::from_millis(1100));
    let mut ss = t.seal(
        Sealer::Upstream,
        &t.secret(&ns, "templated", &[], &[("foo", &foo3), ("user", &user)]),
        &[],
    );
    ss["spec"]["template"]["data"] = json!({ "upper": "{{ .foo | upper }}" });
    let upper3 = foo3.to_uppercase();
    t.remember(&upper3);
    t.replace(ss);
    t.wait_secret(
        &ns,
        "templated",
        &[("foo", &foo3), ("user", &user), ("upper", &upper3)],
    );
    let ss = t.wait_observed_generation(&ns, "templated", 2);
    let cond = synced(&ss).unwrap();
    assert_eq!(cond["status"], "True");
    assert_ne!(cond["lastTransitionTime"], cond["lastUpdateTime"]);

    // upstream kubeseal --validate and --re-encrypt, through the proxy, on an old SealedSecret
    let old_doc = serde_json::to_vec(&t.get(SS, &ns, "nswide").unwrap()).unwrap();
    let valid =
        t.c.run(&t.c.upstream_kubeseal, &["--validate"], &old_doc, &[]);
    assert!(valid.status.success(), "--validate: {}", stderr(&valid));
    let rotated = t.c.run(
        &t.c.upstream_kubeseal,
        &["--re-encrypt", "-o", "json"],
        &old_doc,
        &[],
    );
    assert!(
        rotated.status.success(),
        "--re-encrypt: {}",
        stderr(&rotated)
    );
    let mut rotated: Value = serde_json::from_str(&stdout(&rotated)).unwrap();
    let meta = json!({"name": "rotated", "namespace": ns, "annotations": {NAMESPACE_WIDE: "true"}});
    rotated["metadata"] = meta.clone();
    rotated["spec"]["template"]["metadata"] = meta;
    t.create(&rotated);
    t.wait_secret(&ns, "rotated", &[("foo", &foo)]);

    // ours' part of the log holds no plaintext and no private key
    t.finish();
}

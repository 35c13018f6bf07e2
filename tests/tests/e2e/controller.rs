//! End to end: our controller on a real control plane (etcd + kube-apiserver, RBAC, the service
//! proxy), driven the way users drive it: Secrets sealed with our kubeseal (certificate fetched from
//! the controller, then `--cert`) or with the real upstream kubeseal, applied with kubectl, checked
//! through the API server. Covers the upstream integration scenarios C1-C23
//! (docs/upstream-scenarios.md), upstream kubeseal's `--fetch-cert`/`--validate`/`--re-encrypt`
//! against our controller, the security checks of docs/security.md (`/v1/verify` and `/v1/rotate`
//! never render templates, rotate keeps the scope, verify is rate limited) and the metrics.
//!
//! Every case has its own namespace(s), so cases run in parallel, and its own random plaintexts;
//! at its end it checks that the controller log holds none of them (nor any private key).
//!
//! Suite `controller` of the e2e binary (main.rs), on a control plane of its own with our
//! controller. The cases also pass against upstream's controller (`controller: "upstream"` in its
//! `Suite`), except the security ones (docs/security.md) that upstream fails by design
//! (checked with v0.36.6). Also suite `controller@k8s-v1.35.4`: the same cases on Kubernetes v1.35.4.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::case::*;
use crate::{Body, Test};
use e2e::{Cluster, b64decode, http_request, metric_value, ours, random_hex, stderr, stdout};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    let mut tests = e2e_tests![
        cluster:
            c01_creates_the_secret_with_status_and_event,
            c02_updated_sealed_secret_updates_the_secret,
            c03_renamed_item_keys_are_not_part_of_the_label,
            c04_appended_raw_sealed_item_is_unsealed,
            c05_managed_existing_secret_is_taken_over_and_overwritten,
            c06_managed_and_patch_existing_secret_is_patched_and_owned,
            c07_patch_existing_secret_is_patched_not_owned,
            c08_patch_existing_empty_secret_gets_data_and_labels,
            c09_deleted_owned_secret_is_recreated,
            c10_deleted_unowned_managed_secret_is_recreated,
            c11_deleted_unowned_plain_secret_is_not_recreated,
            c12_deleted_unowned_patch_secret_is_not_recreated,
            c13_sealed_with_an_unknown_key_fails_to_unseal,
            c14_custom_secret_type_is_kept,
            c15_immutable_template_makes_an_immutable_secret,
            c16_update_of_an_immutable_secret_is_reported_not_retried,
    ]
    .to_vec();
    // C17-C22: one test per row of the table.
    tests.extend(SCOPE_ROWS.iter().enumerate().map(|(n, row)| Test {
        name: row.name,
        ignored: true,
        body: Body::Row(scope_row, n),
    }));
    tests.extend(e2e_tests![
        cluster:
            c23_controller_version,
            upstream_kubeseal_fetch_cert_validate_and_re_encrypt_against_our_controller,
            upstream_v0_36_6_kubeseal_fetch_cert_validate_and_re_encrypt_against_our_controller,
            verify_answers_the_same_whatever_the_template_does_with_the_plaintext,
            rotate_ignores_scope_annotations_in_the_template,
            verify_flood_is_rate_limited_and_the_controller_stays_healthy;
        unit: log_scan_finds_plaintexts_and_key_material;
    ]);
    tests
}

// ---------------------------------------------------------------------------------------------
// rate-limited /v1/verify through the service proxy

/// Every client of the service proxy reaches the controller from the API server, so they share one
/// `/v1/verify` rate-limit bucket (2/s, burst 3). Cases that verify through the proxy take turns here.
static PROXY_VERIFY_TURN: Mutex<Option<Instant>> = Mutex::new(None);

/// Runs `f` (which may call `/v1/verify` through the proxy) once the bucket has room; the next turn
/// starts `cooldown` after `f` ends (0.6 s suffices after a call or two; 2 s refills an emptied bucket).
fn proxy_verify_turn<T>(cooldown: Duration, f: impl FnOnce() -> T) -> T {
    let mut next = PROXY_VERIFY_TURN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(at) = *next {
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
    }
    let out = f();
    *next = Some(Instant::now() + cooldown);
    out
}

/// The controller's metrics exposition (`GET /metrics`, which must answer 200).
fn metrics(c: &Cluster) -> String {
    let reply = http_request(c.var("SSRS_METRICS_URL"), "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(reply.status, 200);
    reply.text()
}

/// The `Synced` condition metric of SealedSecret `ns/testsecret`.
fn synced_condition_metric(text: &str, ns: &str) -> Option<f64> {
    metric_value(
        text,
        "sealed_secrets_controller_condition_info",
        &[("namespace", ns), ("name", NAME), ("condition", "Synced")],
    )
}

// ---------------------------------------------------------------------------------------------
// C1-C4: simple changes

fn c01_creates_the_secret_with_status_and_event(c: &Cluster) {
    let mut t = Case::new(c, "c01");
    let value = t.plaintext("foo");
    let ss = t.create(&t.standard(Sealer::Ours, &value));

    let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    assert_eq!(
        str_map(&secret["metadata"]["labels"]),
        expected(&[("mylabel", "myvalue")])
    );
    assert_eq!(secret["type"], "Opaque");
    assert_owned_by(&secret, &ss);

    let ss = t.wait_synced(&t.ns, NAME, "True");
    let cond = synced(&ss).unwrap();
    assert_eq!(cond["lastTransitionTime"], cond["lastUpdateTime"]);
    assert!(cond["lastTransitionTime"].is_string(), "{cond}");
    assert!(cond.get("message").is_none_or(|m| m == ""), "{cond}");
    assert_eq!(ss["status"]["observedGeneration"], 1);
    assert_eq!(
        ss["status"]["conditions"].as_array().unwrap().len(),
        1,
        "a single Synced condition"
    );

    let event = t.wait_event(&t.ns, NAME, "Unsealed");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["message"], UNSEALED_MESSAGE);
    assert_eq!(event["source"]["component"], "sealed-secrets");
    assert_eq!(
        event["involvedObject"]["apiVersion"],
        "bitnami.com/v1alpha1"
    );
    assert_eq!(event["involvedObject"]["uid"], ss["metadata"]["uid"]);

    // Metrics (upstream `pkg/controller/metrics.go`): the reconcile is counted, the condition
    // exported.
    let text = metrics(c);
    assert!(
        metric_value(
            &text,
            "sealed_secrets_controller_unseal_requests_total",
            &[]
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    assert_eq!(synced_condition_metric(&text, &t.ns), Some(1.0), "{text}");
    t.finish();
}

fn c02_updated_sealed_secret_updates_the_secret(c: &Cluster) {
    let mut t = Case::new(c, "c02");
    let value = t.plaintext("foo");
    let ss = t.create(&t.standard(Sealer::Upstream, &value));
    let before = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    t.wait_synced(&t.ns, NAME, "True");

    // Status times have second resolution: make the update land in a later second.
    std::thread::sleep(Duration::from_millis(1100));
    let new_value = t.plaintext("foo-updated");
    t.replace(t.standard(Sealer::Upstream, &new_value));

    let after = t.wait_secret(&t.ns, NAME, &[("foo", &new_value)]);
    assert_eq!(
        after["metadata"]["uid"], before["metadata"]["uid"],
        "updated in place, not re-created"
    );
    assert_owned_by(&after, &ss);
    let ss = t.wait_observed_generation(&t.ns, NAME, 2);
    let cond = synced(&ss).unwrap();
    assert_eq!(cond["status"], "True");
    assert_ne!(cond["lastTransitionTime"], cond["lastUpdateTime"], "{cond}");
    t.wait_event_count(&t.ns, NAME, "Unsealed", 2);
    t.finish();
}

fn c03_renamed_item_keys_are_not_part_of_the_label(c: &Cluster) {
    let mut t = Case::new(c, "c03");
    let value = t.plaintext("foo");
    let mut ss = t.standard(Sealer::Ours, &value);
    let ct = ss["spec"]["encryptedData"]["foo"].take();
    ss["spec"]["encryptedData"] = json!({ "xyzzy": ct });
    t.create(&ss);
    t.wait_secret(&t.ns, NAME, &[("xyzzy", &value)]);
    t.wait_synced(&t.ns, NAME, "True");
    t.finish();
}

fn c04_appended_raw_sealed_item_is_unsealed(c: &Cluster) {
    let mut t = Case::new(c, "c04");
    let value = t.plaintext("foo");
    let value2 = t.plaintext("foo2");
    let mut ss = t.standard(Sealer::Ours, &value);
    ss["spec"]["encryptedData"]["foo2"] = json!(t.seal_raw(&t.ns, NAME, "strict", &value2));
    t.create(&ss);
    t.wait_secret(&t.ns, NAME, &[("foo", &value), ("foo2", &value2)]);
    t.wait_synced(&t.ns, NAME, "True");
    t.finish();
}

// ---------------------------------------------------------------------------------------------
// C5-C8: the Secret already exists

/// The Secret has exactly these annotations and labels (besides the sealing-keys annotation our
/// controller adds, docs/operations.md "Key inventory and retirement", checked in the keys suite,
/// and the unseal record, docs/architecture.md, checked in the scale suite).
fn assert_metadata(secret: &Value, annotations: &[(&str, &str)], labels: &[(&str, &str)]) {
    let mut actual = str_map(&secret["metadata"]["annotations"]);
    actual.remove("sealedsecrets-rs.io/sealing-keys");
    actual.remove("sealedsecrets-rs.io/unseal-record");
    assert_eq!(
        actual,
        expected(annotations),
        "annotations of {}",
        secret["metadata"]
    );
    assert_eq!(
        str_map(&secret["metadata"]["labels"]),
        expected(labels),
        "labels"
    );
}

/// Creates the pre-existing Secret `testsecret` (labels `mylabel` + `anotherlabel` unless `bare`).
fn pre_existing(
    t: &Case,
    annotations: &[(&str, &str)],
    data: &[(&str, &str)],
    bare: bool,
) -> Value {
    let mut s = t.secret(&t.ns, NAME, annotations, data);
    if bare {
        s["metadata"].as_object_mut().unwrap().remove("labels");
        s.as_object_mut().unwrap().remove("data");
    } else {
        s["metadata"]["labels"]["anotherlabel"] = json!("anothervalue");
    }
    t.create(&s)
}

fn c05_managed_existing_secret_is_taken_over_and_overwritten(c: &Cluster) {
    let mut t = Case::new(c, "c05");
    let (old, old2, value) = (t.plaintext("old"), t.plaintext("old2"), t.plaintext("foo"));
    pre_existing(
        &t,
        &[(MANAGED, "true")],
        &[("foo", &old), ("foo2", &old2)],
        false,
    );
    let ss = t.create(&t.standard(Sealer::Upstream, &value));

    let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    t.wait_event(&t.ns, NAME, "Unsealed");
    t.wait_synced(&t.ns, NAME, "True");
    assert_owned_by(&secret, &ss);
    assert_metadata(&secret, &[], &[("mylabel", "myvalue")]);
    t.finish();
}

fn c06_managed_and_patch_existing_secret_is_patched_and_owned(c: &Cluster) {
    let mut t = Case::new(c, "c06");
    let (old, old2, value) = (t.plaintext("old"), t.plaintext("old2"), t.plaintext("foo"));
    pre_existing(
        &t,
        &[(MANAGED, "true"), (PATCH, "true")],
        &[("foo", &old), ("foo2", &old2)],
        false,
    );
    let ss = t.create(&t.standard(Sealer::Ours, &value));

    let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value), ("foo2", &old2)]);
    t.wait_event(&t.ns, NAME, "Unsealed");
    t.wait_synced(&t.ns, NAME, "True");
    assert_owned_by(&secret, &ss);
    assert_metadata(
        &secret,
        &[(MANAGED, "true"), (PATCH, "true")],
        &[("mylabel", "myvalue"), ("anotherlabel", "anothervalue")],
    );
    t.finish();
}

fn c07_patch_existing_secret_is_patched_not_owned(c: &Cluster) {
    let mut t = Case::new(c, "c07");
    let (old, old2, value) = (t.plaintext("old"), t.plaintext("old2"), t.plaintext("foo"));
    pre_existing(
        &t,
        &[(PATCH, "true")],
        &[("foo", &old), ("foo2", &old2)],
        false,
    );
    t.create(&t.standard(Sealer::Upstream, &value));

    let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value), ("foo2", &old2)]);
    t.wait_event(&t.ns, NAME, "Unsealed");
    t.wait_synced(&t.ns, NAME, "True");
    assert!(owner_refs(&secret).is_empty(), "{}", secret["metadata"]);
    assert_metadata(
        &secret,
        &[(PATCH, "true")],
        &[("mylabel", "myvalue"), ("anotherlabel", "anothervalue")],
    );
    t.finish();
}

fn c08_patch_existing_empty_secret_gets_data_and_labels(c: &Cluster) {
    let mut t = Case::new(c, "c08");
    let value = t.plaintext("foo");
    let empty = pre_existing(&t, &[(PATCH, "true")], &[], true);
    assert!(
        empty.get("data").is_none() && empty["metadata"].get("labels").is_none(),
        "{empty}"
    );
    t.create(&t.standard(Sealer::Ours, &value));

    let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    t.wait_event(&t.ns, NAME, "Unsealed");
    assert!(owner_refs(&secret).is_empty(), "{}", secret["metadata"]);
    assert_metadata(&secret, &[(PATCH, "true")], &[("mylabel", "myvalue")]);
    t.finish();
}

// ---------------------------------------------------------------------------------------------
// C9-C12: Secret re-creation

fn c09_deleted_owned_secret_is_recreated(c: &Cluster) {
    let mut t = Case::new(c, "c09");
    let value = t.plaintext("foo");
    let ss = t.create(&t.standard(Sealer::Ours, &value));
    let first = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    assert_owned_by(&first, &ss);
    t.wait_event(&t.ns, NAME, "Unsealed");

    t.delete("secret", &t.ns, NAME);
    let again = eventually("the re-created Secret", || {
        let s = t.get("secret", &t.ns, NAME).ok_or("absent")?;
        if s["metadata"]["uid"] != first["metadata"]["uid"] {
            Ok(s)
        } else {
            Err("still the old one".into())
        }
    });
    assert_eq!(decoded_data(&again), expected(&[("foo", &value)]));
    assert_owned_by(&again, &ss);
    t.wait_event_count(&t.ns, NAME, "Unsealed", 2);
    t.finish();
}

fn c10_deleted_unowned_managed_secret_is_recreated(c: &Cluster) {
    let mut t = Case::new(c, "c10");
    let (value, old2) = (t.plaintext("foo"), t.plaintext("old2"));
    pre_existing(
        &t,
        &[(MANAGED, "true")],
        &[("foo", &value), ("foo2", &old2)],
        false,
    );
    let ss = t.create(&t.standard(Sealer::Upstream, &value));
    t.delete("secret", &t.ns, NAME);

    let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    t.wait_event(&t.ns, NAME, "Unsealed");
    assert_owned_by(&secret, &ss);
    t.finish();
}

/// C11/C12: the pre-existing Secret first blocks (C11) or is patched (C12); once it is deleted, the
/// controller leaves the name alone.
fn deleted_unowned_secret_stays_deleted(c: &Cluster, prefix: &str, annotations: &[(&str, &str)]) {
    let mut t = Case::new(c, prefix);
    let (old, value) = (t.plaintext("old"), t.plaintext("foo"));
    let existing = pre_existing(&t, annotations, &[("foo", &old)], false);
    t.create(&t.standard(Sealer::Ours, &value));

    if annotations.is_empty() {
        // Not managed: refused, retried up to the limit, and the Secret is left untouched.
        let message =
            format!("Resource \"{NAME}\" already exists and is not managed by SealedSecret");
        let event = t.wait_event(&t.ns, NAME, "ErrUpdateFailed");
        assert_eq!(event["message"], message);
        let ss = t.wait_synced(&t.ns, NAME, "False");
        assert_eq!(
            synced(&ss).unwrap()["message"],
            format!("failed update: {message}")
        );
        t.wait_event_count(&t.ns, NAME, "ErrUpdateFailed", 1 + MAX_UNSEAL_RETRIES);
        let secret = t.get("secret", &t.ns, NAME).unwrap();
        assert_eq!(
            secret["metadata"]["resourceVersion"], existing["metadata"]["resourceVersion"],
            "the unmanaged Secret was modified"
        );
    } else {
        // Patch only: patched in place, not owned.
        let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
        assert!(owner_refs(&secret).is_empty());
        t.wait_synced(&t.ns, NAME, "True");
    }

    t.delete("secret", &t.ns, NAME);
    t.assert_absent_for("secret", &t.ns, NAME, QUIET);
    t.finish();
}

fn c11_deleted_unowned_plain_secret_is_not_recreated(c: &Cluster) {
    deleted_unowned_secret_stays_deleted(c, "c11", &[]);
}

fn c12_deleted_unowned_patch_secret_is_not_recreated(c: &Cluster) {
    deleted_unowned_secret_stays_deleted(c, "c12", &[(PATCH, "true")]);
}

// ---------------------------------------------------------------------------------------------
// C13-C16: wrong key, secret types, immutable Secrets

fn c13_sealed_with_an_unknown_key_fails_to_unseal(c: &Cluster) {
    let mut t = Case::new(c, "c13");
    let value = t.plaintext("foo");
    let cert = t.foreign_cert();
    let ss = t.seal(
        Sealer::Upstream,
        &t.secret(&t.ns, NAME, &[], &[("foo", &value)]),
        &["--cert", cert.to_str().unwrap()],
    );
    t.create(&ss);
    t.assert_cannot_unseal(&t.ns, NAME);

    let text = metrics(c);
    assert_eq!(synced_condition_metric(&text, &t.ns), Some(-1.0), "{text}");
    assert_eq!(
        metric_value(
            &text,
            "sealed_secrets_controller_unseal_errors_total",
            &[("reason", "unseal"), ("namespace", &t.ns)]
        ),
        Some((1 + MAX_UNSEAL_RETRIES) as f64),
        "{text}"
    );
    t.finish();
}

fn c14_custom_secret_type_is_kept(c: &Cluster) {
    let mut t = Case::new(c, "c14");
    let marker = t.plaintext("auth");
    let config =
        format!(r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{marker}"}}}}}}"#);
    t.remember(&config);
    let mut secret = t.secret(&t.ns, NAME, &[], &[(".dockerconfigjson", &config)]);
    secret["type"] = json!("kubernetes.io/dockerconfigjson");
    let ss = t.seal(Sealer::Upstream, &secret, &[]);
    assert_eq!(
        ss["spec"]["template"]["type"],
        "kubernetes.io/dockerconfigjson"
    );
    t.create(&ss);

    let secret = t.wait_secret(&t.ns, NAME, &[(".dockerconfigjson", &config)]);
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    t.wait_synced(&t.ns, NAME, "True");
    t.wait_event(&t.ns, NAME, "Unsealed");
    t.finish();
}

fn immutable(mut ss: Value) -> Value {
    ss["spec"]["template"]["immutable"] = json!(true);
    ss
}

fn c15_immutable_template_makes_an_immutable_secret(c: &Cluster) {
    let mut t = Case::new(c, "c15");
    let value = t.plaintext("foo");
    t.create(&immutable(t.standard(Sealer::Ours, &value)));
    let secret = t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    assert_eq!(secret["immutable"], true);
    t.wait_synced(&t.ns, NAME, "True");
    t.wait_event(&t.ns, NAME, "Unsealed");
    t.finish();
}

fn c16_update_of_an_immutable_secret_is_reported_not_retried(c: &Cluster) {
    let mut t = Case::new(c, "c16");
    let value = t.plaintext("foo");
    t.create(&immutable(t.standard(Sealer::Ours, &value)));
    t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    t.wait_synced(&t.ns, NAME, "True");

    let new_value = t.plaintext("foo-updated");
    t.replace(immutable(t.standard(Sealer::Upstream, &new_value)));
    let event = t.wait_event(&t.ns, NAME, "ErrUpdateFailed");
    assert_eq!(
        event["message"],
        format!(
            "Error updating {}/{NAME}: the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret.",
            t.ns
        )
    );
    let ss = t.wait_observed_generation(&t.ns, NAME, 2);
    let cond = synced(&ss).unwrap();
    assert_eq!(cond["status"], "False", "{cond}");
    assert!(
        cond["message"].as_str().unwrap().contains("immutable"),
        "{cond}"
    );
    // Not retried (upstream `processNextItem`), and the Secret keeps its value.
    t.wait_event_count(&t.ns, NAME, "ErrUpdateFailed", 1);
    assert_eq!(
        decoded_data(&t.get("secret", &t.ns, NAME).unwrap()),
        expected(&[("foo", &value)])
    );
    t.finish();
}

// ---------------------------------------------------------------------------------------------
// C17-C22: scopes

fn renamed(mut ss: Value, name: &str) -> Value {
    ss["metadata"]["name"] = json!(name);
    ss
}

fn moved(mut ss: Value, ns: &str) -> Value {
    ss["metadata"]["namespace"] = json!(ns);
    ss
}

fn scoped(t: &Case, sealer: Sealer, annotation: &str, value: &str) -> Value {
    let ss = t.seal(
        sealer,
        &t.secret(&t.ns, NAME, &[(annotation, "true")], &[("foo", value)]),
        &[],
    );
    assert_eq!(
        ss["metadata"]["annotations"][annotation], "true",
        "{}",
        ss["metadata"]
    );
    ss
}

/// One row of C17-C22: `testsecret` sealed in a scope (strict, or the scope annotation), then
/// renamed to `not-testsecret` or moved to another namespace; it unseals there, or it does not.
struct ScopeRow {
    name: &'static str,
    sealer: Sealer,
    /// The scope annotation; strict without one.
    scope: Option<&'static str>,
    /// Moved to another namespace; else renamed.
    moved: bool,
    unseals: bool,
}

const SCOPE_ROWS: &[ScopeRow] = &[
    ScopeRow {
        name: "c17_strict_renamed_fails",
        sealer: Sealer::Ours,
        scope: None,
        moved: false,
        unseals: false,
    },
    ScopeRow {
        name: "c18_strict_other_namespace_fails",
        sealer: Sealer::Upstream,
        scope: None,
        moved: true,
        unseals: false,
    },
    ScopeRow {
        name: "c19_cluster_wide_renamed_unseals",
        sealer: Sealer::Ours,
        scope: Some(CLUSTER_WIDE),
        moved: false,
        unseals: true,
    },
    ScopeRow {
        name: "c20_cluster_wide_other_namespace_unseals",
        sealer: Sealer::Upstream,
        scope: Some(CLUSTER_WIDE),
        moved: true,
        unseals: true,
    },
    ScopeRow {
        name: "c21_namespace_wide_renamed_unseals",
        sealer: Sealer::Upstream,
        scope: Some(NAMESPACE_WIDE),
        moved: false,
        unseals: true,
    },
    ScopeRow {
        name: "c22_namespace_wide_other_namespace_fails",
        sealer: Sealer::Ours,
        scope: Some(NAMESPACE_WIDE),
        moved: true,
        unseals: false,
    },
];

/// Runs row `n` of [`SCOPE_ROWS`].
fn scope_row(c: &Cluster, n: usize) {
    let row = &SCOPE_ROWS[n];
    let prefix = &row.name[..3];
    let mut t = Case::new(c, prefix);
    let value = t.plaintext("foo");
    let ss = match row.scope {
        None => t.standard(row.sealer, &value),
        Some(annotation) => scoped(&t, row.sealer, annotation, &value),
    };
    let (ns, name) = if row.moved {
        (t.other_namespace(&format!("{prefix}b")), NAME)
    } else {
        (t.ns.clone(), "not-testsecret")
    };
    t.create(&if row.moved {
        moved(ss, &ns)
    } else {
        renamed(ss, name)
    });
    if row.unseals {
        t.wait_secret(&ns, name, &[("foo", &value)]);
        t.wait_synced(&ns, name, "True");
    } else {
        // A strict SealedSecret's template still names where it was sealed: our controller says so.
        match row.scope {
            None => t.assert_cannot_unseal_with(
                &ns,
                name,
                &renamed_message("foo", (&t.ns, NAME), (&ns, name)),
            ),
            Some(_) => t.assert_cannot_unseal(&ns, name),
        }
        assert!(
            t.get("secret", &t.ns, NAME).is_none(),
            "a Secret under the sealed name"
        );
    }
    t.finish();
}

// ---------------------------------------------------------------------------------------------
// C23

/// The binary under test: the one the cluster runs when it is ours, else the default build.
fn controller_binary(c: &Cluster) -> PathBuf {
    match (
        c.env.get("SSRS_CONTROLLER").map(String::as_str),
        c.env.get("SSRS_CONTROLLER_BIN").filter(|b| !b.is_empty()),
    ) {
        (Some("ours"), Some(bin)) => PathBuf::from(bin),
        _ => std::env::var_os("CONTROLLER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                e2e::workspace_root().join("target/debug/sealed-secrets-controller")
            }),
    }
}

/// `^controller version: (v[0-9]+\.[0-9]+\.[0-9]+|[0-9a-f]{40})(\+dirty)?`, upstream's C23
/// (docs/upstream-scenarios.md).
fn is_version_line(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("controller version: ") else {
        return false;
    };
    let rest = rest.trim_end_matches('\n');
    let rest = rest.strip_suffix("+dirty").unwrap_or(rest);
    let semver = rest.strip_prefix('v').is_some_and(|v| {
        let mut parts = v.splitn(3, '.');
        let (a, b, c) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        // The regex is unanchored at the end: anything may follow the patch number's digits.
        let patch: String = c.chars().take_while(char::is_ascii_digit).collect();
        digits(a) && digits(b) && digits(&patch)
    });
    let sha = rest.len() >= 40
        && rest[..40]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    semver || sha
}

fn c23_controller_version(c: &Cluster) {
    let bin = controller_binary(c);
    let out = e2e::output_ok(std::process::Command::new(&bin).arg("--version"));
    let text = stdout(&out);
    assert!(is_version_line(&text), "{text:?}");
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "{text:?}"
    );
    assert!(
        !is_version_line("controller version: 1.2.3\n")
            && !is_version_line("kubeseal version: v1.2.3")
    );
}

// ---------------------------------------------------------------------------------------------
// upstream kubeseal against our controller

/// The primary peer's kubeseal (the cluster's, v0.40.0).
fn upstream_kubeseal_fetch_cert_validate_and_re_encrypt_against_our_controller(c: &Cluster) {
    upstream_kubeseal_against_our_controller(c, &c.upstream_kubeseal, &c.upstream_version);
}

/// The second peer's kubeseal: teams upgrade the controller before every laptop's kubeseal.
fn upstream_v0_36_6_kubeseal_fetch_cert_validate_and_re_encrypt_against_our_controller(
    c: &Cluster,
) {
    let kubeseal = e2e::upstream_kubeseal(e2e::UPSTREAM_SECOND);
    upstream_kubeseal_against_our_controller(c, &kubeseal, e2e::UPSTREAM_SECOND);
}

/// Upstream kubeseal `version` (binary `upstream`) against our controller: `--fetch-cert`, sealing
/// with the fetched certificate, `--validate` and `--re-encrypt` through the service proxy.
fn upstream_kubeseal_against_our_controller(c: &Cluster, upstream: &Path, version: &str) {
    let mut t = Case::new(c, "upcli");
    // As an unprivileged user: only the service-proxier Role (deploy/rbac.yaml) lets these through.
    let user = PathBuf::from(c.var("SSRS_USER_KUBECONFIG"));
    let as_user: &[(&str, &Path)] = &[("KUBECONFIG", &user)];
    let shown = t.c.run(upstream, &["--version"], b"", &[]);
    assert_eq!(stdout(&shown), format!("kubeseal version: {version}\n"));
    let upstream = upstream.to_path_buf();

    // --fetch-cert: the newest active key Secret's certificate, as our kubeseal prints it.
    let fetched = t.c.run(&upstream, &["--fetch-cert"], b"", as_user);
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let keys =
        t.c.key_secrets("sealedsecrets.bitnami.com/sealed-secrets-key=active");
    let newest = keys.last().expect("no key Secret");
    assert_eq!(
        fetched.stdout,
        b64decode(newest["data"]["tls.crt"].as_str().unwrap())
    );
    assert_eq!(fetched.stdout, t.c.sealing_cert());

    // Seal as the user (certificate through the proxy), unseal with our controller.
    let value = t.plaintext("foo");
    let input = serde_json::to_vec(&t.secret(&t.ns, "a", &[], &[("foo", &value)])).unwrap();
    let sealed = t.c.run(&upstream, &["-o", "yaml"], &input, as_user);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let sealed_yaml = stdout(&sealed);
    let ss: Value =
        serde_json::from_str(&t.c.kubectl_ok(&["create", "-o", "json", "-f", "-"], &sealed.stdout))
            .unwrap();
    t.wait_secret(&t.ns, "a", &[("foo", &value)]);

    // --validate: /v1/verify through the proxy.
    let renamed_yaml = sealed_yaml.replace("name: a\n", "name: renamed\n");
    assert_ne!(renamed_yaml, sealed_yaml);
    let (ok, bad, ours_ok) = proxy_verify_turn(Duration::from_millis(1600), || {
        (
            t.c.run(&upstream, &["--validate"], sealed_yaml.as_bytes(), as_user),
            t.c.run(&upstream, &["--validate"], renamed_yaml.as_bytes(), as_user),
            t.c.run(&ours(), &["--validate"], sealed_yaml.as_bytes(), as_user),
        )
    });
    assert!(
        ok.status.success(),
        "upstream --validate of a valid SealedSecret: {}",
        stderr(&ok)
    );
    assert!(ok.stdout.is_empty());
    assert!(
        !bad.status.success(),
        "upstream --validate accepted a renamed SealedSecret"
    );
    assert_eq!(
        stderr(&bad),
        "error: unable to decrypt sealed secret: renamed\n"
    );
    assert!(
        ours_ok.status.success(),
        "our --validate: {}",
        stderr(&ours_ok)
    );

    // --re-encrypt: /v1/rotate through the proxy; the result replaces the original and unseals.
    let rotated = t.c.run(
        &upstream,
        &["--re-encrypt", "-o", "json"],
        sealed_yaml.as_bytes(),
        as_user,
    );
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let rotated: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    assert_eq!(
        (rotated["apiVersion"].as_str(), rotated["kind"].as_str()),
        (Some("bitnami.com/v1alpha1"), Some("SealedSecret"))
    );
    assert_eq!(rotated["metadata"]["name"], "a");
    let new_ct = rotated["spec"]["encryptedData"]["foo"].as_str().unwrap();
    assert!(
        new_ct.starts_with("Ag") && new_ct != ss["spec"]["encryptedData"]["foo"],
        "fresh ciphertext"
    );
    t.replace(rotated);
    eventually("observedGeneration 2 after the re-encrypted update", || {
        let ss = t.get(SS, &t.ns, "a").unwrap();
        match synced(&ss) {
            Some(c) if c["status"] == "True" && ss["status"]["observedGeneration"] == 2 => Ok(()),
            _ => Err(ss["status"].to_string()),
        }
    });
    assert_eq!(
        decoded_data(&t.get("secret", &t.ns, "a").unwrap()),
        expected(&[("foo", &value)])
    );
    t.finish();
}

// ---------------------------------------------------------------------------------------------
// docs/security.md

/// Posts to `/v1/verify` on the controller directly (from the host to the pod IP), in a rate-limit
/// bucket of its own (`X-Forwarded-For`), so parallel cases do not disturb each other.
fn verify_direct(c: &Cluster, ss: &Value, client: &str) -> e2e::HttpReply {
    http_request(
        c.var("SSRS_CONTROLLER_URL"),
        "POST",
        "/v1/verify",
        &[
            ("X-Forwarded-For", client),
            ("Content-Type", "application/json"),
        ],
        &serde_json::to_vec(ss).unwrap(),
    )
    .unwrap()
}

fn verify_answers_the_same_whatever_the_template_does_with_the_plaintext(c: &Cluster) {
    let mut t = Case::new(c, "verify");
    let value = t.plaintext("foo");
    assert!(value.starts_with("plaintext-"));
    let base = scoped(&t, Sealer::Ours, NAMESPACE_WIDE, &value);
    let with_template = |name: &str, template: Value| {
        let mut ss = renamed(base.clone(), name);
        ss["spec"]["template"]["metadata"]["name"] = json!(name);
        ss["spec"]["template"]["data"] = template;
        ss
    };
    // Fails exactly when the plaintext starts with `plaintext-`: an oracle if verify rendered it.
    let crafted = with_template(
        "crafted",
        json!({
            "probe": r#"{{ if hasPrefix "plaintext-" .foo }}{{ fail "hit" }}{{ end }}"#,
            "echo": "{{ fail .foo }}",
        }),
    );
    let harmless = with_template(
        "harmless",
        json!({ "probe": r#"{{ if hasPrefix "nothing-" .foo }}{{ fail "hit" }}{{ end }}"# }),
    );
    let mut broken = crafted.clone();
    broken["spec"]["encryptedData"]["foo"] = json!(t.seal_raw(&t.ns, "crafted", "strict", &value));

    let client = format!("verify-{}", random_hex(8));
    let (a, b, d) = (
        verify_direct(c, &crafted, &client),
        verify_direct(c, &harmless, &client),
        verify_direct(c, &broken, &client),
    );
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "crafted {} / harmless {}: same answer",
        a.text(),
        b.text()
    );
    assert!(a.body.is_empty() && b.body.is_empty());
    assert_eq!(
        d.status,
        409,
        "an item that does not decrypt is refused: {}",
        d.text()
    );
    // The same through the service proxy.
    let file = t.file("crafted.json", &serde_json::to_vec(&crafted).unwrap());
    let proxy = format!(
        "/api/v1/namespaces/{}/services/http:{}:http/proxy/v1/verify",
        t.c.controller_namespace, t.c.controller_name
    );
    let out = proxy_verify_turn(Duration::from_millis(600), || {
        t.c.kubectl(
            &["create", "--raw", &proxy, "-f", file.to_str().unwrap()],
            b"",
        )
    });
    assert!(
        out.status.success(),
        "verify of the crafted SealedSecret through the proxy: {}",
        stderr(&out)
    );

    // The reconciler does render templates: the crafted one really fails for this plaintext, without
    // quoting it anywhere; the harmless one renders.
    t.create(&crafted);
    t.create(&harmless);
    t.wait_secret(&t.ns, "harmless", &[("foo", &value), ("probe", "")]);
    let event = t.wait_event(&t.ns, "crafted", "ErrUnsealFailed");
    let message = event["message"].as_str().unwrap();
    assert!(message.contains("error calling fail: hit"), "{message}");
    assert!(
        !message.contains(&value),
        "the event quotes the plaintext: {message}"
    );
    let ss = t.wait_synced(&t.ns, "crafted", "False");
    assert!(
        !synced(&ss).unwrap()["message"]
            .as_str()
            .unwrap()
            .contains(&value),
        "the status quotes the plaintext"
    );
    t.wait_event_count(&t.ns, "crafted", "ErrUnsealFailed", 1 + MAX_UNSEAL_RETRIES);
    assert!(t.get("secret", &t.ns, "crafted").is_none());
    t.finish();
}

/// `/v1/rotate` through the service proxy; the reply without TypeMeta (as upstream's `Rotate`
/// marshals it), with it re-added.
fn rotate_via_proxy(t: &Case, ss: &Value) -> Value {
    let file = t.file("rotate-in.json", &serde_json::to_vec(ss).unwrap());
    let path = format!(
        "/api/v1/namespaces/{}/services/http:{}:http/proxy/v1/rotate",
        t.c.controller_namespace, t.c.controller_name
    );
    let out = t.c.kubectl(
        &["create", "--raw", &path, "-f", file.to_str().unwrap()],
        b"",
    );
    assert!(out.status.success(), "/v1/rotate: {}", stderr(&out));
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v.get("kind").is_none() && v.get("apiVersion").is_none(),
        "{v}"
    );
    v["apiVersion"] = json!("bitnami.com/v1alpha1");
    v["kind"] = json!("SealedSecret");
    v
}

fn rotate_ignores_scope_annotations_in_the_template(c: &Cluster) {
    let mut t = Case::new(c, "rotate");
    let value = t.plaintext("foo");
    let ns2 = t.other_namespace("rotateb");
    let original = t.seal(
        Sealer::Upstream,
        &t.secret(&t.ns, "victim", &[], &[("foo", &value)]),
        &[],
    );

    // The attacker's request: the victim's strict SealedSecret, asking for cluster-wide in the
    // template only (the object metadata must stay strict for the ciphertext to open).
    let mut attack = original.clone();
    attack["spec"]["template"]["metadata"]["annotations"] = json!({ CLUSTER_WIDE: "true" });
    let out = rotate_via_proxy(&t, &attack);
    let new_ct = out["spec"]["encryptedData"]["foo"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        new_ct,
        original["spec"]["encryptedData"]["foo"].as_str().unwrap(),
        "fresh ciphertext"
    );

    // Rotate does not execute templates either (upstream #2049): one that fails whenever it runs
    // is carried over verbatim.
    let mut templated = original.clone();
    templated["spec"]["template"]["data"] = json!({ "t": r#"{{ fail "rendered" }}"# });
    let carried = rotate_via_proxy(&t, &templated);
    assert_eq!(
        carried["spec"]["template"]["data"]["t"],
        r#"{{ fail "rendered" }}"#
    );

    // The re-sealed value opens where it belongs...
    let mut home = out.clone();
    home["metadata"] = json!({ "name": "victim", "namespace": t.ns });
    home["spec"]["template"]["metadata"] = json!({ "name": "victim", "namespace": t.ns });
    t.create(&home);
    t.wait_secret(&t.ns, "victim", &[("foo", &value)]);

    // ...and nowhere else: it is still strict.
    let stolen = |ns: &str, name: &str, annotation: &str| {
        let mut s = home.clone();
        s["metadata"] =
            json!({ "name": name, "namespace": ns, "annotations": { annotation: "true" } });
        s["spec"]["template"]["metadata"] =
            json!({ "name": name, "namespace": ns, "annotations": { annotation: "true" } });
        s
    };
    t.create(&stolen(&ns2, "stolen", CLUSTER_WIDE));
    t.create(&stolen(&t.ns, "stolen", NAMESPACE_WIDE));
    t.create(&renamed(home.clone(), "renamed"));
    t.assert_cannot_unseal(&ns2, "stolen");
    t.assert_cannot_unseal(&t.ns, "stolen");
    t.assert_cannot_unseal_with(
        &t.ns,
        "renamed",
        &renamed_message("foo", (&t.ns, "victim"), (&t.ns, "renamed")),
    );
    t.finish();
}

fn verify_flood_is_rate_limited_and_the_controller_stays_healthy(c: &Cluster) {
    let mut t = Case::new(c, "flood");
    let url = c.var("SSRS_CONTROLLER_URL");
    let value = t.plaintext("foo");
    let ss = t.standard(Sealer::Ours, &value);
    let client = format!("flood-{}", random_hex(8));
    let healthz = |url: &str| {
        let r = http_request(url, "GET", "/healthz", &[], b"").unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "ok\n"), "/healthz");
    };

    // 50 requests from 5 concurrent clients sharing one bucket, /healthz polled meanwhile.
    let started = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (replies, health_checks) = std::thread::scope(|s| {
        let health = s.spawn(|| {
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                healthz(url);
                n += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            n
        });
        let workers: Vec<_> = (0..5)
            .map(|_| {
                s.spawn(|| {
                    (0..10)
                        .map(|_| verify_direct(c, &ss, &client))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let replies: Vec<e2e::HttpReply> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (replies, health.join().unwrap())
    });
    let elapsed = started.elapsed().as_secs_f64();
    assert!(health_checks >= 1);
    let allowed = replies.iter().filter(|r| r.status == 200).count();
    let denied: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(
        allowed + denied.len(),
        50,
        "only 200 and 429: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // Burst 3, then 2 per second.
    assert!(
        allowed >= 3 && (allowed as f64) <= 3.0 + 2.0 * elapsed + 1.0,
        "{allowed} allowed in {elapsed:.1}s"
    );
    for r in &denied {
        assert_eq!(r.text(), "limit exceeded\n");
        assert_eq!(r.header("X-RateLimit-Limit"), Some("3"));
        assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
        assert!(
            r.header("Retry-After")
                .is_some_and(|v| v.parse::<u64>().is_ok()),
            "{:?}",
            r.headers
        );
    }
    healthz(url);
    // Another client is not affected, and the flooding one recovers.
    assert_eq!(
        verify_direct(c, &ss, &format!("other-{}", random_hex(8))).status,
        200
    );
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(verify_direct(c, &ss, &client).status, 200);

    // Through the service proxy a denied request must arrive as 429 too, also when the body is
    // large (the API server is still sending it when the answer comes).
    let mut big = ss.clone();
    big["metadata"]["annotations"] = json!({ "padding": "x".repeat(200_000) });
    let file = t.file("big.json", &serde_json::to_vec(&big).unwrap());
    let proxy = format!(
        "/api/v1/namespaces/{}/services/http:{}:http/proxy/v1/verify",
        t.c.controller_namespace, t.c.controller_name
    );
    let (outcomes, elapsed) = proxy_verify_turn(Duration::from_secs(2), || {
        let file = file.to_str().unwrap();
        let started = Instant::now();
        let outcomes = (0..3)
            .flat_map(|_| {
                std::thread::scope(|s| {
                    let calls: Vec<_> = (0..10)
                        .map(|_| {
                            s.spawn(|| t.c.kubectl(&["create", "--raw", &proxy, "-f", file], b""))
                        })
                        .collect();
                    calls
                        .into_iter()
                        .map(|h| h.join().unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect::<Vec<_>>();
        (outcomes, started.elapsed().as_secs_f64())
    });
    let errors: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.status.success())
        .map(stderr)
        .collect();
    // Burst 3, then 2 per second (and one of slack, as above): at most that many pass, however
    // slowly a busy machine starts the 30 kubectl processes; and at least one is refused.
    let at_most_allowed = (3.0 + 2.0 * elapsed + 1.0).ceil() as usize;
    assert!(
        !errors.is_empty() && errors.len() >= 30usize.saturating_sub(at_most_allowed),
        "30 verify requests through the proxy in 3 bursts ({elapsed:.1}s), only {} refused",
        errors.len()
    );
    for e in &errors {
        assert!(
            e.contains("(TooManyRequests)"),
            "a refused request through the proxy must be a 429: {e}"
        );
    }
    healthz(url);

    let text = metrics(c);
    let counted = metric_value(
        &text,
        "sealed_secrets_controller_http_requests_total",
        &[("path", "/v1/verify"), ("code", "429"), ("method", "post")],
    );
    assert!(
        counted.is_some_and(|n| n >= denied.len() as f64),
        "{counted:?}"
    );
    t.finish();
}

// ---------------------------------------------------------------------------------------------
// the log scan itself (plain `cargo test`: no cluster needed)

fn log_scan_finds_plaintexts_and_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("controller.log");
    let plaintext = "plaintext-0123456789ab-foo".to_string();
    let key_line = "MIIJKAIBAAKCAgEAtestkeymaterialtestkeymaterialtestkeymaterial".to_string();
    let leaks = |content: &str, from: u64| {
        std::fs::write(&log, content).unwrap();
        e2e::log_leak(
            &log,
            from,
            std::slice::from_ref(&plaintext),
            std::slice::from_ref(&key_line),
        )
        .is_some()
    };
    let clean = "time=... level=INFO msg=Updating key=ns/testsecret\n";
    assert!(!leaks(clean, 0));
    assert!(leaks(&format!("{clean}msg=\"x {plaintext} y\"\n"), 0));
    let b64 = e2e::b64encode(plaintext.as_bytes());
    assert!(leaks(&format!("{clean}data={b64}\n"), 0));
    assert!(leaks(
        &format!("{clean}-----BEGIN RSA PRIVATE KEY-----\n"),
        0
    ));
    assert!(leaks(&format!("{clean}key=\"{key_line}\"\n"), 0));
    // Only the part from `from` on is the case's.
    assert!(!leaks(
        &format!("{plaintext}\n{clean}"),
        plaintext.len() as u64 + 1
    ));
}

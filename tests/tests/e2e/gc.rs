//! Ownership on a real control plane: kube-controller-manager's garbage collector and namespace
//! controller (started by scripts/cluster.sh) against the Secrets a controller unseals.
//!
//! - Deleting a SealedSecret makes the garbage collector delete the Secret it owns (the
//!   ownerReference upstream's `(*SealedSecret).Unseal` sets), in background and foreground
//!   propagation; the controller deletes nothing (upstream `(*Controller).unseal`, `!exists`).
//! - A Secret unsealed with the `sealedsecrets.bitnami.com/skip-set-owner-references` template
//!   annotation has no owner and survives; so does one orphaned by `kubectl delete --cascade=orphan`.
//! - With `--old-gc-behavior` the controller deletes the Secret of the deleted SealedSecret's name
//!   itself, owner or not.
//! - `kubectl delete namespace` with SealedSecrets in it completes, and the controller stays
//!   healthy: same process, no Secret re-created, no error loop in its log, still unsealing.
//!
//! Who deleted what comes from the API server's audit log: the garbage collector's requests carry
//! the user agent `kube-controller-manager/<v> ... /generic-garbage-collector`, the controller's
//! the user of its service account.
//!
//! Suites `gc_ours` and `gc_upstream` of the e2e binary (main.rs), each on a control plane of its
//! own; one case at a time, because the `--old-gc-behavior` case restarts the controller.

use std::time::{Duration, Instant};

use crate::Test;
use crate::case::*;
use e2e::{Cluster, http_request, process_start};
use serde_json::Value;

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster:
            deleted_sealed_secret_takes_its_secret_with_it,
            unowned_and_orphaned_secrets_survive_their_sealed_secret,
            deleting_a_namespace_with_sealed_secrets_completes_and_the_controller_stays_healthy,
            // Last: it restarts the controller (and restores it at its end).
            with_old_gc_behavior_the_controller_deletes_the_secret_itself,
    ]
    .to_vec()
}

const SKIP_OWNER: &str = "sealedsecrets.bitnami.com/skip-set-owner-references";
/// The garbage collector's user agent ends so (kube-controller-manager names each controller's
/// client after it; `--use-service-account-credentials=false`, so the user is the admin).
const GC_AGENT: &str = "/generic-garbage-collector";

/// A write request recorded in the audit log.
#[derive(Debug)]
struct Write {
    user: String,
    agent: String,
    code: i64,
}

/// The `verbs` requests on Secret `ns/name` (every name if `None`) recorded so far.
fn secret_writes(c: &Cluster, ns: &str, name: Option<&str>, verbs: &[&str]) -> Vec<Write> {
    let log = std::fs::read_to_string(c.var("SSRS_AUDIT_LOG")).unwrap();
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            let o = &e["objectRef"];
            o["resource"] == "secrets"
                && o["namespace"] == ns
                && name.is_none_or(|n| o["name"] == n)
                && verbs.iter().any(|v| e["verb"] == *v)
        })
        .map(|e| Write {
            user: e["user"]["username"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            agent: e["userAgent"].as_str().unwrap_or_default().to_string(),
            code: e["responseStatus"]["code"].as_i64().unwrap_or_default(),
        })
        .collect()
}

/// The user of the controller's service account.
fn controller_user(c: &Cluster) -> String {
    format!(
        "system:serviceaccount:{}:{}",
        c.controller_namespace, c.controller_name
    )
}

/// Waits for the successful deletion of Secret `ns/name` in the audit log; returns every
/// deletion of it.
fn wait_deleted(c: &Cluster, ns: &str, name: &str) -> Vec<Write> {
    eventually(&format!("the deletion of Secret {ns}/{name}"), || {
        let deletes = secret_writes(c, ns, Some(name), &["delete"]);
        if deletes.iter().any(|d| d.code == 200) && c.get_json("secret", ns, name).is_none() {
            Ok(deletes)
        } else {
            Err(format!("deletions {deletes:?}"))
        }
    })
}

/// A SealedSecret `ns/name` sealed by our kubeseal (`foo=<value>`, template annotations), created
/// and unsealed; returns it as stored.
fn unsealed(t: &Case, ns: &str, name: &str, annotations: &[(&str, &str)], value: &str) -> Value {
    let ss = t.create(&t.seal(
        Sealer::Ours,
        &t.secret(ns, name, annotations, &[("foo", value)]),
        &[],
    ));
    let secret = t.wait_secret(ns, name, &[("foo", value)]);
    if annotations.contains(&(SKIP_OWNER, "true")) {
        assert_eq!(owner_refs(&secret), Vec::<Value>::new(), "{name}: no owner");
    } else {
        assert_owned_by(&secret, &ss);
    }
    ss
}

/// `kubectl delete sealedsecret` with `--cascade=<cascade>`, waiting until it is gone.
fn delete_sealed_secret(t: &Case, ns: &str, name: &str, cascade: &str) {
    t.c.kubectl_ok(
        &[
            "delete",
            SS,
            "-n",
            ns,
            name,
            &format!("--cascade={cascade}"),
            "--wait=true",
            "--timeout=30s",
        ],
        b"",
    );
    assert!(t.get(SS, ns, name).is_none(), "SealedSecret {ns}/{name}");
}

fn deleted_sealed_secret_takes_its_secret_with_it(c: &Cluster) {
    let mut t = Case::new(c, "gc");
    let ns = t.ns.clone();
    let value = t.plaintext("foo");
    for cascade in ["background", "foreground"] {
        unsealed(&t, &ns, cascade, &[], &value);
        delete_sealed_secret(&t, &ns, cascade, cascade);
        wait_deleted(c, &ns, cascade);
        t.assert_absent_for("secret", &ns, cascade, QUIET);
        // The garbage collector deleted it, the controller did not try.
        let deletes = secret_writes(c, &ns, Some(cascade), &["delete"]);
        assert!(
            deletes.iter().all(|d| d.agent.ends_with(GC_AGENT)),
            "{cascade}: deletions {deletes:?}"
        );
    }
    t.finish();
}

fn unowned_and_orphaned_secrets_survive_their_sealed_secret(c: &Cluster) {
    let mut t = Case::new(c, "survive");
    let ns = t.ns.clone();
    let value = t.plaintext("foo");
    unsealed(&t, &ns, "unowned", &[(SKIP_OWNER, "true")], &value);
    unsealed(&t, &ns, "orphaned", &[], &value);
    unsealed(&t, &ns, "owned", &[], &value);
    delete_sealed_secret(&t, &ns, "unowned", "background");
    delete_sealed_secret(&t, &ns, "orphaned", "orphan");
    delete_sealed_secret(&t, &ns, "owned", "background");
    // Once the garbage collector has deleted the owned one (deleted last), it has seen the others.
    wait_deleted(c, &ns, "owned");
    eventually("the orphaned Secret without its ownerReference", || {
        let s = t.get("secret", &ns, "orphaned").ok_or("absent")?;
        if owner_refs(&s).is_empty() {
            Ok(())
        } else {
            Err(format!("ownerReferences {:?}", owner_refs(&s)))
        }
    });
    throughout("the unowned and orphaned Secrets stay", QUIET, || {
        for name in ["unowned", "orphaned"] {
            let s = t
                .get("secret", &ns, name)
                .ok_or(format!("{name} is gone"))?;
            if decoded_data(&s) != expected(&[("foo", &value)]) {
                return Err(format!("{name}: data changed"));
            }
        }
        Ok(())
    });
    for name in ["unowned", "orphaned"] {
        let deletes = secret_writes(c, &ns, Some(name), &["delete"]);
        assert!(deletes.is_empty(), "{name}: deletions {deletes:?}");
    }
    t.finish();
}

fn deleting_a_namespace_with_sealed_secrets_completes_and_the_controller_stays_healthy(
    c: &Cluster,
) {
    let mut t = Case::new(c, "nsdel");
    let doomed = t.other_namespace("doomed");
    let value = t.plaintext("foo");
    unsealed(&t, &doomed, "one", &[], &value);
    unsealed(&t, &doomed, "two", &[], &value);
    unsealed(&t, &doomed, "unowned", &[(SKIP_OWNER, "true")], &value);
    // and one that no key opens, its retries spent
    let mut broken = t.seal(
        Sealer::Ours,
        &t.secret(&doomed, "elsewhere", &[], &[("foo", &value)]),
        &[],
    );
    broken["metadata"]["name"] = "broken".into();
    t.create(&broken);
    t.wait_event_count(&doomed, "broken", "ErrUnsealFailed", 1 + MAX_UNSEAL_RETRIES);
    let sealed_secrets = 4;

    let now = Cluster::from_env_file(&c.dir);
    let pid = now.var("SSRS_CONTROLLER_PID").to_string();
    let start = process_start(&pid).expect("the controller is running");
    let creates_before = secret_writes(c, &doomed, None, &["create"]).len();
    let log_offset = std::fs::metadata(&t.log).unwrap().len();

    let deleting = Instant::now();
    c.kubectl_ok(&["delete", "namespace", &doomed, "--wait=false"], b"");
    eventually(&format!("namespace {doomed} gone"), || {
        match c.get_json("namespace", &doomed, &doomed) {
            None => Ok(()),
            Some(ns) => Err(format!("status {}", ns["status"])),
        }
    });
    eprintln!(
        "[e2e] namespace {doomed} with {sealed_secrets} SealedSecrets deleted in {:.1}s",
        deleting.elapsed().as_secs_f64()
    );

    // The same process, healthy, and nothing re-created.
    assert_eq!(
        process_start(&pid).as_ref(),
        Some(&start),
        "the controller (pid {pid}) exited"
    );
    let health = http_request(now.var("SSRS_CONTROLLER_URL"), "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(health.status, 200, "/healthz: {}", health.text());
    t.assert_absent_for("namespace", &doomed, &doomed, QUIET);
    let creates = secret_writes(c, &doomed, None, &["create"]);
    let created: Vec<&Write> = creates
        .iter()
        .skip(creates_before)
        .filter(|w| w.code < 300)
        .collect();
    assert!(created.is_empty(), "Secrets created: {created:?}");

    // No error loop: what the controller logged about the namespace is bounded by its retry
    // budget, and it has stopped.
    let about_doomed = || -> Vec<String> {
        let log = std::fs::read(&t.log).unwrap();
        String::from_utf8_lossy(log.get(log_offset as usize..).unwrap_or_default())
            .lines()
            .filter(|l| l.contains(doomed.as_str()))
            .map(str::to_string)
            .collect()
    };
    let lines = about_doomed();
    let errors = lines.iter().filter(|l| l.contains("level=ERROR")).count();
    assert!(
        errors as i64 <= sealed_secrets * (1 + MAX_UNSEAL_RETRIES),
        "{errors} errors about {doomed} in the controller log"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        about_doomed().len(),
        lines.len(),
        "the controller still logs about {doomed}"
    );
    assert_eq!(process_start(&pid), Some(start), "the controller exited");

    // And it still works.
    unsealed(&t, &t.ns, NAME, &[], &value);
    t.finish();
}

fn with_old_gc_behavior_the_controller_deletes_the_secret_itself(c: &Cluster) {
    c.script(&["restart-controller", "--", "--old-gc-behavior"]);
    let mut t = Case::new(c, "oldgc");
    let ns = t.ns.clone();
    let value = t.plaintext("foo");
    // Without an ownerReference only the controller can delete it.
    unsealed(&t, &ns, "unowned", &[(SKIP_OWNER, "true")], &value);
    delete_sealed_secret(&t, &ns, "unowned", "background");
    let deletes = wait_deleted(c, &ns, "unowned");
    let user = controller_user(c);
    assert!(
        deletes.iter().all(|d| d.user == user) && deletes.iter().any(|d| d.code == 200),
        "deletions {deletes:?}"
    );
    let log = std::fs::read_to_string(&t.log).unwrap();
    let key = format!("{ns}/unowned");
    assert!(
        log.get(t.log_start as usize..)
            .unwrap_or_default()
            .lines()
            .any(
                |l| l.contains("msg=\"SealedSecret has gone, deleting Secret\"")
                    && l.contains(&key)
            ),
        "no `SealedSecret has gone, deleting Secret` line for {key}"
    );
    // An owned one goes too (the controller and the garbage collector both try).
    unsealed(&t, &ns, "owned", &[], &value);
    delete_sealed_secret(&t, &ns, "owned", "background");
    wait_deleted(c, &ns, "owned");
    t.assert_absent_for("secret", &ns, "owned", QUIET);
    t.finish();
    c.script(&["restart-controller"]);
}

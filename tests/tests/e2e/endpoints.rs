//! End to end: the controller endpoints and flags of upstream v0.39.0-v0.40.0 on a real control
//! plane with our controller (docs/operations.md): `/v1/rotate` behind the verify rate limiter with
//! a bucket of its own, `/readyz` answering 503 while the `--additional-namespaces` bootstrap is in
//! flight (the API already serving) and 200 after it, a sloppy namespace list that still starts,
//! `--metrics-omit-secret-labels`, a failed namespace lookup ending the controller with a clear
//! error, and the deploy/ kustomize base admitted under the restricted Pod Security Standard.
//!
//! Suite `endpoints` of the e2e binary (main.rs). The cases restart the controller with the flags
//! they need, so they run one at a time.

use std::time::{Duration, Instant};

use crate::Test;
use crate::case::*;
use e2e::{Cluster, http_request, metric_value, random_hex, stderr, stdout, workspace_root};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster:
            rotate_is_rate_limited_with_a_bucket_of_its_own,
            multi_document_re_encrypt_waits_out_the_rate_limit,
            readyz_waits_for_the_additional_namespace_bootstrap,
            metrics_omit_secret_labels_exposes_no_condition_info,
            failed_namespace_lookup_stops_the_controller_after_the_bootstrap,
            deploy_base_is_admitted_under_the_restricted_pod_security_standard;
    ]
    .to_vec()
}

fn post(c: &Cluster, path: &str, client: &str, body: &[u8]) -> e2e::HttpReply {
    http_request(
        c.var("SSRS_CONTROLLER_URL"),
        "POST",
        path,
        &[
            ("X-Forwarded-For", client),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .unwrap()
}

fn get(url: &str, path: &str) -> e2e::HttpReply {
    http_request(url, "GET", path, &[], b"").unwrap()
}

/// `scripts/cluster.sh restart-controller --controller ours -- FLAGS` (returns once `/healthz`
/// answers through the service proxy).
fn restart_with(c: &Cluster, flags: &[&str]) {
    let mut args = vec!["restart-controller", "--controller", "ours"];
    if !flags.is_empty() {
        args.push("--");
        args.extend_from_slice(flags);
    }
    c.script(&args);
}

/// Upstream v0.39.0 `server.go`: the 4th back-to-back `/v1/rotate` of a client is refused with
/// throttled's headers (defaults 2/s, burst 2); its verify bucket is untouched; the 429 is counted.
fn rotate_is_rate_limited_with_a_bucket_of_its_own(c: &Cluster) {
    let mut t = Case::new(c, "rotate-limit");
    let value = t.plaintext("foo");
    let ss = serde_json::to_vec(&t.standard(Sealer::Ours, &value)).unwrap();
    let client = format!("rotate-{}", random_hex(8));
    let started = Instant::now();
    let replies: Vec<e2e::HttpReply> = (0..4)
        .map(|_| post(c, "/v1/rotate", &client, &ss))
        .collect();
    let elapsed = started.elapsed();
    // The header values below hold while the four requests take less than one emission interval.
    assert!(
        elapsed < Duration::from_millis(500),
        "too slow: {elapsed:?}"
    );
    for (i, r) in replies.iter().take(3).enumerate() {
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
        let out: Value = serde_json::from_slice(&r.body).unwrap();
        assert!(out["spec"]["encryptedData"]["foo"].is_string(), "{out}");
        assert_eq!(r.header("X-RateLimit-Limit"), Some("3"), "request {i}");
        let remaining = (2 - i).to_string();
        assert_eq!(r.header("X-RateLimit-Remaining"), Some(remaining.as_str()));
        assert_eq!(r.header("X-RateLimit-Reset"), Some(["1", "1", "2"][i]));
        assert_eq!(r.header("Retry-After"), None, "request {i}");
    }
    let denied = &replies[3];
    assert_eq!(denied.status, 429);
    assert_eq!(denied.text(), "limit exceeded\n");
    assert_eq!(
        denied.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(denied.header("X-RateLimit-Limit"), Some("3"));
    assert_eq!(denied.header("X-RateLimit-Remaining"), Some("0"));
    assert_eq!(denied.header("X-RateLimit-Reset"), Some("2"));
    assert_eq!(denied.header("Retry-After"), Some("1"));
    // The same client's verify bucket is full.
    let verify = post(c, "/v1/verify", &client, &ss);
    assert_eq!(verify.status, 200);
    assert_eq!(verify.header("X-RateLimit-Remaining"), Some("2"));
    // Instrumentation is outermost: the refusal is counted.
    let metrics = get(c.var("SSRS_METRICS_URL"), "/metrics").text();
    let count = |code: &str| {
        metric_value(
            &metrics,
            "sealed_secrets_controller_http_requests_total",
            &[("path", "/v1/rotate"), ("code", code), ("method", "post")],
        )
    };
    assert!(count("429").is_some_and(|n| n >= 1.0), "{metrics}");
    assert!(count("200").is_some_and(|n| n >= 3.0), "{metrics}");
    t.finish();
}

/// A multi-document `kubeseal --re-encrypt` sends one `/v1/rotate` per document through the
/// service proxy; past the burst the controller answers 429 with `Retry-After`, which our kubeseal
/// and upstream v0.40.0's (client-go `rest/with_retry.go`) wait out, so all documents come back
/// re-sealed and nothing fails.
fn multi_document_re_encrypt_waits_out_the_rate_limit(c: &Cluster) {
    let mut t = Case::new(c, "reenc-limit");
    let value = t.plaintext("foo");
    const DOCS: usize = 6;
    let sealed: Vec<Value> = (0..DOCS)
        .map(|i| {
            let secret = t.secret(&t.ns, &format!("{NAME}-{i}"), &[], &[("foo", &value)]);
            t.seal(Sealer::Ours, &secret, &[])
        })
        .collect();
    let mut yaml = String::new();
    for ss in &sealed {
        yaml.push_str("---\n");
        yaml.push_str(&serde_json::to_string(ss).unwrap());
        yaml.push('\n');
    }
    let refused = || {
        let metrics = get(c.var("SSRS_METRICS_URL"), "/metrics").text();
        metric_value(
            &metrics,
            "sealed_secrets_controller_http_requests_total",
            &[("path", "/v1/rotate"), ("code", "429"), ("method", "post")],
        )
        .unwrap_or(0.0)
    };
    for (who, bin) in [
        ("ours", e2e::ours()),
        ("upstream", c.upstream_kubeseal.clone()),
    ] {
        let before = refused();
        let out = c.run(&bin, &["--re-encrypt", "-o", "json"], yaml.as_bytes(), &[]);
        assert!(out.status.success(), "{who} --re-encrypt: {}", stderr(&out));
        let text = stdout(&out);
        let docs: Vec<Value> = serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(docs.len(), DOCS, "{who}: every document re-sealed: {text}");
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(d["metadata"]["name"], format!("{NAME}-{i}"), "{who}");
            let item = &d["spec"]["encryptedData"]["foo"];
            assert!(item.is_string(), "{who}: {d}");
            let original = &sealed[i]["spec"]["encryptedData"]["foo"];
            assert_ne!(item, original, "{who}: fresh ciphertext");
        }
        assert!(
            refused() > before,
            "{who}: {DOCS} back-to-back rotations ran into the limiter (burst 3) and were retried"
        );
    }
    t.finish();
}

/// Upstream v0.39.0 `Main`: HTTP before the additional-namespace bootstrap; `/readyz` 503 until
/// every namespace is looked up and its controller started. Made slow on purpose: 24 additional
/// namespaces looked up at 2 requests per second (`--kubeclient-qps`). The list also has a
/// trailing comma, duplicates (one with spaces), the controller's own namespace and a missing one.
fn readyz_waits_for_the_additional_namespace_bootstrap(c: &Cluster) {
    let mut t = Case::new(c, "readyz");
    let url = c.var("SSRS_CONTROLLER_URL").to_string();
    let value = t.plaintext("foo");
    let ss = t.standard(Sealer::Ours, &value);
    let extra: Vec<String> = (0..23)
        .map(|i| t.other_namespace(&format!("ready{i}")))
        .collect();
    let missing = format!("missing-{}", random_hex(8));
    let mut list: Vec<String> = vec![format!(" {} ", t.ns), c.controller_namespace.clone()];
    list.extend(extra.iter().cloned());
    list.extend([
        t.ns.clone(),
        missing.clone(),
        extra[0].clone(),
        String::new(),
    ]);
    let flag = format!("--additional-namespaces={}", list.join(","));
    restart_with(
        c,
        &[
            "--all-namespaces=false",
            &flag,
            "--kubeclient-qps=2",
            "--kubeclient-burst=1",
        ],
    );
    // /healthz answered: the servers are up and the bootstrap is still looking namespaces up.
    let r = get(&url, "/readyz");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.text(), "not ready\n");
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    let cert = get(&url, "/v1/cert.pem");
    assert_eq!(cert.status, 200);
    assert!(cert.text().starts_with("-----BEGIN CERTIFICATE-----\n"));
    let health = get(&url, "/healthz");
    assert_eq!((health.status, health.text().as_str()), (200, "ok\n"));
    assert_eq!(get(&url, "/readyz").status, 503, "still bootstrapping");

    // Created only now, in an additional namespace: unsealed once that controller runs.
    t.create(&ss);
    let ready_after = e2e::wait_for(120, "/readyz 200", || {
        let r = get(&url, "/readyz");
        (r.status == 200).then_some(r)
    });
    assert_eq!(ready_after.text(), "ok\n");
    assert_eq!(
        ready_after.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    t.wait_secret(&t.ns, NAME, &[("foo", &value)]);

    let log = std::fs::read_to_string(&t.log).unwrap();
    let log = log.get(t.log_start as usize..).unwrap_or_default();
    let informers = |ns: &str| {
        let token = format!("namespace={ns}");
        log.lines()
            .filter(|l| l.contains("msg=\"Starting informer\""))
            .filter(|l| l.split_whitespace().any(|w| w == token))
            .count()
    };
    assert_eq!(informers(&t.ns), 1, "one controller for a duplicate\n{log}");
    assert_eq!(informers(&extra[0]), 1, "{log}");
    assert_eq!(
        informers(&c.controller_namespace),
        1,
        "the main one only\n{log}"
    );
    for ns in &extra {
        assert_eq!(informers(ns), 1, "{ns}\n{log}");
    }
    assert!(
        log.lines()
            .any(|l| l.contains("msg=\"namespace doesn't exist\"")
                && l.contains(&format!("namespace={missing}"))),
        "{log}"
    );
    let serving = log
        .find("msg=\"HTTP server serving\"")
        .expect("HTTP server serving");
    let last_informer = log.rfind("msg=\"Starting informer\"").unwrap();
    assert!(
        serving < last_informer,
        "HTTP starts before the bootstrap\n{log}"
    );
    // The metrics listener too.
    let metrics = get(c.var("SSRS_METRICS_URL"), "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(!metrics.text().contains("/readyz"), "not instrumented");
    t.finish();
    restart_with(c, &[]);
}

/// Upstream v0.39.0 `--metrics-omit-secret-labels`: no condition_info series at all, while the
/// same SealedSecret shows up without the flag; the rest of the metrics is unchanged.
fn metrics_omit_secret_labels_exposes_no_condition_info(c: &Cluster) {
    let mut t = Case::new(c, "omit-labels");
    let value = t.plaintext("foo");
    t.create(&t.standard(Sealer::Ours, &value));
    t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    let metrics_url = c.var("SSRS_METRICS_URL").to_string();
    let condition = |text: &str| {
        metric_value(
            text,
            "sealed_secrets_controller_condition_info",
            &[
                ("namespace", &t.ns),
                ("name", NAME),
                ("condition", "Synced"),
            ],
        )
    };
    let shown = eventually("condition_info of the SealedSecret", || {
        let text = get(&metrics_url, "/metrics").text();
        match condition(&text) {
            Some(_) => Ok(text),
            None => Err(text),
        }
    });
    assert_eq!(condition(&shown), Some(1.0));

    restart_with(c, &["--metrics-omit-secret-labels"]);
    // After the restart the controller lists and reconciles the SealedSecret again.
    let text = eventually("an unseal after the restart", || {
        let text = get(&metrics_url, "/metrics").text();
        let requests = metric_value(
            &text,
            "sealed_secrets_controller_unseal_requests_total",
            &[],
        );
        match requests {
            Some(n) if n >= 1.0 => Ok(text),
            _ => Err(text),
        }
    });
    assert!(!text.contains("condition_info"), "{text}");
    assert!(!text.contains(&t.ns), "no SealedSecret namespace\n{text}");
    assert!(
        text.contains("sealed_secrets_controller_build_info{"),
        "{text}"
    );
    // The flag only hides the series: the status is still written.
    let ss = t.wait_synced(&t.ns, NAME, "True");
    assert_eq!(synced(&ss).unwrap()["status"], "True");
    t.finish();
    restart_with(c, &[]);
}

/// Upstream v0.39.0 `startAdditionalNamespaceControllers`: a lookup error other than NotFound
/// (here: the controller's ClusterRole loses `get` on namespaces) ends the controller once the
/// bootstrap is done, with one `error:` line and exit 1 (upstream panics; docs/compatibility.md),
/// after the HTTP servers came up.
fn failed_namespace_lookup_stops_the_controller_after_the_bootstrap(c: &Cluster) {
    let t = Case::new(c, "lookup-error");
    let role: Value = serde_json::from_str(&c.kubectl_ok(
        &["get", "clusterrole", "secrets-unsealer", "-o", "json"],
        b"",
    ))
    .unwrap();
    let rules = role["rules"].as_array().unwrap();
    let index = rules
        .iter()
        .position(|r| r["resources"] == json!(["namespaces"]))
        .expect("the namespaces rule of deploy/rbac.yaml");
    let patch = |op: Value| {
        c.kubectl_ok(
            &[
                "patch",
                "clusterrole",
                "secrets-unsealer",
                "--type=json",
                "-p",
                &op.to_string(),
            ],
            b"",
        );
    };
    let sa = format!(
        "--as=system:serviceaccount:{}:{}",
        c.controller_namespace, c.controller_name
    );
    let can_get = || {
        let out = c.kubectl(&["auth", "can-i", "get", "namespaces", &sa], b"");
        stdout(&out).trim() == "yes"
    };
    assert!(can_get());
    patch(json!([{"op": "remove", "path": format!("/rules/{index}")}]));
    e2e::wait_for(30, "namespaces get revoked", || (!can_get()).then_some(()));

    // Slow on purpose (6 lookups at 1 per second): the controller is still up when cluster.sh
    // sees /healthz, and it exits only once every lookup has failed.
    let namespaces: Vec<String> = std::iter::once(t.ns.clone())
        .chain((0..5).map(|i| t.other_namespace(&format!("lookup{i}"))))
        .collect();
    let flag = format!("--additional-namespaces={}", namespaces.join(","));
    restart_with(c, &[&flag, "--kubeclient-qps=1", "--kubeclient-burst=1"]);
    let prefix = "error: cannot get namespace ";
    let log = e2e::wait_for(60, "the controller's error line", || {
        let log = std::fs::read_to_string(&t.log).unwrap();
        let log = log
            .get(t.log_start as usize..)
            .unwrap_or_default()
            .to_string();
        log.contains(prefix).then_some(log)
    });
    patch(json!([{"op": "add", "path": format!("/rules/{index}"), "value": rules[index]}]));
    e2e::wait_for(30, "namespaces get restored", || can_get().then_some(()));

    let line = log.lines().find(|l| l.starts_with(prefix)).unwrap();
    let named = line[prefix.len()..].split(':').next().unwrap();
    assert!(namespaces.iter().any(|ns| ns == named), "{line}");
    assert!(line.contains("forbidden"), "{line}");
    assert!(!log.contains("panicked"), "{log}");
    // HTTP came up first, and the exit waited for the other lookups (about 5 s at 1 per second).
    let at = |msg: &str| {
        let line = log
            .lines()
            .find(|l| l.contains(msg))
            .unwrap_or_else(|| panic!("{msg} missing from\n{log}"));
        seconds_of_day(line)
    };
    let serving = at("msg=\"HTTP server serving\"");
    let failed = at("level=ERROR msg=\"controller failed\"");
    assert!(failed - serving >= 3.0, "{serving} {failed}\n{log}");
    restart_with(c, &[]);
    assert_eq!(get(c.var("SSRS_CONTROLLER_URL"), "/readyz").status, 200);
}

/// deploy/ (`kubectl kustomize`): the controller's pod template passes the restricted Pod
/// Security Standard (admission of a Pod built from it, server-side dry run, in a namespace that
/// enforces `restricted`), readiness on /readyz and liveness on /healthz. The same Pod without
/// `allowPrivilegeEscalation: false` is refused, so the namespace does enforce.
fn deploy_base_is_admitted_under_the_restricted_pod_security_standard(c: &Cluster) {
    let rendered = c.kubectl_ok(
        &[
            "kustomize",
            workspace_root().join("deploy").to_str().unwrap(),
        ],
        b"",
    );
    let as_json = c.kubectl(
        &["create", "--dry-run=client", "-o", "json", "-f", "-"],
        rendered.as_bytes(),
    );
    assert!(as_json.status.success(), "{}", stderr(&as_json));
    // One JSON object per rendered document.
    let deployment = serde_json::Deserializer::from_slice(&as_json.stdout)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment in deploy/");
    let template = &deployment["spec"]["template"];
    let container = &template["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(
        template["spec"]["securityContext"],
        json!({"fsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}})
    );
    assert_eq!(
        container["securityContext"],
        json!({
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "runAsUser": 1001,
        })
    );

    let ns = c.namespace("restricted");
    c.kubectl_ok(
        &[
            "label",
            "namespace",
            &ns,
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/enforce-version=latest",
        ],
        b"",
    );
    let service_account = template["spec"]["serviceAccountName"].as_str().unwrap();
    c.kubectl_ok(
        &["create", "serviceaccount", "-n", &ns, service_account],
        b"",
    );
    let pod = |spec: &Value| {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "sealed-secrets-controller", "namespace": ns, "labels": template["metadata"]["labels"]},
            "spec": spec,
        })
    };
    let dry_run = |pod: &Value| {
        c.kubectl(
            &["create", "--dry-run=server", "-o", "json", "-f", "-"],
            &serde_json::to_vec(pod).unwrap(),
        )
    };
    let admitted = dry_run(&pod(&template["spec"]));
    assert!(admitted.status.success(), "{}", stderr(&admitted));
    assert!(
        !stderr(&admitted).contains("Warning"),
        "{}",
        stderr(&admitted)
    );
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&admitted)).unwrap()["kind"],
        "Pod"
    );
    let mut weaker = template["spec"].clone();
    weaker["containers"][0]["securityContext"]
        .as_object_mut()
        .unwrap()
        .remove("allowPrivilegeEscalation");
    let refused = dry_run(&pod(&weaker));
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("violates PodSecurity \"restricted:latest\""),
        "{}",
        stderr(&refused)
    );
}

/// The time of day of a log line (`time=2026-12-01T12:09:15.816Z ...`), in seconds.
fn seconds_of_day(line: &str) -> f64 {
    let time = line
        .strip_prefix("time=")
        .and_then(|rest| rest.split(['T', 'Z']).nth(1))
        .unwrap_or_else(|| panic!("no time in {line}"));
    time.split(':')
        .map(|part| part.parse::<f64>().unwrap())
        .fold(0.0, |acc, part| acc * 60.0 + part)
}

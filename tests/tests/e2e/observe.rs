//! Watching the controller the way the ecosystem does, with the real tools (docs/operations.md
//! "Alerts and dashboard", "Argo CD health"):
//!
//! - Prometheus: deploy/prometheus/rules.yaml passes `promtool check rules` and the unit tests of
//!   rules.test.yaml (`promtool test rules`; every alert firing and not firing);
//!   prometheusrule.yaml is rules.yaml's groups in a PrometheusRule; every metric name the rules
//!   and deploy/grafana/dashboard.json use (parsed from their PromQL) is exported by the running
//!   controller's `/metrics`.
//! - Argo CD: its own health script for `bitnami.com/SealedSecret` (from the argo-cd module, run by
//!   the gopher-lua interpreter Argo CD uses: tests/argocd-health, scripts/tools.sh
//!   argocd-health) passes the script's own fixtures, and tells Progressing, Healthy and Degraded
//!   for the live objects the controller writes: just created, unsealed, failed to decrypt,
//!   updated (a stale status: Argo CD's `observedGeneration` check) and re-unsealed.
//!
//! Suites `observe` (our controller, everything) and `observe_upstream` (upstream v0.40.0's
//! controller, the Argo CD states only: both controllers show the same health).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Test;
use crate::case::*;
use e2e::{Cluster, http_request, output_ok, stdout, workspace_root};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        unit: prometheus_rule_matches_the_rules_file, metric_names_are_read_from_promql;
        ignored: promtool_checks_the_rules, promtool_tests_pass,
            argocd_health_script_passes_its_own_fixtures;
        cluster: rules_and_dashboard_use_only_exported_metrics, argocd_health_of_each_state;
    ]
    .to_vec()
}

/// The same Argo CD states against upstream's controller.
pub fn upstream_tests() -> Vec<Test> {
    e2e_tests![cluster: argocd_health_of_each_state].to_vec()
}

const RULES: &str = "deploy/prometheus/rules.yaml";
const PROMETHEUS_RULE: &str = "deploy/prometheus/prometheusrule.yaml";
const RULE_TESTS: &str = "deploy/prometheus/rules.test.yaml";
const DASHBOARD: &str = "deploy/grafana/dashboard.json";

fn read(rel: &str) -> String {
    std::fs::read_to_string(workspace_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The bin directory of a scripts/tools.sh component (built on first use, then cached).
fn tool_bin(component: &str) -> PathBuf {
    let out = output_ok(Command::new(workspace_root().join("scripts/tools.sh")).arg(component));
    PathBuf::from(stdout(&out).trim())
}

fn run_ok(bin: &Path, args: &[&str]) -> String {
    let out = output_ok(Command::new(bin).args(args).current_dir(workspace_root()));
    stdout(&out)
}

// ---- Prometheus ----

/// prometheusrule.yaml is its header, then `spec:` with rules.yaml's `groups:` (and everything
/// after it) indented by two spaces. `UPDATE_PROMETHEUS_RULE=1` rewrites it.
fn prometheus_rule_matches_the_rules_file() {
    let rules = read(RULES);
    let current = read(PROMETHEUS_RULE);
    let groups = &rules[rules.find("\ngroups:\n").expect("rules.yaml has groups:") + 1..];
    let indented: String = groups
        .split_inclusive('\n')
        .map(|l| {
            if l.trim().is_empty() {
                l.to_string()
            } else {
                format!("  {l}")
            }
        })
        .collect();
    let header = &current[..current
        .find("\nspec:\n")
        .expect("prometheusrule.yaml has spec:")
        + 7];
    let want = format!("{header}{indented}");
    if std::env::var_os("UPDATE_PROMETHEUS_RULE").is_some() {
        std::fs::write(workspace_root().join(PROMETHEUS_RULE), &want).unwrap();
        return;
    }
    assert!(
        current == want,
        "{PROMETHEUS_RULE} is stale: run UPDATE_PROMETHEUS_RULE=1 cargo test --workspace --test e2e -- observe::prometheus_rule_matches_the_rules_file"
    );
    // And both parse to the same groups.
    let a = &goyaml::parse_documents(rules.as_bytes()).unwrap()[0]["groups"];
    let b = &goyaml::parse_documents(current.as_bytes()).unwrap()[0];
    assert_eq!(b["kind"], "PrometheusRule");
    assert_eq!(b["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(&b["spec"]["groups"], a);
}

fn promtool() -> PathBuf {
    tool_bin("promtool").join("promtool")
}

fn promtool_checks_the_rules() {
    let out = run_ok(
        &promtool(),
        &["check", "rules", "--lint=all", "--lint-fatal", RULES],
    );
    assert!(out.contains("SUCCESS: 9 rules found"), "{out}");
}

fn promtool_tests_pass() {
    let out = run_ok(&promtool(), &["test", "rules", "--run", ".*", RULE_TESTS]);
    assert!(out.contains("SUCCESS"), "{out}");
    // Every alert of rules.yaml has a test where it fires and one where it does not.
    let tests = &goyaml::parse_documents(read(RULE_TESTS).as_bytes()).unwrap()[0]["tests"];
    let mut firing = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for t in tests.as_array().unwrap() {
        for a in t["alert_rule_test"].as_array().unwrap() {
            let name = a["alertname"].as_str().unwrap().to_string();
            if a["exp_alerts"].as_array().is_some_and(|e| !e.is_empty()) {
                firing.insert(name);
            } else {
                silent.insert(name);
            }
        }
    }
    let alerts: BTreeSet<String> = rule_exprs().into_iter().map(|(alert, _)| alert).collect();
    assert_eq!(alerts.len(), 9, "{alerts:?}");
    assert_eq!(firing, alerts, "alerts with a firing test");
    assert_eq!(silent, alerts, "alerts with a not-firing test");
}

/// (alert, expr) of every rule in rules.yaml.
fn rule_exprs() -> Vec<(String, String)> {
    let doc = &goyaml::parse_documents(read(RULES).as_bytes()).unwrap()[0];
    doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["alert"].as_str().unwrap().to_string(),
                r["expr"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every `expr` of the dashboard (panels, rows' panels), with the panel title.
fn dashboard_exprs() -> Vec<(String, String)> {
    fn walk(v: &Value, title: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                let title = m.get("title").and_then(Value::as_str).unwrap_or(title);
                for (k, item) in m {
                    match (k.as_str(), item) {
                        ("expr", Value::String(e)) => out.push((title.to_string(), e.clone())),
                        _ => walk(item, title, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|item| walk(item, title, out)),
            _ => {}
        }
    }
    let doc: Value = serde_json::from_str(&read(DASHBOARD)).unwrap();
    let mut out = Vec::new();
    walk(&doc["panels"], "", &mut out);
    out
}

/// The metric names a PromQL expression selects: its identifiers outside strings, label matchers
/// (`{...}`), range and subquery brackets (`[...]`) and the label lists of `by`, `without`, `on`,
/// `ignoring`, `group_left` and `group_right`, that are neither keywords nor called (functions,
/// aggregations). Grafana's `$variables` are skipped.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end",
    ];
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let s: Vec<char> = expr.chars().collect();
    let next_non_space = |mut j: usize| {
        while j < s.len() && s[j].is_whitespace() {
            j += 1;
        }
        (j, s.get(j).copied())
    };
    // The index after the bracket matching the one at `i`, skipping strings.
    let skip_to = |mut i: usize, close: char| {
        while i < s.len() && s[i] != close {
            if matches!(s[i], '"' | '\'' | '`') {
                let q = s[i];
                i += 1;
                while i < s.len() && s[i] != q {
                    i += if s[i] == '\\' && q != '`' { 2 } else { 1 };
                }
            }
            i += 1;
        }
        i + 1
    };
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if matches!(c, '"' | '\'' | '`') {
            i = skip_to(i + 1, c);
        } else if c == '{' {
            i = skip_to(i + 1, '}');
        } else if c == '[' {
            i = skip_to(i + 1, ']');
        } else if c.is_ascii_digit() || c == '.' || c == '$' {
            // Numbers, durations (5m, 1h30m), hex, Grafana variables ($__rate_interval).
            i += 1;
            while i < s.len() && (s[i].is_ascii_alphanumeric() || matches!(s[i], '_' | '.')) {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < s.len() && (s[i].is_ascii_alphanumeric() || matches!(s[i], '_' | ':')) {
                i += 1;
            }
            let ident: String = s[start..i].iter().collect();
            let (j, next) = next_non_space(i);
            let lower = ident.to_ascii_lowercase();
            if LABEL_LISTS.contains(&lower.as_str()) {
                if next == Some('(') {
                    i = skip_to(j + 1, ')');
                }
            } else if KEYWORDS.contains(&lower.as_str())
                || next == Some('(')
                || ["by", "without"]
                    .iter()
                    .any(|w| s[j..].starts_with(&w.chars().collect::<Vec<_>>()))
            {
                // A keyword, a function or an aggregation (`sum by (x) (...)`).
            } else {
                names.insert(ident);
            }
        } else {
            i += 1;
        }
    }
    names
}

fn metric_names_are_read_from_promql() {
    let names = |e: &str| metric_names(e).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(r#"sum by (reason, namespace) (rate(errs_total{reason=~"a|b}",x='y'}[5m])) > 0"#),
        ["errs_total"]
    );
    assert_eq!(
        names(
            "histogram_quantile(0.99, sum(rate(h_bucket[$__rate_interval])) by (le, path)) / on(job) group_left(instance) info"
        ),
        ["h_bucket", "info"]
    );
    assert_eq!(
        names("absent(up) or count(a != 1) or vector(0) unless b offset 1h30m and c @ end()"),
        ["a", "b", "c", "up"]
    );
    assert_eq!(
        names("min(x) - time() < 30 * 86400 and y:recorded:rate5m > bool 1e3"),
        ["x", "y:recorded:rate5m"]
    );
    assert!(names("time() > 0").is_empty());
}

/// The names of the samples `/metrics` serves.
fn exported_sample_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

fn metrics(c: &Cluster) -> String {
    let reply = http_request(c.var("SSRS_METRICS_URL"), "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(reply.status, 200);
    reply.text()
}

fn rules_and_dashboard_use_only_exported_metrics(c: &Cluster) {
    // Drive the controller into the states that make every labelled series exist: a SealedSecret
    // unsealed (condition_info, key_sealed_secrets), one that fails (unseal_errors_total), a
    // certificate request (http_requests_total, http_request_duration_seconds).
    let mut t = Case::new(c, "observe-metrics");
    let value = t.plaintext("metrics");
    let ok = t.standard(Sealer::Ours, &value);
    t.create(&ok);
    t.wait_secret(&t.ns, NAME, &[("foo", &value)]);
    let cert = t.foreign_cert();
    let bad = t.seal(
        Sealer::Upstream,
        &t.secret(&t.ns, "undecryptable", &[], &[("foo", &value)]),
        &["--cert", cert.to_str().unwrap()],
    );
    t.create(&bad);
    t.wait_synced(&t.ns, "undecryptable", "False");
    let reply = http_request(
        c.var("SSRS_CONTROLLER_URL"),
        "GET",
        "/v1/cert.pem",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(reply.status, 200);

    let exported = exported_sample_names(&metrics(c));
    let mut used = Vec::new();
    for (alert, expr) in rule_exprs() {
        let names = metric_names(&expr);
        assert!(!names.is_empty(), "alert {alert}: no metric in {expr}");
        used.extend(names.into_iter().map(|n| (format!("alert {alert}"), n)));
    }
    let panels = dashboard_exprs();
    assert!(panels.len() >= 10, "{panels:?}");
    for (title, expr) in panels {
        let names = metric_names(&expr);
        assert!(!names.is_empty(), "panel {title}: no metric in {expr}");
        used.extend(names.into_iter().map(|n| (format!("panel {title}"), n)));
    }
    let missing: Vec<_> = used.iter().filter(|(_, n)| !exported.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "not exported by the controller: {missing:?}\nexported: {exported:?}"
    );
    // The dashboard shows every metric family the controller exports.
    let shown: BTreeSet<&str> = used.iter().map(|(_, n)| n.as_str()).collect();
    let families: BTreeSet<&str> = exported
        .iter()
        .filter(|n| !n.ends_with("_sum") && !n.ends_with("_count"))
        .map(String::as_str)
        .collect();
    let unshown: Vec<_> = families.difference(&shown).collect();
    assert!(unshown.is_empty(), "exported but used nowhere: {unshown:?}");
    t.finish();
}

// ---- Argo CD health ----

/// The cached argo-cd health script directory (health.lua, health_test.yaml, testdata/) and the
/// runner.
fn argocd() -> (PathBuf, PathBuf) {
    let bin = tool_bin("argocd-health");
    let dir = bin.parent().unwrap().join("SealedSecret");
    (bin.join("argocd-health"), dir)
}

fn argocd_health_script_passes_its_own_fixtures() {
    let (runner, dir) = argocd();
    let out = run_ok(&runner, &["-test", dir.to_str().unwrap()]);
    assert!(out.contains("6 passed, 0 failed"), "{out}");
    // The script checks observedGeneration (the Argo CD versions since it was added).
    let script = std::fs::read_to_string(dir.join("health.lua")).unwrap();
    assert!(script.contains("observedGeneration"), "{script}");
}

/// What Argo CD shows for this live object: (status, message).
fn argocd_health(t: &Case, obj: &Value) -> (String, String) {
    let (runner, dir) = argocd();
    let file = t.file("object.json", &serde_json::to_vec(obj).unwrap());
    let out = run_ok(
        &runner,
        &[
            dir.join("health.lua").to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    (
        v["status"].as_str().unwrap_or_default().to_string(),
        v["message"].as_str().unwrap_or_default().to_string(),
    )
}

const WAITING: &str = "Waiting for Sealed Secret to be decrypted";

fn assert_health(t: &Case, what: &str, obj: &Value, status: &str, message: &str) {
    assert_eq!(
        argocd_health(t, obj),
        (status.to_string(), message.to_string()),
        "{what}: {}",
        json!({"metadata": obj["metadata"], "status": obj["status"]})
    );
}

fn argocd_health_of_each_state(c: &Cluster) {
    let mut t = Case::new(c, "argocd");
    let v1 = t.plaintext("v1");
    // Just created: the object as the API server stored it, before any controller saw it.
    let created = t.create(&t.standard(Sealer::Ours, &v1));
    assert!(created["status"].is_null(), "{created}");
    assert_health(&t, "just created", &created, "Progressing", WAITING);
    // Unsealed.
    t.wait_secret(&t.ns, NAME, &[("foo", &v1)]);
    let unsealed = t.wait_synced(&t.ns, NAME, "True");
    assert_eq!(unsealed["status"]["observedGeneration"], 1, "{unsealed}");
    assert_health(&t, "unsealed", &unsealed, "Healthy", "");
    // Updated: the stored object has the new generation and still the status of the previous one.
    let v2 = t.plaintext("v2");
    let updated = t.replace(t.standard(Sealer::Ours, &v2));
    assert_eq!(updated["metadata"]["generation"], 2, "{updated}");
    assert_eq!(updated["status"]["observedGeneration"], 1, "{updated}");
    assert_health(
        &t,
        "updated, status stale",
        &updated,
        "Progressing",
        WAITING,
    );
    // Re-unsealed.
    t.wait_secret(&t.ns, NAME, &[("foo", &v2)]);
    let resealed = t.wait_observed_generation(&t.ns, NAME, 2);
    assert_eq!(synced(&resealed).unwrap()["status"], "True", "{resealed}");
    assert_health(&t, "re-unsealed", &resealed, "Healthy", "");

    // Failed to decrypt (sealed for a key the controller does not have).
    let cert = t.foreign_cert();
    let bad = t.seal(
        Sealer::Upstream,
        &t.secret(&t.ns, "undecryptable", &[], &[("foo", &v1)]),
        &["--cert", cert.to_str().unwrap()],
    );
    let created = t.create(&bad);
    assert_health(&t, "just created (bad)", &created, "Progressing", WAITING);
    let failed = t.wait_synced(&t.ns, "undecryptable", "False");
    assert_eq!(failed["status"]["observedGeneration"], 1, "{failed}");
    assert_health(&t, "failed", &failed, "Degraded", NO_KEY);
    // Fixed by a new commit: stale Degraded is Progressing, then Healthy.
    let v3 = t.plaintext("v3");
    let fixed = t.replace(t.seal(
        Sealer::Ours,
        &t.secret(&t.ns, "undecryptable", &[], &[("foo", &v3)]),
        &[],
    ));
    assert_eq!(fixed["metadata"]["generation"], 2, "{fixed}");
    assert_eq!(synced(&fixed).unwrap()["status"], "False", "{fixed}");
    assert_health(&t, "fixed, status stale", &fixed, "Progressing", WAITING);
    t.wait_secret(&t.ns, "undecryptable", &[("foo", &v3)]);
    let healed = t.wait_observed_generation(&t.ns, "undecryptable", 2);
    assert_eq!(synced(&healed).unwrap()["status"], "True", "{healed}");
    assert_health(&t, "fixed and unsealed", &healed, "Healthy", "");
    t.finish();
}

//! `kubeseal --lint` on the built binary: exit codes, the three output formats (text, JSON,
//! SARIF 2.1.0), `--cert` and `--recovery-private-key`, over the GitOps repository fixtures in
//! `tests/fixtures/lint/` (`clean/` has no findings, `repo/` has every kind).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `kubeseal --lint` run from the repository root (so that paths in the output are relative).
fn lint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubeseal"))
        .env_clear()
        .env("HOME", "/nonexistent-home-for-tests")
        .current_dir(root())
        .arg("--lint")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const CLEAN: &str = "tests/fixtures/lint/clean";
const REPO: &str = "tests/fixtures/lint/repo";
const CERT: &str = "tests/fixtures/keys/cert.pem";
const KEY: &str = "tests/fixtures/keys/key-pkcs1.pem";

/// `(file, line, rule)` of every text finding.
fn located(text: &str) -> BTreeSet<(String, usize, String)> {
    text.lines()
        .map(|l| {
            let (file, rest) = l.split_once(':').unwrap();
            let (line, rest) = rest.split_once(": ").unwrap();
            let rule = rest.rsplit_once(" [").unwrap().1.trim_end_matches(']');
            (
                file.trim_start_matches(&format!("{REPO}/")).to_string(),
                line.parse().unwrap(),
                rule.to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, usize, &str)]) -> BTreeSet<(String, usize, String)> {
    items
        .iter()
        .map(|(f, l, r)| (f.to_string(), *l, r.to_string()))
        .collect()
}

#[test]
fn a_clean_tree_passes_with_every_check() {
    for args in [
        vec![CLEAN],
        vec!["--cert", CERT, "--recovery-private-key", KEY, CLEAN],
        vec!["-o", "json", CLEAN],
    ] {
        let (code, out, err) = lint(&args);
        assert_eq!((code, err.as_str()), (0, ""), "{args:?}: {out}");
        if args.contains(&"json") {
            let v: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["findings"], serde_json::json!([]));
            assert_eq!(v["summary"]["files"], 5);
            assert_eq!(v["summary"]["findings"], 0);
        } else {
            assert_eq!(out, "");
        }
    }
}

const OFFLINE: &[(&str, usize, &str)] = &[
    ("apps/base/db-creds.yaml", 6, "kustomize-rename"),
    ("clusters/prod/broken.yml", 1, "unparsable"),
    ("clusters/prod/leaked.yaml", 14, "unsealed-secret"),
    ("clusters/prod/malformed.json", 10, "malformed-ciphertext"),
    ("clusters/prod/malformed.json", 11, "malformed-ciphertext"),
    (
        "clusters/prod/no-namespace.yaml",
        4,
        "missing-name-or-namespace",
    ),
    ("clusters/prod/renamed.yaml", 12, "template-mismatch"),
    ("clusters/prod/scope.yaml", 13, "scope-contradiction"),
];

#[test]
fn every_finding_kind_in_text_with_file_and_line() {
    let (code, out, err) = lint(&[REPO]);
    assert_eq!(code, 1);
    assert_eq!(err, "error: lint: 9 finding(s) in 7 file(s)\n");
    assert_eq!(located(&out), set(OFFLINE));
    // Both kustomizations that rename the base are named; the hidden directory is not walked.
    assert!(out.contains("through tests/fixtures/lint/repo/apps/overlays/prod/kustomization.yaml (namePrefix \"prod-\")"));
    assert!(out.contains(
        "through tests/fixtures/lint/repo/clusters/prod/kustomization.yaml (namePrefix \"prod-\")"
    ));
    assert!(!out.contains(".cache"));
    assert!(!out.contains("hunter2"), "no value is printed");

    // --cert adds the modulus check, the private keys the decryption check.
    let (code, out, _) = lint(&["--cert", CERT, "--recovery-private-key", KEY, REPO]);
    assert_eq!(code, 1);
    let mut expected = set(OFFLINE);
    expected.extend(set(&[
        ("clusters/prod/malformed.json", 12, "malformed-ciphertext"),
        // Without its namespace the label is "/no-ns", not what it was sealed for.
        ("clusters/prod/no-namespace.yaml", 8, "undecryptable"),
        ("clusters/prod/renamed.yaml", 9, "undecryptable"),
        ("clusters/prod/renamed.yaml", 10, "undecryptable"),
        ("clusters/prod/scope.yaml", 9, "undecryptable"),
        ("clusters/prod/scope.yaml", 10, "undecryptable"),
        ("clusters/prod/swapped.yaml", 9, "undecryptable"),
    ]));
    assert_eq!(located(&out), expected);
    assert!(out.contains(
        "item \"wrong-key-size\": its RSA part is 256 bytes but the certificate's modulus is 512 bytes (4096 bits)"
    ));
}

#[test]
fn json_and_sarif() {
    let (code, out, _) = lint(&["-o", "json", REPO]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 9);
    assert_eq!(v["summary"]["findings"], 9);
    assert_eq!(v["summary"]["files"], 12);
    let rules: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), 7);
    let leak = findings
        .iter()
        .find(|f| f["rule"] == "unsealed-secret")
        .unwrap();
    assert_eq!(leak["file"], format!("{REPO}/clusters/prod/leaked.yaml"));
    assert_eq!(leak["line"], 14);

    // SARIF 2.1.0: the properties the schema requires (sarifLog: version, runs; run: tool;
    // tool: driver; toolComponent: name; result: message with text; reportingDescriptor: id)
    // and what GitHub code scanning reads (ruleId, locations with uri and startLine).
    let (code, out, _) = lint(&["-o", "sarif", REPO]);
    assert_eq!(code, 1);
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["version"], "2.1.0");
    assert_eq!(
        s["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = s["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "kubeseal");
    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(r["shortDescription"]["text"].as_str().unwrap().len() > 10);
            r["id"].as_str().unwrap()
        })
        .collect();
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 9);
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], id);
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        assert_eq!(r["level"], "error");
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("tests/fixtures/lint/repo/"), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }

    let (code, out, _) = lint(&["-o", "yaml", REPO]);
    assert_eq!(code, 1);
    assert!(out.contains("rule: unsealed-secret\n"), "{out}");
}

#[test]
fn report_file_errors_and_environment() {
    // -w: the report is written also when there are findings (a CI job uploads it).
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("lint.sarif");
    let (code, out, _) = lint(&["-o", "sarif", "-w", report.to_str().unwrap(), REPO]);
    assert_eq!((code, out.as_str()), (1, ""));
    let s: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(s["runs"][0]["results"].as_array().unwrap().len(), 9);

    let (code, _, err) = lint(&[]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: --lint needs the files or directories to check as arguments\n"
        )
    );
    let (code, _, err) = lint(&["-o", "xml", CLEAN]);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: unsupported output format: xml\n")
    );
    let (code, _, err) = lint(&["tests/fixtures/lint/nope"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: stat tests/fixtures/lint/nope: "),
        "{err}"
    );

    // A single file, and SEALED_SECRETS_LINT / SEALED_SECRETS_FORMAT as for every flag.
    let out = Command::new(env!("CARGO_BIN_EXE_kubeseal"))
        .env_clear()
        .env("HOME", "/nonexistent-home-for-tests")
        .env("SEALED_SECRETS_LINT", "true")
        .env("SEALED_SECRETS_FORMAT", "json")
        .current_dir(root())
        .arg(format!("{REPO}/clusters/prod/leaked.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "unsealed-secret");
}

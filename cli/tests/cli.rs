//! CLI tests on the built `kubeseal` binary: offline modes end to end (seal → recovery-unseal round
//! trips), flags and environment variables, error texts, file handling, and the cluster modes
//! against a tiny in-process stand-in for the API server's service proxy.
//!
//! Every command runs with a cleared environment and an empty HOME, so the developer's kubeconfig
//! and SEALED_SECRETS_* variables never leak in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{fixture, ks};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use serde_json::{Value, json};

fn fixture_str(name: &str) -> String {
    fixture(name).to_string_lossy().into_owned()
}

fn secret_yaml() -> String {
    std::fs::read_to_string(fixture("secret.yaml")).unwrap()
}

fn stdout_of(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "command failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a failing command; returns (exit code, stdout, stderr).
fn failure_of(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    assert!(
        !out.status.success(),
        "command unexpectedly succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn error_of(c: &mut Command) -> String {
    let (code, stdout, stderr) = failure_of(c);
    assert_eq!(code, 1, "stderr: {stderr}");
    assert!(
        stdout.is_empty(),
        "stdout should be empty on error: {stdout}"
    );
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(stderr.ends_with('\n'));
    stderr.trim_start_matches("error: ").trim_end().to_string()
}

fn seal(args: &[&str], input: &str) -> String {
    stdout_of(
        ks().args(["--cert", &fixture_str("cert.pem")])
            .args(args)
            .write_stdin(input),
    )
}

/// `--recovery-unseal` with the fixture key, JSON output parsed.
fn unseal(sealed: &str) -> Value {
    let out = stdout_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("key.pem"),
        ])
        .write_stdin(sealed),
    );
    serde_json::from_str(&out).unwrap()
}

fn b64(s: &str) -> String {
    go_semantics::base64::encode(s.as_bytes())
}

/// Splits `---`-prefixed YAML output into documents and converts each to JSON with the core codec.
fn yaml_docs(out: &str) -> Vec<Value> {
    goyaml::parse_documents(out.as_bytes()).unwrap()
}

// ------------------------------------------------------------------------------------------------
// sealing and round trips

#[test]
fn seal_every_scope_json_and_yaml_then_recovery_unseal() {
    for (scope, annotation) in [
        ("strict", None),
        (
            "namespace-wide",
            Some("sealedsecrets.bitnami.com/namespace-wide"),
        ),
        (
            "cluster-wide",
            Some("sealedsecrets.bitnami.com/cluster-wide"),
        ),
    ] {
        for format in ["json", "yaml"] {
            let out = seal(
                &["-n", "myns", "--scope", scope, "-o", format],
                &secret_yaml(),
            );
            let ss: Value = if format == "json" {
                assert!(out.ends_with("}\n"));
                serde_json::from_str(&out).unwrap()
            } else {
                assert!(
                    out.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
                    "{out}"
                );
                assert!(!out.ends_with("---\n"));
                yaml_docs(&out).remove(0)
            };
            assert_eq!(ss["kind"], "SealedSecret");
            assert_eq!(ss["metadata"]["name"], "mysecret");
            // Cluster-wide sealing leaves a missing namespace missing.
            let namespace = if scope == "cluster-wide" {
                Value::Null
            } else {
                json!("myns")
            };
            assert_eq!(ss["metadata"]["namespace"], namespace);
            let annotations = &ss["metadata"]["annotations"];
            match annotation {
                None => assert!(annotations.is_null(), "{scope}: {annotations}"),
                Some(a) => assert_eq!(annotations[a], "true"),
            }
            let template = &ss["spec"]["template"]["metadata"];
            assert_eq!(template["labels"]["app"], "demo");
            assert_eq!(template["annotations"]["note"], "kept");
            assert_eq!(ss["spec"]["template"]["type"], "Opaque");
            let encrypted = ss["spec"]["encryptedData"].as_object().unwrap();
            assert_eq!(encrypted.keys().collect::<Vec<_>>(), ["baz", "foo"]);
            for v in encrypted.values() {
                assert!(
                    v.as_str().unwrap().starts_with("AQ"),
                    "2048-bit key: u16 length prefix 0x0100"
                );
            }

            let secret = unseal(&out);
            assert_eq!(secret["kind"], "Secret");
            assert_eq!(secret["metadata"]["name"], "mysecret");
            assert_eq!(secret["metadata"]["namespace"], namespace);
            assert_eq!(secret["data"]["foo"], b64("bar"));
            assert_eq!(secret["data"]["baz"], b64("qux"));
            assert_eq!(
                secret["metadata"]["ownerReferences"][0]["kind"],
                "SealedSecret"
            );
        }
    }
}

#[test]
fn json_output_has_upstream_field_order() {
    let out = seal(&["-n", "myns"], &secret_yaml());
    let expected_prefix = "{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"bitnami.com/v1alpha1\",\n  \"metadata\": {\n    \"name\": \"mysecret\",\n    \"namespace\": \"myns\"\n  },\n  \"spec\": {\n    \"template\": {\n      \"metadata\": {\n        \"name\": \"mysecret\",\n        \"namespace\": \"myns\",\n        \"labels\": {\n          \"app\": \"demo\"\n        },\n        \"annotations\": {\n          \"note\": \"kept\"\n        }\n      },\n      \"type\": \"Opaque\"\n    },\n    \"encryptedData\": {\n      \"baz\": \"";
    assert!(out.starts_with(expected_prefix), "{out}");
}

#[test]
fn multi_document_input_yaml_and_json() {
    let yaml = "kind: Secret\nmetadata: {name: a}\nstringData: {x: one}\n---\n# only a comment\n---\nkind: Secret\nmetadata: {name: b, namespace: other}\nstringData: {y: two}\n";
    let out = seal(
        &[
            "-o",
            "yaml",
            "--kubeconfig",
            &fixture_str("kubeconfig.yaml"),
        ],
        yaml,
    );
    assert_eq!(out.matches("---\n").count(), 2);
    let docs = yaml_docs(&out);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["metadata"]["namespace"], "ctxns");
    assert_eq!(docs[1]["metadata"]["namespace"], "other");

    let json_stream = r#"{"kind":"Secret","metadata":{"name":"a"},"stringData":{"x":"1"}}
{"kind":"Secret","metadata":{"name":"b"},"stringData":{"y":"2"}}"#;
    let out = seal(&["-n", "ns"], json_stream);
    assert_eq!(out.matches("\"kind\": \"SealedSecret\"").count(), 2);
    assert!(out.contains("}\n{\n"));
}

#[test]
fn later_document_error_keeps_earlier_output() {
    let yaml = "kind: Secret\nmetadata: {name: a}\nstringData: {x: one}\n---\nkind: Secret\nmetadata: {name: b}\n";
    let out = ks()
        .args(["--cert", &fixture_str("cert.pem"), "-n", "ns"])
        .write_stdin(yaml)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"name\": \"a\""));
    assert!(String::from_utf8_lossy(&out.stderr).contains("secret.data is empty"));
}

#[test]
fn name_flag_overrides_input_name() {
    let out = seal(&["-n", "ns", "--name", "renamed"], &secret_yaml());
    let ss: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ss["metadata"]["name"], "renamed");
    assert_eq!(ss["spec"]["template"]["metadata"]["name"], "renamed");
    assert_eq!(unseal(&out)["data"]["foo"], b64("bar"));
}

#[test]
fn yaml_scalars_in_string_fields_are_text() {
    let out = seal(
        &["-n", "ns"],
        "kind: Secret\nmetadata: {name: 12}\nstringData: {a: 1, b: yes}\n",
    );
    let secret = unseal(&out);
    assert_eq!(secret["metadata"]["name"], "12");
    assert_eq!(secret["data"]["a"], b64("1"));
    assert_eq!(secret["data"]["b"], b64("true"));
}

/// Issue 8: floats become text as Go's `FormatFloat(f, 'g', -1, 32)` gives it, as upstream does.
#[test]
fn yaml_floats_in_string_data_are_go_float32_text() {
    let out = seal(
        &["-n", "ns"],
        "kind: Secret\nmetadata: {name: f, labels: {l: 1.0}}\nstringData: {num: 123456789.0, m: 1.0, s: 0.1, e: 1e300}\n",
    );
    let secret = unseal(&out);
    assert_eq!(secret["data"]["num"], b64("1.2345679e+08"));
    assert_eq!(secret["data"]["m"], b64("1"));
    assert_eq!(secret["data"]["s"], b64("0.1"));
    assert_eq!(secret["data"]["e"], b64("+Inf"));
    assert_eq!(secret["metadata"]["labels"]["l"], "1");
}

/// Issue 8: `.inf` and `.nan` seal as `+Inf` / `NaN` (they were refused with "no secrets found").
#[test]
fn yaml_special_floats_in_string_data_seal() {
    let out = seal(
        &["-n", "ns"],
        "kind: Secret\nmetadata: {name: .nan}\nstringData: {i: .inf, m: -.Inf, nan: .NaN}\n",
    );
    let secret = unseal(&out);
    assert_eq!(secret["metadata"]["name"], "NaN");
    assert_eq!(secret["data"]["i"], b64("+Inf"));
    assert_eq!(secret["data"]["m"], b64("-Inf"));
    assert_eq!(secret["data"]["nan"], b64("NaN"));
    // In `data` (bytes in Go) a special float still fails the YAML-to-JSON step, as upstream.
    let e = error_of(
        ks().args(["--cert", &fixture_str("cert.pem"), "-n", "ns"])
            .write_stdin("kind: Secret\nmetadata: {name: x}\ndata: {a: .inf}\n"),
    );
    assert_eq!(
        e,
        "no secrets found. Ensure the input is valid and UTF-8 encoded"
    );
}

/// JSON input goes through the same conversion upstream (`1.0` is `"1"`, big numbers are floats).
#[test]
fn json_numbers_in_string_data_are_text() {
    let out = seal(
        &["-n", "ns"],
        r#"{"kind":"Secret","metadata":{"name":"j"},"stringData":{"a":1.0,"b":123456789.0,"c":18446744073709551616,"d":true,"e":null}}"#,
    );
    let secret = unseal(&out);
    assert_eq!(secret["data"]["a"], b64("1"));
    assert_eq!(secret["data"]["b"], b64("1.2345679e+08"));
    assert_eq!(secret["data"]["c"], b64("1.8446744e+19"));
    assert_eq!(secret["data"]["d"], b64("true"));
}

#[test]
fn allow_empty_data() {
    let input = "kind: Secret\nmetadata: {name: x}\n";
    let out = seal(&["-n", "ns", "--allow-empty-data"], input);
    let ss: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ss["spec"]["encryptedData"], json!({}));
}

#[test]
fn private_key_and_secret_values_never_in_errors() {
    // A value that does not decode: the error names the position only.
    let e = error_of(
        ks().args(["--cert", &fixture_str("cert.pem"), "-n", "ns"])
            .write_stdin("kind: Secret\nmetadata: {name: x}\ndata: {a: \"topsecret!\"}\n"),
    );
    assert_eq!(
        e,
        "error unmarshaling JSON: while decoding JSON: illegal base64 data at input byte 9"
    );
    assert!(!e.contains("topsecret"));
    // A value where a map belongs: serde would quote it.
    let e = error_of(
        ks().args(["--cert", &fixture_str("cert.pem"), "-n", "ns"])
            .write_stdin(r#"{"kind":"Secret","metadata":{"name":"x"},"stringData":"topsecret"}"#),
    );
    assert_eq!(e, "invalid type: string, expected a map");
    // The same in a key file: the private key must not be echoed.
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.yaml");
    let key_b64 = b64(&std::fs::read_to_string(fixture("key.pem")).unwrap());
    std::fs::write(
        &key_file,
        format!("kind: Secret\nmetadata: {{name: k}}\ndata: {key_b64}\n"),
    )
    .unwrap();
    let e = error_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &key_file.to_string_lossy(),
        ])
        .write_stdin(seal(&["-n", "ns"], &secret_yaml())),
    );
    assert!(!e.contains(&key_b64[..40]), "{e}");
}

// ------------------------------------------------------------------------------------------------
// raw mode

fn raw(args: &[&str], value: &[u8]) -> String {
    let out = stdout_of(
        ks().args(["--cert", &fixture_str("cert.pem"), "--raw"])
            .args(args)
            .write_stdin(value),
    );
    assert!(!out.ends_with('\n'), "raw output has no trailing newline");
    out
}

fn wrap_raw(item: &str, name: &str, namespace: &str, annotation: Option<&str>) -> String {
    let mut meta = json!({"name": name, "namespace": namespace});
    if let Some(a) = annotation {
        meta["annotations"] = json!({ a: "true" });
    }
    json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": meta,
        "spec": {"template": {"metadata": {}}, "encryptedData": {"value": item}}
    })
    .to_string()
}

#[test]
fn raw_mode_per_scope() {
    let strict = raw(&["-n", "ns", "--name", "nm"], b"s3cret\n");
    assert_eq!(
        unseal(&wrap_raw(&strict, "nm", "ns", None))["data"]["value"],
        b64("s3cret\n")
    );
    let e = error_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("key.pem"),
        ])
        .write_stdin(wrap_raw(&strict, "other", "ns", None)),
    );
    assert_eq!(e, "no key could decrypt secret (value)");

    let nsw = raw(&["-n", "ns", "--scope", "namespace-wide"], b"v");
    let a = Some("sealedsecrets.bitnami.com/namespace-wide");
    assert_eq!(
        unseal(&wrap_raw(&nsw, "any-name", "ns", a))["data"]["value"],
        b64("v")
    );

    let cw = raw(
        &["--scope", "cluster-wide", "--kubeconfig", "/nonexistent"],
        b"v",
    );
    let a = Some("sealedsecrets.bitnami.com/cluster-wide");
    assert_eq!(
        unseal(&wrap_raw(&cw, "n", "anywhere", a))["data"]["value"],
        b64("v")
    );
}

#[test]
fn raw_mode_from_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("value.txt");
    std::fs::write(&path, b"from file").unwrap();
    let item = raw(
        &[
            "-n",
            "ns",
            "--name",
            "nm",
            "--from-file",
            &format!("key={}", path.display()),
        ],
        b"",
    );
    assert_eq!(
        unseal(&wrap_raw(&item, "nm", "ns", None))["data"]["value"],
        b64("from file")
    );

    let e = error_of(ks().args([
        "--cert",
        &fixture_str("cert.pem"),
        "--raw",
        "-n",
        "ns",
        "--name",
        "x",
        "--from-file",
        "a,b",
    ]));
    assert_eq!(
        e,
        "must provide only one --from-file when encrypting a single item with --raw"
    );
}

#[test]
fn raw_mode_errors() {
    let cert = fixture_str("cert.pem");
    let e = error_of(
        ks().args(["--cert", &cert, "--raw", "-n", "ns"])
            .write_stdin("x"),
    );
    assert_eq!(
        e,
        "must provide the --name flag with --raw and --scope strict"
    );
    let e = error_of(
        ks().args(["--cert", &cert, "--raw", "--name", "x"])
            .write_stdin("x"),
    );
    assert_eq!(
        e,
        "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable"
    );
    let e = error_of(ks().args([
        "--cert",
        &cert,
        "--raw",
        "--name",
        "x",
        "--kubeconfig",
        "/nonexistent",
    ]));
    assert_eq!(e, "stat /nonexistent: no such file or directory");
    let e = error_of(ks().args(["--from-file", "x"]));
    assert_eq!(e, "--from-file requires --raw");
}

// ------------------------------------------------------------------------------------------------
// namespaces

fn sealed_namespace(args: &[&str], env: &[(&str, &str)], input: &str) -> Result<String, String> {
    let mut c = ks();
    c.args(["--cert", &fixture_str("cert.pem")])
        .args(args)
        .write_stdin(input);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    if out.status.success() {
        let ss: Value = serde_json::from_slice(&out.stdout).unwrap();
        Ok(ss["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim_end().to_string())
    }
}

#[test]
fn namespace_from_flag_kubeconfig_context_or_default() {
    let kc = fixture_str("kubeconfig.yaml");
    let input = secret_yaml();
    assert_eq!(
        sealed_namespace(&["-n", "flagns", "--kubeconfig", &kc], &[], &input).unwrap(),
        "flagns"
    );
    assert_eq!(
        sealed_namespace(&["--kubeconfig", &kc], &[], &input).unwrap(),
        "ctxns"
    );
    assert_eq!(
        sealed_namespace(&[], &[("KUBECONFIG", &kc)], &input).unwrap(),
        "ctxns"
    );
    assert_eq!(
        sealed_namespace(
            &["--kubeconfig", &kc, "--context", "without-ns"],
            &[],
            &input
        )
        .unwrap(),
        "default"
    );
    // No kubeconfig at all: client-go has no namespace to offer.
    assert_eq!(
        sealed_namespace(&[], &[], &input).unwrap_err(),
        "error: secret must declare a namespace"
    );
    // Explicit -n works even without any kubeconfig.
    assert_eq!(
        sealed_namespace(&["-n", "x", "--kubeconfig", "/nonexistent"], &[], &input).unwrap(),
        "x"
    );
}

#[test]
fn namespace_mismatch_only_with_explicit_flag() {
    let input = "kind: Secret\nmetadata: {name: x, namespace: inns}\nstringData: {a: b}\n";
    let kc = fixture_str("kubeconfig.yaml");
    assert_eq!(
        sealed_namespace(&["--kubeconfig", &kc], &[], input).unwrap(),
        "inns"
    );
    assert_eq!(
        sealed_namespace(&["-n", "other"], &[], input).unwrap_err(),
        "error: namespace mismatch: input secret is in namespace \"inns\" but \"other\" was specified"
    );
    // Cluster-wide sealing ignores namespaces entirely.
    assert_eq!(
        sealed_namespace(&["-n", "other", "--scope", "cluster-wide"], &[], input).unwrap(),
        "inns"
    );
}

#[test]
fn offline_modes_with_missing_kubeconfig() {
    let missing = ["--kubeconfig", "/nonexistent/kubeconfig"];
    let input = "kind: Secret\nmetadata: {name: x, namespace: n}\nstringData: {a: b}\n";
    let out = seal(&missing, input);
    assert_eq!(unseal(&out)["data"]["a"], b64("b"));
    let out = stdout_of(
        ks().args(missing)
            .args([
                "--recovery-unseal",
                "--recovery-private-key",
                &fixture_str("key.pem"),
            ])
            .write_stdin(out),
    );
    assert!(out.contains("\"a\": \"Yg==\""));
    let e = error_of(
        ks().args(missing)
            .args(["--cert", &fixture_str("cert.pem")])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(e, "secret must declare a namespace");
}

// ------------------------------------------------------------------------------------------------
// --merge-into

#[test]
fn merge_into_adds_and_replaces_items() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("ss.yaml");
    std::fs::write(&target, seal(&["-n", "ns", "-o", "yaml"], &secret_yaml())).unwrap();
    let update = "kind: Secret\nmetadata: {name: ignored, namespace: ignored, labels: {extra: l}}\nstringData: {foo: replaced, newkey: added}\n";
    let out = stdout_of(
        ks().args([
            "--cert",
            &fixture_str("cert.pem"),
            "--merge-into",
            &target.to_string_lossy(),
        ])
        .write_stdin(update),
    );
    assert!(out.is_empty());
    let merged = std::fs::read_to_string(&target).unwrap();
    // Rewritten in -o format: JSON by default, even though the file was YAML.
    assert!(
        merged.starts_with("{\n  \"kind\": \"SealedSecret\""),
        "{merged}"
    );
    let ss: Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(ss["metadata"]["name"], "mysecret");
    assert_eq!(
        ss["spec"]["template"]["metadata"]["labels"],
        json!({"app": "demo", "extra": "l"})
    );
    let secret = unseal(&merged);
    assert_eq!(secret["data"]["foo"], b64("replaced"));
    assert_eq!(secret["data"]["baz"], b64("qux"));
    assert_eq!(secret["data"]["newkey"], b64("added"));
}

/// Template data values are Go `*string`: `--merge-into` keeps the target's `null` entries and
/// prints them as Go does (`foo: null`, `"foo": null`), and `--recovery-unseal` omits their keys.
/// A number there is refused, as upstream does (no string conversion for a `*string`).
#[test]
fn merge_into_keeps_null_template_entries() {
    let dir = tempfile::tempdir().unwrap();
    let sealed = seal(&["-n", "ns", "-o", "yaml"], &secret_yaml());
    let with_nulls = sealed.replace(
        "  template:\n",
        "  template:\n    data:\n      baz: null\n      greeting: hi {{ .baz }}\n",
    );
    assert_ne!(with_nulls, sealed);
    for (format, null_entry) in [
        ("yaml", "      baz: null\n"),
        ("json", "        \"baz\": null,\n"),
    ] {
        let target = dir.path().join(format!("ss.{format}"));
        std::fs::write(&target, &with_nulls).unwrap();
        let update = "kind: Secret\nmetadata: {name: mysecret}\nstringData: {foo: replaced}\n";
        stdout_of(
            ks().args([
                "--cert",
                &fixture_str("cert.pem"),
                "-o",
                format,
                "--merge-into",
                &target.to_string_lossy(),
            ])
            .write_stdin(update),
        );
        let merged = std::fs::read_to_string(&target).unwrap();
        assert!(merged.contains(null_entry), "{merged}");
        let secret = unseal(&merged);
        assert_eq!(secret["data"]["foo"], b64("replaced"));
        assert_eq!(secret["data"]["greeting"], b64("hi qux"));
        assert!(secret["data"].get("baz").is_none(), "{secret}");
    }
    let number = with_nulls.replace("      baz: null\n", "      baz: 1\n");
    let e = error_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("key.pem"),
        ])
        .write_stdin(number),
    );
    assert!(e.contains("invalid type: integer"), "{e}");
}

#[test]
fn merge_into_failure_leaves_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("ss.json");
    let original = seal(&["-n", "ns"], &secret_yaml());
    std::fs::write(&target, &original).unwrap();
    let e = error_of(
        ks().args([
            "--cert",
            &fixture_str("cert.pem"),
            "--merge-into",
            &target.to_string_lossy(),
            "-n",
            "wrong",
        ])
        .write_stdin(secret_yaml()),
    );
    assert_eq!(
        e,
        "namespace mismatch: input secret is in namespace \"ns\" but \"wrong\" was specified"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), original);
    let e = error_of(ks().args([
        "--cert",
        &fixture_str("cert.pem"),
        "--merge-into",
        "/nonexistent/ss.json",
    ]));
    assert_eq!(e, "open /nonexistent/ss.json: no such file or directory");
}

// ------------------------------------------------------------------------------------------------
// -w / -f

#[test]
fn output_file_is_replaced_atomically_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.json");
    std::fs::write(&target, "previous content\n").unwrap();
    let w = target.to_string_lossy().into_owned();
    let e = error_of(
        ks().args(["--cert", &fixture_str("cert.pem"), "-n", "ns", "-w", &w])
            .write_stdin("kind: Secret\nmetadata: {name: x}\n"),
    );
    assert!(e.starts_with("secret.data is empty"));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "previous content\n"
    );
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 1, "no temporary file left behind");

    let out = stdout_of(
        ks().args(["--cert", &fixture_str("cert.pem"), "-n", "ns", "-w", &w])
            .write_stdin(secret_yaml()),
    );
    assert!(out.is_empty());
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("{\n  \"kind\": \"SealedSecret\""));
    assert_eq!(unseal(&written)["data"]["foo"], b64("bar"));
}

#[test]
fn yaml_extension_forces_yaml() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["out.yaml", "out.yml"] {
        let target = dir.path().join(name);
        stdout_of(
            ks().args([
                "--cert",
                &fixture_str("cert.pem"),
                "-n",
                "ns",
                "-o",
                "json",
                "-w",
                &target.to_string_lossy(),
            ])
            .write_stdin(secret_yaml()),
        );
        assert!(
            std::fs::read_to_string(&target)
                .unwrap()
                .starts_with("---\napiVersion: bitnami.com/v1alpha1\n")
        );
    }
}

#[test]
fn input_file_flag() {
    let out = stdout_of(ks().args([
        "--cert",
        &fixture_str("cert.pem"),
        "-n",
        "ns",
        "-f",
        &fixture_str("secret.yaml"),
    ]));
    assert_eq!(unseal(&out)["data"]["foo"], b64("bar"));
    let e = error_of(ks().args(["--cert", &fixture_str("cert.pem"), "-f", "/nonexistent"]));
    assert_eq!(e, "Could not read file specified with --secret-file");
}

// ------------------------------------------------------------------------------------------------
// certificates

#[test]
fn certificate_errors() {
    let input = secret_yaml();
    let e = error_of(
        ks().args(["--cert", &fixture_str("cert-expired.pem"), "-n", "ns"])
            .write_stdin(input.clone()),
    );
    assert_eq!(
        e,
        "failed to encrypt using an expired certificate on January 1, 2021"
    );
    let e = error_of(
        ks().args(["--cert", &fixture_str("cert-ec.pem"), "-n", "ns"])
            .write_stdin(input.clone()),
    );
    assert!(e.starts_with("expected RSA public key but found "), "{e}");
    let e = error_of(
        ks().args(["--cert", &fixture_str("key.pem"), "-n", "ns"])
            .write_stdin(input.clone()),
    );
    assert_eq!(
        e,
        "data does not contain any valid RSA or ECDSA certificates"
    );
    let e = error_of(
        ks().args(["--cert", "/nonexistent/cert.pem", "-n", "ns"])
            .write_stdin(input),
    );
    assert_eq!(e, "open /nonexistent/cert.pem: no such file or directory");
}

#[test]
fn fetch_cert_copies_the_certificate_verbatim() {
    let out = stdout_of(ks().args(["--fetch-cert", "--cert", &fixture_str("cert.pem")]));
    assert_eq!(out, std::fs::read_to_string(fixture("cert.pem")).unwrap());
}

#[test]
fn cert_from_file_url() {
    let url = format!("file://{}", fixture("cert.pem").display());
    let out = stdout_of(
        ks().args(["--cert", &url, "-n", "ns"])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(unseal(&out)["data"]["foo"], b64("bar"));
    let e = error_of(
        ks().args(["--cert", "file:///nonexistent.pem", "-n", "ns"])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(e, "cannot fetch \"file:///nonexistent.pem\": 404 Not Found");
}

#[test]
fn cert_from_http_url() {
    let cert = std::fs::read(fixture("cert.pem")).unwrap();
    let server = FakeServer::start(move |req| {
        if req.path == "/cert.pem" {
            (200, "application/x-pem-file", cert.clone())
        } else {
            (404, "text/plain", b"nope".to_vec())
        }
    });
    let out = stdout_of(
        ks().args(["--cert", &format!("{}/cert.pem", server.url), "-n", "ns"])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(unseal(&out)["data"]["foo"], b64("bar"));
    let missing = format!("{}/missing.pem", server.url);
    let e = error_of(
        ks().args(["--cert", &missing, "-n", "ns"])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(e, format!("cannot fetch \"{missing}\": 404 Not Found"));
}

#[test]
fn cert_url_honours_http_proxy_and_no_proxy() {
    let cert = std::fs::read(fixture("cert.pem")).unwrap();
    // The stand-in is the proxy and, through the tunnel, the origin too.
    let proxy = FakeServer::start(move |req| match req.method.as_str() {
        "CONNECT" => (200, "text/plain", Vec::new()),
        _ if req.path.ends_with("/cert.pem") => (200, "application/x-pem-file", cert.clone()),
        _ => (404, "text/plain", Vec::new()),
    });
    let url = "http://sealed-secrets.invalid/cert.pem";
    let out = stdout_of(
        ks().env("HTTP_PROXY", &proxy.url)
            .args(["--cert", url, "-n", "ns"])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(unseal(&out)["data"]["foo"], b64("bar"));
    assert!(
        proxy
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.path.contains("sealed-secrets.invalid"))
    );

    let before = proxy.requests.lock().unwrap().len();
    let e = error_of(
        ks().env("HTTP_PROXY", &proxy.url)
            .env("NO_PROXY", ".invalid")
            .args(["--cert", url, "-n", "ns"])
            .write_stdin(secret_yaml()),
    );
    assert!(e.starts_with(&format!("Get \"{url}\": ")), "{e}");
    assert_eq!(
        proxy.requests.lock().unwrap().len(),
        before,
        "NO_PROXY host went direct"
    );
}

// ------------------------------------------------------------------------------------------------
// --recovery-unseal keys

#[test]
fn recovery_keys_in_every_accepted_form() {
    let sealed = seal(&["-n", "ns"], &secret_yaml());
    for key in [
        "key.pem",
        "key-pkcs1.pem",
        "key-secret.yaml",
        "key-list.json",
    ] {
        let out = stdout_of(
            ks().args([
                "--recovery-unseal",
                "--recovery-private-key",
                &fixture_str(key),
            ])
            .write_stdin(sealed.clone()),
        );
        assert!(out.contains("\"foo\": \"YmFy\""), "{key}");
    }
    // Comma-separated and repeated; the matching key is not the first one.
    let both = format!("{},{}", fixture_str("key2.pem"), fixture_str("key.pem"));
    let out = stdout_of(
        ks().args(["--recovery-unseal", "--recovery-private-key", &both])
            .write_stdin(sealed.clone()),
    );
    assert!(out.contains("\"foo\": \"YmFy\""));
    let out = stdout_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("key2.pem"),
        ])
        .args([
            "--recovery-private-key",
            &fixture_str("key.pem"),
            "-o",
            "yaml",
        ])
        .write_stdin(sealed.clone()),
    );
    assert!(out.starts_with("---\napiVersion: v1\ndata:\n"), "{out}");
}

#[test]
fn recovery_unseal_errors() {
    let sealed = seal(&["-n", "ns"], &secret_yaml());
    let e = error_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("key2.pem"),
        ])
        .write_stdin(sealed.clone()),
    );
    assert_eq!(e, "no key could decrypt secret (baz, foo)");
    let e = error_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("no-tls-key.yaml"),
        ])
        .write_stdin(sealed.clone()),
    );
    assert_eq!(e, "secret must contain a 'tls.data' key");
    let e = error_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            "/nonexistent.pem",
        ])
        .write_stdin(sealed),
    );
    assert_eq!(e, "open /nonexistent.pem: no such file or directory");
    let e = error_of(
        ks().args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("key.pem"),
        ])
        .write_stdin(secret_yaml()),
    );
    assert_eq!(
        e,
        "converting (v1.Secret) to (v1alpha1.SealedSecret): unknown conversion"
    );
}

// ------------------------------------------------------------------------------------------------
// error texts of upstream kubeseal (`cmd/kubeseal/main.go`, `pkg/kubeseal/kubeseal.go`)

#[test]
fn input_error_texts() {
    let cert = fixture_str("cert.pem");
    let cases: &[(&str, &str)] = &[
        (
            "",
            "no secrets found. Ensure the input is valid and UTF-8 encoded",
        ),
        (
            "---\n",
            "no secrets found. Ensure the input is valid and UTF-8 encoded",
        ),
        (
            "[]",
            "no secrets found. Ensure the input is valid and UTF-8 encoded",
        ),
        (
            "kind: Secret\nmetadata: {name: x}\n",
            "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used",
        ),
        (
            "kind: Secret\nstringData: {a: b}\n",
            "missing metadata.name in input Secret",
        ),
        (
            r#"{"kind":"Secret","metadata":{"name":"x"},"data":{"a":"!!"}}"#,
            "illegal base64 data at input byte 0",
        ),
    ];
    for (input, expected) in cases {
        let e = error_of(ks().args(["--cert", &cert, "-n", "ns"]).write_stdin(*input));
        assert_eq!(&e, expected, "input: {input:?}");
    }
    let e = error_of(
        ks().args(["--cert", &cert, "-n", "ns", "-o", "xml"])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(e, "unsupported output format: xml");
}

#[test]
fn flag_errors_exit_2_with_usage_on_stdout() {
    let (code, stdout, stderr) = failure_of(ks().args(["--scope", "bad"]));
    assert_eq!(code, 2);
    assert!(stdout.contains("      --scope string "));
    assert!(stdout.ends_with(
        "invalid argument \"bad\" for \"--scope\" flag: must be one of: strict, namespace-wide, cluster-wide\n"
    ));
    assert!(stderr.starts_with("Usage of "));
    let (code, stdout, _) = failure_of(ks().args(["--foo"]));
    assert_eq!(code, 2);
    assert!(stdout.ends_with("unknown flag: --foo\n"));
    let (code, stdout, _) = failure_of(ks().args(["--raw=maybe"]));
    assert_eq!(code, 2);
    assert!(stdout.ends_with("strconv.ParseBool: parsing \"maybe\": invalid syntax\n"));
}

// ------------------------------------------------------------------------------------------------
// flags and environment

#[test]
fn version_help_and_completion() {
    let out = stdout_of(ks().arg("--version"));
    assert_eq!(
        out,
        format!("kubeseal version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = stdout_of(ks().arg("--help"));
    assert!(out.starts_with("Usage of "));
    assert!(out.contains("  -o, --format string "));
    assert!(out.contains("(default \"json\")"));
    let out = stdout_of(ks().arg("-h"));
    assert!(out.contains("--recovery-unseal"));
    let out = stdout_of(ks().args(["--completion", "bash"]));
    assert!(out.contains("kubeseal"));
    assert!(out.contains("--recovery-private-key"));
}

#[test]
fn positional_arguments_are_ignored() {
    let out = seal(&["-n", "ns", "ignored", "completion"], &secret_yaml());
    assert!(out.contains("\"kind\": \"SealedSecret\""));
}

#[test]
fn environment_variables_and_precedence() {
    let cert = fixture_str("cert.pem");
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = ks();
        c.args(args).write_stdin(secret_yaml());
        for (k, v) in env {
            c.env(k, v);
        }
        stdout_of(&mut c)
    };
    let out = run(
        &[
            ("SEALED_SECRETS_CERT", &cert),
            ("SEALED_SECRETS_NAMESPACE", "envns"),
        ],
        &[],
    );
    assert!(out.contains("\"namespace\": \"envns\""));
    let out = run(
        &[
            ("SEALED_SECRETS_CERT", &cert),
            ("SEALED_SECRETS_FORMAT", "yaml"),
        ],
        &["-n", "x"],
    );
    assert!(out.starts_with("---\n"));
    // The command line wins.
    let out = run(
        &[
            ("SEALED_SECRETS_CERT", "/nonexistent"),
            ("SEALED_SECRETS_FORMAT", "yaml"),
        ],
        &["--cert", &cert, "-n", "x", "-o", "json"],
    );
    assert!(out.starts_with("{\n"));
    let out = run(
        &[
            ("SEALED_SECRETS_CERT", &cert),
            ("SEALED_SECRETS_SCOPE", "cluster-wide"),
        ],
        &["-n", "x"],
    );
    assert!(out.contains("sealedsecrets.bitnami.com/cluster-wide"));
    let out = run(
        &[
            ("SEALED_SECRETS_CERT", &cert),
            ("SEALED_SECRETS_SCOPE", "cluster-wide"),
        ],
        &["-n", "x", "--scope", "strict"],
    );
    assert!(!out.contains("sealedsecrets.bitnami.com/cluster-wide"));
    // Values a flag would reject are ignored, as upstream's flagenv does.
    let out = run(
        &[
            ("SEALED_SECRETS_CERT", &cert),
            ("SEALED_SECRETS_SCOPE", "bogus"),
            ("SEALED_SECRETS_RAW", "maybe"),
        ],
        &["-n", "x"],
    );
    assert!(out.contains("\"kind\": \"SealedSecret\""));
    let out = run(
        &[
            ("SEALED_SECRETS_CERT", &cert),
            ("SEALED_SECRETS_NAME", "envname"),
        ],
        &["-n", "x"],
    );
    assert!(out.contains("\"name\": \"envname\""));
    let out = stdout_of(ks().env("SEALED_SECRETS_VERSION", "T"));
    assert!(out.starts_with("kubeseal version: "));
}

#[test]
fn list_environment_values_come_before_command_line_ones() {
    let sealed = seal(&["-n", "ns"], &secret_yaml());
    // key2 from the environment, key from the command line: both are used.
    let out = stdout_of(
        ks().env(
            "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
            fixture_str("key2.pem"),
        )
        .args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture_str("key.pem"),
        ])
        .write_stdin(sealed),
    );
    assert!(out.contains("\"foo\": \"YmFy\""));
    let e = error_of(
        ks().env("SEALED_SECRETS_FROM_FILE", fixture_str("cert.pem"))
            .args([
                "--cert",
                &fixture_str("cert.pem"),
                "--raw",
                "-n",
                "x",
                "--name",
                "y",
                "--from-file",
                &fixture_str("cert.pem"),
            ]),
    );
    assert_eq!(
        e,
        "must provide only one --from-file when encrypting a single item with --raw"
    );
}

// ------------------------------------------------------------------------------------------------
// cluster modes through a stand-in for the API server

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

type Handler = dyn Fn(&Request) -> (u16, &'static str, Vec<u8>) + Send + Sync;

/// A minimal HTTP/1.1 server on 127.0.0.1 that records requests and answers with `handler`.
struct FakeServer {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeServer {
    fn start(
        handler: impl Fn(&Request) -> (u16, &'static str, Vec<u8>) + Send + Sync + 'static,
    ) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let handler: Arc<Handler> = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let recorded = recorded.clone();
                let handler = handler.clone();
                std::thread::spawn(move || serve_connection(stream, &*handler, &recorded));
            }
        });
        FakeServer { url, requests }
    }
}

fn serve_connection(
    stream: std::net::TcpStream,
    handler: &Handler,
    recorded: &Mutex<Vec<Request>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap_or(0));
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Request {
            method,
            path,
            headers,
            body,
        };
        let (status, content_type, reply) = handler(&req);
        recorded.lock().unwrap().push(req);
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(&reply))
            .is_err()
        {
            return;
        }
    }
}

fn kubeconfig_for(server: &str, dir: &Path) -> String {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user:\n    token: t0k3n\n"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

const PROXY: &str =
    "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy";

fn fake_api_server(verify_status: u16) -> FakeServer {
    let cert = std::fs::read(fixture("cert.pem")).unwrap();
    FakeServer::start(move |req| {
        match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/api/v1/namespaces/kube-system/services/sealed-secrets-controller") => (
            200,
            "application/json",
            br#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"sealed-secrets-controller"},"spec":{"ports":[{"name":"http","port":8080}]}}"#.to_vec(),
        ),
        ("GET", "/api/v1/namespaces/kube-system/services/missing") => (
            404,
            "application/json",
            br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services \"missing\" not found","reason":"NotFound","code":404}"#.to_vec(),
        ),
        ("GET", p) if p == format!("{PROXY}/v1/cert.pem") => (200, "application/x-pem-file", cert.clone()),
        ("POST", p) if p == format!("{PROXY}/v1/verify") => (verify_status, "text/plain", Vec::new()),
        ("POST", p) if p == format!("{PROXY}/v1/rotate") => {
            // Echo the object back without TypeMeta, with server fields set, as the controller does.
            let mut ss: Value = serde_json::from_slice(&req.body).unwrap();
            let obj = ss.as_object_mut().unwrap();
            obj.remove("kind");
            obj.remove("apiVersion");
            ss["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
            ss["metadata"]["generation"] = json!(3);
            (200, "text/plain; charset=utf-8", serde_json::to_vec(&ss).unwrap())
        }
        _ => (500, "text/plain", b"unexpected".to_vec()),
    }
    })
}

#[test]
fn fetch_cert_and_seal_through_the_service_proxy() {
    let server = fake_api_server(200);
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_for(&server.url, dir.path());
    let out = stdout_of(ks().args(["--kubeconfig", &kc, "--fetch-cert"]));
    assert_eq!(out, std::fs::read_to_string(fixture("cert.pem")).unwrap());
    let out = stdout_of(
        ks().args(["--kubeconfig", &kc, "-n", "ns"])
            .write_stdin(secret_yaml()),
    );
    assert_eq!(unseal(&out)["data"]["foo"], b64("bar"));

    let requests = server.requests.lock().unwrap();
    let cert_req = requests
        .iter()
        .find(|r| r.path.ends_with("/v1/cert.pem"))
        .unwrap();
    let header = |r: &Request, k: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header(cert_req, "accept").as_deref(),
        Some("application/x-pem-file, */*")
    );
    assert_eq!(
        header(cert_req, "authorization").as_deref(),
        Some("Bearer t0k3n")
    );
}

#[test]
fn validate_and_re_encrypt_through_the_service_proxy() {
    let sealed = seal(&["-n", "ns"], &secret_yaml());
    let dir = tempfile::tempdir().unwrap();

    let ok = fake_api_server(200);
    let kc = kubeconfig_for(&ok.url, dir.path());
    let out = stdout_of(
        ks().args(["--kubeconfig", &kc, "--validate"])
            .write_stdin(sealed.clone()),
    );
    assert!(out.is_empty());
    {
        let requests = ok.requests.lock().unwrap();
        let verify = requests
            .iter()
            .find(|r| r.path.ends_with("/v1/verify"))
            .unwrap();
        let sent: Value = serde_json::from_slice(&verify.body).unwrap();
        assert_eq!(sent["kind"], "SealedSecret");
        assert!(
            !String::from_utf8_lossy(&verify.body).contains('\n'),
            "compact JSON"
        );
    }

    let conflict = fake_api_server(409);
    let kc = kubeconfig_for(&conflict.url, dir.path());
    let e = error_of(
        ks().args(["--kubeconfig", &kc, "--validate"])
            .write_stdin(sealed.clone()),
    );
    assert_eq!(e, "unable to decrypt sealed secret: mysecret");

    let broken = fake_api_server(500);
    let kc = kubeconfig_for(&broken.url, dir.path());
    let e = error_of(
        ks().args(["--kubeconfig", &kc, "--validate"])
            .write_stdin(sealed.clone()),
    );
    assert_eq!(
        e,
        "cannot validate sealed secret: an error on the server (\"\") has prevented the request from succeeding (post services http:sealed-secrets-controller:http)"
    );

    // Re-encrypt: the reply lacks TypeMeta and carries server fields; kubeseal fixes both.
    let kc = kubeconfig_for(&ok.url, dir.path());
    let out = stdout_of(
        ks().args(["--kubeconfig", &kc, "--re-encrypt", "-o", "yaml"])
            .write_stdin(sealed.clone()),
    );
    let doc = yaml_docs(&out).remove(0);
    assert_eq!(doc["kind"], "SealedSecret");
    assert_eq!(doc["apiVersion"], "bitnami.com/v1alpha1");
    assert!(doc["metadata"].get("creationTimestamp").is_none());
    assert!(doc["metadata"].get("generation").is_none());

    // In place with only -f.
    let file = dir.path().join("ss.json");
    std::fs::write(&file, &sealed).unwrap();
    let out = stdout_of(ks().args([
        "--kubeconfig",
        &kc,
        "--re-encrypt",
        "-f",
        &file.to_string_lossy(),
    ]));
    assert!(out.is_empty());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("{\n  \"kind\": \"SealedSecret\"")
    );

    // The deprecated alias still works and says so on stdout.
    let out = stdout_of(
        ks().args(["--kubeconfig", &kc, "--rotate"])
            .write_stdin(sealed),
    );
    assert!(
        out.starts_with("Flag --rotate has been deprecated, please use --re-encrypt instead\n{")
    );
}

#[test]
fn cluster_errors() {
    let server = fake_api_server(200);
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_for(&server.url, dir.path());
    let e = error_of(ks().args([
        "--kubeconfig",
        &kc,
        "--controller-name",
        "missing",
        "--fetch-cert",
    ]));
    assert_eq!(
        e,
        "cannot get sealed secret service: services \"missing\" not found.\nPlease, use the flag --controller-name and --controller-namespace to set up the name and namespace of the sealed secrets controller"
    );
    let e = error_of(ks().args(["--fetch-cert"]));
    assert_eq!(
        e,
        "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable"
    );
    let e = error_of(ks().args([
        "--kubeconfig",
        &fixture_str("kubeconfig.yaml"),
        "--validate",
    ]));
    assert!(e.starts_with("cannot get sealed secret service: Get \"https://127.0.0.1:1/api/v1/namespaces/kube-system/services/sealed-secrets-controller\": "), "{e}");
    assert!(!e.contains("not-a-real-token"));
}

/// `kubeseal ... | head`: a closed stdout ends the command with exit 1 and no message, as Go's
/// SIGPIPE does.
#[test]
fn closed_stdout_ends_quietly() {
    use std::process::{Command as StdCommand, Stdio};
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_kubeseal"))
        .args(["--cert", &fixture_str("cert.pem"), "-n", "ns"])
        .env_clear()
        .env("HOME", "/nonexistent-home-for-tests")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end is closed before kubeseal has its input, so its first write fails.
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(secret_yaml().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

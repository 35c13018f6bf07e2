//! Offline interoperability with the real upstream kubeseal (v0.40.0, the primary peer;
//! `UPSTREAM_KUBESEAL`): what one seals the other recovers, both print the same document for the
//! same input (ciphertexts masked), and both fail the same way on bad input. Suite `interop` of
//! the e2e binary (main.rs); needs no control plane, only the upstream binary (hence `--ignored`).

use std::path::Path;
use std::process::Output;

use crate::Test;
use e2e::{Sandbox, b64encode, fixture, mask_ciphertexts, ours, stderr, stdout, upstream};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        ignored:
            same_document_as_upstream_for_the_same_input,
            each_recovers_what_the_other_sealed,
            raw_values_recover_with_upstream,
            merge_into_matches_upstream,
            recovery_keys_as_secret_list_and_json,
            same_errors_as_upstream,
            merge_into_a_template_without_labels,
    ]
    .to_vec()
}

const PLAIN: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  password: czNjcmV0\n  user: YWRtaW4=\n";

const NO_NAMESPACE: &str =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: czNjcmV0\n";

/// Labels and annotations reach the output in clear text (spec.template.metadata), so the YAML and
/// JSON writers must agree with Go's on every awkward scalar.
const RICH: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: rich
  namespace: prod
  creationTimestamp: "2024-01-01T00:00:00Z"
  uid: 0b5a5e34-1111-2222-3333-444455556666
  resourceVersion: "42"
  labels:
    app.kubernetes.io/name: web
    truthy: "true"
    number: "123"
    empty: ""
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"password":"czNjcmV0"}}'
    note: "a: b # not a comment"
    multi: "line one\nline two\n"
    html: "<b>&</b>"
    long: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua."
    unicode: "héllo ✓"
    quote: "'single' and \"double\""
    lead: " leading space"
  finalizers:
  - example.com/keep
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: owner
    uid: 1234
type: kubernetes.io/dockerconfigjson
immutable: true
data:
  .dockerconfigjson: eyJhdXRocyI6e319
stringData:
  extra: plain text
  password: overrides
"#;

const JSON_STREAM: &str = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a","namespace":"prod"},"data":{"k":"dg=="}}
{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b","namespace":"prod"},"stringData":{"k":"v"}}"#;

const MULTI_YAML: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: one\n  namespace: prod\ndata:\n  k: dg==\n---\n# a comment\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: two\n  namespace: prod\nstringData:\n  k: v\n";

fn cert() -> String {
    fixture("keys/cert.pem").display().to_string()
}

fn run_both(
    sb: &Sandbox,
    args: &[&str],
    input: &str,
) -> (std::process::Output, std::process::Output) {
    (
        sb.run(&upstream(), args, input.as_bytes()),
        sb.run(&ours(), args, input.as_bytes()),
    )
}

/// `bin --recovery-unseal --recovery-private-key KEY` on `input`.
fn recover(sb: &Sandbox, bin: &Path, key: &str, input: &[u8]) -> Output {
    sb.run(
        bin,
        &["--recovery-unseal", "--recovery-private-key", key],
        input,
    )
}

fn assert_ok(o: &std::process::Output, who: &str) {
    assert!(o.status.success(), "{who} failed: {}", stderr(o));
}

fn same_document_as_upstream_for_the_same_input() {
    let sb = Sandbox::new();
    let c = cert();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (PLAIN, vec![]),
        (PLAIN, vec!["-o", "yaml"]),
        (PLAIN, vec!["-o", "YAML"]),
        (PLAIN, vec!["--scope", "namespace-wide"]),
        (PLAIN, vec!["--scope", "cluster-wide", "-o", "yaml"]),
        (PLAIN, vec!["--name", "renamed"]),
        (PLAIN, vec!["-n", "prod", "-o", "yaml"]),
        (NO_NAMESPACE, vec![]),
        (NO_NAMESPACE, vec!["-n", "argns"]),
        (NO_NAMESPACE, vec!["--scope", "cluster-wide"]),
        (RICH, vec![]),
        (RICH, vec!["-o", "yaml"]),
        (RICH, vec!["--scope", "cluster-wide", "-o", "yaml"]),
        (JSON_STREAM, vec![]),
        (JSON_STREAM, vec!["-o", "yaml"]),
        (MULTI_YAML, vec!["-o", "yaml"]),
        (MULTI_YAML, vec![]),
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: e\n  namespace: prod\n",
            vec!["--allow-empty-data"],
        ),
    ];
    for (input, extra) in cases {
        let mut args = vec!["--cert", c.as_str()];
        args.extend(extra.iter().copied());
        let (up, me) = run_both(&sb, &args, input);
        assert_ok(&up, "upstream");
        assert_ok(&me, "ours");
        assert_eq!(
            mask_ciphertexts(&stdout(&me)),
            mask_ciphertexts(&stdout(&up)),
            "output differs for args {args:?} and input:\n{input}"
        );
        if !args.contains(&"--allow-empty-data") {
            assert!(
                mask_ciphertexts(&stdout(&me)).contains("<ct>"),
                "no ciphertext in output"
            );
        }
    }
}

/// Seals `input` with `sealer`, recovers it with `unsealer`; returns the recovered Secret JSON.
fn seal_then_recover(
    sb: &Sandbox,
    sealer: &Path,
    unsealer: &Path,
    seal_args: &[&str],
    key: &str,
    input: &str,
) -> Vec<String> {
    let c = cert();
    let mut args = vec!["--cert", c.as_str(), "-o", "yaml"];
    args.extend_from_slice(seal_args);
    let sealed = sb.run(sealer, &args, input.as_bytes());
    assert_ok(&sealed, "seal");
    // kubeseal --recovery-unseal reads one SealedSecret: recover each document separately.
    stdout(&sealed)
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|doc| {
            let key_path = fixture(key).display().to_string();
            let out = recover(sb, unsealer, &key_path, doc.as_bytes());
            assert_ok(&out, "recovery-unseal");
            stdout(&out)
        })
        .collect()
}

fn each_recovers_what_the_other_sealed() {
    let sb = Sandbox::new();
    let (up, me) = (upstream(), ours());
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (PLAIN, vec![]),
        (PLAIN, vec!["--scope", "namespace-wide"]),
        (PLAIN, vec!["--scope", "cluster-wide"]),
        (RICH, vec![]),
        (MULTI_YAML, vec![]),
    ];
    for (input, args) in cases {
        for key in ["keys/key-pkcs1.pem", "keys/key-pkcs8.pem"] {
            let reference = seal_then_recover(&sb, &up, &up, &args, key, input);
            assert!(reference.iter().all(|s| s.contains("\"kind\": \"Secret\"")));
            assert_eq!(
                seal_then_recover(&sb, &me, &up, &args, key, input),
                reference,
                "upstream recovering ours, {args:?} {key}"
            );
            assert_eq!(
                seal_then_recover(&sb, &up, &me, &args, key, input),
                reference,
                "ours recovering upstream's, {args:?} {key}"
            );
            assert_eq!(
                seal_then_recover(&sb, &me, &me, &args, key, input),
                reference,
                "ours recovering ours, {args:?} {key}"
            );
        }
    }
}

fn raw_values_recover_with_upstream() {
    let sb = Sandbox::new();
    let c = cert();
    let value = sb.write("value.txt", b"raw s3cret\nwith newline\n");
    let key = fixture("keys/key-pkcs1.pem").display().to_string();
    for (scope, annotation) in [
        ("strict", ""),
        (
            "namespace-wide",
            "\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"",
        ),
        (
            "cluster-wide",
            "\n  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"",
        ),
    ] {
        let v = value.display().to_string();
        let args = [
            "--cert",
            &c,
            "--raw",
            "--scope",
            scope,
            "--name",
            "db",
            "-n",
            "prod",
            "--from-file",
            &v,
        ];
        let (up, me) = run_both(&sb, &args, "");
        assert_ok(&up, "upstream raw");
        assert_ok(&me, "ours raw");
        assert!(
            !stdout(&me).ends_with('\n'),
            "raw output must have no trailing newline"
        );
        for raw in [stdout(&me), stdout(&up)] {
            let ss = format!(
                "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: prod{annotation}\nspec:\n  encryptedData:\n    value: {raw}\n  template:\n    metadata:\n      name: db\n      namespace: prod\n"
            );
            let out = recover(&sb, &upstream(), &key, ss.as_bytes());
            assert_ok(&out, "upstream recovery of raw");
            assert!(
                stdout(&out).contains("\"value\": \"cmF3IHMzY3JldAp3aXRoIG5ld2xpbmUK\""),
                "{}",
                stdout(&out)
            );
            let mine = recover(&sb, &ours(), &key, ss.as_bytes());
            assert_eq!(stdout(&mine), stdout(&out));
        }
    }
}

fn merge_into_matches_upstream() {
    let sb = Sandbox::new();
    let c = cert();
    // The base carries labels: upstream panics (nil map) when merging labels into a template without
    // any; ours creates the map (see merge_into_a_template_without_labels).
    let labelled = PLAIN.replace(
        "  namespace: prod\n",
        "  namespace: prod\n  labels:\n    base: label\n",
    );
    let base = sb.run(
        &upstream(),
        &["--cert", &c, "-o", "yaml"],
        labelled.as_bytes(),
    );
    assert_ok(&base, "base seal");
    let addition = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ignored\n  namespace: prod\n  labels:\n    added: label\ndata:\n  token: dG9r\n  password: bmV3\n";
    for format in ["json", "yaml"] {
        let a = sb.write("a.yaml", &base.stdout);
        let b = sb.write("b.yaml", &base.stdout);
        let (ap, bp) = (a.display().to_string(), b.display().to_string());
        let up = sb.run(
            &upstream(),
            &["--cert", &c, "-o", format, "--merge-into", &ap],
            addition.as_bytes(),
        );
        let me = sb.run(
            &ours(),
            &["--cert", &c, "-o", format, "--merge-into", &bp],
            addition.as_bytes(),
        );
        assert_ok(&up, "upstream merge");
        assert_ok(&me, "our merge");
        assert_eq!(stdout(&me), stdout(&up), "merge prints nothing");
        let (at, bt) = (
            std::fs::read_to_string(&a).unwrap(),
            std::fs::read_to_string(&b).unwrap(),
        );
        assert_eq!(
            mask_ciphertexts(&bt),
            mask_ciphertexts(&at),
            "merged file differs ({format})"
        );
        let key = fixture("keys/key-pkcs8.pem").display().to_string();
        let rec = recover(&sb, &upstream(), &key, bt.as_bytes());
        assert_ok(&rec, "upstream recovery of our merge");
        let secret = stdout(&rec);
        assert!(
            secret.contains("\"token\": \"dG9r\"")
                && secret.contains("\"password\": \"bmV3\"")
                && secret.contains("\"user\": \"YWRtaW4=\""),
            "{secret}"
        );
    }
}

fn recovery_keys_as_secret_list_and_json() {
    let sb = Sandbox::new();
    let c = cert();
    let sealed = sb.run(&upstream(), &["--cert", &c], PLAIN.as_bytes());
    assert_ok(&sealed, "seal");
    let pem = std::fs::read(fixture("keys/key-pkcs1.pem")).unwrap();
    let crt = std::fs::read(fixture("keys/cert.pem")).unwrap();
    let b64 = b64encode;
    let item = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"sealed-secrets-keyabcde\",\"namespace\":\"kube-system\",\"labels\":{{\"sealedsecrets.bitnami.com/sealed-secrets-key\":\"active\"}}}},\"type\":\"kubernetes.io/tls\",\"data\":{{\"tls.crt\":\"{}\",\"tls.key\":\"{}\"}}}}",
        b64(&crt),
        b64(&pem)
    );
    let other = std::fs::read_to_string(fixture("keys/other-key.pem")).unwrap();
    let other_secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed-secrets-key\ntype: kubernetes.io/tls\ndata:\n  tls.key: {}\n",
        b64(other.as_bytes())
    );
    let files = [
        (
            "list.json",
            format!("{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{item}]}}"),
        ),
        (
            "nokind.json",
            format!("{{\"metadata\":{{}},\"items\":[{item}]}}"),
        ),
        ("single.json", item.clone()),
        (
            "list-then-legacy.yaml",
            format!("apiVersion: v1\nkind: List\nitems:\n- {item}\n---\n{other_secret}"),
        ),
    ];
    for (name, content) in files {
        let path = sb.write(name, content.as_bytes()).display().to_string();
        let up = recover(&sb, &upstream(), &path, &sealed.stdout);
        let me = recover(&sb, &ours(), &path, &sealed.stdout);
        assert_ok(&up, name);
        assert_ok(&me, name);
        assert_eq!(stdout(&me), stdout(&up), "{name}");
    }
    // A key list where only the second file holds the right key, given comma-separated and repeated.
    let other_path = fixture("keys/other-key.pem").display().to_string();
    let good = fixture("keys/key-pkcs8.pem").display().to_string();
    let both = format!("{other_path},{good}");
    for args in [
        vec!["--recovery-private-key", both.as_str()],
        vec![
            "--recovery-private-key",
            &other_path,
            "--recovery-private-key",
            &good,
        ],
    ] {
        let mut a = vec!["--recovery-unseal"];
        a.extend(args);
        let (up, me) = run_both(&sb, &a, &stdout(&sealed));
        assert_ok(&up, "upstream multi-key");
        assert_ok(&me, "our multi-key");
        assert_eq!(stdout(&me), stdout(&up));
    }
}

/// kubeseal's flags that upstream does not have (besides `--backup-*` and `--restore-*`).
const OUR_FLAGS: &[&str] = &[
    "completion",
    "lint",
    "list-keys",
    "retire-key",
    "force",
    "re-encrypt-path",
    "re-encrypt-dry-run",
    "cert-expiry-warning",
];

/// Both binaries fail on the same bad inputs, with the same message and exit code.
fn same_errors_as_upstream() {
    let sb = Sandbox::new();
    let c = cert();
    let expired = fixture("keys/expired-cert.pem").display().to_string();
    let ec = fixture("keys/ec-cert.pem").display().to_string();
    let other = fixture("keys/other-key.pem").display().to_string();
    // One item only: upstream lists the failing item keys in Go map order, which varies per run.
    let single = sb.run(
        &upstream(),
        &["--cert", &c],
        NO_NAMESPACE
            .replace("metadata:\n", "metadata:\n  namespace: prod\n")
            .as_bytes(),
    );
    let sealed = stdout(&single);
    let cases: Vec<(&str, Vec<&str>, String)> = vec![
        ("empty data", vec!["--cert", &c], "apiVersion: v1\nkind: Secret\nmetadata:\n  name: e\n  namespace: prod\n".into()),
        ("missing name", vec!["--cert", &c], "apiVersion: v1\nkind: Secret\nmetadata:\n  namespace: prod\ndata:\n  k: dg==\n".into()),
        ("namespace mismatch", vec!["--cert", &c, "-n", "other"], PLAIN.into()),
        ("bad scope", vec!["--cert", &c, "--scope", "galaxy-wide"], PLAIN.into()),
        ("bad base64", vec!["--cert", &c], "apiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n  namespace: prod\ndata:\n  k: not base64!\n".into()),
        ("expired certificate", vec!["--cert", &expired], PLAIN.into()),
        ("unknown output format", vec!["--cert", &c, "-o", "xml"], PLAIN.into()),
        ("empty input", vec!["--cert", &c], String::new()),
        ("only comments", vec!["--cert", &c], "# nothing\n".into()),
        ("missing cert file", vec!["--cert", "/?this/file/cannot/possibly/exist/right?"], PLAIN.into()),
        ("from-file without raw", vec!["--cert", &c, "--from-file", "x"], PLAIN.into()),
        ("raw strict without name", vec!["--cert", &c, "--raw", "-n", "prod"], "v".into()),
        ("raw two from-files", vec!["--cert", &c, "--raw", "--name", "a", "-n", "prod", "--from-file", "a", "--from-file", "b"], "v".into()),
        ("recovery with wrong key", vec!["--recovery-unseal", "--recovery-private-key", &other], sealed.clone()),
        ("recovery without key", vec!["--recovery-unseal", "--kubeconfig", "/nonexistent"], sealed.clone()),
        ("cert is not a certificate", vec!["--cert", &other], PLAIN.into()),
    ];
    for (what, args, input) in cases {
        let (up, me) = run_both(&sb, &args, &input);
        assert!(
            !up.status.success(),
            "{what}: upstream unexpectedly succeeded"
        );
        assert_eq!(
            me.status.code(),
            up.status.code(),
            "{what}: exit code; ours said {}",
            stderr(&me)
        );
        // Flag errors print the usage, naming argv[0]; the rest must match, except the lines of our
        // own extra flags (docs/compatibility.md: completion, key backup/restore, lint, key
        // inventory and retirement, re-sealing trees, the expiry warning), which are checked to be
        // exactly those.
        let flag_of = |l: &str| {
            // pflag flag lines: `  -o, --format ...` or `      --cert ...`; continuations are deeper.
            let t = l
                .strip_prefix("      --")
                .map(|t| t.to_string())
                .or_else(|| l.strip_prefix("  -").map(|t| format!("-{t}")))?;
            let t = t.as_str();
            let t = t
                .strip_prefix("-")
                .and_then(|t| t.split_once(", "))
                .map_or(t, |(_, rest)| rest);
            let t = t.strip_prefix("--").unwrap_or(t);
            Some(t.split_whitespace().next().unwrap_or("").to_string())
        };
        let upstream_flags: std::collections::BTreeSet<String> =
            format!("{}{}", stdout(&up), stderr(&up))
                .lines()
                .filter_map(flag_of)
                .collect();
        let norm = |s: String, bin: &Path| {
            let mut skipping = false;
            let mut out = String::new();
            for l in s.replace(&bin.display().to_string(), "kubeseal").lines() {
                match flag_of(l) {
                    Some(f) => {
                        skipping = !upstream_flags.contains(&f);
                        assert!(
                            !skipping
                                || OUR_FLAGS.contains(&f.as_str())
                                || ["backup", "restore"].iter().any(|p| f.starts_with(p)),
                            "{what}: undocumented extra flag --{f}"
                        );
                    }
                    // A wrapped description line belongs to the flag above it.
                    None if skipping && l.starts_with("      ") => {}
                    None => skipping = false,
                }
                if !skipping {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            out
        };
        assert_eq!(
            norm(stderr(&me), &ours()),
            norm(stderr(&up), &upstream()),
            "{what}: message"
        );
        assert_eq!(
            norm(stdout(&me), &ours()),
            norm(stdout(&up), &upstream()),
            "{what}: stdout"
        );
    }
    // Non-RSA certificate: upstream prints a Go struct dump after the fixed prefix; compare the prefix.
    let (up, me) = run_both(&sb, &["--cert", &ec], PLAIN);
    assert_eq!(me.status.code(), up.status.code());
    let prefix = "error: expected RSA public key but found ";
    assert!(
        stderr(&up).starts_with(prefix) && stderr(&me).starts_with(prefix),
        "{} / {}",
        stderr(&up),
        stderr(&me)
    );
}

/// Upstream `SealMergingInto` panics here (`assignment to entry in nil map`); ours adds the
/// labels.
fn merge_into_a_template_without_labels() {
    let sb = Sandbox::new();
    let c = cert();
    let base = sb.run(&upstream(), &["--cert", &c, "-o", "yaml"], PLAIN.as_bytes());
    assert_ok(&base, "base seal");
    let target = sb.write("t.yaml", &base.stdout).display().to_string();
    let addition = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n  labels:\n    added: label\ndata:\n  token: dG9r\n";
    let me = sb.run(
        &ours(),
        &["--cert", &c, "-o", "yaml", "--merge-into", &target],
        addition.as_bytes(),
    );
    assert_ok(&me, "our merge");
    let merged = std::fs::read_to_string(&target).unwrap();
    assert!(
        merged.contains("labels:\n        added: label\n"),
        "{merged}"
    );
    let key = fixture("keys/key-pkcs8.pem").display().to_string();
    let rec = recover(&sb, &upstream(), &key, merged.as_bytes());
    assert_ok(&rec, "upstream recovery");
    assert!(stdout(&rec).contains("\"token\": \"dG9r\""));
}

//! The kubeseal half of the bad-input catalogue (docs/reliability.md): inputs, certificates,
//! private keys, ciphertexts and kubeconfigs that are malformed, truncated, bit-flipped, huge or
//! hostile. Every row must end in upstream's one-line `error: ...` (exit 1, nothing on stdout,
//! the `-w` file left as it was), or in a sealed result, within a time bound, never a panic.
//! Rows are named; a failure names its row.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{fixture, ks};
use go_semantics::base64;

/// How a row must end.
enum Want {
    /// `error: <this>` (whole line), exit 1.
    Error(&'static str),
    /// `error: <this>...` (the start of the line), exit 1.
    ErrorStarting(&'static str),
    /// Exit 0 and a SealedSecret (or the unsealed Secret) written.
    Done,
}

struct Row {
    name: &'static str,
    args: Vec<String>,
    stdin: Vec<u8>,
    env: Vec<(&'static str, String)>,
    want: Want,
}

fn row(name: &'static str, args: &[&str], stdin: &[u8], want: Want) -> Row {
    Row {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: stdin.to_vec(),
        env: Vec::new(),
        want,
    }
}

/// The bound for one row in a debug build on a loaded CI machine.
const BOUND: Duration = Duration::from_secs(30);

/// Runs every row with `-w <file>` holding `previous`; returns (name, seconds) of each.
fn run_rows(rows: Vec<Row>) -> Vec<(&'static str, f64)> {
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for r in rows {
        let dir = tempfile::tempdir().unwrap();
        let out_file = dir.path().join("out.json");
        std::fs::write(&out_file, "previous\n").unwrap();
        let mut cmd = ks();
        cmd.args(&r.args)
            .arg("-w")
            .arg(&out_file)
            .current_dir(dir.path())
            .write_stdin(r.stdin.clone())
            .timeout(BOUND);
        for (k, v) in &r.env {
            cmd.env(k, v);
        }
        let t0 = Instant::now();
        let out = cmd.output().unwrap();
        let took = t0.elapsed();
        times.push((r.name, took.as_secs_f64()));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let file = std::fs::read(&out_file).unwrap_or_default();
        let problem = if took >= BOUND {
            Some(format!("no end within {BOUND:?}"))
        } else if stderr.contains("panicked") {
            Some(format!("panicked: {stderr}"))
        } else {
            match r.want {
                Want::Done => (!out.status.success() || file == b"previous\n")
                    .then(|| format!("exit {:?}, {stderr}", out.status.code())),
                Want::Error(_) | Want::ErrorStarting(_) if out.status.code() != Some(1) => {
                    Some(format!("exit {:?}: {stderr}", out.status.code()))
                }
                Want::Error(_) | Want::ErrorStarting(_) if file != b"previous\n" => {
                    Some("the -w file changed".into())
                }
                Want::Error(_) | Want::ErrorStarting(_) if !out.stdout.is_empty() => {
                    Some("output on stdout".into())
                }
                Want::Error(e) => (stderr != format!("error: {e}\n")).then(|| stderr.clone()),
                Want::ErrorStarting(e) => (!stderr.starts_with(&format!("error: {e}"))
                    || stderr.trim_end().lines().count() != 1)
                    .then(|| stderr.clone()),
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", r.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (name, secs) in &times {
        println!("bad input {name}: {secs:.2}s");
    }
    times
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

/// `depth` YAML anchors, each a list of ten aliases of the previous one: 10^depth nodes if expanded.
fn alias_bomb(depth: u8, rest: &str) -> String {
    let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..depth {
        let (prev, cur) = ((b'a' + i) as char, (b'b' + i) as char);
        let list = vec![format!("*{prev}"); 10].join(", ");
        s.push_str(&format!("{cur}: &{cur} [{list}]\n"));
    }
    s + rest
}

const NO_SECRETS: &str = "no secrets found. Ensure the input is valid and UTF-8 encoded";
const SECRET: &str = "kind: Secret\nmetadata: {name: x}\nstringData: {a: b}\n";

#[test]
fn hostile_secret_inputs() {
    let cert = fixture("cert.pem").to_str().unwrap().to_string();
    let seal = |name, stdin: &[u8], want| row(name, &["--cert", &cert, "-n", "ns"], stdin, want);
    // what upstream's kubeseal says of input that holds no Secret it can read
    let no_secret = |name, stdin: &[u8]| seal(name, stdin, Want::Error(NO_SECRETS));
    let deep_yaml = format!(
        "{SECRET}extra: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_json = format!(
        "{{\"kind\":\"Secret\",\"metadata\":{{\"name\":\"x\"}},\"stringData\":{{\"a\":\"b\"}},\"extra\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mebibyte = format!(
        "kind: Secret\nmetadata: {{name: x}}\nstringData:\n  a: \"{}\"\n",
        "x".repeat(1 << 20)
    );
    let items: String = (0..10_000).map(|i| format!("  k{i}: v{i}\n")).collect();
    let many = format!("kind: Secret\nmetadata: {{name: x}}\nstringData:\n{items}");
    let garbage: Vec<u8> = (0..10 << 20)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let rows = vec![
        no_secret("alias-bomb-10^10", alias_bomb(9, SECRET).as_bytes()),
        no_secret("yaml-nested-100000", deep_yaml.as_bytes()),
        no_secret("json-nested-100000", deep_json.as_bytes()),
        no_secret(
            "invalid-utf8",
            b"kind: Secret\nmetadata: {name: x}\nstringData: {a: \"\xff\xfe\"}\n",
        ),
        no_secret(
            "nul-byte",
            b"kind: Secret\nmetadata: {name: x}\x00\nstringData: {a: b}\n",
        ),
        no_secret(
            "truncated-json",
            br#"{"kind":"Secret","metadata":{"name":"x"},"stringData":{"a":"#,
        ),
        no_secret("tab-indentation", b"kind: Secret\nmetadata:\n\tname: x\n"),
        no_secret("10-MiB-of-binary-garbage", &garbage),
        seal(
            "a-configmap",
            b"kind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n",
            Want::Error(
                "error unmarshaling JSON: while decoding JSON: illegal base64 data at input byte 0",
            ),
        ),
        seal("a-1-MiB-value", mebibyte.as_bytes(), Want::Done),
        seal("10000-items", many.as_bytes(), Want::Done),
        seal(
            "duplicate-keys",
            b"kind: Secret\nmetadata: {name: x}\nstringData: {a: b, a: c}\n",
            Want::Done,
        ),
        row(
            "input-file-missing",
            &[
                "--cert",
                &cert,
                "-n",
                "ns",
                "-f",
                "/nonexistent/secret.yaml",
            ],
            b"",
            Want::Error("Could not read file specified with --secret-file"),
        ),
        row(
            "input-file-is-a-directory",
            &["--cert", &cert, "-n", "ns", "-f", "/"],
            b"",
            Want::Error("read /: is a directory"),
        ),
    ];
    let times = run_rows(rows);
    assert!(times.iter().all(|(_, s)| *s < BOUND.as_secs_f64()));
}

#[test]
fn hostile_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read_to_string(fixture("cert.pem")).unwrap();
    let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::decode(der_b64.as_bytes()).unwrap();
    let mut flipped = der.clone();
    // inside the RSA modulus: a certificate for another (useless) key, still well-formed
    let at = der.len() / 2;
    flipped[at] ^= 0x40;
    let reencoded = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::encode(&flipped)
    );
    let noise: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 7) as u8)
        .collect();
    let no_cert = "data does not contain any valid RSA or ECDSA certificates";
    let cases: Vec<(&'static str, String, Want)> = vec![
        (
            "cert-empty-file",
            write(dir.path(), "empty.pem", b""),
            Want::Error(no_cert),
        ),
        (
            "cert-truncated-pem",
            write(dir.path(), "trunc.pem", &pem.as_bytes()[..300]),
            Want::Error(no_cert),
        ),
        (
            "cert-der-without-pem-armour",
            write(dir.path(), "cert.der", &der),
            Want::Error(no_cert),
        ),
        (
            "cert-1-MiB-of-noise",
            write(dir.path(), "noise.pem", &noise),
            Want::Error(no_cert),
        ),
        (
            "cert-bit-flipped-in-the-modulus",
            write(dir.path(), "flip.pem", reencoded.as_bytes()),
            // upstream checks no signature either: it seals, to a key nobody has
            Want::Done,
        ),
        (
            "cert-missing-file",
            "/nonexistent/cert.pem".to_string(),
            Want::Error("open /nonexistent/cert.pem: no such file or directory"),
        ),
        (
            "cert-a-directory",
            "/".to_string(),
            Want::Error("open /: is a directory"),
        ),
    ];
    let secret = std::fs::read(fixture("secret.yaml")).unwrap();
    run_rows(
        cases
            .into_iter()
            .map(|(name, cert, want)| row(name, &["--cert", &cert, "-n", "ns"], &secret, want))
            .collect(),
    );
}

/// A SealedSecret from the fixtures' secret.yaml and cert.pem, as JSON, and its first item's name.
fn sealed() -> (serde_json::Value, String) {
    let out = ks()
        .args(["--cert", fixture("cert.pem").to_str().unwrap(), "-n", "ns"])
        .write_stdin(std::fs::read(fixture("secret.yaml")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = v["spec"]["encryptedData"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    (v, item)
}

#[test]
fn hostile_ciphertexts_and_private_keys() {
    let (ss, item) = sealed();
    let ct = base64::decode(
        ss["spec"]["encryptedData"][&item]
            .as_str()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let with = |value: String| {
        let mut s = ss.clone();
        s["spec"]["encryptedData"][&item] = value.into();
        s.to_string().into_bytes()
    };
    let b64 = |b: &[u8]| base64::encode(b);
    let flip = |at: usize| {
        let mut c = ct.clone();
        c[at] ^= 1;
        b64(&c)
    };
    let mut huge_len = ct.clone();
    huge_len[0] = 0xff;
    huge_len[1] = 0xff;
    let key = fixture("key.pem").to_str().unwrap().to_string();
    let unseal = ["--recovery-unseal", "--recovery-private-key", key.as_str()];
    let no_key = format!("no key could decrypt secret ({item})");
    let no_key: &'static str = Box::leak(no_key.into_boxed_str());
    let mut rows = vec![
        row(
            "ciphertext-truncated",
            &unseal,
            &with(b64(&ct[..ct.len() / 2])),
            Want::Error(no_key),
        ),
        row(
            "ciphertext-bit-flipped-in-the-session-key",
            &unseal,
            &with(flip(10)),
            Want::Error(no_key),
        ),
        row(
            "ciphertext-bit-flipped-in-the-aes-gcm-part",
            &unseal,
            &with(flip(ct.len() - 5)),
            Want::Error(no_key),
        ),
        row(
            "ciphertext-length-prefix-65535",
            &unseal,
            &with(b64(&huge_len)),
            Want::Error(no_key),
        ),
        row(
            "ciphertext-one-byte",
            &unseal,
            &with(b64(&[2])),
            Want::Error(no_key),
        ),
        row(
            "ciphertext-empty",
            &unseal,
            &with(String::new()),
            Want::Error(no_key),
        ),
        row(
            "ciphertext-invalid-base64",
            &unseal,
            &with("!!!notbase64".into()),
            Want::ErrorStarting("illegal base64 data at input byte 0"),
        ),
    ];
    // private keys: none of these is a key; each says so before anything is decrypted
    let dir = tempfile::tempdir().unwrap();
    let key_pem = std::fs::read(fixture("key.pem")).unwrap();
    let noise: Vec<u8> = (0..1 << 16)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 9) as u8)
        .collect();
    let not_a_key = "data does not contain a valid RSA or ECDSA private key";
    for (name, file, want) in [
        (
            "key-empty-file",
            write(dir.path(), "empty.pem", b""),
            Want::Error(not_a_key),
        ),
        (
            "key-truncated-pem",
            write(dir.path(), "trunc.pem", &key_pem[..200]),
            Want::Error(not_a_key),
        ),
        (
            "key-a-certificate",
            fixture("cert.pem").to_str().unwrap().to_string(),
            Want::Error(not_a_key),
        ),
        (
            "key-binary-noise",
            write(dir.path(), "noise.pem", &noise),
            Want::ErrorStarting("error converting YAML to JSON: "),
        ),
        (
            "key-text-that-is-no-secret",
            write(dir.path(), "hello.pem", b"hello\n"),
            Want::Error("private key file holds a document that is not a valid Secret"),
        ),
        (
            "key-secret-without-tls-key",
            fixture("no-tls-key.yaml").to_str().unwrap().to_string(),
            Want::ErrorStarting(""),
        ),
    ] {
        rows.push(row(
            name,
            &["--recovery-unseal", "--recovery-private-key", &file],
            ss.to_string().as_bytes(),
            want,
        ));
    }
    run_rows(rows);
}

#[test]
fn hostile_kubeconfigs_and_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let secret = std::fs::read(fixture("secret.yaml")).unwrap();
    let noise: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    let mut rows = Vec::new();
    for (name, content, want) in [
        (
            "kubeconfig-truncated",
            &b"apiVersion: v1\nkind: Config\nclusters: [\n"[..],
            Want::ErrorStarting("error loading config file \""),
        ),
        (
            "kubeconfig-binary-noise",
            &noise[..],
            Want::ErrorStarting("error loading config file \""),
        ),
        (
            "kubeconfig-alias-bomb",
            alias_bomb(9, "apiVersion: v1\nkind: Config\n")
                .leak()
                .as_bytes(),
            Want::ErrorStarting("error loading config file \""),
        ),
        (
            // kube-client 5.0.0 `read_path` panicked on it (fuzz target `kubeconfig`)
            "kubeconfig-utf16-of-odd-length",
            &b"\xfe\xff\xff"[..],
            Want::ErrorStarting("error loading config file \""),
        ),
        (
            "kubeconfig-unknown-current-context",
            &b"apiVersion: v1\nkind: Config\ncurrent-context: nope\n"[..],
            Want::Error(
                "invalid configuration: [context was not found for specified context: nope, cluster has no server defined]",
            ),
        ),
    ] {
        let path = write(dir.path(), name, content);
        let mut r = row(name, &["-n", "ns"], &secret, want);
        r.env.push(("KUBECONFIG", path));
        rows.push(r);
    }
    // (malformed flags exit 2 with the usage: cli.rs flag_errors_exit_2_with_usage_on_stdout)
    let mut r = row(
        "flag-request-timeout-not-a-duration",
        &["--request-timeout", "soon"],
        &secret,
        Want::ErrorStarting("invalid timeout value"),
    );
    r.env.push((
        "KUBECONFIG",
        fixture("kubeconfig.yaml").to_str().unwrap().to_string(),
    ));
    rows.push(r);
    run_rows(rows);
}

//! What the fuzz targets share: the checked-in test keys, kubeseal's own input decoding and
//! kubeconfig handling (compiled from `cli/src/documents.rs` and `cli/src/kubeconfig.rs`
//! themselves, so the targets run exactly the code kubeseal runs), value
//! comparison for round trips, and the Go reference programs run as long-lived subprocesses for the
//! differential targets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use serde_json::Value;

use sealed_secrets::keys::{Certificate, KeyRing, PrivateKey, SealingKeyPair};

// kubeseal is a binary crate: its input decoding and its kubeconfig handling are compiled here
// from the same source files (the kubeconfig code names the command line's `KubeFlags`, so the
// flags module comes too).
#[path = "../../cli/src/documents.rs"]
pub mod documents;
#[path = "../../cli/src/flags.rs"]
#[allow(dead_code)]
pub mod flags;
#[path = "../../cli/src/goerr.rs"]
#[allow(dead_code)]
mod goerr;
#[path = "../../cli/src/kubeconfig.rs"]
pub mod kubeconfig;

/// The main test key (RSA-4096) and its certificate (`tests/fixtures/keys`), which sealed the
/// vectors of `tests/fixtures/vectors`.
pub const KEY_PEM: &[u8] = include_bytes!("../../tests/fixtures/keys/key-pkcs1.pem");
pub const CERT_PEM: &[u8] = include_bytes!("../../tests/fixtures/keys/cert.pem");

pub fn private_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::from_pem(KEY_PEM).expect("test key"))
}

/// A key ring holding only the main test key, as the controller would after loading it.
pub fn key_ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| {
        let mut ring = KeyRing::new();
        ring.add(SealingKeyPair {
            private_key: PrivateKey::from_pem(KEY_PEM).expect("test key"),
            certificate: Certificate::from_pem(CERT_PEM).expect("test certificate"),
            order_time: SystemTime::UNIX_EPOCH,
        });
        ring
    })
}

/// Equality of decoded documents, where a number equals another of the same value whatever its
/// representation (`1.0` as a float prints as `1`, which reads back as an integer, as in Go).
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// One of the Go reference programs (`crates/gotemplate/reference`, `crates/goyaml/reference`) in
/// its `serve` mode: one JSON request per line on stdin, one JSON answer per line on stdout. The
/// binary is named by an environment variable (scripts/fuzz.sh builds it with scripts/tools.sh).
/// When the reference gives up on a request (its own time limit), it answers and exits; the next
/// request starts a new process.
pub struct GoReference {
    env: &'static str,
    process: Mutex<Option<Running>>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl GoReference {
    pub const fn new(env: &'static str) -> Self {
        GoReference {
            env,
            process: Mutex::new(None),
        }
    }

    fn start(&self) -> Running {
        let path = std::env::var(self.env).unwrap_or_else(|_| {
            panic!(
                "{} must name the Go reference binary (scripts/fuzz.sh sets it)",
                self.env
            )
        });
        let mut child = Command::new(&path)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {path}: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Running {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends one request and returns the answer.
    pub fn ask(&self, request: &Value) -> Value {
        let mut guard = self.process.lock().unwrap_or_else(|p| p.into_inner());
        let running = guard.get_or_insert_with(|| self.start());
        let mut line = serde_json::to_string(request).expect("request");
        line.push('\n');
        running
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| running.stdin.flush())
            .expect("writing to the Go reference");
        let mut answer = String::new();
        let n = running
            .stdout
            .read_line(&mut answer)
            .expect("reading from the Go reference");
        assert!(n > 0, "the Go reference exited without answering");
        let answer: Value = serde_json::from_str(&answer).expect("the Go reference's answer");
        if answer.get("restart").and_then(Value::as_bool) == Some(true)
            && let Some(mut old) = guard.take()
        {
            let _ = old.child.wait();
        }
        answer
    }
}

/// Standard base64, for binary payloads in the line protocol.
pub fn b64(bytes: &[u8]) -> String {
    go_semantics::base64::encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    go_semantics::base64::decode(text.as_bytes()).expect("base64 from the Go reference")
}

/// Keys sorted by bytes at every level, as Go's `json.Marshal` of a `map[string]any` has them.
pub fn sorted_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

/// The decrypted items a fuzzed template renders with: fixed values of every shape the Sprig
/// functions care about, and `in`, the bytes after the template's first NUL.
pub fn template_data(extra: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let fixed: [(&str, &[u8]); 10] = [
        ("foo", b"bar"),
        ("num", b"42"),
        ("empty", b""),
        ("multi", b"a\nb\n"),
        ("json", br#"{"a":[1,2.5,"s"],"b":{"c":null}}"#),
        ("neg", b"-3"),
        ("f", b"1.5"),
        ("u", "h\u{e9}llo".as_bytes()),
        ("b64", b"aGVsbG8="),
        ("bin", b"\xff\x00x"),
    ];
    let mut data: std::collections::BTreeMap<String, Vec<u8>> = fixed
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect();
    data.insert("in".into(), extra.to_vec());
    data
}

/// Splits a fuzz input into a template (up to the first NUL, UTF-8) and the `in` item.
pub fn template_input(data: &[u8]) -> Option<(&str, &[u8])> {
    let (source, extra) = match data.iter().position(|&b| b == 0) {
        Some(i) => (data.get(..i)?, data.get(i + 1..)?),
        None => (data, &[][..]),
    };
    Some((std::str::from_utf8(source).ok()?, extra))
}

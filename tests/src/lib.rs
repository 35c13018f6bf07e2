//! Helpers shared by the end-to-end suites. Every binary path comes from the environment the
//! Makefile sets (falling back to the default build and cache locations), so a missing binary fails
//! the test loudly instead of skipping it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn existing(var: &str, default: PathBuf) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or(default);
    assert!(
        path.exists(),
        "{} not found (set {var}; `make test` builds it)",
        path.display()
    );
    path
}

fn cache_dir() -> PathBuf {
    std::env::var_os("SSRS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/sealed-secrets-rs")
        })
}

/// Our kubeseal.
pub fn ours() -> PathBuf {
    existing(
        "KUBESEAL_BIN",
        workspace_root().join("target/debug/kubeseal"),
    )
}

/// The real upstream kubeseal (scripts/tools.sh upstream).
pub fn upstream() -> PathBuf {
    existing(
        "UPSTREAM_KUBESEAL",
        cache_dir().join("upstream-v0.36.6/bin/kubeseal"),
    )
}

pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures").join(name)
}

/// A scratch directory with an offline kubeconfig (context namespace `ctxns`, unreachable server).
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kubeconfig"),
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\n\
             contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n    namespace: ctxns\n\
             current-context: ctx\nusers:\n- name: u\n  user:\n    token: x\n",
        )
        .unwrap();
        Sandbox { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Runs `bin` with `args` and `stdin`, in this sandbox's directory, with a clean environment
    /// (no SEALED_SECRETS_* from the caller) and KUBECONFIG pointing at the offline kubeconfig.
    pub fn run(&self, bin: &Path, args: &[&str], stdin: &[u8]) -> Output {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("KUBECONFIG", self.path("kubeconfig"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Replaces every hybrid ciphertext (base64 starting `Ag`/`AQ`: the u16 length prefix; hundreds of chars) by `<ct>`, so
/// that two seals of the same input compare equal.
pub fn mask_ciphertexts(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=';
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 300 && (run.starts_with("Ag") || run.starts_with("AQ")) {
            out.push_str("<ct>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_b64(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The control plane started by `scripts/cluster.sh up`, described by the variables of its `env`
/// file (the Makefile sources it before running the cluster suites).
pub struct Cluster {
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
    pub upstream_kubeseal: PathBuf,
    pub controller_namespace: String,
    pub controller_name: String,
}

fn env_path(var: &str) -> PathBuf {
    let v = std::env::var_os(var)
        .unwrap_or_else(|| panic!("{var} is not set: run the cluster suites through `make test` (it starts the control plane)"));
    PathBuf::from(v)
}

impl Cluster {
    pub fn from_env() -> Cluster {
        Cluster {
            kubeconfig: env_path("KUBECONFIG"),
            kubectl: env_path("KUBECTL"),
            upstream_kubeseal: env_path("KUBESEAL_UPSTREAM"),
            controller_namespace: std::env::var("SSRS_CONTROLLER_NAMESPACE")
                .unwrap_or_else(|_| "kube-system".into()),
            controller_name: std::env::var("SSRS_CONTROLLER_NAME")
                .unwrap_or_else(|_| "sealed-secrets-controller".into()),
        }
    }

    /// Runs a command with this cluster's kubeconfig (and `extra_env`), feeding `stdin`.
    pub fn run(
        &self,
        bin: &Path,
        args: &[&str],
        stdin: &[u8],
        extra_env: &[(&str, &Path)],
    ) -> Output {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SEALED_SECRETS_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }

    pub fn kubectl(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.run(&self.kubectl, args, stdin, &[])
    }

    /// kubectl that must succeed; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str], stdin: &[u8]) -> String {
        let out = self.kubectl(args, stdin);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            stderr(&out)
        );
        stdout(&out)
    }

    /// A fresh namespace for one test case, so cases run in parallel.
    pub fn namespace(&self, prefix: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("{prefix}-{:x}{:x}", std::process::id() & 0xfff, nanos);
        self.kubectl_ok(&["create", "namespace", &name], b"");
        name
    }

    /// Polls `f` every 100 ms for up to `secs` seconds.
    pub fn wait_for<T>(&self, secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out after {secs}s waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// The Secret as JSON, if it exists.
    pub fn get_json(&self, kind: &str, ns: &str, name: &str) -> Option<serde_json::Value> {
        let out = self.kubectl(&["get", kind, "-n", ns, name, "-o", "json"], b"");
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    /// The key Secrets in the controller namespace matching `selector` (e.g. the key label, or
    /// `label=active`), oldest first.
    pub fn key_secrets(&self, selector: &str) -> Vec<serde_json::Value> {
        let list: serde_json::Value = serde_json::from_str(&self.kubectl_ok(
            &[
                "get",
                "secret",
                "-n",
                &self.controller_namespace,
                "-l",
                selector,
                "--sort-by=.metadata.creationTimestamp",
                "-o",
                "json",
            ],
            b"",
        ))
        .unwrap();
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// A copy of the kubeconfig whose current context has namespace `ns`.
    pub fn kubeconfig_with_namespace(&self, dir: &Path, ns: &str) -> PathBuf {
        let path = dir.join(format!("kubeconfig-{ns}"));
        std::fs::copy(&self.kubeconfig, &path).unwrap();
        let out = Command::new(&self.kubectl)
            .args([
                "config",
                "set-context",
                "--current",
                "--namespace",
                ns,
                "--kubeconfig",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        path
    }
}

/// Decodes standard base64 (test helper; values here are test data, not secrets).
pub fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64"),
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| {
            acc | (u32::from(val(c)) << (18 - 6 * i))
        });
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Helpers of the controller and takeover suites (tests/tests/controller.rs, takeover.rs).

/// A variable of the control plane's env file (`scripts/cluster.sh`), which the suites run under.
pub fn cluster_env(var: &str) -> String {
    std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} is not set: run the cluster suites through scripts/e2e.sh (it starts the control plane)"))
}

/// Standard base64 with padding (test helper; the counterpart of [`b64decode`]).
pub fn b64encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `n` random lowercase hex digits (from the std hasher's random keys; no rand crate needed).
pub fn random_hex(n: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    while out.len() < n {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(n);
    out
}

/// An HTTP/1.1 reply, as read by [`http_request`].
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A plain-HTTP request to `base` (`http://host:port`, e.g. `$SSRS_CONTROLLER_URL`), one connection
/// per request. Enough HTTP for the controller's endpoints: Content-Length or chunked replies.
pub fn http_request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpReply> {
    use std::io::Read;
    use std::net::ToSocketAddrs;
    let authority = base
        .strip_prefix("http://")
        .unwrap_or(base)
        .trim_end_matches('/');
    let addr = authority.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("no address for {authority}"),
        )
    })?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(10))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut body = Vec::new();
        loop {
            let eol = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| bad("bad chunk"))?;
            let size_text = String::from_utf8_lossy(&rest[..eol]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                break;
            }
            let start = eol + 2;
            let chunk = rest
                .get(start..start + size)
                .ok_or_else(|| bad("short chunk"))?;
            body.extend_from_slice(chunk);
            rest = rest.get(start + size + 2..).unwrap_or_default().to_vec();
        }
        rest = body;
    }
    Ok(HttpReply {
        status,
        headers,
        body: rest,
    })
}

/// The value of the Prometheus series `name` whose labels include every `labels` pair (in any
/// order); `None` when no such series is exposed.
pub fn metric_value(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let label_text = match rest {
                "" => "",
                r if r.starts_with('{') && r.ends_with('}') => &r[1..r.len() - 1],
                _ => return None,
            };
            let all = labels.iter().all(|(k, v)| {
                let want = format!("{k}=\"{v}\"");
                label_text.split(',').any(|pair| pair == want)
            });
            if all { value.parse().ok() } else { None }
        })
}

/// Strings that must never appear in a controller log: every PEM line and the Secret's base64 of
/// each key Secret's private key (label `...sealed-secrets-key`, plus the legacy unlabelled one).
pub fn private_key_material(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    for item in c.key_secrets("sealedsecrets.bitnami.com/sealed-secrets-key") {
        let Some(b64) = item["data"]["tls.key"].as_str() else {
            continue;
        };
        out.push(b64.chars().take(64).collect());
        let pem = String::from_utf8(b64decode(b64)).unwrap();
        out.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 32)
                .map(str::to_string),
        );
    }
    assert!(
        !out.is_empty(),
        "no key Secret found in {}",
        c.controller_namespace
    );
    out
}

/// Panics when the controller log, from byte `from` on, contains `PRIVATE KEY`, any of `secrets`
/// (plaintexts, as such and in base64) or any of `key_material`. The message never quotes the line.
pub fn assert_log_clean(log: &Path, from: u64, secrets: &[String], key_material: &[String]) {
    let text = std::fs::read(log).unwrap_or_else(|e| panic!("read {}: {e}", log.display()));
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default()).into_owned();
    assert!(
        !text.contains("PRIVATE KEY"),
        "the controller log contains `PRIVATE KEY`"
    );
    for (i, k) in key_material.iter().enumerate() {
        assert!(
            !text.contains(k.as_str()),
            "the controller log contains private key material (item {i})"
        );
    }
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "the controller log contains the plaintext {s:?}"
        );
        let b64 = b64encode(s.as_bytes());
        assert!(
            !text.contains(b64.trim_end_matches('=')),
            "the controller log contains the plaintext {s:?} in base64"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers of the disaster-recovery drill (tests/tests/drill.rs), which runs its own clusters.

/// A control plane of its own (`scripts/cluster.sh up` with a private `SSRS_CLUSTER_DIR`), torn
/// down (`scripts/cluster.sh down`, etcd data included) when dropped, whatever happened.
pub struct OwnCluster {
    pub dir: PathBuf,
    /// The variables of `$SSRS_CLUSTER_DIR/env` as of the last (re)start.
    pub env: std::collections::BTreeMap<String, String>,
    down: bool,
}

impl OwnCluster {
    /// `scripts/cluster.sh up --controller <kind> [-- flags]` in a fresh state dir named after `tag`.
    pub fn up(tag: &str, controller: &str, flags: &[&str]) -> OwnCluster {
        let dir = std::env::temp_dir().join(format!(
            "ssrs-{tag}-{}-{}",
            std::process::id(),
            random_hex(6)
        ));
        let mut cluster = OwnCluster {
            dir,
            env: Default::default(),
            down: false,
        };
        let mut args = vec!["up", "--controller", controller];
        if !flags.is_empty() {
            args.push("--");
            args.extend_from_slice(flags);
        }
        cluster.script(&args);
        cluster.reload_env();
        cluster
    }

    /// Runs `scripts/cluster.sh ARGS` for this cluster; panics with its output on failure.
    pub fn script(&self, args: &[&str]) {
        let mut cmd = Command::new(workspace_root().join("scripts/cluster.sh"));
        cmd.args(args)
            .env("SSRS_CLUSTER_DIR", &self.dir)
            .current_dir(workspace_root());
        // The suites test the debug build just made (cluster.sh would otherwise prefer a release build).
        if std::env::var_os("CONTROLLER_BIN").is_none() {
            cmd.env(
                "CONTROLLER_BIN",
                workspace_root().join("target/debug/sealed-secrets-controller"),
            );
        }
        for var in ["CONTROLLER", "CONTROLLER_ARGS", "KUBECONFIG"] {
            cmd.env_remove(var);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "scripts/cluster.sh {args:?} failed:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
    }

    /// Re-reads `$DIR/env` (rewritten on every controller start).
    pub fn reload_env(&mut self) {
        let out = Command::new("bash")
            .args(["-c", "set -a; source \"$1\"; env -0", "drill"])
            .arg(self.dir.join("env"))
            .env_clear()
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        self.env = out
            .stdout
            .split(|b| *b == 0)
            .filter_map(|kv| {
                std::str::from_utf8(kv)
                    .ok()?
                    .split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
    }

    pub fn var(&self, name: &str) -> &str {
        self.env
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{name} not in {}/env", self.dir.display()))
    }

    /// A [`Cluster`] for the helpers (admin kubeconfig).
    pub fn cluster(&self) -> Cluster {
        Cluster {
            kubeconfig: PathBuf::from(self.var("KUBECONFIG")),
            kubectl: PathBuf::from(self.var("KUBECTL")),
            upstream_kubeseal: PathBuf::from(self.var("KUBESEAL_UPSTREAM")),
            controller_namespace: self.var("SSRS_CONTROLLER_NAMESPACE").to_string(),
            controller_name: self.var("SSRS_CONTROLLER_NAME").to_string(),
        }
    }

    /// Tears the cluster down now (also done on drop).
    pub fn down(&mut self) {
        if !self.down {
            self.down = true;
            self.script(&["down"]);
        }
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if !self.down {
            self.down = true;
            if std::thread::panicking() {
                let log = self.dir.join("controller.log");
                if let Ok(text) = std::fs::read_to_string(&log) {
                    let tail: Vec<&str> = text.lines().rev().take(30).collect();
                    eprintln!("--- last lines of {}:", log.display());
                    for l in tail.iter().rev() {
                        eprintln!("{l}");
                    }
                }
            }
            let _ = Command::new(workspace_root().join("scripts/cluster.sh"))
                .arg("down")
                .env("SSRS_CLUSTER_DIR", &self.dir)
                .current_dir(workspace_root())
                .stdout(Stdio::null())
                .status();
        }
    }
}

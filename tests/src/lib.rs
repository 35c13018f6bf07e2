//! Helpers shared by the end-to-end suites. Every binary path comes from the environment the
//! Makefile sets (falling back to the default build and cache locations), so a missing binary fails
//! the test loudly instead of skipping it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn existing(var: &str, default: PathBuf) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or(default);
    assert!(path.exists(), "{} not found (set {var}; `make test` builds it)", path.display());
    path
}

fn cache_dir() -> PathBuf {
    std::env::var_os("SSRS_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/sealed-secrets-rs")
    })
}

/// Our kubeseal.
pub fn ours() -> PathBuf {
    existing("KUBESEAL_BIN", workspace_root().join("target/debug/kubeseal"))
}

/// The real upstream kubeseal (scripts/tools.sh upstream).
pub fn upstream() -> PathBuf {
    existing("UPSTREAM_KUBESEAL", cache_dir().join("upstream-v0.36.6/bin/kubeseal"))
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
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
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
            controller_namespace: std::env::var("SSRS_CONTROLLER_NAMESPACE").unwrap_or_else(|_| "kube-system".into()),
            controller_name: std::env::var("SSRS_CONTROLLER_NAME").unwrap_or_else(|_| "sealed-secrets-controller".into()),
        }
    }

    /// Runs a command with this cluster's kubeconfig (and `extra_env`), feeding `stdin`.
    pub fn run(&self, bin: &Path, args: &[&str], stdin: &[u8], extra_env: &[(&str, &Path)]) -> Output {
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
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
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
        assert!(out.status.success(), "kubectl {args:?} failed: {}", stderr(&out));
        stdout(&out)
    }

    /// A fresh namespace for one test case, so cases run in parallel.
    pub fn namespace(&self, prefix: &str) -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
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
            assert!(std::time::Instant::now() < deadline, "timed out after {secs}s waiting for {what}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// The Secret as JSON, if it exists.
    pub fn get_json(&self, kind: &str, ns: &str, name: &str) -> Option<serde_json::Value> {
        let out = self.kubectl(&["get", kind, "-n", ns, name, "-o", "json"], b"");
        out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    /// A copy of the kubeconfig whose current context has namespace `ns`.
    pub fn kubeconfig_with_namespace(&self, dir: &Path, ns: &str) -> PathBuf {
        let path = dir.join(format!("kubeconfig-{ns}"));
        std::fs::copy(&self.kubeconfig, &path).unwrap();
        let out = Command::new(&self.kubectl)
            .args(["config", "set-context", "--current", "--namespace", ns, "--kubeconfig"])
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
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| acc | (u32::from(val(c)) << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

//! Helpers shared by the end-to-end suites. Every binary path comes from the environment the
//! Makefile sets (falling back to the default build and cache locations), so a missing binary fails
//! the test loudly instead of skipping it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};

pub mod fault_proxy;

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

/// Where scripts/tools.sh caches the tools it builds (`SSRS_CACHE`, else ~/.cache/sealed-secrets-rs).
pub fn cache_dir() -> PathBuf {
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

/// Our controller binary: `CONTROLLER_BIN`, else the debug build (never a stale release build).
pub fn our_controller() -> PathBuf {
    existing(
        "CONTROLLER_BIN",
        workspace_root().join("target/debug/sealed-secrets-controller"),
    )
}

/// The versions of the real components a control plane runs (`scripts/cluster.sh up` with
/// `K8S_VERSION` and `UPSTREAM_VERSION`); every one of them is built by `scripts/tools.sh all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Versions {
    /// kube-apiserver, kube-controller-manager and kubectl.
    pub k8s: &'static str,
    /// Upstream's controller, its CRD and the cluster's `KUBESEAL_UPSTREAM`.
    pub upstream: &'static str,
}

impl Versions {
    /// The compatibility target: upstream v0.40.0 on Kubernetes v1.37.2 (scripts/tools.sh's defaults).
    pub const PRIMARY: Versions = Versions {
        k8s: K8S_PRIMARY,
        upstream: UPSTREAM_PRIMARY,
    };
}

/// The upstream release we are a drop-in replacement for, and the primary peer of every suite.
pub const UPSTREAM_PRIMARY: &str = "v0.40.0";
/// The second upstream peer, because teams upgrade piecemeal: its kubeseal against our controller,
/// and takeover of an installation of it.
pub const UPSTREAM_SECOND: &str = "v0.36.6";
/// The newest Kubernetes release tested, the default of every control plane.
pub const K8S_PRIMARY: &str = "v1.37.2";
/// The oldest Kubernetes release tested (the cluster and controller suites run on it too).
pub const K8S_OLDEST: &str = "v1.35.4";

/// The real upstream kubeseal of the primary peer: `UPSTREAM_KUBESEAL`, else v0.40.0 from the
/// cache of scripts/tools.sh.
pub fn upstream() -> PathBuf {
    existing(
        "UPSTREAM_KUBESEAL",
        upstream_kubeseal_path(UPSTREAM_PRIMARY),
    )
}

/// The real upstream kubeseal of release `version` (scripts/tools.sh upstream, cached).
pub fn upstream_kubeseal(version: &str) -> PathBuf {
    let path = upstream_kubeseal_path(version);
    assert!(
        path.exists(),
        "{} not found (`scripts/tools.sh all` builds it)",
        path.display()
    );
    path
}

fn upstream_kubeseal_path(version: &str) -> PathBuf {
    cache_dir().join(format!("upstream-{version}/bin/kubeseal"))
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
            .env("KUBECONFIG", self.path("kubeconfig"));
        run_with_stdin(&mut cmd, stdin)
    }
}

/// Runs `cmd` to its end, feeding it `stdin` (from another thread, so that a child that writes a
/// lot before reading cannot deadlock); returns its output.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Runs `cmd` to its end (no stdin) and panics, with its program, arguments and output, unless it
/// succeeded; returns its output.
pub fn output_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{} {:?} failed:\n{}\n{}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args().collect::<Vec<_>>(),
        stdout(&out),
        stderr(&out)
    );
    out
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

/// A control plane started by `scripts/cluster.sh up` (see [`OwnCluster`]), described by the
/// variables of its `$SSRS_CLUSTER_DIR/env` file.
pub struct Cluster {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
    pub upstream_kubeseal: PathBuf,
    /// The Kubernetes release it runs (`SSRS_K8S_VERSION`, e.g. `v1.37.2`).
    pub k8s_version: String,
    /// The upstream release of its `upstream_kubeseal` and upstream controller
    /// (`SSRS_UPSTREAM_VERSION`, e.g. `v0.40.0`).
    pub upstream_version: String,
    pub controller_namespace: String,
    pub controller_name: String,
    /// The variables of the env file, as of the last (re)start of the controller.
    pub env: BTreeMap<String, String>,
    sealing_cert: OnceLock<Vec<u8>>,
}

impl Cluster {
    /// Reads `$dir/env` (sourced by bash, so the `%q` quoting is undone exactly).
    pub fn from_env_file(dir: &Path) -> Cluster {
        let out = Command::new("bash")
            .args(["-c", "set -a; source \"$1\"; env -0", "e2e"])
            .arg(dir.join("env"))
            .env_clear()
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let env: BTreeMap<String, String> = out
            .stdout
            .split(|b| *b == 0)
            .filter_map(|kv| {
                std::str::from_utf8(kv)
                    .ok()?
                    .split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        let var = |name: &str| {
            env.get(name)
                .cloned()
                .unwrap_or_else(|| panic!("{name} not in {}/env", dir.display()))
        };
        Cluster {
            dir: dir.to_path_buf(),
            kubeconfig: var("KUBECONFIG").into(),
            kubectl: var("KUBECTL").into(),
            upstream_kubeseal: var("KUBESEAL_UPSTREAM").into(),
            k8s_version: var("SSRS_K8S_VERSION"),
            upstream_version: var("SSRS_UPSTREAM_VERSION"),
            controller_namespace: var("SSRS_CONTROLLER_NAMESPACE"),
            controller_name: var("SSRS_CONTROLLER_NAME"),
            env,
            sealing_cert: OnceLock::new(),
        }
    }

    /// A variable of the env file (e.g. `SSRS_METRICS_URL`).
    pub fn var(&self, name: &str) -> &str {
        self.env
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{name} not in {}/env", self.dir.display()))
    }

    /// Runs `scripts/cluster.sh ARGS` for this cluster; panics with its output on failure.
    pub fn script(&self, args: &[&str]) {
        cluster_script(&self.dir, args);
    }

    /// [`Cluster::script`] that never panics (for a `Drop` while a panic unwinds): whether it
    /// succeeded.
    pub fn try_script(&self, args: &[&str]) -> bool {
        cluster_script_command(&self.dir, args, &[])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// [`Cluster::script`] with `env` set (e.g. `CONTROLLER_ENV`).
    pub fn script_with(&self, args: &[&str], env: &[(&str, &str)]) {
        cluster_script_with(&self.dir, args, env);
    }

    /// How many controller pods it has (`REPLICAS` of `scripts/cluster.sh up`).
    pub fn replicas(&self) -> usize {
        self.env
            .get("SSRS_REPLICAS")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
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
            .env("KUBECACHEDIR", self.var("KUBECACHEDIR"));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SEALED_SECRETS_") {
                cmd.env_remove(k);
            }
        }
        run_with_stdin(&mut cmd, stdin)
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
        let name = format!("{prefix}-{}", random_hex(8));
        self.kubectl_ok(&["create", "namespace", &name], b"");
        name
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

    /// The controller's certificate, fetched once by our kubeseal (through the service proxy).
    pub fn sealing_cert(&self) -> &[u8] {
        self.sealing_cert.get_or_init(|| {
            let out = self.run(&ours(), &["--fetch-cert"], b"", &[]);
            assert!(
                out.status.success(),
                "our kubeseal --fetch-cert: {}",
                stderr(&out)
            );
            assert!(
                stdout(&out).starts_with("-----BEGIN CERTIFICATE-----\n"),
                "{}",
                stdout(&out)
            );
            out.stdout
        })
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

/// Polls `f` every 100 ms until it returns `Some`, for up to `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
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

/// Decodes standard base64 (test helper; values here are test data, not secrets).
pub fn b64decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_else(|e| panic!("bad base64 ({e})"))
}

/// Standard base64 with padding (test helper; the counterpart of [`b64decode`]).
pub fn b64encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `n` random lowercase hex digits.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n.div_ceil(2)];
    getrandom::fill(&mut bytes).unwrap();
    let mut out: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    out.truncate(n);
    out
}

/// An HTTP reply, as read by [`http_request`].
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

/// A plain-HTTP request to `base` (`http://host:port`, e.g. `SSRS_CONTROLLER_URL` of the env
/// file), one connection per request; any status is a reply (only transport errors are `Err`).
pub fn http_request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpReply> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .timeout_connect(Some(std::time::Duration::from_secs(10)))
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", base.trim_end_matches('/')));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let sent = if body.is_empty() {
        agent.run(request.body(()).map_err(std::io::Error::other)?)
    } else {
        agent.run(request.body(body.to_vec()).map_err(std::io::Error::other)?)
    };
    let mut reply = sent.map_err(std::io::Error::other)?;
    let headers = reply
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(HttpReply {
        status: reply.status().as_u16(),
        headers,
        body: reply
            .body_mut()
            .read_to_vec()
            .map_err(std::io::Error::other)?,
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
    let out = key_material_of(&c.key_secrets("sealedsecrets.bitnami.com/sealed-secrets-key"));
    assert!(
        !out.is_empty(),
        "no key Secret found in {}",
        c.controller_namespace
    );
    out
}

/// The plaintexts and private key material the tests of each control plane (by state dir) have
/// used, for the scan of every controller log when it is torn down ([`OwnCluster::down`]).
static REGISTERED: Mutex<BTreeMap<PathBuf, Registered>> = Mutex::new(BTreeMap::new());

/// (plaintexts, key material) registered for one control plane.
type Registered = (Vec<String>, Vec<String>);

fn registered(dir: &Path) -> Registered {
    REGISTERED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(dir)
        .cloned()
        .unwrap_or_default()
}

impl Cluster {
    /// Remembers `plaintext` (a value some test sealed) for the log scan at teardown.
    pub fn register_plaintext(&self, plaintext: &str) {
        REGISTERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(self.dir.clone())
            .or_default()
            .0
            .push(plaintext.to_string());
    }

    /// Remembers the private key material of the key Secrets that exist now (see
    /// [`private_key_material`]), for the log scan at teardown: for tests that delete or replace
    /// key Secrets, whose keys the scan would otherwise not know.
    pub fn register_key_material(&self) {
        let keys = key_material_now(self);
        REGISTERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(self.dir.clone())
            .or_default()
            .1
            .extend(keys);
    }
}

/// [`private_key_material`] without its "at least one key" assertion (a control plane without a
/// controller has none).
fn key_material_now(c: &Cluster) -> Vec<String> {
    let out = c.kubectl(
        &[
            "get",
            "secret",
            "-n",
            &c.controller_namespace,
            "-l",
            "sealedsecrets.bitnami.com/sealed-secrets-key",
            "-o",
            "json",
        ],
        b"",
    );
    if !out.status.success() {
        return Vec::new();
    }
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    key_material_of(list["items"].as_array().map_or(&[][..], Vec::as_slice))
}

/// Every PEM body line (32 characters or more) and the first 64 base64 characters of each key
/// Secret's `tls.key`.
fn key_material_of(items: &[serde_json::Value]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        let Some(b64) = item["data"]["tls.key"].as_str() else {
            continue;
        };
        out.push(b64.chars().take(64).collect());
        let pem = String::from_utf8_lossy(&b64decode(b64)).into_owned();
        out.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 32)
                .map(str::to_string),
        );
    }
    out
}

/// The service-account tokens scripts/cluster.sh handed to the controllers of the cluster in
/// `dir` (`$dir/issued-tokens`), each as a whole and its signature alone.
fn issued_tokens(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("issued-tokens")).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .flat_map(|t| {
            let signature = t.rsplit('.').next().unwrap_or(t).to_string();
            [t.to_string(), signature]
        })
        .filter(|t| t.len() >= 32)
        .collect()
}

/// The files `<prefix>*.log` of `dir` (a log and its replicas' or rotated copies), sorted.
fn logs_named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".log"))
                })
                .collect()
        })
        .unwrap_or_default();
    logs.sort();
    logs
}

/// What the scan of every controller log of the cluster in `dir` finds (see [`log_leak`]):
/// `PRIVATE KEY`, key material, service-account tokens, registered plaintexts.
fn scan_controller_logs(dir: &Path, key_material: &[String]) -> Vec<String> {
    let (plaintexts, registered_keys) = registered(dir);
    let mut secrets_of_keys: Vec<String> = key_material.to_vec();
    secrets_of_keys.extend(registered_keys);
    let tokens = issued_tokens(dir);
    let logs = logs_named(dir, "controller");
    let mut found = Vec::new();
    for log in logs {
        let name = log
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some(leak) = log_leak(&log, 0, &plaintexts, &secrets_of_keys) {
            found.push(format!("{name}: {leak}"));
        }
        let text = std::fs::read(&log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        if tokens.iter().any(|t| text.contains(t.as_str())) {
            found.push(format!("{name}: the log contains a service-account token"));
        }
    }
    found
}

/// Panics when the controller log, from byte `from` on, contains `PRIVATE KEY`, any of `secrets`
/// (plaintexts, as such and in base64) or any of `key_material`. The message never quotes the line.
pub fn assert_log_clean(log: &Path, from: u64, secrets: &[String], key_material: &[String]) {
    if let Some(leak) = log_leak(log, from, secrets, key_material) {
        panic!("{leak}");
    }
}

/// What [`assert_log_clean`] finds wrong with the log, if anything. One pass over the log for all
/// the strings at once (Aho-Corasick): a suite's log is megabytes, its plaintexts thousands.
pub fn log_leak(
    log: &Path,
    from: u64,
    secrets: &[String],
    key_material: &[String],
) -> Option<String> {
    let text = std::fs::read(log).unwrap_or_else(|e| panic!("read {}: {e}", log.display()));
    let text = text.get(from as usize..).unwrap_or_default();
    // patterns: PRIVATE KEY, then the key material, then each plaintext as such and in base64
    let b64: Vec<String> = secrets
        .iter()
        .map(|s| b64encode(s.as_bytes()).trim_end_matches('=').to_string())
        .collect();
    let patterns: Vec<&str> = std::iter::once("PRIVATE KEY")
        .chain(key_material.iter().map(String::as_str))
        .chain(
            secrets
                .iter()
                .zip(&b64)
                .flat_map(|(s, b)| [s.as_str(), b.as_str()]),
        )
        .filter(|p| !p.is_empty())
        .collect();
    let matcher = aho_corasick::AhoCorasick::new(&patterns).unwrap();
    let found: std::collections::BTreeSet<&str> = matcher
        .find_overlapping_iter(text)
        .map(|m| patterns[m.pattern().as_usize()])
        .collect();
    if found.contains("PRIVATE KEY") {
        return Some("the controller log contains `PRIVATE KEY`".into());
    }
    if let Some(i) = key_material.iter().position(|k| found.contains(k.as_str())) {
        return Some(format!(
            "the controller log contains private key material (item {i})"
        ));
    }
    secrets.iter().zip(&b64).find_map(|(s, b)| {
        if found.contains(s.as_str()) {
            Some(format!("the controller log contains the plaintext {s:?}"))
        } else {
            found
                .contains(b.as_str())
                .then(|| format!("the controller log contains the plaintext {s:?} in base64"))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The controller's permissions: `kubectl auth can-i --list` and the writes of the audit log.

/// The controller's ServiceAccount as the API server names it.
pub fn controller_service_account(c: &Cluster) -> String {
    format!(
        "system:serviceaccount:{}:{}",
        c.controller_namespace, c.controller_name
    )
}

/// `kubectl auth can-i --list` for the controller's ServiceAccount in namespace `ns`, one row per
/// line, runs of spaces made one, header dropped, sorted and deduplicated (kubectl's row order and
/// column widths vary).
pub fn can_i_list(c: &Cluster, ns: &str) -> Result<Vec<String>, String> {
    let out = c.kubectl(
        &[
            "auth",
            "can-i",
            "--list",
            "-n",
            ns,
            &format!("--as={}", controller_service_account(c)),
        ],
        b"",
    );
    if !out.status.success() {
        return Err(format!(
            "kubectl auth can-i --list -n {ns}: {}",
            stderr(&out)
        ));
    }
    let mut rows: Vec<String> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    rows.sort();
    rows.dedup();
    Ok(rows)
}

/// A resource row of [`can_i_list`]: `resource[.group][/subresource]`, its resource names (none:
/// any) and verbs.
struct Permission {
    resource: String,
    names: Vec<String>,
    verbs: Vec<String>,
}

fn permissions(rows: &[String]) -> Vec<Permission> {
    rows.iter()
        .filter(|r| !r.starts_with('['))
        .filter_map(|r| {
            let (resource, rest) = r.split_once(' ')?;
            let lists: Vec<Vec<String>> = rest
                .split(']')
                .filter_map(|g| g.trim().strip_prefix('['))
                .map(|g| g.split_whitespace().map(str::to_string).collect())
                .collect();
            let [_, names, verbs] = <[Vec<String>; 3]>::try_from(lists).ok()?;
            Some(Permission {
                resource: resource.to_string(),
                names,
                verbs,
            })
        })
        .collect()
}

/// One write of the controller's ServiceAccount, from the audit log.
#[derive(Debug, Clone)]
pub struct ControllerWrite {
    pub verb: String,
    /// `resource[.group][/subresource]`, as `can-i --list` names it.
    pub resource: String,
    pub namespace: String,
    pub name: String,
    /// The API server's response code.
    pub code: i64,
}

/// Every write (create, update, patch, delete) the controller's ServiceAccount made, from the
/// audit logs of the cluster.
pub fn controller_writes(c: &Cluster) -> Vec<ControllerWrite> {
    let sa = controller_service_account(c);
    let files = logs_named(&c.dir, "audit");
    let mut writes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines() {
            if !line.contains(&sa) {
                continue;
            }
            let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let verb = event["verb"].as_str().unwrap_or_default();
            if event["user"]["username"] != sa.as_str()
                || !["create", "update", "patch", "delete", "deletecollection"].contains(&verb)
            {
                continue;
            }
            let o = &event["objectRef"];
            let field = |k: &str| o[k].as_str().unwrap_or_default().to_string();
            let mut resource = field("resource");
            if !field("apiGroup").is_empty() {
                resource = format!("{resource}.{}", field("apiGroup"));
            }
            if !field("subresource").is_empty() {
                resource = format!("{resource}/{}", field("subresource"));
            }
            writes.push(ControllerWrite {
                verb: verb.to_string(),
                resource,
                namespace: field("namespace"),
                name: field("name"),
                code: event["responseStatus"]["code"].as_i64().unwrap_or_default(),
            });
        }
    }
    writes
}

/// The controller's writes (see [`controller_writes`]) that its `can-i --list` does not allow,
/// deduplicated, whether the API server refused them or not (a 403 for an allowed write is a
/// restarted API server warming its RBAC cache). The namespaces other than the controller's
/// are taken to grant what `default` grants (the suites bind Roles in the controller namespace
/// only).
pub fn writes_outside_permissions(c: &Cluster) -> Result<Vec<String>, String> {
    let own = permissions(&can_i_list(c, &c.controller_namespace)?);
    let other = permissions(&can_i_list(c, "default")?);
    let mut bad: Vec<String> = controller_writes(c)
        .into_iter()
        .filter(|w| {
            let rows = if w.namespace == c.controller_namespace {
                &own
            } else {
                &other
            };
            let allowed = rows.iter().any(|p| {
                (p.resource == w.resource || p.resource == "*.*")
                    && (p.verbs.iter().any(|v| *v == w.verb || v == "*"))
                    && (p.names.is_empty() || p.names.contains(&w.name))
            });
            !allowed
        })
        .map(|w| {
            format!(
                "{} {} {}/{} ({})",
                w.verb, w.resource, w.namespace, w.name, w.code
            )
        })
        .collect();
    bad.sort();
    bad.dedup();
    Ok(bad)
}

// ---------------------------------------------------------------------------------------------
// Control planes of their own: every suite that needs one, and the drill (two in sequence).

/// How many control planes may run at once: `SSRS_E2E_CLUSTERS`, default 2 (each is an etcd, a
/// kube-apiserver and a controller; on 2 cores more only makes each slower).
pub fn max_clusters() -> usize {
    std::env::var("SSRS_E2E_CLUSTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

struct Slots {
    busy: usize,
    queue: VecDeque<u64>,
    next_ticket: u64,
}

static SLOTS: Mutex<Slots> = Mutex::new(Slots {
    busy: 0,
    queue: VecDeque::new(),
    next_ticket: 0,
});
static SLOT_FREED: Condvar = Condvar::new();

/// The right to run one control plane, out of [`max_clusters`]; given out first come, first
/// served, and given back when dropped.
struct ClusterSlot;

impl ClusterSlot {
    fn acquire() -> ClusterSlot {
        let max = max_clusters();
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = slots.next_ticket;
        slots.next_ticket += 1;
        slots.queue.push_back(ticket);
        while slots.busy >= max || slots.queue.front() != Some(&ticket) {
            slots = SLOT_FREED
                .wait(slots)
                .unwrap_or_else(PoisonError::into_inner);
        }
        slots.queue.pop_front();
        slots.busy += 1;
        SLOT_FREED.notify_all();
        ClusterSlot
    }
}

impl Drop for ClusterSlot {
    fn drop(&mut self) {
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        slots.busy -= 1;
        SLOT_FREED.notify_all();
    }
}

/// `scripts/cluster.sh` for the cluster in `dir`.
fn cluster_sh(dir: &Path) -> Command {
    let mut cmd = Command::new(workspace_root().join("scripts/cluster.sh"));
    cmd.env("SSRS_CLUSTER_DIR", dir)
        .current_dir(workspace_root());
    cmd
}

/// `scripts/cluster.sh ARGS` for the cluster in `dir`; panics with its output on failure. Our
/// controller is `CONTROLLER_BIN`, else the debug build just made (cluster.sh would otherwise
/// prefer a release build).
pub fn cluster_script(dir: &Path, args: &[&str]) {
    cluster_script_with(dir, args, &[]);
}

/// [`cluster_script`] with `env` set. The versions a cluster runs are chosen by `up` (its state
/// remembers them), never by the caller's `K8S_VERSION`/`UPSTREAM_VERSION`.
fn cluster_script_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    output_ok(&mut cluster_script_command(dir, args, env));
}

/// The command [`cluster_script_with`] runs.
fn cluster_script_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = cluster_sh(dir);
    cmd.args(args);
    if std::env::var_os("CONTROLLER_BIN").is_none() {
        cmd.env(
            "CONTROLLER_BIN",
            workspace_root().join("target/debug/sealed-secrets-controller"),
        );
    }
    for var in [
        "CONTROLLER",
        "CONTROLLER_ARGS",
        "KUBECONFIG",
        "REPLICAS",
        "MANIFESTS_DIR",
        "CRD_FILE",
        "K8S_VERSION",
        "UPSTREAM_VERSION",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// A control plane of its own (`scripts/cluster.sh up` with a private `SSRS_CLUSTER_DIR`; cluster.sh
/// picks free ports and a network namespace of its own, so several run at once), torn down
/// (`scripts/cluster.sh down`, etcd data included) by [`OwnCluster::down`] or when dropped, also
/// while a panic unwinds. Should this process die without unwinding (a signal, an abort), a
/// watchdog started with the cluster tears it down: a shell in a process group of its own (so
/// that Ctrl-C does not reach it) that waits for the end of a pipe only this process holds.
pub struct OwnCluster {
    pub dir: PathBuf,
    /// What it runs (and what [`OwnCluster::then_up`] brings up next).
    pub versions: Versions,
    /// How long [`OwnCluster::up`] waited for a free slot before it started.
    pub waited: std::time::Duration,
    cluster: Option<Cluster>,
    down: bool,
    watchdog: Option<(Child, ChildStdin)>,
    /// Given back when dropped (or handed on by [`OwnCluster::then_up`]).
    slot: Option<ClusterSlot>,
}

impl OwnCluster {
    /// `scripts/cluster.sh up --controller <kind> [-- flags]` in a fresh state dir named after `tag`,
    /// once one of the [`max_clusters`] slots is free, on the [`Versions::PRIMARY`] components.
    pub fn up(tag: &str, controller: &str, flags: &[&str]) -> OwnCluster {
        Self::up_on(Versions::PRIMARY, tag, controller, flags)
    }

    /// [`OwnCluster::up`] on the given Kubernetes and upstream releases.
    pub fn up_on(versions: Versions, tag: &str, controller: &str, flags: &[&str]) -> OwnCluster {
        let queued = std::time::Instant::now();
        let slot = ClusterSlot::acquire();
        let waited = queued.elapsed();
        let mut own = Self::up_in(slot, versions, tag, controller, flags, 1);
        own.waited = waited;
        own
    }

    /// [`OwnCluster::up_on`] with `replicas` controller pods (`REPLICAS` of `scripts/cluster.sh
    /// up`; each started by `up` unless `controller` is `none`). Several pods are for our
    /// controller: installed from deploy/ (its RBAC has the Lease) with our CRD, whatever runs.
    pub fn up_replicas(
        versions: Versions,
        tag: &str,
        controller: &str,
        replicas: usize,
    ) -> OwnCluster {
        let queued = std::time::Instant::now();
        let slot = ClusterSlot::acquire();
        let waited = queued.elapsed();
        let mut own = Self::up_in(slot, versions, tag, controller, &[], replicas);
        own.waited = waited;
        own
    }

    /// Tears this cluster down (see [`OwnCluster::down`]) and brings up the next one in its slot
    /// (so that a test running clusters in sequence does not queue again for the second), on the
    /// same versions.
    pub fn then_up(mut self, tag: &str, controller: &str, flags: &[&str]) -> OwnCluster {
        self.down();
        let slot = self.slot.take().unwrap();
        Self::up_in(slot, self.versions, tag, controller, flags, 1)
    }

    fn up_in(
        slot: ClusterSlot,
        versions: Versions,
        tag: &str,
        controller: &str,
        flags: &[&str],
        replicas: usize,
    ) -> OwnCluster {
        let tag: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = std::env::temp_dir().join(format!(
            "ssrs-{tag}-{}-{}",
            std::process::id(),
            random_hex(6)
        ));
        let watchdog = Self::watchdog(&dir);
        let mut own = OwnCluster {
            dir,
            versions,
            waited: std::time::Duration::ZERO,
            cluster: None,
            down: false,
            watchdog: Some(watchdog),
            slot: Some(slot),
        };
        let mut args = vec!["up", "--controller", controller];
        if !flags.is_empty() {
            args.push("--");
            args.extend_from_slice(flags);
        }
        let root = workspace_root();
        let (deploy, crd) = (root.join("deploy"), root.join("crds/sealedsecret.yaml"));
        let replicas_text = replicas.to_string();
        let mut env = vec![
            ("K8S_VERSION", versions.k8s),
            ("UPSTREAM_VERSION", versions.upstream),
            ("REPLICAS", replicas_text.as_str()),
        ];
        if replicas > 1 {
            env.push(("MANIFESTS_DIR", deploy.to_str().unwrap()));
            env.push(("CRD_FILE", crd.to_str().unwrap()));
        }
        cluster_script_with(&own.dir, &args, &env);
        own.reload_env();
        let c = own.cluster();
        assert_eq!(
            (c.k8s_version.as_str(), c.upstream_version.as_str()),
            (versions.k8s, versions.upstream),
            "the versions the control plane runs"
        );
        own
    }

    fn watchdog(dir: &Path) -> (Child, ChildStdin) {
        use std::os::unix::process::CommandExt as _;
        let mut child = Command::new("bash")
            .args([
                "-c",
                r#"read -r word; [ "$word" = disarm ] || exec "$0" down"#,
            ])
            .arg(workspace_root().join("scripts/cluster.sh"))
            .env("SSRS_CLUSTER_DIR", dir)
            .current_dir(workspace_root())
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn the teardown watchdog: {e}"));
        let stdin = child.stdin.take().unwrap();
        (child, stdin)
    }

    /// Runs `scripts/cluster.sh ARGS` for this cluster; panics with its output on failure.
    pub fn script(&self, args: &[&str]) {
        cluster_script(&self.dir, args);
    }

    /// Re-reads `$DIR/env` (rewritten on every controller start).
    pub fn reload_env(&mut self) {
        self.cluster = Some(Cluster::from_env_file(&self.dir));
    }

    pub fn var(&self, name: &str) -> &str {
        self.cluster().var(name)
    }

    /// The [`Cluster`] for the helpers (admin kubeconfig).
    pub fn cluster(&self) -> &Cluster {
        self.cluster
            .as_ref()
            .unwrap_or_else(|| panic!("no env file in {} yet", self.dir.display()))
    }

    /// Tears the cluster down now (also done on drop) and checks that nothing of it is left: no
    /// state dir, no network namespace, no etcd, kube-apiserver or controller process.
    pub fn down(&mut self) {
        if self.down {
            return;
        }
        self.down = true;
        let daemons = self.daemons();
        let problems = self.teardown_checks();
        self.script(&["down"]);
        self.disarm();
        assert!(
            problems.is_empty(),
            "at the teardown of {}:\n{}",
            self.dir.display(),
            problems.join("\n")
        );
        assert!(!self.dir.exists(), "{} is still there", self.dir.display());
        let netns: Vec<&str> = self.cluster.as_ref().map_or(Vec::new(), |c| {
            (0..c.replicas())
                .filter_map(|i| c.env.get(&format!("SSRS_NETNS_{i}")))
                .chain(c.env.get("SSRS_NETNS"))
                .map(String::as_str)
                .collect()
        });
        let list = Command::new("ip").args(["netns", "list"]).output().unwrap();
        for netns in netns {
            assert!(
                !stdout(&list)
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(netns)),
                "network namespace {netns} is still there"
            );
        }
        for (what, pid, start) in daemons {
            assert!(
                process_start(&pid) != Some(start),
                "{what} (pid {pid}) is still running"
            );
        }
    }

    /// What every suite proves at its end, whatever its tests did: no controller log (every line,
    /// every replica, every restart) holds `PRIVATE KEY`, key material (the key Secrets now and
    /// those registered), a service-account token handed to a controller or a registered
    /// plaintext; and every write the controller's ServiceAccount made (audit log) is one its
    /// `kubectl auth can-i --list` allows.
    fn teardown_checks(&self) -> Vec<String> {
        if self.cluster.is_none() {
            return Vec::new();
        }
        let c = &Cluster::from_env_file(&self.dir);
        let mut problems = scan_controller_logs(&self.dir, &key_material_now(c));
        match writes_outside_permissions(c) {
            Ok(bad) if bad.is_empty() => {}
            Ok(bad) => problems.push(format!(
                "the controller made writes its permissions do not allow:\n  {}",
                bad.join("\n  ")
            )),
            Err(e) => problems.push(format!("could not check the controller's writes: {e}")),
        }
        problems
    }

    /// The live daemons of this cluster: (what, pid, start time).
    fn daemons(&self) -> Vec<(&'static str, String, String)> {
        if self.cluster.is_none() {
            return Vec::new();
        }
        // the env file as now: replicas started since `up` rewrote it
        let c = &Cluster::from_env_file(&self.dir);
        let replicas: Vec<String> = (1..c.replicas())
            .map(|i| format!("SSRS_CONTROLLER_PID_{i}"))
            .collect();
        [
            ("etcd", "SSRS_ETCD_PID"),
            ("kube-apiserver", "SSRS_APISERVER_PID"),
            ("the controller", "SSRS_CONTROLLER_PID"),
        ]
        .into_iter()
        .chain(
            replicas
                .iter()
                .map(|v| ("a controller replica", v.as_str())),
        )
        .filter_map(|(what, var)| {
            let pid = c.env.get(var)?.clone();
            let start = process_start(&pid)?;
            Some((what, pid, start))
        })
        .collect()
    }

    /// Prints the last 30 lines of the controller log (on stderr), to explain a failure.
    pub fn print_controller_log_tail(&self) {
        let log = self.dir.join("controller.log");
        if let Ok(text) = std::fs::read_to_string(&log) {
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            eprintln!("--- last lines of {}:", log.display());
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }

    /// Tells the watchdog that the teardown is done, and waits for it to exit.
    fn disarm(&mut self) {
        if let Some((mut child, mut stdin)) = self.watchdog.take() {
            let _ = stdin.write_all(b"disarm\n");
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The start time of process `pid` (field 22 of /proc/PID/stat), `None` when it is gone or a
/// zombie (our daemons are orphans, reaped by pid 1 in its own time).
pub fn process_start(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    match fields.first() {
        Some(&"Z") | Some(&"X") | None => None,
        Some(_) => fields.get(19).map(|s| s.to_string()),
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if self.down {
            return;
        }
        self.down = true;
        if std::thread::panicking() {
            self.print_controller_log_tail();
        }
        let _ = cluster_sh(&self.dir)
            .arg("down")
            .stdout(Stdio::null())
            .status();
        self.disarm();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn can_i_rows_parse_into_permissions() {
        let rows: Vec<String> = [
            "[/api/*] [] [get]",
            "secrets [] [] [get list create update delete watch]",
            "services/proxy [] [http:sealed-secrets-controller: sealed-secrets-controller] [create get]",
            "sealedsecrets.bitnami.com/status [] [] [update]",
        ]
        .map(String::from)
        .to_vec();
        let p = permissions(&rows);
        assert_eq!(p.len(), 3, "the non-resource row is not a permission");
        assert_eq!(p[0].resource, "secrets");
        assert!(p[0].names.is_empty());
        assert_eq!(p[0].verbs.len(), 6);
        assert_eq!(p[1].resource, "services/proxy");
        assert_eq!(
            p[1].names,
            [
                "http:sealed-secrets-controller:",
                "sealed-secrets-controller"
            ]
        );
        assert_eq!(p[1].verbs, ["create", "get"]);
        assert_eq!(p[2].resource, "sealedsecrets.bitnami.com/status");
    }

    #[test]
    fn the_teardown_scan_finds_tokens_plaintexts_and_keys_in_every_controller_log() {
        let dir = tempfile::tempdir().unwrap();
        let token = format!("eyJhbGciOi.eyJpc3Mi.{}", "s".repeat(40));
        std::fs::write(dir.path().join("issued-tokens"), format!("{token}\n")).unwrap();
        std::fs::write(dir.path().join("controller.log"), "level=INFO msg=ok\n").unwrap();
        std::fs::write(dir.path().join("controller-1.log"), "level=INFO msg=ok\n").unwrap();
        std::fs::write(dir.path().join("apiserver.log"), format!("{token}\n")).unwrap();
        assert!(scan_controller_logs(dir.path(), &[]).is_empty());
        // the signature alone is enough
        let signature = "s".repeat(40);
        std::fs::write(
            dir.path().join("controller-1.log"),
            format!("t={signature}\n"),
        )
        .unwrap();
        let found = scan_controller_logs(dir.path(), &[]);
        assert_eq!(
            found,
            ["controller-1.log: the log contains a service-account token"]
        );
        std::fs::write(dir.path().join("controller-1.log"), "ok\n").unwrap();
        REGISTERED
            .lock()
            .unwrap()
            .entry(dir.path().to_path_buf())
            .or_default()
            .0
            .push("plaintext-0123-x".into());
        std::fs::write(dir.path().join("controller.log"), "v=plaintext-0123-x\n").unwrap();
        assert_eq!(scan_controller_logs(dir.path(), &[]).len(), 1);
        std::fs::write(dir.path().join("controller.log"), "k=MIIEkeymaterial\n").unwrap();
        assert_eq!(
            scan_controller_logs(dir.path(), &["MIIEkeymaterial".to_string()]),
            ["controller.log: the controller log contains private key material (item 0)"]
        );
    }
}

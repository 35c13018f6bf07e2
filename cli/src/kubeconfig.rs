//! Kubeconfig handling as client-go's `DeferredLoadingClientConfig` does it for kubeseal
//! (`initClient` in upstream `cmd/kubeseal/main.go`):
//! files are read only when a mode needs them, nothing touches the network, and the texts of
//! configuration errors are client-go's.
//!
//! Loading: `--kubeconfig` (must exist), else every file in `KUBECONFIG` (missing ones skipped),
//! else `~/.kube/config` if present; merged first-wins. The kubectl-style flags then override the
//! selected context, cluster and user; the result is validated like client-go's `ConfirmUsable`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

use crate::flags::KubeFlags;
use crate::goerr::{self, PathError};
use sealed_secrets::in_cluster::{self, SERVICE_ACCOUNT_DIR, SERVICE_ACCOUNT_NAMESPACE_FILE};

const EMPTY_CONFIG: &str =
    "no configuration has been provided, try setting KUBERNETES_MASTER environment variable";
const EMPTY_CLUSTER: &str = "cluster has no server defined";

/// Where the kubeconfig comes from and what the command line overrides.
pub struct ClientConfig<'a> {
    explicit_path: &'a str,
    flags: &'a KubeFlags,
}

/// The selected context, cluster and user after the command-line overrides.
struct Resolved {
    context: Context,
    cluster: Cluster,
    auth: AuthInfo,
    /// The context gives its namespace explicitly (client-go then never uses the in-cluster one).
    context_has_namespace: bool,
}

/// Why no usable configuration could be built, in client-go's words.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// client-go's `ErrEmptyConfig`: the in-cluster configuration may be used instead.
    #[error("invalid configuration: {EMPTY_CONFIG}")]
    Empty,
    /// `ConfirmUsable`'s findings, one or several.
    #[error("invalid configuration: {}", invalid_list(.0))]
    Invalid(Vec<String>),
    /// `--kubeconfig` names no file.
    #[error(transparent)]
    Missing(PathError),
    #[error("error loading config file {}: {source}", goerr::quote(.path))]
    Read { path: String, source: PathError },
    /// A file that does not parse, or files that do not merge; `message` quotes no content.
    #[error("error loading config file {}: {message}", goerr::quote(.path))]
    Load { path: String, message: String },
    #[error("auth info {} does not exist", goerr::quote(.0))]
    UnknownUser(String),
    #[error("cluster {} does not exist", goerr::quote(.0))]
    UnknownCluster(String),
    #[error(transparent)]
    Client(#[from] kube::config::KubeconfigError),
    #[error(transparent)]
    InCluster(#[from] kube::config::InClusterError),
    #[error(
        "invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)"
    )]
    Timeout,
}

fn invalid_list(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        _ => format!("[{}]", errors.join(", ")),
    }
}

impl<'a> ClientConfig<'a> {
    pub fn new(explicit_path: &'a str, flags: &'a KubeFlags) -> Self {
        ClientConfig {
            explicit_path,
            flags,
        }
    }

    /// client-go `Namespace()`: `(namespace, explicitly given with -n)`.
    ///
    /// Unlike client-go, an explicit `-n` is honoured even when the kubeconfig cannot be loaded
    /// (upstream then silently drops the flag; see docs/compatibility.md).
    pub fn namespace(&self) -> Result<(String, bool), KubeconfigError> {
        if !self.flags.namespace.is_empty() {
            return Ok((self.flags.namespace.clone(), true));
        }
        let kubeconfig = self.load()?;
        match self.resolve(&kubeconfig) {
            Ok(r) => {
                let ns = r.context.namespace.clone().filter(|n| !n.is_empty());
                match ns {
                    Some(ns) if ns != "default" || r.context_has_namespace => Ok((ns, false)),
                    _ if in_cluster_possible() => Ok((in_cluster_namespace(), false)),
                    _ => Ok(("default".to_string(), false)),
                }
            }
            Err(KubeconfigError::Empty) if in_cluster_possible() => {
                Ok((in_cluster_namespace(), false))
            }
            Err(e) => Err(e),
        }
    }

    /// A kube-rs client configuration, for the modes that talk to the cluster.
    pub async fn kube_config(&self) -> Result<kube::Config, KubeconfigError> {
        let kubeconfig = self.load()?;
        // Building a client (unlike reading the namespace) needs the named user and cluster.
        let f = self.flags;
        if !f.user.is_empty() && !kubeconfig.auth_infos.iter().any(|a| a.name == f.user) {
            return Err(KubeconfigError::UnknownUser(f.user.clone()));
        }
        if !f.cluster.is_empty() && !kubeconfig.clusters.iter().any(|c| c.name == f.cluster) {
            return Err(KubeconfigError::UnknownCluster(f.cluster.clone()));
        }
        let mut config = match self.resolve(&kubeconfig) {
            Ok(r) => {
                let explicit_proxy = r
                    .cluster
                    .proxy_url
                    .as_deref()
                    .is_some_and(|p| !p.is_empty());
                let single = Kubeconfig {
                    clusters: vec![NamedCluster {
                        name: "kubeseal".into(),
                        cluster: Some(r.cluster),
                        ..Default::default()
                    }],
                    auth_infos: vec![NamedAuthInfo {
                        name: "kubeseal".into(),
                        auth_info: Some(r.auth),
                        ..Default::default()
                    }],
                    contexts: vec![NamedContext {
                        name: "kubeseal".into(),
                        context: Some(Context {
                            cluster: "kubeseal".into(),
                            user: Some("kubeseal".into()),
                            namespace: r.context.namespace,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    current_context: Some("kubeseal".into()),
                    ..Default::default()
                };
                let mut c =
                    kube::Config::from_custom_kubeconfig(single, &Default::default()).await?;
                // kube takes HTTPS_PROXY from the environment for any host; Go never proxies
                // loopback addresses.
                if !explicit_proxy && is_loopback(&c.cluster_url) {
                    c.proxy_url = None;
                }
                c
            }
            Err(KubeconfigError::Empty) if in_cluster_possible() => {
                let mut c = kube::Config::incluster()?;
                self.apply_in_cluster_overrides(&mut c);
                c
            }
            Err(e) => return Err(e),
        };
        if let Some(timeout) = self.request_timeout()? {
            config.read_timeout = Some(timeout);
            config.write_timeout = Some(timeout);
            config.connect_timeout = Some(timeout);
        }
        Ok(config)
    }

    /// `--request-timeout`: a Go duration, or a bare number of seconds; zero means none.
    pub fn request_timeout(&self) -> Result<Option<Duration>, KubeconfigError> {
        let raw = self.flags.request_timeout.as_str();
        let d = if raw.is_empty() {
            Duration::ZERO
        } else if let Ok(secs) = raw.parse::<u64>() {
            Duration::from_secs(secs)
        } else {
            parse_go_duration(raw).ok_or(KubeconfigError::Timeout)?
        };
        Ok((!d.is_zero()).then_some(d))
    }

    fn apply_in_cluster_overrides(&self, c: &mut kube::Config) {
        let f = self.flags;
        if !f.server.is_empty()
            && let Ok(uri) = f.server.parse()
        {
            c.cluster_url = uri;
        }
        if !f.token.is_empty() {
            c.auth_info.token = Some(f.token.clone().into());
            c.auth_info.token_file = None;
        }
        if !f.as_user.is_empty() {
            c.auth_info.impersonate = Some(f.as_user.clone());
        }
        if !f.as_group.is_empty() {
            c.auth_info.impersonate_groups = Some(f.as_group.clone());
        }
        if f.insecure_skip_tls_verify {
            c.accept_invalid_certs = true;
        }
    }

    /// client-go `ClientConfigLoadingRules.Load`.
    fn load(&self) -> Result<Kubeconfig, KubeconfigError> {
        if !self.explicit_path.is_empty() {
            let path = Path::new(self.explicit_path);
            std::fs::metadata(path).map_err(|e| {
                KubeconfigError::Missing(PathError::new("stat", self.explicit_path, e))
            })?;
            return read_file(path);
        }
        let mut paths: Vec<PathBuf> = Vec::new();
        match std::env::var_os("KUBECONFIG") {
            Some(list) if !list.is_empty() => {
                for p in std::env::split_paths(&list) {
                    if !p.as_os_str().is_empty() && !paths.contains(&p) {
                        paths.push(p);
                    }
                }
            }
            _ => {
                if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
                    paths.push(PathBuf::from(home).join(".kube").join("config"));
                }
            }
        }
        let mut merged = Kubeconfig::default();
        for p in paths {
            if !p.exists() {
                continue;
            }
            let next = read_file(&p)?;
            merged = merged.merge(next).map_err(|e| KubeconfigError::Load {
                path: p.to_string_lossy().into_owned(),
                message: e.to_string(),
            })?;
        }
        Ok(merged)
    }

    /// client-go `DirectClientConfig` selection + overrides + `ConfirmUsable`.
    fn resolve(&self, config: &Kubeconfig) -> Result<Resolved, KubeconfigError> {
        let f = self.flags;
        let mut errors: Vec<String> = Vec::new();

        let context_name = if f.context.is_empty() {
            config.current_context.clone().unwrap_or_default()
        } else {
            f.context.clone()
        };
        let found_context = config
            .contexts
            .iter()
            .find(|c| c.name == context_name)
            .map(|c| c.context.clone().unwrap_or_default());
        if !context_name.is_empty() && found_context.is_none() {
            errors.push(format!(
                "context was not found for specified context: {context_name}"
            ));
        }
        let mut context = found_context.unwrap_or_default();
        let context_has_namespace = context.namespace.as_deref().is_some_and(|n| !n.is_empty());

        let user_name = if f.user.is_empty() {
            context.user.clone().unwrap_or_default()
        } else {
            f.user.clone()
        };
        let mut auth = config
            .auth_infos
            .iter()
            .find(|a| a.name == user_name)
            .and_then(|a| a.auth_info.clone())
            .unwrap_or_default();
        self.override_auth(&mut auth);
        errors.extend(validate_auth(&user_name, &auth));

        let cluster_name = if f.cluster.is_empty() {
            context.cluster.clone()
        } else {
            f.cluster.clone()
        };
        let found_cluster = config
            .clusters
            .iter()
            .find(|c| c.name == cluster_name)
            .map(|c| c.cluster.clone().unwrap_or_default());
        let cluster_overridden = !f.cluster.is_empty() || self.has_cluster_overrides();
        let mut cluster = found_cluster.clone().unwrap_or_default();
        self.override_cluster(&mut cluster);
        if found_cluster.is_none() && !cluster_overridden {
            errors.push(EMPTY_CLUSTER.to_string());
        } else {
            errors.extend(validate_cluster(&cluster_name, &cluster));
        }

        if errors.len() == 1 && errors.first().is_some_and(|e| e == EMPTY_CLUSTER) {
            return Err(KubeconfigError::Empty);
        }
        if !errors.is_empty() {
            return Err(KubeconfigError::Invalid(errors));
        }
        context.cluster = cluster_name;
        Ok(Resolved {
            context,
            cluster,
            auth,
            context_has_namespace,
        })
    }

    fn has_cluster_overrides(&self) -> bool {
        let f = self.flags;
        !f.server.is_empty()
            || !f.certificate_authority.is_empty()
            || f.insecure_skip_tls_verify
            || !f.tls_server_name.is_empty()
            || !f.proxy_url.is_empty()
            || f.disable_compression
    }

    fn override_cluster(&self, c: &mut Cluster) {
        let f = self.flags;
        if !f.server.is_empty() {
            c.server = Some(f.server.clone());
        }
        if !f.certificate_authority.is_empty() {
            c.certificate_authority = Some(f.certificate_authority.clone());
            c.certificate_authority_data = None;
        }
        if f.insecure_skip_tls_verify {
            c.insecure_skip_tls_verify = Some(true);
        }
        if !f.tls_server_name.is_empty() {
            c.tls_server_name = Some(f.tls_server_name.clone());
        }
        if !f.proxy_url.is_empty() {
            c.proxy_url = Some(f.proxy_url.clone());
        }
        if f.disable_compression {
            c.disable_compression = Some(true);
        }
    }

    fn override_auth(&self, a: &mut AuthInfo) {
        let f = self.flags;
        if !f.token.is_empty() {
            a.token = Some(f.token.clone().into());
            a.token_file = None;
        }
        if !f.client_certificate.is_empty() {
            a.client_certificate = Some(f.client_certificate.clone());
            a.client_certificate_data = None;
        }
        if !f.client_key.is_empty() {
            a.client_key = Some(f.client_key.clone());
            a.client_key_data = None;
        }
        if !f.username.is_empty() {
            a.username = Some(f.username.clone());
        }
        if !f.password.is_empty() {
            a.password = Some(f.password.clone().into());
        }
        if !f.as_user.is_empty() {
            a.impersonate = Some(f.as_user.clone());
        }
        if !f.as_uid.is_empty() {
            a.impersonate_uid = Some(f.as_uid.clone());
        }
        if !f.as_group.is_empty() {
            a.impersonate_groups = Some(f.as_group.clone());
        }
    }
}

fn read_file(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    let shown = path.to_string_lossy().into_owned();
    if let Some(io) = odd_length_utf16(path) {
        return Err(KubeconfigError::Read {
            source: PathError::new("read", shown.as_str(), io),
            path: shown,
        });
    }
    Kubeconfig::read_from(path).map_err(|e| match e {
        kube::config::KubeconfigError::ReadConfig(io, _) => KubeconfigError::Read {
            source: PathError::new("read", shown.as_str(), io),
            path: shown,
        },
        other => KubeconfigError::Load {
            message: source_text(&other),
            path: shown,
        },
    })
}

/// A file with a UTF-16 byte-order mark and an odd number of bytes: kube's `read_path`
/// (kube-client 5.0.0 `config/file_config.rs`) indexes past its end and panics, so it is refused
/// here with the error kube gives for other invalid UTF-16. Other read errors are left to kube.
/// Only the first two bytes and the length are read: kube reads the file itself.
fn odd_length_utf16(path: &Path) -> Option<std::io::Error> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut bom = [0u8; 2];
    file.read_exact(&mut bom).ok()?;
    let order = match bom {
        [0xFF, 0xFE] => "LE",
        [0xFE, 0xFF] => "BE",
        _ => return None,
    };
    (len % 2 == 1).then(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("Invalid UTF-16 {order}"),
        )
    })
}

/// The innermost useful text of a kube config error, one line: the YAML parser's message without
/// the source excerpt it appends (a kubeconfig holds credentials).
fn source_text(e: &kube::config::KubeconfigError) -> String {
    let text = match e {
        kube::config::KubeconfigError::Parse(p) => p.to_string(),
        other => {
            std::error::Error::source(other).map_or_else(|| other.to_string(), |s| s.to_string())
        }
    };
    let first = text.lines().next().unwrap_or("");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

fn non_empty(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.is_empty())
}

/// client-go `validateAuthInfo` (the checks that matter without a network).
fn validate_auth(name: &str, a: &AuthInfo) -> Vec<String> {
    use secrecy::ExposeSecret as _;
    let mut errors = Vec::new();
    let key_data = a
        .client_key_data
        .as_ref()
        .is_some_and(|k| !k.expose_secret().is_empty());
    if non_empty(&a.client_certificate) || non_empty(&a.client_certificate_data) {
        if non_empty(&a.client_certificate) && non_empty(&a.client_certificate_data) {
            errors.push(format!(
                "client-cert-data and client-cert are both specified for {name}. client-cert-data will override."
            ));
        }
        if non_empty(&a.client_key) && key_data {
            errors.push(format!(
                "client-key-data and client-key are both specified for {name}; client-key-data will override"
            ));
        }
        if !non_empty(&a.client_key) && !key_data {
            errors.push(format!(
                "client-key-data or client-key must be specified for {name} to use the clientCert authentication method."
            ));
        }
        if let Some(path) = a.client_certificate.as_deref().filter(|p| !p.is_empty())
            && let Err(e) = std::fs::File::open(path)
        {
            errors.push(format!(
                "unable to read client-cert {path} for {name} due to {}",
                PathError::new("open", path, e)
            ));
        }
        if let Some(path) = a.client_key.as_deref().filter(|p| !p.is_empty())
            && let Err(e) = std::fs::File::open(path)
        {
            errors.push(format!(
                "unable to read client-key {path} for {name} due to {}",
                PathError::new("open", path, e)
            ));
        }
    }
    if let Some(exec) = &a.exec {
        if a.auth_provider.is_some() {
            errors.push(format!(
                "authProvider cannot be provided in combination with an exec plugin for {name}"
            ));
        }
        if !non_empty(&exec.command) {
            errors.push(format!(
                "command must be specified for {name} to use exec authentication plugin"
            ));
        }
        if !non_empty(&exec.api_version) {
            errors.push(format!(
                "apiVersion must be specified for {name} to use exec authentication plugin"
            ));
        }
        for env in exec.env.iter().flatten() {
            if env.get("name").is_none_or(|n| n.is_empty()) {
                errors.push(format!(
                    "env variable name must be specified for {name} to use exec authentication plugin"
                ));
            }
        }
        // client-go defaults the mode for the beta/alpha plugin APIs only.
        let defaulted = matches!(
            exec.api_version.as_deref(),
            Some("client.authentication.k8s.io/v1beta1")
                | Some("client.authentication.k8s.io/v1alpha1")
        );
        if exec.interactive_mode.is_none() && !defaulted {
            errors.push(format!(
                "interactiveMode must be specified for {name} to use exec authentication plugin"
            ));
        }
    }
    let mut methods = Vec::new();
    if a.token
        .as_ref()
        .is_some_and(|t| !t.expose_secret().is_empty())
    {
        methods.push("token");
    }
    if non_empty(&a.username)
        || a.password
            .as_ref()
            .is_some_and(|p| !p.expose_secret().is_empty())
    {
        methods.push("basicAuth");
    }
    if methods.len() > 1 {
        errors.push(format!(
            "more than one authentication method found for {name}; found [{}], only one is allowed",
            methods.join(" ")
        ));
    }
    errors
}

/// client-go `validateClusterInfo`.
fn validate_cluster(name: &str, c: &Cluster) -> Vec<String> {
    let mut errors = Vec::new();
    if !non_empty(&c.server) {
        if name.is_empty() {
            errors.push("default cluster has no server defined".to_string());
        } else {
            errors.push(format!(
                "no server found for cluster {}",
                goerr::quote(name)
            ));
        }
    }
    if let Some(proxy) = c.proxy_url.as_deref().filter(|p| !p.is_empty()) {
        let problem = match proxy.parse::<http::Uri>() {
            Err(_) => Some(format!("could not parse: {proxy}")),
            Ok(u) => match u.scheme_str() {
                Some("http") | Some("https") | Some("socks5") => None,
                other => Some(format!(
                    "unsupported scheme {}, must be http, https, or socks5",
                    goerr::quote(other.unwrap_or(""))
                )),
            },
        };
        if let Some(p) = problem {
            errors.push(format!(
                "invalid 'proxy-url' {} for cluster {}: {p}",
                goerr::quote(proxy),
                goerr::quote(name)
            ));
        }
    }
    if non_empty(&c.certificate_authority) && non_empty(&c.certificate_authority_data) {
        errors.push(format!(
            "certificate-authority-data and certificate-authority are both specified for {name}. certificate-authority-data will override."
        ));
    }
    if let Some(path) = c.certificate_authority.as_deref().filter(|p| !p.is_empty())
        && let Err(e) = std::fs::File::open(path)
    {
        errors.push(format!(
            "unable to read certificate-authority {path} for {name} due to {}",
            PathError::new("open", path, e)
        ));
    }
    errors
}

fn is_loopback(url: &http::Uri) -> bool {
    let host = url
        .host()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// client-go `inClusterClientConfig.Possible`.
fn in_cluster_possible() -> bool {
    let set = |k| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    set("KUBERNETES_SERVICE_HOST")
        && set("KUBERNETES_SERVICE_PORT")
        && std::fs::metadata(Path::new(SERVICE_ACCOUNT_DIR).join("token"))
            .is_ok_and(|m| !m.is_dir())
}

/// client-go `inClusterClientConfig.Namespace` (the rule: `sealed_secrets::in_cluster::namespace`).
fn in_cluster_namespace() -> String {
    in_cluster::namespace(
        std::env::var("POD_NAMESPACE").ok().as_deref(),
        std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE_FILE)
            .ok()
            .as_deref(),
    )
}

/// Go `time.ParseDuration` for the non-negative values kubectl accepts.
fn parse_go_duration(s: &str) -> Option<Duration> {
    if s.starts_with('-') {
        return None;
    }
    let nanos = go_semantics::time::parse_duration(s).ok()?;
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1"), None);
        assert_eq!(parse_go_duration("x"), None);
        assert_eq!(parse_go_duration("-1s"), None);
    }
}

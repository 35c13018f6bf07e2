//! sealed-secrets-controller: a drop-in replacement for upstream's Sealed Secrets controller.
//!
//! Startup, in the order of upstream's `pkg/controller/main.go` `Main` (v0.40.0): flags → logging →
//! Kubernetes client → key registry (load the key Secrets, generate the first key if needed) → key
//! renewal, SIGUSR1 and the key Secret watch → the main controller → the HTTP and metrics servers
//! → one controller per existing additional namespace (`startAdditionalNamespaceControllers`),
//! after which `/readyz` answers `ok`. SIGTERM/SIGINT shut the servers and controllers down
//! gracefully. Startup errors (a failed namespace lookup included, once every lookup is done) print
//! `error: ...` and exit 1.

mod config;
mod controller;
mod events;
mod http;
mod keymgr;
mod logging;
mod metrics;
mod qps;
mod ratelimit;
mod reconcile;
mod registry;
mod secret_update;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt as _;

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::Api;
use prometheus_client::registry::Registry;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::config::{Config, ConfigError, Flags, ParsedFlags};
use crate::events::EventRecorder;
use crate::keymgr::{
    Clock, KeyError, KeyManager, KeySettings, SystemClock, first_renewal_delay, needs_initial_key,
    run_schedule,
};
use crate::metrics::Metrics;
use crate::registry::KeyRegistry;

/// `controller version: v<crate version>`, as upstream's `cmd/controller/main.go` prints it.
const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
/// How long running reconciles and requests may take to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Namespace lookups at once during the bootstrap (upstream
/// `additionalNamespaceBootstrapConcurrency`).
const BOOTSTRAP_CONCURRENCY: usize = 16;

fn main() -> ExitCode {
    match start(ParsedFlags::parse_from(std::env::args_os())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit::Failed(e)) => {
            let e = anyhow::Error::new(e);
            error!(error = %format!("{e:#}"), "controller failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Why the process exits with status 1.
#[derive(Debug, thiserror::Error)]
enum Exit {
    #[error("cannot set up logging: {0}")]
    Logging(logging::InitError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The controller failed (logged, then printed with its causes).
    #[error(transparent)]
    Failed(#[from] RunError),
}

/// A failure of the controller, with the causes printed after it (`error: context: cause`).
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    ListenAddr(String),
    #[error("in-cluster configuration")]
    InCluster(#[source] kube::config::InClusterError),
    #[error("Kubernetes client configuration")]
    Kubeconfig(#[source] kube::config::InferConfigError),
    #[error(transparent)]
    Client(#[from] kube::Error),
    #[error("cannot load the sealing keys")]
    LoadKeys(#[source] KeyError),
    #[error("cannot generate the sealing key")]
    GenerateKey(#[source] KeyError),
    #[error("{0} handler")]
    Signal(&'static str, #[source] std::io::Error),
    #[error("cannot get namespace {0}")]
    GetNamespace(String, #[source] kube::Error),
    #[error("cannot listen on {0}")]
    Listen(String, #[source] std::io::Error),
    #[error("HTTP server stopped unexpectedly")]
    ServerStopped,
    #[error("HTTP server failed")]
    ServerFailed(#[source] std::io::Error),
    #[error("HTTP server task failed")]
    ServerTask(#[source] JoinError),
}

/// Flags -> logging -> (`--version`) -> the runtime, in which [`run`] runs the controller.
fn start(parsed: ParsedFlags) -> Result<(), Exit> {
    let flags = &parsed.flags;
    logging::init(&flags.log_level, &flags.log_format, flags.log_info_stdout)
        .map_err(Exit::Logging)?;
    if flags.version {
        println!("controller version: {VERSION}");
        return Ok(());
    }
    if parsed.rotate_period_used {
        eprintln!("Flag --rotate-period has been deprecated, please use key-renew-period instead");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Exit::Runtime)?;
    let result = runtime.block_on(run(parsed.flags));
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(result?)
}

/// config -> client -> key registry -> main controller -> HTTP servers -> additional-namespace
/// controllers, then serve until a signal (or a server failure) and shut down.
async fn run(flags: Flags) -> Result<(), RunError> {
    info!(version = VERSION, "Starting sealed-secrets controller");
    let (cfg, addrs) = load_config(&flags)?;
    let client = kube_client(&cfg).await?;
    let mut prom = Registry::default();
    let shared = Shared {
        metrics: Arc::new(Metrics::with_options(
            &mut prom,
            cfg.metrics_omit_secret_labels,
        )),
        keys: Arc::new(KeyRegistry::new()),
        recorder: Arc::new(EventRecorder::new(client.clone())),
        clock: Arc::new(SystemClock),
        client,
    };
    let namespace = own_namespace();
    let shutdown = CancellationToken::new();
    let background = start_key_registry(&cfg, &shared, &namespace, &shutdown).await?;
    let controllers = Controllers::new(&cfg, &shared, &shutdown);
    let main_scope =
        (!cfg.all_namespaces || cfg.additional_namespaces_set).then(|| namespace.clone());
    let mut main_controller = JoinSet::new();
    controllers.start(&mut main_controller, main_scope);
    let to_probe = namespaces_to_probe(&cfg.additional_namespaces, &namespace);
    let ready = Arc::new(AtomicBool::new(to_probe.is_empty()));
    let servers = start_http_servers(&cfg, addrs, &shared, prom, ready.clone(), &shutdown).await?;
    let bootstrap = controllers.bootstrap(shared.client.clone(), to_probe);
    serve_until_stopped(
        shutdown,
        servers,
        main_controller,
        background,
        bootstrap,
        ready,
    )
    .await
}

/// The two listen addresses, parsed before anything else starts.
struct ListenAddrs {
    main: SocketAddr,
    metrics: SocketAddr,
}

/// Validated flags (an invalid `--key-order-priority` is logged and falls back) and listen addresses.
fn load_config(flags: &Flags) -> Result<(Config, ListenAddrs), RunError> {
    let cfg = Config::from_flags(flags)?;
    if let Some(bad) = &cfg.invalid_key_order_priority {
        error!(keyOrderPriority = %bad, "Invalid keyOrderPriority. Use CertNotBefore or SecretCreationTimestamp");
    }
    let addrs = ListenAddrs {
        main: http::parse_listen_addr(&cfg.listen_addr).map_err(RunError::ListenAddr)?,
        metrics: http::parse_listen_addr(&cfg.listen_metrics_addr).map_err(RunError::ListenAddr)?,
    };
    Ok((cfg, addrs))
}

/// In a pod the in-cluster config; otherwise (development) `KUBECONFIG` / `~/.kube/config`.
async fn kube_client(cfg: &Config) -> Result<Client, RunError> {
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && std::env::var_os("KUBECONFIG").is_none();
    let config = if in_cluster {
        kube::Config::incluster().map_err(RunError::InCluster)?
    } else {
        kube::Config::infer().await.map_err(RunError::Kubeconfig)?
    };
    let builder = kube::client::ClientBuilder::try_from(config)?;
    Ok(match cfg.kubeclient_qps {
        Some(qps) => builder
            .with_layer(&qps::QpsLayer::new(qps, cfg.kubeclient_burst))
            .build(),
        None => builder.build(),
    })
}

/// The controller's own namespace, as upstream's `myNamespace`: `POD_NAMESPACE`, else the service
/// account's (trimmed), else `default` (the rule: `sealed_secrets::in_cluster::namespace`, which
/// kubeseal's in-cluster config uses too).
///
/// Not kube's `Config::default_namespace`: that ignores `POD_NAMESPACE`, does not trim the file,
/// and out of a cluster is the kubeconfig context's namespace.
fn own_namespace() -> String {
    sealed_secrets::in_cluster::namespace(
        std::env::var("POD_NAMESPACE").ok().as_deref(),
        std::fs::read_to_string(sealed_secrets::in_cluster::SERVICE_ACCOUNT_NAMESPACE_FILE)
            .ok()
            .as_deref(),
    )
}

/// What the key registry, the controllers and the HTTP servers share.
struct Shared {
    client: Client,
    keys: Arc<KeyRegistry>,
    metrics: Arc<Metrics>,
    recorder: Arc<EventRecorder>,
    clock: Arc<dyn Clock>,
}

/// Loads the key Secrets and generates the first key if needed (upstream `initKeyRegistry`,
/// `initKeyRenewal`), then starts the renewal timer, SIGUSR1 (`initKeyGenSignalListener`) and the
/// key Secret watch, in the returned set.
async fn start_key_registry(
    cfg: &Config,
    shared: &Shared,
    namespace: &str,
    shutdown: &CancellationToken,
) -> Result<JoinSet<()>, RunError> {
    let key_manager = Arc::new(KeyManager::new(
        shared.client.clone(),
        KeySettings {
            namespace: namespace.to_string(),
            prefix: cfg.key_prefix.clone(),
            key_size: cfg.key_size,
            ttl: cfg.key_ttl,
            common_name: cfg.my_cn.clone(),
            labels: cfg.privatekey_labels.clone(),
            annotations: cfg.privatekey_annotations.clone(),
            order: cfg.key_order,
        },
        shared.keys.clone(),
        shared.recorder.clone(),
        shared.clock.clone(),
        shared.metrics.clone(),
    ));
    key_manager
        .load_existing()
        .await
        .map_err(RunError::LoadKeys)?;
    if needs_initial_key(shared.keys.latest_order_time(), cfg.key_cutoff_time) {
        key_manager
            .generate()
            .await
            .map_err(RunError::GenerateKey)?;
    }

    let mut background = JoinSet::new();
    let (trigger_tx, trigger_rx) = mpsc::channel::<()>(4);
    let delay = first_renewal_delay(
        cfg.key_renew_period,
        shared.keys.latest_order_time(),
        shared.clock.now(),
    );
    let renewer = key_manager.clone();
    background.spawn(run_schedule(
        delay,
        cfg.key_renew_period,
        trigger_rx,
        shutdown.clone(),
        move || {
            let renewer = renewer.clone();
            async move { renewer.renew().await }
        },
    ));
    let mut usr1 = handler(SignalKind::user_defined1(), "SIGUSR1")?;
    let usr1_shutdown = shutdown.clone();
    background.spawn(async move {
        loop {
            tokio::select! {
                _ = usr1_shutdown.cancelled() => return,
                got = usr1.recv() => match got {
                    Some(()) => {
                        info!("SIGUSR1 received, generating a new key");
                        let _ = trigger_tx.try_send(());
                    }
                    None => return,
                },
            }
        }
    });
    // Key Secrets added while running (a restore, a bring-your-own key).
    background.spawn(key_manager.watch(shutdown.clone()));
    Ok(background)
}

fn handler(kind: SignalKind, name: &'static str) -> Result<Signal, RunError> {
    signal(kind).map_err(|e| RunError::Signal(name, e))
}

/// Starts controller instances (upstream `prepareController` + `go controller.Run`), all with the
/// same reconcile context.
struct Controllers {
    ctx: Arc<reconcile::Context>,
    label_selector: Option<String>,
    skip_recreate: bool,
    shutdown: CancellationToken,
}

impl Controllers {
    fn new(cfg: &Config, shared: &Shared, shutdown: &CancellationToken) -> Self {
        let ctx = Arc::new(reconcile::Context::new(
            shared.client.clone(),
            shared.keys.clone(),
            shared.metrics.clone(),
            shared.recorder.clone(),
            shared.clock.clone(),
            reconcile::Settings {
                accept_v1_data: cfg.accept_v1_data,
                update_status: cfg.update_status,
                old_gc_behavior: cfg.old_gc_behavior,
                max_unseal_retries: cfg.max_unseal_retries,
            },
        ));
        Controllers {
            ctx,
            label_selector: cfg.label_selector.clone(),
            skip_recreate: cfg.skip_recreate,
            shutdown: shutdown.clone(),
        }
    }

    /// One controller for `namespace` (`None`: all namespaces) in `set`.
    fn start(&self, set: &mut JoinSet<()>, namespace: Option<String>) {
        if let Some(ns) = &namespace {
            info!(namespace = %ns, "Starting informer");
        }
        let scope = controller::Scope {
            namespace,
            label_selector: self.label_selector.clone(),
            skip_recreate: self.skip_recreate,
        };
        set.spawn(controller::run(
            self.ctx.clone(),
            scope,
            self.shutdown.clone(),
        ));
    }

    /// Upstream `startAdditionalNamespaceControllers`: looks each namespace up, at most
    /// [`BOOTSTRAP_CONCURRENCY`] at once, and starts a controller for each that exists (a missing
    /// one is logged and skipped). Any other lookup error fails the bootstrap, once every lookup is
    /// done (the first to fail is reported). The controllers started are returned.
    async fn bootstrap(
        self,
        client: Client,
        namespaces: Vec<String>,
    ) -> Result<JoinSet<()>, RunError> {
        let api: Api<Namespace> = Api::all(client);
        let mut lookups = futures::stream::iter(namespaces)
            .map(|ns| {
                let api = api.clone();
                async move {
                    let found = api.get_opt(&ns).await;
                    (ns, found)
                }
            })
            .buffer_unordered(BOOTSTRAP_CONCURRENCY);
        let mut started = JoinSet::new();
        let mut first_error = None;
        while let Some((ns, found)) = lookups.next().await {
            match found {
                Ok(Some(_)) => self.start(&mut started, Some(ns)),
                Ok(None) => error!(namespace = %ns, "namespace doesn't exist"),
                Err(e) => {
                    first_error.get_or_insert(RunError::GetNamespace(ns, e));
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(started),
        }
    }
}

/// The additional namespaces to look up: all but the controller's own, which the main controller
/// already watches (upstream skips it, and empty items, without a lookup).
fn namespaces_to_probe(additional: &[String], own: &str) -> Vec<String> {
    additional
        .iter()
        .filter(|ns| ns.as_str() != own && !ns.is_empty())
        .cloned()
        .collect()
}

/// The HTTP and metrics servers, once the keys and the main controller are up, before the
/// additional namespaces (as upstream's `Main`).
async fn start_http_servers(
    cfg: &Config,
    addrs: ListenAddrs,
    shared: &Shared,
    prom: Registry,
    ready: Arc<AtomicBool>,
    shutdown: &CancellationToken,
) -> Result<JoinSet<std::io::Result<()>>, RunError> {
    let listen = |addr: &str| {
        let addr = addr.to_string();
        move |e| RunError::Listen(addr, e)
    };
    let main_listener = http::bind_listener(addrs.main)
        .await
        .map_err(listen(&cfg.listen_addr))?;
    let metrics_listener = http::bind_listener(addrs.metrics)
        .await
        .map_err(listen(&cfg.listen_metrics_addr))?;
    let state = http::HttpState {
        keys: shared.keys.clone(),
        metrics: shared.metrics.clone(),
        accept_v1_data: cfg.accept_v1_data,
        rate_limit: cfg.rate_limit,
        rate_limit_burst: cfg.rate_limit_burst,
        ready,
    };
    let mut servers = JoinSet::new();
    servers.spawn(http::serve_main(
        main_listener,
        state,
        cfg.read_timeout,
        cfg.write_timeout,
        shutdown.clone().cancelled_owned(),
    ));
    servers.spawn(http::serve_metrics(
        metrics_listener,
        Arc::new(prom),
        shutdown.clone().cancelled_owned(),
    ));
    info!(addr = %cfg.listen_addr, "HTTP server serving");
    info!(addr = %cfg.listen_metrics_addr, "HTTP metrics server serving");
    Ok(servers)
}

/// Runs the additional-namespace `bootstrap` (then sets `ready`) and serves until SIGTERM/SIGINT,
/// a server exit or a failed bootstrap; then stops the servers and the controllers (waiting up to
/// [`SHUTDOWN_GRACE`] for running requests and reconciles) and the background tasks.
async fn serve_until_stopped(
    shutdown: CancellationToken,
    mut servers: JoinSet<std::io::Result<()>>,
    mut controllers: JoinSet<()>,
    mut background: JoinSet<()>,
    bootstrap: impl Future<Output = Result<JoinSet<()>, RunError>>,
    ready: Arc<AtomicBool>,
) -> Result<(), RunError> {
    let mut signal = std::pin::pin!(shutdown_signal());
    let mut bootstrap = std::pin::pin!(bootstrap);
    let mut bootstrapping = true;
    let mut additional = JoinSet::new();
    let outcome = loop {
        tokio::select! {
            signal = &mut signal => break signal,
            Some(result) = servers.join_next() => break match result {
                Ok(Ok(())) => Err(RunError::ServerStopped),
                Ok(Err(e)) => Err(RunError::ServerFailed(e)),
                Err(e) => Err(RunError::ServerTask(e)),
            },
            started = &mut bootstrap, if bootstrapping => {
                bootstrapping = false;
                match started {
                    Ok(started) => {
                        additional = started;
                        ready.store(true, Ordering::Release);
                    }
                    Err(e) => break Err(e),
                }
            }
        }
    };
    shutdown.cancel();
    let drain = async {
        while servers.join_next().await.is_some() {}
        while controllers.join_next().await.is_some() {}
        while additional.join_next().await.is_some() {}
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        error!("graceful shutdown timed out");
    }
    background.abort_all();
    outcome
}

async fn shutdown_signal() -> Result<(), RunError> {
    let mut term = handler(SignalKind::terminate(), "SIGTERM")?;
    let mut int = handler(SignalKind::interrupt(), "SIGINT")?;
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received, shutting down"),
        _ = int.recv() => info!("SIGINT received, shutting down"),
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::additional_namespaces;

    /// Upstream v0.39.0 `startAdditionalNamespaceControllers`: trimmed items, empty ones and the
    /// own namespace skipped; ours also drops duplicates after trimming.
    #[test]
    fn namespace_list_rule() {
        let probe = |flag: &str, own: &str| namespaces_to_probe(&additional_namespaces(flag), own);
        assert!(probe("", "kube-system").is_empty());
        assert!(probe(",", "kube-system").is_empty());
        assert!(probe("kube-system", "kube-system").is_empty());
        assert_eq!(probe("a,b,", "kube-system"), ["a", "b"]);
        assert_eq!(
            probe(" a, kube-system ,a , b,,a", "kube-system"),
            ["a", "b"]
        );
        assert_eq!(probe("kube-system,a", "a"), ["kube-system"]);
        assert_eq!(probe("b, a", "x"), ["b", "a"]);
    }
}

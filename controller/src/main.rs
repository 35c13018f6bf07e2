//! sealed-secrets-controller: a drop-in replacement for upstream's Sealed Secrets controller.
//!
//! Startup, in the order of upstream's `pkg/controller/main.go` `Main`: flags → logging →
//! Kubernetes client → key registry (load the key Secrets, generate the first key if needed) → key
//! renewal, SIGUSR1 and the key Secret watch → one controller per namespace scope → the HTTP and
//! metrics servers. SIGTERM/SIGINT shut the servers and controllers down gracefully. Startup
//! errors print `error: ...` and exit 1.

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

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

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

/// config -> client -> key registry -> controllers -> HTTP servers, then serve until a signal (or
/// a server failure) and shut down.
async fn run(flags: Flags) -> Result<(), RunError> {
    info!(version = VERSION, "Starting sealed-secrets controller");
    let (cfg, addrs) = load_config(&flags)?;
    let client = kube_client(&cfg).await?;
    let mut prom = Registry::default();
    let shared = Shared {
        metrics: Arc::new(Metrics::new(&mut prom)),
        keys: Arc::new(KeyRegistry::new()),
        recorder: Arc::new(EventRecorder::new(client.clone())),
        clock: Arc::new(SystemClock),
        client,
    };
    let namespace = own_namespace();
    let shutdown = CancellationToken::new();
    let background = start_key_registry(&cfg, &shared, &namespace, &shutdown).await?;
    let controllers = start_controllers(&cfg, &shared, &namespace, &shutdown).await?;
    let servers = start_http_servers(&cfg, addrs, &shared, prom, &shutdown).await?;
    shut_down(shutdown, servers, controllers, background).await
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

/// One controller per namespace scope (upstream `Main`, `prepareController`).
async fn start_controllers(
    cfg: &Config,
    shared: &Shared,
    namespace: &str,
    shutdown: &CancellationToken,
) -> Result<JoinSet<()>, RunError> {
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
    let mut controllers = JoinSet::new();
    for scope in scopes(cfg, &shared.client, namespace).await? {
        if let Some(ns) = &scope.namespace {
            info!(namespace = %ns, "Starting informer");
        }
        controllers.spawn(controller::run(ctx.clone(), scope, shutdown.clone()));
    }
    Ok(controllers)
}

/// The controller instances: all namespaces, or the own namespace plus every existing
/// additional namespace.
async fn scopes(
    cfg: &Config,
    client: &Client,
    own: &str,
) -> Result<Vec<controller::Scope>, RunError> {
    let scope = |namespace: Option<String>| controller::Scope {
        namespace,
        label_selector: cfg.label_selector.clone(),
        skip_recreate: cfg.skip_recreate,
    };
    if cfg.all_namespaces && cfg.additional_namespaces.is_empty() {
        return Ok(vec![scope(None)]);
    }
    let mut out = vec![scope(Some(own.to_string()))];
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in &cfg.additional_namespaces {
        match namespaces.get_opt(ns).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                error!(namespace = %ns, "namespace doesn't exist");
                continue;
            }
            Err(e) => return Err(RunError::GetNamespace(ns.clone(), e)),
        }
        if ns != own {
            out.push(scope(Some(ns.clone())));
        }
    }
    Ok(out)
}

/// The HTTP and metrics servers, once keys and controllers are up (as upstream's `Main`).
async fn start_http_servers(
    cfg: &Config,
    addrs: ListenAddrs,
    shared: &Shared,
    prom: Registry,
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

/// Serves until SIGTERM/SIGINT or a server exits, then stops the servers and the controllers
/// (waiting up to [`SHUTDOWN_GRACE`] for running requests and reconciles) and the background tasks.
async fn shut_down(
    shutdown: CancellationToken,
    mut servers: JoinSet<std::io::Result<()>>,
    mut controllers: JoinSet<()>,
    mut background: JoinSet<()>,
) -> Result<(), RunError> {
    let outcome = tokio::select! {
        signal = shutdown_signal() => signal,
        Some(result) = servers.join_next() => match result {
            Ok(Ok(())) => Err(RunError::ServerStopped),
            Ok(Err(e)) => Err(RunError::ServerFailed(e)),
            Err(e) => Err(RunError::ServerTask(e)),
        },
    };
    shutdown.cancel();
    let drain = async {
        while servers.join_next().await.is_some() {}
        while controllers.join_next().await.is_some() {}
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

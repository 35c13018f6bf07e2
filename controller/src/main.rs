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
mod leader;
mod logging;
mod metrics;
mod qps;
mod ratelimit;
mod reconcile;
mod registry;
mod secret_cache;
mod secret_update;
mod stored;

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
use tracing::{error, info, warn};

use crate::config::{Config, ConfigError, Flags, ParsedFlags};
use crate::events::EventRecorder;
use crate::keymgr::{
    Clock, KeyError, KeyManager, KeySettings, SystemClock, first_renewal_delay, needs_initial_key,
    run_schedule,
};
use crate::metrics::{LeaderMetrics, Metrics};
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
    #[error("leader task failed")]
    LeaderTask,
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

/// config -> client -> key registry -> HTTP servers -> (once leading) main controller and
/// additional-namespace controllers, then serve until a signal (or a server failure) and shut down.
async fn run(flags: Flags) -> Result<(), RunError> {
    // First, so that a SIGTERM at any later point shuts down gracefully.
    let signal = shutdown_signal()?;
    info!(version = VERSION, "Starting sealed-secrets controller");
    let (cfg, addrs) = load_config(&flags)?;
    let client = kube_client(&cfg).await?;
    let mut prom = Registry::default();
    let shared = Shared {
        metrics: Arc::new(Metrics::with_options(
            &mut prom,
            cfg.metrics_omit_secret_labels,
        )),
        leader_metrics: Arc::new(LeaderMetrics::register(&mut prom)),
        keys: Arc::new(KeyRegistry::new()),
        recorder: Arc::new(EventRecorder::new(client.clone())),
        clock: Arc::new(SystemClock),
        leading: Arc::new(AtomicBool::new(false)),
        client,
    };
    let namespace = own_namespace();
    let shutdown = CancellationToken::new();
    let (background, keys) = start_key_registry(&cfg, &shared, &namespace, &shutdown).await?;
    let to_probe = namespaces_to_probe(&cfg.additional_namespaces, &namespace);
    // With leader election every replica serves the API at once; the leader's bootstrap does not
    // gate a follower's readiness.
    let ready = Arc::new(AtomicBool::new(
        to_probe.is_empty() || cfg.leader_election.is_some(),
    ));
    let leader = Leader {
        cfg: Arc::new(cfg),
        shared,
        keys,
        namespace,
        to_probe,
        ready: ready.clone(),
    };
    let servers =
        start_http_servers(&leader.cfg, addrs, &leader.shared, prom, ready, &shutdown).await?;
    let leadership = leader.run(shutdown.clone());
    serve_until_stopped(shutdown, signal, servers, leadership, background).await
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
    let builder = kube::client::ClientBuilder::try_from(kube_config().await?)?;
    Ok(match cfg.kubeclient_qps {
        Some(qps) => builder
            .with_layer(&qps::QpsLayer::new(qps, cfg.kubeclient_burst))
            .build(),
        None => builder.build(),
    })
}

/// The client of the leader election: not behind `--kubeclient-qps`, so that renewing the Lease
/// never waits behind a burst of reconciles (controller-runtime also elects on a client of its
/// own). It makes one request per retry period.
async fn lease_client() -> Result<Client, RunError> {
    Ok(Client::try_from(kube_config().await?)?)
}

async fn kube_config() -> Result<kube::Config, RunError> {
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && std::env::var_os("KUBECONFIG").is_none();
    let config = if in_cluster {
        kube::Config::incluster().map_err(RunError::InCluster)?
    } else {
        kube::Config::infer().await.map_err(RunError::Kubeconfig)?
    };
    Ok(config)
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
#[derive(Clone)]
struct Shared {
    client: Client,
    keys: Arc<KeyRegistry>,
    metrics: Arc<Metrics>,
    leader_metrics: Arc<LeaderMetrics>,
    recorder: Arc<EventRecorder>,
    clock: Arc<dyn Clock>,
    /// This replica reconciles and manages keys (always, without leader election).
    leading: Arc<AtomicBool>,
}

/// The key work only the leader does: the renewal schedule and SIGUSR1's triggers for it.
struct KeyWork {
    manager: Arc<KeyManager>,
    triggers: Arc<tokio::sync::Mutex<mpsc::Receiver<()>>>,
}

/// Loads the key Secrets (upstream `initKeyRegistry`), generates the first key if needed
/// (`initKeyRenewal`; with leader election the leader does that once elected), then starts
/// SIGUSR1 (`initKeyGenSignalListener`) and the key Secret watch, in the returned set.
async fn start_key_registry(
    cfg: &Config,
    shared: &Shared,
    namespace: &str,
    shutdown: &CancellationToken,
) -> Result<(JoinSet<()>, KeyWork), RunError> {
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
    if cfg.leader_election.is_none() {
        generate_initial_key(cfg, shared, &key_manager).await?;
    }

    let mut background = JoinSet::new();
    let (trigger_tx, trigger_rx) = mpsc::channel::<()>(4);
    let mut usr1 = handler(SignalKind::user_defined1(), "SIGUSR1")?;
    let usr1_shutdown = shutdown.clone();
    let leading = shared.leading.clone();
    background.spawn(async move {
        loop {
            tokio::select! {
                _ = usr1_shutdown.cancelled() => return,
                got = usr1.recv() => match got {
                    Some(()) if leading.load(Ordering::Acquire) => {
                        info!("SIGUSR1 received, generating a new key");
                        let _ = trigger_tx.try_send(());
                    }
                    Some(()) => info!("SIGUSR1 received, but this replica is not the leader: no key generated"),
                    None => return,
                },
            }
        }
    });
    // Key Secrets added while running (a restore, a bring-your-own key, the leader's new key).
    background.spawn(key_manager.clone().watch(shutdown.clone()));
    Ok((
        background,
        KeyWork {
            manager: key_manager,
            triggers: Arc::new(tokio::sync::Mutex::new(trigger_rx)),
        },
    ))
}

async fn generate_initial_key(
    cfg: &Config,
    shared: &Shared,
    key_manager: &KeyManager,
) -> Result<(), RunError> {
    if needs_initial_key(shared.keys.latest_order_time(), cfg.key_cutoff_time) {
        key_manager
            .generate()
            .await
            .map_err(RunError::GenerateKey)?;
    }
    Ok(())
}

/// The leader's work and the election that decides when this replica does it.
struct Leader {
    cfg: Arc<Config>,
    shared: Shared,
    keys: KeyWork,
    namespace: String,
    to_probe: Vec<String>,
    ready: Arc<AtomicBool>,
}

impl Leader {
    /// Without `--leader-elect` (or with Leases forbidden) this replica leads until `shutdown`;
    /// with it, it leads whenever it holds the Lease. Returns after `shutdown` once the work has
    /// stopped (and the Lease is released), or with the error that stopped the work.
    async fn run(self, shutdown: CancellationToken) -> Result<(), RunError> {
        let Some(election) = self.cfg.leader_election.clone() else {
            return self.lead_alone(shutdown).await;
        };
        let settings = leader::LeaseSettings {
            namespace: self.namespace.clone(),
            name: election.lease_name.clone(),
            identity: leader::identity(
                std::env::var("POD_NAME").ok().as_deref(),
                std::env::var("HOSTNAME").ok().as_deref(),
                self.shared.clock.now(),
            ),
            lease_duration: election.lease_duration,
            renew_deadline: election.renew_deadline,
            retry_period: election.retry_period,
        };
        let mut elector =
            leader::Elector::new(lease_client().await?, settings, self.shared.clock.clone());
        let this = Arc::new(self);
        loop {
            info!(lease = %election.lease_name, identity = %elector.identity(), "waiting to become the leader");
            match elector.acquire(&shutdown).await {
                None => return Ok(()),
                Some(leader::Attempt::Forbidden) => {
                    warn!(
                        lease = %election.lease_name,
                        "leader election disabled: no permission on the Lease (RBAC without coordination.k8s.io leases); running as a single instance, run one replica only"
                    );
                    this.shared.leader_metrics.set_unavailable();
                    return this.lead_alone(shutdown).await;
                }
                Some(_) => {}
            }
            info!(lease = %election.lease_name, identity = %elector.identity(), "became the leader");
            this.set_leading(true);
            let work_token = shutdown.child_token();
            let work_done = CancellationToken::new();
            let mut work = tokio::spawn({
                let (this, token, done) = (this.clone(), work_token.clone(), work_done.clone());
                async move {
                    let result = this.lead(token).await;
                    done.cancel();
                    result
                }
            });
            let end = elector
                .hold(async {
                    tokio::select! {
                        () = shutdown.cancelled() => {}
                        () = work_done.cancelled() => {}
                    }
                })
                .await;
            work_token.cancel();
            let result = match end {
                leader::HoldEnd::Done => {
                    // Still renewing while the reconciles finish, then handing over at once.
                    elector.hold(work_done.cancelled()).await;
                    let result = (&mut work).await;
                    elector.release().await;
                    result
                }
                leader::HoldEnd::Lost => {
                    error!(lease = %election.lease_name, "lost the leader election Lease, stopping");
                    // Others may take over once the lease duration has passed since the last
                    // renewal, the renew deadline ago: stop well within the rest.
                    let margin = election
                        .lease_duration
                        .saturating_sub(election.renew_deadline)
                        / 2;
                    match tokio::time::timeout(margin, &mut work).await {
                        Ok(result) => result,
                        Err(_) => {
                            work.abort();
                            Ok(Ok(()))
                        }
                    }
                }
            };
            this.set_leading(false);
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(RunError::LeaderTask),
            }
            if shutdown.is_cancelled() {
                return Ok(());
            }
        }
    }

    async fn lead_alone(&self, shutdown: CancellationToken) -> Result<(), RunError> {
        self.set_leading(true);
        self.lead(shutdown).await
    }

    fn set_leading(&self, leading: bool) {
        self.shared.leading.store(leading, Ordering::Release);
        self.shared.leader_metrics.set_leading(leading);
        if !leading {
            self.shared.metrics.forget_sealed_secrets();
        }
    }

    /// The leader's work until `stop`: the first key if needed, key renewal, the main controller,
    /// then the additional-namespace controllers (upstream `Main`'s order). Running reconciles
    /// get up to [`SHUTDOWN_GRACE`] to finish.
    async fn lead(&self, stop: CancellationToken) -> Result<(), RunError> {
        let (cfg, shared) = (&self.cfg, &self.shared);
        if cfg.leader_election.is_some() {
            generate_initial_key(cfg, shared, &self.keys.manager).await?;
        }
        // Ends with `stop`, or when the work fails (without stopping the HTTP servers: the error
        // is the exit's cause).
        let work = stop.child_token();
        let mut renewal = JoinSet::new();
        let delay = first_renewal_delay(
            cfg.key_renew_period,
            shared.keys.latest_order_time(),
            shared.clock.now(),
        );
        let (renewer, triggers, period, token) = (
            self.keys.manager.clone(),
            self.keys.triggers.clone(),
            cfg.key_renew_period,
            work.clone(),
        );
        renewal.spawn(async move {
            let mut triggers = triggers.lock().await;
            run_schedule(delay, period, &mut triggers, token, move || {
                let renewer = renewer.clone();
                async move { renewer.renew().await }
            })
            .await;
        });
        let controllers = Controllers::new(cfg, shared, &work);
        let main_scope =
            (!cfg.all_namespaces || cfg.additional_namespaces_set).then(|| self.namespace.clone());
        let mut running = JoinSet::new();
        controllers.start(&mut running, main_scope);
        let bootstrap = controllers.bootstrap(shared.client.clone(), self.to_probe.clone());
        let mut additional = JoinSet::new();
        let outcome = tokio::select! {
            () = stop.cancelled() => Ok(()),
            started = bootstrap => match started {
                Ok(started) => {
                    additional = started;
                    self.ready.store(true, Ordering::Release);
                    stop.cancelled().await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
        };
        work.cancel();
        let drain = async {
            while running.join_next().await.is_some() {}
            while additional.join_next().await.is_some() {}
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
            error!("graceful shutdown timed out");
        }
        renewal.abort_all();
        outcome
    }
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

/// Serves until SIGTERM/SIGINT, a server exit or a failure of the leader's work; then stops the
/// servers and the leader's work (which waits up to [`SHUTDOWN_GRACE`] for running reconciles
/// and releases the Lease) and the background tasks.
async fn serve_until_stopped(
    shutdown: CancellationToken,
    signal: impl Future<Output = ()>,
    mut servers: JoinSet<std::io::Result<()>>,
    leadership: impl Future<Output = Result<(), RunError>>,
    mut background: JoinSet<()>,
) -> Result<(), RunError> {
    let mut signal = std::pin::pin!(signal);
    let mut leadership = std::pin::pin!(leadership);
    let mut led = None;
    let outcome = loop {
        tokio::select! {
            () = &mut signal => break Ok(()),
            Some(result) = servers.join_next() => break match result {
                Ok(Ok(())) => Err(RunError::ServerStopped),
                Ok(Err(e)) => Err(RunError::ServerFailed(e)),
                Err(e) => Err(RunError::ServerTask(e)),
            },
            result = &mut leadership, if led.is_none() => {
                led = Some(());
                if let Err(e) = result {
                    break Err(e);
                }
            }
        }
    };
    shutdown.cancel();
    let drain = async {
        while servers.join_next().await.is_some() {}
        if led.is_none() {
            // The leader's work bounds its own drain; a failure after a signal is only logged.
            if let Err(e) = leadership.await {
                error!(error = %e, "controller stopped with an error");
            }
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(2), drain)
        .await
        .is_err()
    {
        error!("graceful shutdown timed out");
    }
    background.abort_all();
    outcome
}

/// Installs the SIGTERM and SIGINT handlers now; the returned future resolves on either.
fn shutdown_signal() -> Result<impl Future<Output = ()>, RunError> {
    let mut term = handler(SignalKind::terminate(), "SIGTERM")?;
    let mut int = handler(SignalKind::interrupt(), "SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => info!("SIGTERM received, shutting down"),
            _ = int.recv() => info!("SIGINT received, shutting down"),
        }
    })
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

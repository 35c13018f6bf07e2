//! sealed-secrets-controller: a drop-in replacement for upstream's Sealed Secrets controller.
//!
//! Startup (spec §3, §4.1, §5.1): flags → logging → Kubernetes client → key registry (load the
//! key Secrets, generate the first key if needed) → key renewal, SIGUSR1 and the key Secret watch →
//! one controller per namespace scope → the HTTP and metrics servers. SIGTERM/SIGINT shut the
//! servers and controllers down gracefully. Startup errors print `error: ...` and exit 1.

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

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::Api;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::config::{Config, Flags, ParsedFlags};
use crate::events::EventRecorder;
use crate::keymgr::{
    Clock, KeyManager, KeySettings, SystemClock, first_renewal_delay, needs_initial_key,
    run_schedule,
};
use crate::metrics::Metrics;
use crate::registry::KeyRegistry;

/// `controller version: v<crate version>` (spec §10 C23).
const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
/// How long running reconciles and requests may take to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let parsed = ParsedFlags::parse_from(std::env::args_os());
    let flags = &parsed.flags;
    if let Err(e) = logging::init(&flags.log_level, &flags.log_format, flags.log_info_stdout) {
        eprintln!("error: cannot set up logging: {e}");
        return ExitCode::FAILURE;
    }
    if flags.version {
        println!("controller version: {VERSION}");
        return ExitCode::SUCCESS;
    }
    if parsed.rotate_period_used {
        eprintln!("Flag --rotate-period has been deprecated, please use key-renew-period instead");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(parsed.flags));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %format!("{e:#}"), "controller failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The controller's own namespace: `POD_NAMESPACE`, else the service account's, else `default`.
fn own_namespace() -> String {
    if let Ok(ns) = std::env::var("POD_NAMESPACE")
        && !ns.is_empty()
    {
        return ns;
    }
    if let Ok(data) = std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE) {
        let ns = data.trim();
        if !ns.is_empty() {
            return ns.to_string();
        }
    }
    "default".to_string()
}

/// In a pod the in-cluster config; otherwise (development) `KUBECONFIG` / `~/.kube/config`.
async fn kube_client(cfg: &Config) -> anyhow::Result<Client> {
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && std::env::var_os("KUBECONFIG").is_none();
    let config = if in_cluster {
        kube::Config::incluster().context("in-cluster configuration")?
    } else {
        kube::Config::infer()
            .await
            .context("Kubernetes client configuration")?
    };
    let builder = kube::client::ClientBuilder::try_from(config)?;
    Ok(match cfg.kubeclient_qps {
        Some(qps) => builder
            .with_layer(&qps::QpsLayer::new(qps, cfg.kubeclient_burst))
            .build(),
        None => builder.build(),
    })
}

/// The controller instances (spec §4.1): all namespaces, or the own namespace plus every existing
/// additional namespace.
async fn scopes(
    cfg: &Config,
    client: &Client,
    own: &str,
) -> anyhow::Result<Vec<controller::Scope>> {
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
            Err(e) => return Err(e).with_context(|| format!("cannot get namespace {ns}")),
        }
        if ns != own {
            out.push(scope(Some(ns.clone())));
        }
    }
    Ok(out)
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received, shutting down"),
        _ = int.recv() => info!("SIGINT received, shutting down"),
    }
    Ok(())
}

async fn run(flags: Flags) -> anyhow::Result<()> {
    info!(version = VERSION, "Starting sealed-secrets controller");
    let cfg = Config::from_flags(&flags)?;
    if let Some(bad) = &cfg.invalid_key_order_priority {
        error!(keyOrderPriority = %bad, "Invalid keyOrderPriority. Use CertNotBefore or SecretCreationTimestamp");
    }
    let main_addr = http::parse_listen_addr(&cfg.listen_addr).map_err(anyhow::Error::msg)?;
    let metrics_addr =
        http::parse_listen_addr(&cfg.listen_metrics_addr).map_err(anyhow::Error::msg)?;

    let client = kube_client(&cfg).await?;
    let namespace = own_namespace();
    let mut prom = prometheus_client::registry::Registry::default();
    let metrics = Arc::new(Metrics::new(&mut prom));
    let prom = Arc::new(prom);
    let keys = Arc::new(KeyRegistry::new());
    let recorder = Arc::new(EventRecorder::new(client.clone()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    // Keys (spec §3.2, §3.5 step 1).
    let key_manager = Arc::new(KeyManager::new(
        client.clone(),
        KeySettings {
            namespace: namespace.clone(),
            prefix: cfg.key_prefix.clone(),
            key_size: cfg.key_size,
            ttl: cfg.key_ttl,
            common_name: cfg.my_cn.clone(),
            labels: cfg.privatekey_labels.clone(),
            annotations: cfg.privatekey_annotations.clone(),
            order: cfg.key_order,
        },
        keys.clone(),
        recorder.clone(),
        clock.clone(),
        metrics.clone(),
    ));
    key_manager
        .load_existing()
        .await
        .context("cannot load the sealing keys")?;
    if needs_initial_key(keys.latest_order_time(), cfg.key_cutoff_time) {
        key_manager
            .generate()
            .await
            .context("cannot generate the sealing key")?;
    }

    let shutdown = CancellationToken::new();
    let mut background = JoinSet::new();

    // Renewal timer and SIGUSR1 (spec §3.5 steps 2-4).
    let (trigger_tx, trigger_rx) = mpsc::channel::<()>(4);
    let delay = first_renewal_delay(cfg.key_renew_period, keys.latest_order_time(), clock.now());
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
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        .context("SIGUSR1 handler")?;
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
    background.spawn(key_manager.clone().watch(shutdown.clone()));

    // Controllers (spec §4.1).
    let ctx = Arc::new(reconcile::Context::new(
        client.clone(),
        keys.clone(),
        metrics.clone(),
        recorder.clone(),
        clock.clone(),
        reconcile::Settings {
            accept_v1_data: cfg.accept_v1_data,
            update_status: cfg.update_status,
            old_gc_behavior: cfg.old_gc_behavior,
            max_unseal_retries: cfg.max_unseal_retries,
        },
    ));
    let mut controllers = JoinSet::new();
    for scope in scopes(&cfg, &client, &namespace).await? {
        if let Some(ns) = &scope.namespace {
            info!(namespace = %ns, "Starting informer");
        }
        controllers.spawn(controller::run(ctx.clone(), scope, shutdown.clone()));
    }

    // HTTP servers, once keys and controllers are up (spec §5.1).
    let main_listener = http::bind_listener(main_addr)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen_addr))?;
    let metrics_listener = http::bind_listener(metrics_addr)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen_metrics_addr))?;
    let state = http::HttpState {
        keys: keys.clone(),
        metrics: metrics.clone(),
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
        prom,
        shutdown.clone().cancelled_owned(),
    ));
    info!(addr = %cfg.listen_addr, "HTTP server serving");
    info!(addr = %cfg.listen_metrics_addr, "HTTP metrics server serving");

    let outcome = tokio::select! {
        signal = shutdown_signal() => signal,
        Some(result) = servers.join_next() => match result {
            Ok(Ok(())) => Err(anyhow::anyhow!("HTTP server stopped unexpectedly")),
            Ok(Err(e)) => Err(anyhow::Error::new(e).context("HTTP server failed")),
            Err(e) => Err(anyhow::Error::new(e).context("HTTP server task failed")),
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

//! The controller's HTTP listeners (upstream `pkg/controller/server.go` `httpserver`,
//! `httpserverMetrics`): the main API (`/healthz`, `/readyz`, `/v1/cert.pem`, `/v1/verify`,
//! `/v1/rotate`) and the metrics endpoint (`/metrics`).
//!
//! Security (docs/security.md): `/v1/verify` and `/v1/rotate` never execute `spec.template.data`;
//! rotate re-seals with the scope of the SealedSecret object's own metadata; their failures are
//! uniform (an empty 409 or 500 whichever step failed) and logged without plaintext or request
//! bodies. RSA work runs on the blocking pool, at most one job per CPU at a time.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use sealed_secrets::decode::sealed_secret_from_request;
use sealed_secrets::reseal::{reseal, template_metadata_differs, to_response};
use sealed_secrets::unseal::verify;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::metrics::Metrics;
use crate::ratelimit::{RateLimiter, bucket_key};
use crate::registry::KeyRegistry;

const HEALTHZ_PATH: &str = "/healthz";
const READYZ_PATH: &str = "/readyz";
const CERT_PATH: &str = "/v1/cert.pem";
const VERIFY_PATH: &str = "/v1/verify";
const ROTATE_PATH: &str = "/v1/rotate";
const METRICS_PATH: &str = "/metrics";

/// Largest request body `/v1/verify` and `/v1/rotate` read (upstream reads without limit). Anything
/// larger could not be stored in etcd (1.5 MiB request limit) anyway. Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Upstream's `--read-timeout`/`--write-timeout` defaults, also applied to the metrics listener.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// Upstream `keyregistry.go`'s error for a registry without keys (`getCert`, `latestPrivateKey`).
const NO_KEYS: &str = "key registry has no keys";

/// What the main listener needs from the rest of the controller.
#[derive(Debug, Clone)]
pub struct HttpState {
    pub keys: Arc<KeyRegistry>,
    pub metrics: Arc<Metrics>,
    /// `--accept-deprecated-v1-data`.
    pub accept_v1_data: bool,
    /// `--rate-limit`: sustained requests per second on `/v1/verify` and `/v1/rotate`, per client
    /// and path (0 is treated as 1).
    pub rate_limit: u32,
    /// `--rate-limit-burst`.
    pub rate_limit_burst: u32,
    /// Set once the additional-namespace controllers are started; `/readyz` answers 503 until then.
    pub ready: Arc<AtomicBool>,
}

/// Per-router state built from [`HttpState`].
#[derive(Debug, Clone)]
struct App {
    keys: Arc<KeyRegistry>,
    metrics: Arc<Metrics>,
    accept_v1_data: bool,
    limiter: Arc<RateLimiter>,
    ready: Arc<AtomicBool>,
    /// Bounds concurrent RSA jobs so that a burst of requests cannot occupy the whole blocking pool.
    crypto_slots: Arc<Semaphore>,
    body_read_timeout: Option<Duration>,
    /// The rate limiter's clock: `Instant::now`; frozen in unit tests, so that their header
    /// arithmetic does not depend on how fast the machine runs the requests.
    now: fn() -> Instant,
}

/// Parses a listen address the way Go's `net.Listen("tcp", addr)` reads it: `host:port` where an
/// empty host means every interface (`:8080` → `[::]:8080`, dual-stack on Linux; see
/// [`bind_listener`]), an IPv6 host is bracketed, `localhost`/host names are resolved (IPv4 first) and
/// an empty port means any free port.
pub fn parse_listen_addr(s: &str) -> Result<SocketAddr, String> {
    let err = |why: &str| format!("address {s}: {why}");
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| err("missing port in address"))?;
    let port: u16 = if port.is_empty() {
        0
    } else if port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse().map_err(|_| err("invalid port"))?
    } else {
        return Err(err("unknown port"));
    };
    let host = if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| err("missing ']' in address"))?;
        let ip: Ipv6Addr = inner.parse().map_err(|_| err("invalid IPv6 address"))?;
        return Ok(SocketAddr::new(IpAddr::V6(ip), port));
    } else {
        host
    };
    if host.contains([':', '[', ']']) {
        return Err(err("too many colons in address"));
    }
    if host.is_empty() {
        return Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(SocketAddr::new(IpAddr::V4(ip), port));
    }
    let resolved: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| err(&format!("cannot resolve host: {e}")))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| err("no suitable address found"))
}

/// Binds `addr`; for the IPv6 wildcard (what [`parse_listen_addr`] gives for an empty host) falls back
/// to `0.0.0.0` on a host without IPv6, as Go does.
pub async fn bind_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    match TcpListener::bind(addr).await {
        Err(e)
            if addr.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                && !matches!(
                    e.kind(),
                    std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied
                ) =>
        {
            let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), addr.port());
            TcpListener::bind(v4).await.map_err(|_| e)
        }
        other => other,
    }
}

/// Main server: `/healthz`, `/readyz`, `/v1/cert.pem`, `/v1/verify`, `/v1/rotate` (exact paths,
/// any method);
/// other paths 404. `read_timeout` bounds reading the request head (and waiting on an idle
/// keep-alive connection) and the body; `write_timeout` bounds producing the response, after which the
/// connection is closed without an answer (Go's `WriteTimeout`). Zero disables a timeout, as in Go.
/// Returns once `shutdown` resolves and in-flight requests have finished.
pub async fn serve_main(
    listener: TcpListener,
    state: HttpState,
    read_timeout: Duration,
    write_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let read_timeout = non_zero(read_timeout);
    let app = router_with(state, read_timeout, Instant::now);
    serve(
        listener,
        app,
        read_timeout,
        non_zero(write_timeout),
        shutdown,
    )
    .await
}

/// Metrics server: `/metrics` (OpenMetrics text of `registry`, any method), other paths 404. Uses
/// upstream's default 2 minute read/write timeouts.
pub async fn serve_metrics(
    listener: TcpListener,
    registry: Arc<prometheus_client::registry::Registry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = metrics_router(registry);
    serve(
        listener,
        app,
        Some(DEFAULT_TIMEOUT),
        Some(DEFAULT_TIMEOUT),
        shutdown,
    )
    .await
}

fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// The main API's routes, with upstream's default body read timeout and the rate limiter's clock
/// stopped (no refill between a test's requests).
#[cfg(test)]
pub(crate) fn router(state: HttpState) -> Router {
    fn frozen() -> Instant {
        static T: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *T.get_or_init(Instant::now)
    }
    router_with(state, Some(DEFAULT_TIMEOUT), frozen)
}

fn router_with(
    state: HttpState,
    body_read_timeout: Option<Duration>,
    now: fn() -> Instant,
) -> Router {
    let slots = std::thread::available_parallelism().map_or(1, |n| n.get());
    let app = App {
        limiter: Arc::new(RateLimiter::new(state.rate_limit, state.rate_limit_burst)),
        keys: state.keys,
        metrics: state.metrics,
        accept_v1_data: state.accept_v1_data,
        ready: state.ready,
        crypto_slots: Arc::new(Semaphore::new(slots)),
        body_read_timeout,
        now,
    };
    Router::new()
        .route(HEALTHZ_PATH, any(healthz))
        .route(READYZ_PATH, any(readyz))
        .route(CERT_PATH, any(cert))
        .route(VERIFY_PATH, any(verify_handler))
        .route(ROTATE_PATH, any(rotate_handler))
        .fallback(not_found)
        .with_state(app)
}

fn metrics_router(registry: Arc<prometheus_client::registry::Registry>) -> Router {
    Router::new()
        .route(METRICS_PATH, any(metrics_handler))
        .fallback(not_found)
        .with_state(registry)
}

/// Accepts connections until `shutdown` resolves, then stops accepting, lets every connection finish
/// its in-flight request and closes idle ones. HTTP/1.1 only, as upstream's plain `net/http` server.
async fn serve(
    listener: TcpListener,
    app: Router,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Typically EMFILE: back off instead of spinning (Go sleeps up to 1 s too).
                tracing::error!(error = %e, "HTTP server cannot accept connections");
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |req: hyper::Request<hyper::body::Incoming>| {
                let response = app.clone().oneshot(req);
                async move {
                    let Some(limit) = write_timeout else {
                        return response.await.map_err(|never| match never {});
                    };
                    match tokio::time::timeout(limit, response).await {
                        Ok(done) => done.map_err(|never| match never {}),
                        Err(_) => {
                            tracing::warn!(
                                "HTTP response not ready within the write timeout, closing connection"
                            );
                            Err(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "write timeout",
                            ))
                        }
                    }
                }
            },
        );
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(read_timeout);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "HTTP connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Go's `http.Error`: the message plus a newline, as plain text.
fn http_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        format!("{message}\n"),
    )
        .into_response()
}

async fn not_found() -> Response {
    http_error(StatusCode::NOT_FOUND, "404 page not found")
}

/// Liveness: always `ok` once the listener is up.
async fn healthz() -> Response {
    ([(header::CONTENT_TYPE, TEXT_PLAIN)], "ok\n").into_response()
}

/// Readiness (upstream `httpserver`'s `/readyz`): 503 `not ready` until the additional-namespace
/// controllers are started, then `ok`. Neither rate limited nor instrumented.
async fn readyz(State(app): State<App>) -> Response {
    if app.ready.load(Ordering::Acquire) {
        ([(header::CONTENT_TYPE, TEXT_PLAIN)], "ok\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, TEXT_PLAIN)],
            "not ready\n",
        )
            .into_response()
    }
}

/// client_golang's `InstrumentHandlerDuration(InstrumentHandlerCounter(...))` around a handler.
async fn instrumented(
    app: &App,
    path: &str,
    method: &Method,
    handler: impl Future<Output = Response>,
) -> Response {
    let start = Instant::now();
    let response = handler.await;
    app.metrics.http_request(
        path,
        method.as_str(),
        response.status().as_u16(),
        start.elapsed(),
    );
    response
}

async fn cert(State(app): State<App>, method: Method) -> Response {
    instrumented(&app, CERT_PATH, &method, async {
        let pem = app.keys.read().latest().map(|k| k.certificate.pem.clone());
        match pem {
            Some(pem) => ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response(),
            None => {
                tracing::error!(error = NO_KEYS, "cannot get certificates");
                http_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot get certificate")
            }
        }
    })
    .await
}

/// throttled's `HTTPRateLimiter.RateLimit` around `handler` (one limiter for `/v1/verify` and
/// `/v1/rotate`, a bucket per client and path): the rate limit headers on every answer; when
/// denied, 429 `limit exceeded` without running `handler` (the body is read and dropped).
async fn rate_limited<F, Fut>(app: &App, path: &str, request: Request, handler: F) -> Response
where
    F: FnOnce(Body) -> Fut,
    Fut: Future<Output = Response>,
{
    let decision = app
        .limiter
        .check(&bucket_key(path, request.headers()), (app.now)());
    let mut response = if decision.allowed {
        handler(request.into_body()).await
    } else {
        discard_body(request.into_body(), app.body_read_timeout).await;
        http_error(StatusCode::TOO_MANY_REQUESTS, "limit exceeded")
    };
    decision.write_headers(response.headers_mut());
    response
}

async fn verify_handler(State(app): State<App>, request: Request) -> Response {
    let method = request.method().clone();
    let limited = rate_limited(&app, VERIFY_PATH, request, |body| {
        verify_request(&app, body)
    });
    instrumented(&app, VERIFY_PATH, &method, limited).await
}

async fn verify_request(app: &App, body: Body) -> Response {
    let body = match read_body(body, app.body_read_timeout, VERIFY_PATH).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let keys = Arc::clone(&app.keys);
    let accept_v1_data = app.accept_v1_data;
    let outcome = run_blocking(app, move || {
        let ss = sealed_secret_from_request(&body).map_err(|e| e.to_string())?;
        // Only checks that every item decrypts; templates are never executed (docs/security.md).
        let ring = keys.read();
        Ok(verify(&ss, &*ring, accept_v1_data))
    })
    .await;
    match outcome {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => StatusCode::CONFLICT.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Error validating secret");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn rotate_handler(State(app): State<App>, request: Request) -> Response {
    let method = request.method().clone();
    // kubeseal --re-encrypt-path (docs/operations.md): items the latest key already decrypts keep
    // their ciphertext. Upstream has no query; its kubeseal sends none.
    let keep_current = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "keepCurrentItems=true"));
    let limited = rate_limited(&app, ROTATE_PATH, request, |body| {
        rotate_request(&app, body, keep_current)
    });
    instrumented(&app, ROTATE_PATH, &method, limited).await
}

async fn rotate_request(app: &App, body: Body, keep_current: bool) -> Response {
    let body = match read_body(body, app.body_read_timeout, ROTATE_PATH).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let keys = Arc::clone(&app.keys);
    let accept_v1_data = app.accept_v1_data;
    match run_blocking(app, move || {
        rotate(&body, &keys, accept_v1_data, keep_current)
    })
    .await
    {
        // Upstream writes the status before setting the JSON type, so net/http sniffs text/plain.
        Ok(json) => ([(header::CONTENT_TYPE, TEXT_PLAIN)], json).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Error rotating secret");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Re-encrypts `body` with the latest key (the core's [`reseal`]). The error texts are upstream's
/// and never carry plaintext; the HTTP answer does not show them.
fn rotate(
    body: &[u8],
    keys: &KeyRegistry,
    accept_v1_data: bool,
    keep_current: bool,
) -> Result<String, String> {
    let ss = sealed_secret_from_request(body).map_err(|e| e.to_string())?;
    let original = keep_current.then(|| ss.clone());
    if template_metadata_differs(&ss) {
        tracing::warn!(
            "Sealed Secret metadata doesn't match. Please align your Sealed Secret metadata"
        );
    }
    let ring = keys.read();
    let mut resealed = reseal(ss, &ring, accept_v1_data).map_err(|e| e.to_string())?;
    if let (Some(original), Some(latest)) = (original, ring.latest()) {
        sealed_secrets::rewrite::keep_current_items(&original, &mut resealed, &latest.private_key);
    }
    to_response(&resealed).map_err(|e| e.to_string())
}

/// Reads the whole body: 413 above [`MAX_BODY_BYTES`], 400 on a read error or timeout (upstream's
/// `io.ReadAll` failure).
async fn read_body(body: Body, timeout: Option<Duration>, path: &str) -> Result<Bytes, Response> {
    let collect = Limited::new(body, MAX_BODY_BYTES).collect();
    let collected = match timeout {
        Some(limit) => match tokio::time::timeout(limit, collect).await {
            Ok(collected) => collected,
            Err(_) => {
                tracing::error!(path, error = "read timeout", "Error handling request");
                return Err(StatusCode::BAD_REQUEST.into_response());
            }
        },
        None => collect.await,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            tracing::error!(path, limit = MAX_BODY_BYTES, "Request body too large");
            Err(StatusCode::PAYLOAD_TOO_LARGE.into_response())
        }
        Err(e) => {
            tracing::error!(path, error = %e, "Error handling request");
            Err(StatusCode::BAD_REQUEST.into_response())
        }
    }
}

/// Reads and drops the body of a request answered without it (a 429), as Go's server does before
/// answering: a connection closed with request bytes still unread is reset, and a client that is
/// still sending, such as the API server's service proxy, loses the answer (its user saw a 503
/// `error trying to reach service: ... broken pipe` instead of the 429).
async fn discard_body(body: Body, timeout: Option<Duration>) {
    let drain = async {
        let mut body = Limited::new(body, MAX_BODY_BYTES);
        while let Some(Ok(_)) = body.frame().await {}
    };
    match timeout {
        Some(limit) => {
            let _ = tokio::time::timeout(limit, drain).await;
        }
        None => drain.await,
    }
}

/// Runs CPU-bound work (parsing, RSA) on the blocking pool, at most one job per CPU at a time.
async fn run_blocking<T: Send + 'static>(
    app: &App,
    job: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let permit = Arc::clone(&app.crypto_slots)
        .acquire_owned()
        .await
        .map_err(|e| format!("internal error: {e}"))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        job()
    })
    .await
    .map_err(|e| format!("internal error: {e}"))?
}

async fn metrics_handler(
    State(registry): State<Arc<prometheus_client::registry::Registry>>,
) -> Response {
    match crate::metrics::encode(&registry) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                crate::metrics::OPENMETRICS_CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode metrics");
            http_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot encode metrics")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::SystemTime;

    use axum::http::HeaderMap;
    use go_semantics::base64::encode as base64_encode;
    use goyaml::to_json_compact;
    use sealed_secrets::keys::{Certificate, PrivateKey, SealingKeyPair};
    use sealed_secrets::scope::{CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION};
    use sealed_secrets::types::Secret;
    use sealed_secrets::types::{API_VERSION, KIND, SealedSecret};
    use sealed_secrets::unseal::{UnsealOptions, unseal};
    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const CERT: &[u8] = include_bytes!("../../tests/fixtures/keys/cert.pem");
    const KEY: &[u8] = include_bytes!("../../tests/fixtures/keys/key-pkcs1.pem");

    fn vector(name: &str) -> Value {
        let text = match name {
            "strict" => include_str!("../../tests/fixtures/vectors/upstream-strict.json"),
            "namespace-wide" => {
                include_str!("../../tests/fixtures/vectors/upstream-namespace-wide.json")
            }
            "cluster-wide" => {
                include_str!("../../tests/fixtures/vectors/upstream-cluster-wide.json")
            }
            "template" => {
                include_str!("../../tests/fixtures/vectors/upstream-strict-template.json")
            }
            other => panic!("no vector {other}"),
        };
        serde_json::from_str(text).unwrap()
    }

    fn key_pair() -> SealingKeyPair {
        SealingKeyPair {
            private_key: PrivateKey::from_pem(KEY).unwrap(),
            certificate: Certificate::from_pem(CERT).unwrap(),
            order_time: SystemTime::UNIX_EPOCH,
        }
    }

    fn state(with_key: bool, metrics: Arc<Metrics>) -> HttpState {
        let keys = KeyRegistry::new();
        if with_key {
            assert!(keys.add(key_pair()));
        }
        HttpState {
            keys: Arc::new(keys),
            metrics,
            accept_v1_data: true,
            rate_limit: 2,
            rate_limit_burst: 2,
            ready: Arc::new(AtomicBool::new(true)),
        }
    }

    fn app() -> Router {
        router(state(true, Arc::new(Metrics::default())))
    }

    struct Reply {
        status: StatusCode,
        headers: HeaderMap,
        body: String,
    }

    async fn call_with(
        router: &Router,
        method: &str,
        path: &str,
        body: Vec<u8>,
        xff: &str,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if !xff.is_empty() {
            request = request.header("X-Forwarded-For", xff);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn post(router: &Router, path: &str, body: impl Into<Vec<u8>>) -> Reply {
        // A distinct client per call, so that verify tests do not run into the rate limiter.
        static CLIENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = CLIENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        call_with(router, "POST", path, body.into(), &format!("10.0.0.{n}")).await
    }

    fn json_body(v: &Value) -> Vec<u8> {
        to_json_compact(v).into_bytes()
    }

    fn decrypting_ring() -> sealed_secrets::keys::KeyRing {
        let mut ring = sealed_secrets::keys::KeyRing::new();
        ring.add(key_pair());
        ring
    }

    /// Unseals without templates with the fixture key.
    fn unseal_value(v: &Value) -> Result<Secret, sealed_secrets::Error> {
        let ss: SealedSecret = serde_json::from_value(v.clone()).unwrap();
        unseal(
            &ss,
            &decrypting_ring(),
            UnsealOptions {
                accept_v1_data: true,
                render_templates: false,
            },
        )
    }

    /// The rotate output, with TypeMeta re-added as kubeseal does.
    async fn rotate_ok(router: &Router, input: &Value) -> Value {
        let reply = post(router, ROTATE_PATH, json_body(input)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.headers[header::CONTENT_TYPE], TEXT_PLAIN);
        let out: Value = serde_json::from_str(&reply.body).unwrap();
        assert!(
            out.get("kind").is_none() && out.get("apiVersion").is_none(),
            "{out}"
        );
        let mut with_type = json!({"kind": KIND, "apiVersion": API_VERSION});
        for (k, v) in out.as_object().unwrap() {
            with_type[k] = v.clone();
        }
        with_type
    }

    fn data_of(secret: &Secret, key: &str) -> Vec<u8> {
        secret.data[key].as_bytes().to_vec()
    }

    #[tokio::test]
    async fn healthz_answers_ok_for_any_method() {
        let app = app();
        for method in ["GET", "POST", "DELETE"] {
            let reply = call_with(&app, method, "/healthz", Vec::new(), "").await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.body, "ok\n");
            assert_eq!(
                reply.headers[header::CONTENT_TYPE],
                "text/plain; charset=utf-8"
            );
        }
    }

    #[tokio::test]
    async fn unknown_paths_are_404() {
        let app = app();
        for path in [
            "/",
            "/healthz/",
            "/v1/verify/",
            "/v1/cert",
            "/metrics",
            "/v1/cert.pem/x",
        ] {
            let reply = call_with(&app, "GET", path, Vec::new(), "").await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(reply.body, "404 page not found\n");
            assert_eq!(
                reply.headers[header::CONTENT_TYPE],
                "text/plain; charset=utf-8"
            );
        }
    }

    #[tokio::test]
    async fn cert_serves_latest_certificate_or_500() {
        let reply = call_with(&app(), "GET", "/v1/cert.pem", Vec::new(), "").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/x-pem-file"
        );
        assert_eq!(reply.body, Certificate::from_pem(CERT).unwrap().pem);
        assert!(reply.body.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(reply.body.ends_with("-----END CERTIFICATE-----\n"));

        let no_keys = router(state(false, Arc::new(Metrics::default())));
        let reply = call_with(&no_keys, "GET", "/v1/cert.pem", Vec::new(), "").await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(reply.body, "cannot get certificate\n");
    }

    #[tokio::test]
    async fn verify_accepts_sealed_secrets_the_keys_open() {
        let app = app();
        for name in ["strict", "namespace-wide", "cluster-wide", "template"] {
            let reply = post(&app, VERIFY_PATH, json_body(&vector(name))).await;
            assert_eq!(reply.status, StatusCode::OK, "{name}");
            assert_eq!(reply.body, "");
        }
        let yaml = goyaml::to_yaml(&vector("strict"));
        assert_eq!(post(&app, VERIFY_PATH, yaml).await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn verify_conflicts_when_an_item_does_not_decrypt() {
        let app = app();
        let mut moved = vector("strict");
        moved["metadata"]["namespace"] = json!("otherns");
        let mut tampered = vector("strict");
        tampered["spec"]["encryptedData"]["foo"] = json!("AgBsb3JlbQ==");
        let mut bad_base64 = vector("strict");
        bad_base64["spec"]["encryptedData"]["foo"] = json!("not base64!");
        let mut widened = vector("strict");
        widened["metadata"]["annotations"] = json!({CLUSTER_WIDE_ANNOTATION: "true"});
        for v in [moved, tampered, bad_base64, widened] {
            let reply = post(&app, VERIFY_PATH, json_body(&v)).await;
            assert_eq!(reply.status, StatusCode::CONFLICT, "{v}");
            assert_eq!(reply.body, "");
        }
        let no_keys = router(state(false, Arc::new(Metrics::default())));
        let reply = post(&no_keys, VERIFY_PATH, json_body(&vector("strict"))).await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
    }

    #[tokio::test]
    async fn verify_rejects_what_is_not_one_sealed_secret() {
        let app = app();
        let yaml = goyaml::to_yaml(&vector("strict"));
        let mut secret_kind = vector("strict");
        secret_kind["kind"] = json!("Secret");
        let mut other_group = vector("strict");
        other_group["apiVersion"] = json!("example.com/v1");
        let mut no_kind = vector("strict");
        no_kind.as_object_mut().unwrap().remove("kind");
        let mut bad_field = vector("strict");
        bad_field["metadata"]["generation"] = json!("not a number");
        let bodies: Vec<Vec<u8>> = vec![
            format!("{yaml}---\n{yaml}").into_bytes(),
            json_body(&secret_kind),
            json_body(&other_group),
            json_body(&no_kind),
            json_body(&bad_field),
            b"{{{ not yaml".to_vec(),
            b"[1, 2]".to_vec(),
            b"just a string".to_vec(),
            Vec::new(),
        ];
        for body in bodies {
            let reply = post(&app, VERIFY_PATH, body.clone()).await;
            assert_eq!(
                reply.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{}",
                String::from_utf8_lossy(&body)
            );
            assert_eq!(reply.body, "");
        }
    }

    /// A template that fails for some plaintext must not change verify's answer (docs/security.md).
    #[tokio::test]
    async fn verify_never_executes_templates() {
        let app = app();
        let with_template = |tpl: &str| {
            let mut v = vector("template");
            v["spec"]["template"]["data"] = json!({ "probe": tpl });
            v
        };
        let harmless = with_template("static value");
        let oracle = with_template(r#"{{ if eq (index . "foo") "bar" }}{{ fail "hit" }}{{ end }}"#);
        let oracle_other =
            with_template(r#"{{ if ne (index . "foo") "bar" }}{{ fail "hit" }}{{ end }}"#);
        let broken = with_template("{{ unclosed");
        // The probe is a real oracle when rendered: it fails for exactly one of the two guesses.
        let rendered = |v: &Value| {
            let ss: SealedSecret = serde_json::from_value(v.clone()).unwrap();
            unseal(&ss, &decrypting_ring(), UnsealOptions::default()).is_ok()
        };
        assert!(!rendered(&oracle) && rendered(&oracle_other));
        let mut answers = Vec::new();
        for v in [harmless, oracle, oracle_other, broken] {
            answers.push(post(&app, VERIFY_PATH, json_body(&v)).await.status);
        }
        assert_eq!(answers, [StatusCode::OK; 4]);
        // And with a ciphertext that does not open, every template gives the same 409.
        let mut moved = with_template(r#"{{ fail "x" }}"#);
        moved["metadata"]["name"] = json!("other");
        assert_eq!(
            post(&app, VERIFY_PATH, json_body(&moved)).await.status,
            StatusCode::CONFLICT
        );
    }

    /// The 4th back-to-back request of a client with the default quota (2/s, burst 2): throttled's
    /// 429 and headers.
    fn assert_denied(denied: &Reply) {
        assert_eq!(denied.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(denied.body, "limit exceeded\n");
        assert_eq!(denied.headers[header::CONTENT_TYPE], TEXT_PLAIN);
        assert_eq!(denied.headers["x-ratelimit-limit"], "3");
        assert_eq!(denied.headers["x-ratelimit-remaining"], "0");
        assert_eq!(denied.headers["x-ratelimit-reset"], "2");
        assert_eq!(denied.headers["retry-after"], "1");
    }

    /// The metrics text of `registry`, which must hold each of `lines`.
    fn assert_exposes(registry: &prometheus_client::registry::Registry, lines: &[&str]) -> String {
        let text = crate::metrics::encode(registry).unwrap();
        for line in lines {
            assert!(
                text.contains(&format!("{line}\n")),
                "{line} missing from\n{text}"
            );
        }
        text
    }

    #[tokio::test]
    async fn verify_is_rate_limited_per_client() {
        let app = app();
        let mut replies = Vec::new();
        for _ in 0..4 {
            replies.push(call_with(&app, "POST", VERIFY_PATH, Vec::new(), "192.0.2.1").await);
        }
        for (i, r) in replies.iter().take(3).enumerate() {
            assert_eq!(
                r.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "request {i} passes the limiter"
            );
            assert_eq!(r.headers["x-ratelimit-limit"], "3");
            assert_eq!(r.headers["x-ratelimit-remaining"], (2 - i).to_string());
            assert!(r.headers.get("retry-after").is_none());
        }
        assert_denied(&replies[3]);
        // Another client (X-Forwarded-For, case-insensitive) has its own bucket.
        let other = call_with(&app, "POST", VERIFY_PATH, Vec::new(), "192.0.2.2").await;
        assert_eq!(other.status, StatusCode::INTERNAL_SERVER_ERROR);
        // The certificate, health and readiness are not limited.
        for _ in 0..5 {
            for path in [CERT_PATH, HEALTHZ_PATH, READYZ_PATH] {
                let r = call_with(&app, "GET", path, Vec::new(), "192.0.2.1").await;
                assert_eq!(r.status, StatusCode::OK, "{path}");
                assert!(r.headers.get("x-ratelimit-limit").is_none(), "{path}");
            }
        }
    }

    /// Upstream v0.39.0 (`server.go`): `/v1/rotate` behind the same limiter, its own bucket per
    /// client; the 4th back-to-back request is denied with throttled's headers, without running
    /// the handler, and counted.
    #[tokio::test]
    async fn rotate_is_rate_limited_per_client_and_path() {
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = Arc::new(Metrics::new(&mut registry));
        let app = router(state(true, metrics));
        let body = json_body(&vector("strict"));
        let mut replies = Vec::new();
        for _ in 0..4 {
            replies.push(call_with(&app, "POST", ROTATE_PATH, body.clone(), "192.0.2.7").await);
        }
        for (i, r) in replies.iter().take(3).enumerate() {
            assert_eq!(r.status, StatusCode::OK, "request {i} passes the limiter");
            assert!(r.body.starts_with("{\"metadata\""), "{}", r.body);
            assert_eq!(r.headers["x-ratelimit-limit"], "3");
            assert_eq!(r.headers["x-ratelimit-remaining"], (2 - i).to_string());
            assert_eq!(
                r.headers["x-ratelimit-reset"],
                ["1", "1", "2"][i],
                "request {i}"
            );
            assert!(r.headers.get("retry-after").is_none());
        }
        assert_denied(&replies[3]);
        assert_exposes(
            &registry,
            &[
                r#"sealed_secrets_controller_http_requests_total{path="/v1/rotate",code="200",method="post"} 3"#,
                r#"sealed_secrets_controller_http_requests_total{path="/v1/rotate",code="429",method="post"} 1"#,
                r#"sealed_secrets_controller_http_request_duration_seconds_count{path="/v1/rotate",method="post"} 4"#,
            ],
        );
    }

    #[tokio::test]
    async fn verify_and_rotate_buckets_are_independent() {
        let app = app();
        let client = "192.0.2.9";
        let drain = |path: &'static str| {
            let app = app.clone();
            async move {
                let mut statuses = Vec::new();
                for _ in 0..4 {
                    statuses.push(
                        call_with(&app, "POST", path, Vec::new(), client)
                            .await
                            .status,
                    );
                }
                statuses
            }
        };
        let limited = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::TOO_MANY_REQUESTS,
        ];
        // Verify's bucket used up first leaves rotate's full, and the other way round.
        assert_eq!(drain(VERIFY_PATH).await, limited);
        assert_eq!(drain(ROTATE_PATH).await, limited);
        let app2 = app.clone();
        let again = call_with(&app2, "POST", VERIFY_PATH, Vec::new(), client).await;
        assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
        let other = router(state(true, Arc::new(Metrics::default())));
        for _ in 0..3 {
            let r = call_with(&other, "POST", ROTATE_PATH, Vec::new(), client).await;
            assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        }
        let r = call_with(&other, "POST", VERIFY_PATH, Vec::new(), client).await;
        assert_eq!(
            r.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "verify still full"
        );
        assert_eq!(r.headers["x-ratelimit-remaining"], "2");
    }

    /// Upstream `server.go` `/readyz`: 503 `not ready` until the bootstrap is done, then `ok`;
    /// `/healthz` is `ok` throughout; neither is counted.
    #[tokio::test]
    async fn readyz_follows_the_bootstrap_and_healthz_does_not() {
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = Arc::new(Metrics::new(&mut registry));
        let mut st = state(true, metrics);
        let ready = Arc::new(AtomicBool::new(false));
        st.ready = ready.clone();
        let app = router(st);
        for method in ["GET", "POST"] {
            let r = call_with(&app, method, READYZ_PATH, Vec::new(), "").await;
            assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(r.body, "not ready\n");
            assert_eq!(r.headers[header::CONTENT_TYPE], TEXT_PLAIN);
            assert!(r.headers.get("x-ratelimit-limit").is_none());
            let h = call_with(&app, method, HEALTHZ_PATH, Vec::new(), "").await;
            assert_eq!((h.status, h.body.as_str()), (StatusCode::OK, "ok\n"));
        }
        // The API already answers before the bootstrap is done.
        let cert = call_with(&app, "GET", CERT_PATH, Vec::new(), "").await;
        assert_eq!(cert.status, StatusCode::OK);
        ready.store(true, Ordering::Release);
        let r = call_with(&app, "GET", READYZ_PATH, Vec::new(), "").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, "ok\n");
        assert_eq!(r.headers[header::CONTENT_TYPE], TEXT_PLAIN);
        let h = call_with(&app, "GET", HEALTHZ_PATH, Vec::new(), "").await;
        assert_eq!((h.status, h.body.as_str()), (StatusCode::OK, "ok\n"));
        let text = crate::metrics::encode(&registry).unwrap();
        assert!(
            !text.contains("/readyz") && !text.contains("/healthz"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let app = app();
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            post(&app, VERIFY_PATH, body.clone()).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            post(&app, ROTATE_PATH, body).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[tokio::test]
    async fn rotate_reseals_with_the_latest_key() {
        let app = app();
        for name in ["strict", "namespace-wide", "cluster-wide"] {
            let input = vector(name);
            let out = rotate_ok(&app, &input).await;
            assert_ne!(
                out["spec"]["encryptedData"]["foo"],
                input["spec"]["encryptedData"]["foo"]
            );
            assert_eq!(
                out["metadata"], input["metadata"],
                "{name}: scope annotations kept"
            );
            let secret = unseal_value(&out).unwrap();
            assert_eq!(data_of(&secret, "foo"), b"bar");
            assert_eq!(data_of(&secret, "binary"), [0, 1, 2, 255]);
            assert_eq!(data_of(&secret, "empty"), b"");
            assert_eq!(secret.type_, "Opaque");
        }
        // The cluster-wide result still opens under any name; the others do not.
        let mut renamed = rotate_ok(&app, &vector("cluster-wide")).await;
        renamed["metadata"]["name"] = json!("renamed");
        renamed["metadata"]["namespace"] = json!("elsewhere");
        assert!(unseal_value(&renamed).is_ok());
        let mut renamed = rotate_ok(&app, &vector("namespace-wide")).await;
        renamed["metadata"]["namespace"] = json!("elsewhere");
        assert!(unseal_value(&renamed).is_err());
    }

    /// kubeseal `--re-encrypt-path`: with `keepCurrentItems=true` the items the latest key
    /// already decrypts come back byte for byte, the others re-sealed; without it, all change.
    #[tokio::test]
    async fn rotate_keeping_current_items_changes_only_old_key_items() {
        let old_cert = include_bytes!("../../tests/fixtures/keys/other-cert.pem");
        let old_key = include_bytes!("../../tests/fixtures/keys/other-key.pem");
        let st = state(true, Arc::new(Metrics::default()));
        assert!(st.keys.add(SealingKeyPair {
            private_key: PrivateKey::from_pem(old_key).unwrap(),
            certificate: Certificate::from_pem(old_cert).unwrap(),
            order_time: SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(86_400),
        }));
        let app = router(st);
        let mut input = vector("strict");
        let label = format!(
            "{}/{}",
            input["metadata"]["namespace"].as_str().unwrap(),
            input["metadata"]["name"].as_str().unwrap()
        );
        let old = Certificate::from_pem(old_cert)
            .unwrap()
            .public_key
            .encrypt(b"from-the-old-key", label.as_bytes())
            .unwrap();
        input["spec"]["encryptedData"]["old"] = json!(go_semantics::base64::encode(&old));
        let kept = post(&app, "/v1/rotate?keepCurrentItems=true", json_body(&input)).await;
        assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
        let kept: Value = serde_json::from_str(&kept.body).unwrap();
        for item in ["foo", "binary", "empty"] {
            assert_eq!(
                kept["spec"]["encryptedData"][item], input["spec"]["encryptedData"][item],
                "{item}"
            );
        }
        assert_ne!(
            kept["spec"]["encryptedData"]["old"],
            input["spec"]["encryptedData"]["old"]
        );
        let mut typed = kept.clone();
        typed["kind"] = json!(KIND);
        typed["apiVersion"] = json!(API_VERSION);
        assert_eq!(
            data_of(&unseal_value(&typed).unwrap(), "old"),
            b"from-the-old-key"
        );
        let all = rotate_ok(&app, &input).await;
        for item in ["foo", "old"] {
            assert_ne!(
                all["spec"]["encryptedData"][item],
                input["spec"]["encryptedData"][item]
            );
        }
    }

    /// Upstream: differing metadata → the template metadata becomes the object's (template-only
    /// labels are dropped).
    #[tokio::test]
    async fn rotate_aligns_template_metadata_with_the_object() {
        let out = rotate_ok(&app(), &vector("strict")).await;
        assert_eq!(
            out["spec"]["template"]["metadata"],
            json!({"name": "mysecret", "namespace": "myns"})
        );
        assert_eq!(out["spec"]["template"]["type"], "Opaque");
    }

    /// CVE-2026-22728: a cluster-wide annotation in the template must not widen a strict secret.
    #[tokio::test]
    async fn rotate_takes_scope_from_the_object_metadata() {
        let app = app();
        let mut input = vector("strict");
        input["spec"]["template"]["metadata"]["annotations"] =
            json!({CLUSTER_WIDE_ANNOTATION: "true", NAMESPACE_WIDE_ANNOTATION: "true"});
        let out = rotate_ok(&app, &input).await;
        assert!(out["metadata"].get("annotations").is_none(), "{out}");
        assert!(
            out["spec"]["template"]["metadata"]
                .get("annotations")
                .is_none(),
            "{out}"
        );
        assert!(unseal_value(&out).is_ok());
        let mut renamed = out.clone();
        renamed["metadata"]["name"] = json!("attacker");
        renamed["spec"]["template"]["metadata"]["name"] = json!("attacker");
        assert!(
            unseal_value(&renamed).is_err(),
            "the result must stay strict"
        );
        let mut renamed = out;
        renamed["metadata"]["annotations"] = json!({CLUSTER_WIDE_ANNOTATION: "true"});
        assert!(
            unseal_value(&renamed).is_err(),
            "the result must stay strict"
        );
    }

    /// Same attack through the legacy `data` blob, whose metadata the caller controls when sealing
    /// it; the output must still have the object's (strict) scope.
    #[tokio::test]
    async fn rotate_ignores_scope_inside_legacy_data() {
        let app = app();
        let inner = json!({
            "metadata": {"name": "mysecret", "namespace": "myns", "annotations": {CLUSTER_WIDE_ANNOTATION: "true"}},
            "data": {"foo": "YmFy"},
        });
        let pair = key_pair();
        let ct = pair
            .certificate
            .public_key
            .encrypt(to_json_compact(&inner).as_bytes(), b"myns/mysecret")
            .unwrap();
        let input = json!({
            "apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": "mysecret", "namespace": "myns"},
            "spec": {"data": base64_encode(&ct), "template": {"data": {"t": "{{ .foo }}"}}},
        });
        let out = rotate_ok(&app, &input).await;
        assert!(out["metadata"].get("annotations").is_none(), "{out}");
        assert!(out["spec"].get("data").is_none());
        assert!(
            out["spec"]["template"].get("data").is_none(),
            "legacy templates were never used"
        );
        let secret = unseal_value(&out).unwrap();
        assert_eq!(data_of(&secret, "foo"), b"bar");
        let mut renamed = out;
        renamed["metadata"]["name"] = json!("attacker");
        assert!(unseal_value(&renamed).is_err());
    }

    #[tokio::test]
    async fn rotate_keeps_templates_unrendered() {
        let input = vector("template");
        let out = rotate_ok(&app(), &input).await;
        assert_eq!(
            out["spec"]["template"]["data"],
            input["spec"]["template"]["data"]
        );
        let keys: Vec<&String> = out["spec"]["encryptedData"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            keys,
            ["binary", "empty", "foo"],
            "no template output was sealed"
        );
        // A template that would fail (or leak) if run changes nothing either.
        let mut crafted = input.clone();
        crafted["spec"]["template"]["data"] = json!({"x": r#"{{ fail (index . "foo") }}"#});
        let out = rotate_ok(&app(), &crafted).await;
        assert_eq!(
            out["spec"]["template"]["data"],
            crafted["spec"]["template"]["data"]
        );
    }

    #[tokio::test]
    async fn rotate_failures_are_uniform_500s() {
        let app = app();
        let mut moved = vector("strict");
        moved["metadata"]["namespace"] = json!("otherns");
        moved["spec"]["template"]["metadata"]["namespace"] = json!("otherns");
        let mut bad_base64 = vector("strict");
        bad_base64["spec"]["encryptedData"]["foo"] = json!("not base64!");
        let mut secret_kind = vector("strict");
        secret_kind["kind"] = json!("Secret");
        let yaml = goyaml::to_yaml(&vector("strict"));
        let bodies = vec![
            json_body(&moved),
            json_body(&bad_base64),
            json_body(&secret_kind),
            format!("{yaml}---\n{yaml}").into_bytes(),
            b"garbage: [".to_vec(),
            Vec::new(),
        ];
        for body in bodies {
            let reply = post(&app, ROTATE_PATH, body).await;
            assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(reply.body, "");
            assert!(reply.headers.get(header::CONTENT_TYPE).is_none());
        }
        let no_keys = router(state(false, Arc::new(Metrics::default())));
        let reply = post(&no_keys, ROTATE_PATH, json_body(&vector("strict"))).await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    /// A log sink for one test: what `tracing` writes while the guard is held (this thread only).
    #[derive(Clone, Default)]
    struct CapturedLog(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for CapturedLog {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl CapturedLog {
        fn start(&self) -> tracing::subscriber::DefaultGuard {
            let sink = self.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || sink.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_default(subscriber)
        }

        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    /// Upstream v0.38.0 `Rotate`: nothing to decrypt, but no key to seal with → 500, logged as
    /// `Error rotating secret` with `latestPrivateKey`'s error (no longer a nil dereference).
    #[tokio::test]
    async fn rotate_on_an_empty_key_registry_is_a_500_with_upstreams_error() {
        let log = CapturedLog::default();
        let _guard = log.start();
        let mut nothing_to_decrypt = vector("strict");
        nothing_to_decrypt["spec"]["encryptedData"] = json!({});
        let no_keys = router(state(false, Arc::new(Metrics::default())));
        let reply = post(&no_keys, ROTATE_PATH, json_body(&nothing_to_decrypt)).await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(reply.body, "");
        let text = log.text();
        assert!(text.contains("Error rotating secret"), "{text}");
        assert!(
            text.contains("error getting latest private key. key registry has no keys"),
            "{text}"
        );
        // With a key, the same object re-seals.
        let reply = post(&app(), ROTATE_PATH, json_body(&nothing_to_decrypt)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // And the certificate endpoint logs the registry's error.
        let reply = call_with(&no_keys, "GET", CERT_PATH, Vec::new(), "").await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        let text = log.text();
        assert!(
            text.contains("cannot get certificates error=\"key registry has no keys\"")
                || text.contains("cannot get certificates error=key registry has no keys"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn instrumented_paths_are_counted() {
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = Arc::new(Metrics::new(&mut registry));
        let app = router(state(true, metrics));
        call_with(&app, "GET", "/healthz", Vec::new(), "").await;
        call_with(&app, "GET", CERT_PATH, Vec::new(), "").await;
        call_with(&app, "PROPFIND", CERT_PATH, Vec::new(), "").await;
        post(&app, VERIFY_PATH, json_body(&vector("strict"))).await;
        post(&app, ROTATE_PATH, Vec::new()).await;
        let text = assert_exposes(
            &registry,
            &[
                r#"sealed_secrets_controller_http_requests_total{path="/v1/cert.pem",code="200",method="get"} 1"#,
                r#"sealed_secrets_controller_http_requests_total{path="/v1/cert.pem",code="200",method="unknown"} 1"#,
                r#"sealed_secrets_controller_http_requests_total{path="/v1/verify",code="200",method="post"} 1"#,
                r#"sealed_secrets_controller_http_requests_total{path="/v1/rotate",code="500",method="post"} 1"#,
                r#"sealed_secrets_controller_http_request_duration_seconds_count{path="/v1/verify",method="post"} 1"#,
            ],
        );
        assert!(!text.contains("/healthz"), "{text}");
    }

    #[test]
    fn listen_addresses_parse_like_go() {
        let p = |s: &str| parse_listen_addr(s);
        assert_eq!(p(":8080").unwrap(), "[::]:8080".parse().unwrap());
        assert_eq!(p("0.0.0.0:8080").unwrap(), "0.0.0.0:8080".parse().unwrap());
        assert_eq!(p("127.0.0.1:0").unwrap(), "127.0.0.1:0".parse().unwrap());
        assert_eq!(p("[::]:8080").unwrap(), "[::]:8080".parse().unwrap());
        assert_eq!(p("[::1]:81").unwrap(), "[::1]:81".parse().unwrap());
        assert_eq!(p(":").unwrap(), "[::]:0".parse().unwrap());
        assert_eq!(p("localhost:9000").unwrap().port(), 9000);
        assert!(p("localhost:9000").unwrap().ip().is_loopback());
        for bad in [
            "8080",
            "::1:80",
            "[::1:80",
            "1.2.3.4:http",
            "1.2.3.4:70000",
            "[1.2.3.4]:80",
            "",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    async fn http_get(addr: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn servers_answer_over_tcp_and_shut_down_gracefully() {
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = Arc::new(Metrics::new(&mut registry));
        let registry = Arc::new(registry);

        let main_listener = bind_listener(parse_listen_addr("127.0.0.1:0").unwrap())
            .await
            .unwrap();
        let main_addr = main_listener.local_addr().unwrap();
        let (stop_main, main_stopped) = tokio::sync::oneshot::channel::<()>();
        let main = tokio::spawn(serve_main(
            main_listener,
            state(true, metrics),
            Duration::from_secs(5),
            Duration::from_secs(5),
            async move {
                let _ = main_stopped.await;
            },
        ));
        let metrics_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_addr = metrics_listener.local_addr().unwrap();
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics_server = tokio::spawn(serve_metrics(metrics_listener, registry, async move {
            let _ = metrics_stopped.await;
        }));

        let health = http_get(main_addr, "/healthz").await;
        assert!(health.starts_with("HTTP/1.1 200 OK\r\n"), "{health}");
        assert!(health.ends_with("\r\n\r\nok\n"), "{health}");
        let cert = http_get(main_addr, "/v1/cert.pem").await;
        assert!(cert.contains("-----BEGIN CERTIFICATE-----"), "{cert}");

        let scrape = http_get(metrics_addr, "/metrics").await;
        assert!(scrape.starts_with("HTTP/1.1 200 OK\r\n"), "{scrape}");
        assert!(
            scrape.contains("content-type: application/openmetrics-text"),
            "{scrape}"
        );
        for name in [
            "sealed_secrets_controller_build_info{",
            "sealed_secrets_controller_http_requests_total{path=\"/v1/cert.pem\",code=\"200\",method=\"get\"} 1\n",
            "sealed_secrets_controller_http_request_duration_seconds_bucket{",
        ] {
            assert!(scrape.contains(name), "{name} missing from\n{scrape}");
        }
        let missing = http_get(metrics_addr, "/nope").await;
        assert!(
            missing.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{missing}"
        );
        assert!(missing.ends_with("404 page not found\n"));

        // An idle keep-alive connection does not hold up the shutdown.
        let _idle = tokio::net::TcpStream::connect(main_addr).await.unwrap();
        stop_main.send(()).unwrap();
        stop_metrics.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), main)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), metrics_server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(
            tokio::net::TcpStream::connect(main_addr).await.is_err(),
            "listener closed"
        );
    }

    #[tokio::test]
    async fn slow_request_heads_are_cut_off() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_main(
            listener,
            state(true, Arc::new(Metrics::default())),
            Duration::from_millis(200),
            Duration::from_secs(5),
            async move {
                let _ = stopped.await;
            },
        ));
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "the server closed the connection");
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

//! A fault-injecting proxy in front of the real kube-apiserver, for the faults suite
//! (tests/tests/e2e/faults.rs): the controller's pod is pointed at it (its in-cluster address), and
//! it forwards every request to the API server until told to answer 5xx instead.
//!
//! It terminates TLS with the API server's own certificate and key (the pod trusts the cluster CA
//! and checks the address the certificate names), so that it can answer for the API server, and
//! speaks TLS to the API server, trusting the cluster CA. Every client connection gets a connection
//! of its own to the API server, and the requests go through as they came (the service-account
//! token included, so the API server sees and audits the controller). HTTP/1.1 only, which is what
//! kube-rs speaks; watches stream through.
//!
//! The faults ([`Fault`]): writes refused with 503 and 500 (reads go through), writes that the API
//! server carries out but whose answer is lost (a 504 instead, as from a load balancer timing out),
//! and everything refused, the open connections (watches) cut first.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, oneshot, watch};

/// What the proxy does with the requests it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Everything forwarded.
    None,
    /// Writes (anything but GET, HEAD, OPTIONS) answered 503 and 500 in turn, not forwarded;
    /// reads forwarded.
    RefuseWrites,
    /// Writes forwarded (the API server carries them out), their answer replaced by a 504.
    LoseWriteAnswers,
    /// Every request answered 503 and 500 in turn; the connections open when it starts are cut.
    RefuseAll,
}

impl Fault {
    fn code(self) -> u8 {
        match self {
            Fault::None => 0,
            Fault::RefuseWrites => 1,
            Fault::LoseWriteAnswers => 2,
            Fault::RefuseAll => 3,
        }
    }

    fn from_code(code: u8) -> Fault {
        match code {
            1 => Fault::RefuseWrites,
            2 => Fault::LoseWriteAnswers,
            3 => Fault::RefuseAll,
            _ => Fault::None,
        }
    }
}

/// What the proxy did, counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests forwarded and answered by the API server.
    pub forwarded: usize,
    /// Writes answered 503 or 500 without reaching the API server.
    pub refused_writes: usize,
    /// Reads (lists, gets, watches) answered 503 or 500.
    pub refused_reads: usize,
    /// Of those, watch requests.
    pub refused_watches: usize,
    /// Writes the API server carried out whose answer was replaced by a 504.
    pub lost_answers: usize,
    /// Connections cut when [`Fault::RefuseAll`] began.
    pub cut_connections: usize,
}

#[derive(Default)]
struct Counters {
    forwarded: AtomicUsize,
    refused_writes: AtomicUsize,
    refused_reads: AtomicUsize,
    refused_watches: AtomicUsize,
    lost_answers: AtomicUsize,
    cut_connections: AtomicUsize,
    /// Refusals so far, for taking turns between 503 and 500.
    refusals: AtomicUsize,
}

struct State {
    fault: AtomicU8,
    counters: Counters,
    /// Bumped to cut every open connection.
    cut: watch::Sender<u64>,
    upstream: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    connector: tokio_rustls::TlsConnector,
}

/// The running proxy; stopped (every connection dropped) when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type Body = BoxBody<Bytes, hyper::Error>;

impl FaultProxy {
    /// Listens on `listen` (a free port) and forwards to the API server at `upstream`, showing the
    /// clients `cert` and `key` (PEM files) and trusting `ca` for the API server's certificate.
    pub fn start(listen: IpAddr, upstream: SocketAddr, cert: &Path, key: &Path, ca: &Path) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![b"http/1.1".to_vec()];

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(TcpListener::bind(SocketAddr::new(listen, 0)))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            fault: AtomicU8::new(Fault::None.code()),
            counters: Counters::default(),
            cut: watch::Sender::new(0),
            upstream,
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
        });
        let (stop, mut stopped) = oneshot::channel();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            if let Ok((tcp, _)) = accepted {
                                tokio::spawn(serve(tcp, shared.clone()));
                            }
                        }
                    }
                }
            });
            // dropping the runtime drops every connection's task
        });
        FaultProxy {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// From now on, `fault`; [`Fault::RefuseAll`] cuts the open connections first.
    pub fn set(&self, fault: Fault) {
        self.state.fault.store(fault.code(), Ordering::SeqCst);
        if fault == Fault::RefuseAll {
            self.state.cut.send_modify(|n| *n += 1);
        }
    }

    pub fn counts(&self) -> Counts {
        let c = &self.state.counters;
        let n = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        Counts {
            forwarded: n(&c.forwarded),
            refused_writes: n(&c.refused_writes),
            refused_reads: n(&c.refused_reads),
            refused_watches: n(&c.refused_watches),
            lost_answers: n(&c.lost_answers),
            cut_connections: n(&c.cut_connections),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One client connection: TLS, a connection of its own to the API server, the requests relayed
/// until either side closes or the connections are cut.
async fn serve(tcp: TcpStream, state: Arc<State>) {
    let mut cut = state.cut.subscribe();
    let Ok(tls) = state.acceptor.accept(tcp).await else {
        return;
    };
    let Ok(upstream) = TcpStream::connect(state.upstream).await else {
        return;
    };
    let name = ServerName::IpAddress(state.upstream.ip().into());
    let Ok(upstream) = state.connector.connect(name, upstream).await else {
        return;
    };
    let Ok((sender, connection)) =
        hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await
    else {
        return;
    };
    let sender = Arc::new(Mutex::new(sender));
    let shared = state.clone();
    let service = hyper::service::service_fn(move |req| relay(req, sender.clone(), shared.clone()));
    let server =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service);
    tokio::select! {
        _ = server => {}
        _ = connection => {}
        _ = cut.changed() => {
            state.counters.cut_connections.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn relay(
    req: Request<Incoming>,
    sender: Arc<Mutex<hyper::client::conn::http1::SendRequest<Incoming>>>,
    state: Arc<State>,
) -> Result<Response<Body>, hyper::Error> {
    let c = &state.counters;
    let write = ![Method::GET, Method::HEAD, Method::OPTIONS].contains(req.method());
    let watch = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
    let fault = Fault::from_code(state.fault.load(Ordering::SeqCst));
    let refuse = match fault {
        Fault::None | Fault::LoseWriteAnswers => false,
        Fault::RefuseWrites => write,
        Fault::RefuseAll => true,
    };
    if refuse {
        let (counter, turn) = (
            if write {
                &c.refused_writes
            } else {
                &c.refused_reads
            },
            c.refusals.fetch_add(1, Ordering::SeqCst),
        );
        counter.fetch_add(1, Ordering::SeqCst);
        if watch {
            c.refused_watches.fetch_add(1, Ordering::SeqCst);
        }
        return Ok(if turn % 2 == 0 {
            status(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
        } else {
            status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
        });
    }
    let answer = {
        let mut sender = sender.lock().await;
        sender.ready().await?;
        sender.send_request(req).await?
    };
    c.forwarded.fetch_add(1, Ordering::SeqCst);
    if write && fault == Fault::LoseWriteAnswers {
        // The API server's answer read to its end (the write is done), then lost.
        let _ = answer.into_body().collect().await;
        c.lost_answers.fetch_add(1, Ordering::SeqCst);
        return Ok(status(StatusCode::GATEWAY_TIMEOUT, "Timeout"));
    }
    Ok(answer.map(BodyExt::boxed))
}

/// An answer as the API server gives its own errors: a `Status` object.
fn status(code: StatusCode, reason: &str) -> Response<Body> {
    let body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("the faults suite's proxy answers {}", code.as_u16()),
        "reason": reason,
        "code": code.as_u16(),
    });
    let body = Full::new(Bytes::from(body.to_string()))
        .map_err(|never| match never {})
        .boxed();
    let mut answer = Response::new(body);
    *answer.status_mut() = code;
    answer.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    answer
}

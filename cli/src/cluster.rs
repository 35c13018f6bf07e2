//! Talking to the controller through the API server's service proxy (upstream
//! `pkg/kubeseal/kubeseal.go` `openCertCluster`, `ValidateSealedSecret`, `ReEncryptSealedSecret`),
//! with client-go's error texts. A single-threaded tokio runtime is created only when a mode needs
//! the cluster.

use std::future::Future;
use std::time::Duration;

use http::{Method, Request, StatusCode};

use crate::goerr;
use crate::kubeconfig::{ClientConfig, KubeconfigError};

const PEM_ACCEPT: &str = "application/x-pem-file, */*";
const JSON_ACCEPT: &str = "application/json, */*";
/// client-go's default number of retries of a request the server asked to retry later.
const MAX_RETRIES: u32 = 10;

/// Why the cluster could not be asked, in client-go's words.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Config(#[from] KubeconfigError),
    #[error(transparent)]
    Client(#[from] kube::Error),
    /// No answer: `Get "<url>": <cause>`.
    #[error("{verb} {}: {cause}", goerr::quote(.url))]
    Transport {
        verb: &'static str,
        url: String,
        cause: String,
    },
    /// A non-2xx answer, as client-go words it.
    #[error("{0}")]
    Api(String),
    #[error("{0}")]
    ServiceJson(serde_json::Error),
    #[error("service {} has no ports", goerr::quote(.0))]
    NoPorts(String),
    #[error(
        "cannot get sealed secret service: {0}.\nPlease, use the flag --controller-name and --controller-namespace to set up the name and namespace of the sealed secrets controller"
    )]
    Service(Box<ClusterError>),
    #[error("cannot fetch certificate: {0}")]
    FetchCert(Box<ClusterError>),
}

/// Runs `f` on a fresh current-thread runtime.
pub fn block_on<T, E: From<ClusterError>>(f: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)?
        .block_on(f)
}

/// A failed proxied request.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(transparent)]
    Unanswered(ClusterError),
    /// The controller answered with this status; client-go's text.
    #[error("{message}")]
    Status { status: StatusCode, message: String },
}

impl ProxyError {
    /// The controller's status code, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ProxyError::Unanswered(_) => None,
            ProxyError::Status { status, .. } => Some(*status),
        }
    }
}

/// The controller's HTTP API as seen through `/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy`.
pub struct Controller {
    client: kube::Client,
    server: String,
    /// `host:port` of the API server, for connection errors.
    authority: String,
    namespace: String,
    proxy_name: String,
    timeout: Option<Duration>,
}

impl Controller {
    /// Builds the client and looks up the Service's first port name.
    pub async fn connect(
        config: &ClientConfig<'_>,
        namespace: &str,
        name: &str,
        accept: Accept,
    ) -> Result<Controller, ClusterError> {
        let mut kube_config = config.kube_config().await?;
        let server = kube_config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let url = &kube_config.cluster_url;
        let default_port = if url.scheme_str() == Some("http") {
            80
        } else {
            443
        };
        let authority = format!(
            "{}:{}",
            url.host().unwrap_or(""),
            url.port_u16().unwrap_or(default_port)
        );
        let timeout = config.request_timeout()?;
        // kube's default retry layer retries 503s for minutes; client-go only honours Retry-After.
        kube_config.default_retry = false;
        let client = kube::Client::try_from(kube_config)?;
        let mut controller = Controller {
            client,
            server,
            authority,
            namespace: namespace.to_string(),
            proxy_name: String::new(),
            timeout,
        };
        let port = controller
            .service_port_name(name, accept)
            .await
            .map_err(|e| ClusterError::Service(Box::new(e)))?;
        controller.proxy_name = format!("http:{name}:{port}");
        Ok(controller)
    }

    async fn service_port_name(&self, name: &str, accept: Accept) -> Result<String, ClusterError> {
        let path = format!(
            "/api/v1/namespaces/{}/services/{}",
            escape_segment(&self.namespace),
            escape_segment(name)
        );
        let (status, content_type, body) =
            self.send(Method::GET, &path, accept.header(), None).await?;
        if !status.is_success() {
            return Err(ClusterError::Api(api_error(
                status,
                content_type.as_deref(),
                &body,
                "GET",
                name,
            )));
        }
        let service: serde_json::Value =
            serde_json::from_slice(&body).map_err(ClusterError::ServiceJson)?;
        let ports = service.pointer("/spec/ports").and_then(|p| p.as_array());
        match ports.and_then(|p| p.first()) {
            Some(port) => Ok(port
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .to_string()),
            // Upstream indexes ports[0] and panics; say what is wrong instead.
            None => Err(ClusterError::NoPorts(name.to_string())),
        }
    }

    /// `GET .../proxy/v1/cert.pem`.
    pub async fn fetch_cert(&self) -> Result<Vec<u8>, ClusterError> {
        let path = self.proxy_path("/v1/cert.pem");
        let (status, content_type, body) = self
            .send(Method::GET, &path, PEM_ACCEPT, None)
            .await
            .map_err(|e| ClusterError::FetchCert(Box::new(e)))?;
        if !status.is_success() {
            let e = api_error(
                status,
                content_type.as_deref(),
                &body,
                "GET",
                &self.proxy_name,
            );
            return Err(ClusterError::FetchCert(Box::new(ClusterError::Api(e))));
        }
        Ok(body)
    }

    /// `POST .../proxy/<suffix>` with a JSON body; the reply body on 2xx.
    pub async fn post(&self, suffix: &str, body: Vec<u8>) -> Result<Vec<u8>, ProxyError> {
        let path = self.proxy_path(suffix);
        let (status, content_type, reply) = self
            .send(Method::POST, &path, JSON_ACCEPT, Some(body))
            .await
            .map_err(ProxyError::Unanswered)?;
        if status.is_success() {
            return Ok(reply);
        }
        Err(ProxyError::Status {
            status,
            message: api_error(
                status,
                content_type.as_deref(),
                &reply,
                "POST",
                &self.proxy_name,
            ),
        })
    }

    fn proxy_path(&self, suffix: &str) -> String {
        format!(
            "/api/v1/namespaces/{}/services/{}/proxy{suffix}",
            escape_segment(&self.namespace),
            escape_segment(&self.proxy_name)
        )
    }

    /// One request; transport failures read like Go's `Get "<url>": <cause>`. Like client-go, a
    /// 429 or 5xx answer carrying `Retry-After: <seconds>` is retried after that delay, at most
    /// [`MAX_RETRIES`] times; anything else is returned at once.
    async fn send(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Option<String>, Vec<u8>), ClusterError> {
        let url = format!("{}{path}", self.server);
        let verb = match method {
            Method::POST => "Post",
            _ => "Get",
        };
        let transport_err = |cause: String| ClusterError::Transport {
            verb,
            url: url.clone(),
            cause,
        };
        let authority = self.authority.as_str();
        let mut attempt = 0;
        loop {
            let mut builder = Request::builder()
                .method(method.clone())
                .uri(path)
                .header(http::header::ACCEPT, accept);
            if body.is_some() {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
            }
            let request = builder
                .body(kube::client::Body::from(body.clone().unwrap_or_default()))
                .map_err(|e| transport_err(e.to_string()))?;
            let exchange = async {
                let response = self
                    .client
                    .send(request)
                    .await
                    .map_err(|e| transport_err(transport_cause(&e, authority)))?;
                let status = response.status();
                let header = |name| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let content_type = header(http::header::CONTENT_TYPE);
                let retry_after =
                    header(http::header::RETRY_AFTER).and_then(|v| v.parse::<u64>().ok());
                let bytes = response
                    .into_body()
                    .collect_bytes()
                    .await
                    .map_err(|e| transport_err(transport_cause(&e, authority)))?;
                Ok::<_, ClusterError>((status, content_type, bytes.to_vec(), retry_after))
            };
            let (status, content_type, bytes, retry_after) = match self.timeout {
                Some(t) => tokio::time::timeout(t, exchange)
                    .await
                    .map_err(|_| transport_err("context deadline exceeded".to_string()))??,
                None => exchange.await?,
            };
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            match retry_after {
                Some(seconds) if retryable && attempt < MAX_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                }
                _ => return Ok((status, content_type, bytes)),
            }
        }
    }
}

/// The Accept header of the Service lookup: upstream sets the PEM one on the whole client when it
/// fetches the certificate.
#[derive(Clone, Copy)]
pub enum Accept {
    Pem,
    Json,
}

impl Accept {
    fn header(self) -> &'static str {
        match self {
            Accept::Pem => PEM_ACCEPT,
            Accept::Json => JSON_ACCEPT,
        }
    }
}

/// The cause of a failed exchange, as Go words the common cases: a refused or unreachable
/// connection reads `dial tcp <host:port>: connect: connection refused`; anything else is the
/// innermost error's own text (TLS verification, DNS, ...).
fn transport_cause(e: &(dyn std::error::Error + 'static), authority: &str) -> String {
    use std::io::ErrorKind;
    let mut deepest = e.to_string();
    let mut io: Option<&std::io::Error> = None;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io_err) = err.downcast_ref::<std::io::Error>() {
            io = Some(io_err);
        }
        let text = err.to_string();
        if !text.is_empty() {
            deepest = text;
        }
        cur = err.source();
    }
    // A read or write that timed out (--request-timeout on an established connection, racing the
    // deadline of the whole exchange) is the deadline, not a failed dial.
    let connect_failed = {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        std::iter::from_fn(|| {
            let err = cur?;
            cur = err.source();
            Some(err.to_string())
        })
        .any(|t| t.contains("(Connect)"))
    };
    if let Some(io_err) = io
        && io_err.kind() == ErrorKind::TimedOut
        && !connect_failed
    {
        return "context deadline exceeded".to_string();
    }
    if let Some(io_err) = io
        && matches!(
            io_err.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::TimedOut
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::AddrNotAvailable
        )
    {
        return format!("dial tcp {authority}: connect: {}", goerr::io_text(io_err));
    }
    deepest
}

/// client-go's error for a non-2xx answer: the `Status` message if the body is a failed `Status`,
/// else `NewGenericServerResponse`'s text.
fn api_error(
    status: StatusCode,
    content_type: Option<&str>,
    body: &[u8],
    verb: &str,
    name: &str,
) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && v.get("kind").and_then(|k| k.as_str()) == Some("Status")
        && v.get("status").and_then(|s| s.as_str()) == Some("Failure")
    {
        return v
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string();
    }
    let is_text = match content_type {
        None | Some("") => true,
        Some(ct) => ct.trim_start().to_ascii_lowercase().starts_with("text/"),
    };
    let server_message = if is_text {
        let cap = body.get(..body.len().min(4096)).unwrap_or(body);
        String::from_utf8_lossy(cap).trim().to_string()
    } else {
        "unknown".to_string()
    };
    let code = status.as_u16();
    let message = match code {
        409 => "the server reported a conflict".to_string(),
        404 => "the server could not find the requested resource".to_string(),
        400 => "the server rejected our request for an unknown reason".to_string(),
        401 => "the server has asked for the client to provide credentials".to_string(),
        403 => server_message,
        406 if server_message.is_empty() || server_message == "unknown" => {
            "the server was unable to respond with a content type that the client supports".to_string()
        }
        406 | 415 => server_message,
        405 => "the server does not allow this method on the requested resource".to_string(),
        422 => "the server rejected our request due to an error in our request".to_string(),
        503 => "the server is currently unable to handle the request".to_string(),
        504 => "the server was unable to return a response in the time allotted, but may still be processing the request".to_string(),
        429 => "the server has received too many requests and has asked us to try again later".to_string(),
        c if c >= 500 => format!(
            "an error on the server ({}) has prevented the request from succeeding",
            goerr::quote(&server_message)
        ),
        c => format!("the server responded with the status code {c} but did not return more information"),
    };
    format!("{message} ({} services {name})", verb.to_ascii_lowercase())
}

/// Percent-encodes one URL path segment (names come from the command line).
fn escape_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_go_texts() {
        assert_eq!(
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                b"",
                "POST",
                "http:ssc:"
            ),
            "an error on the server (\"\") has prevented the request from succeeding (post services http:ssc:)"
        );
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services \"x\" not found","code":404}"#;
        assert_eq!(
            api_error(
                StatusCode::NOT_FOUND,
                Some("application/json"),
                status,
                "GET",
                "x"
            ),
            "services \"x\" not found"
        );
        assert_eq!(escape_segment("http:a b:"), "http:a%20b:");
    }
}

//! `--cert <file|URL>`, as upstream `pkg/kubeseal/kubeseal.go` `openCertLocal` opens it: a local
//! path is read directly; an `http(s)://` or `file://` URL is fetched with a small blocking client
//! (ureq on rustls/aws-lc-rs, system roots), honouring `HTTP(S)_PROXY` and `NO_PROXY` the way Go's
//! `http.ProxyFromEnvironment` does.

use std::net::IpAddr;
use std::sync::Arc;

use crate::goerr::{self, PathError};

/// Why `--cert` gave no certificate bytes, in the words of Go's `url.Parse` and `http.Get`.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Read(#[from] PathError),
    #[error("parse {}: missing protocol scheme", goerr::quote(.0))]
    MissingScheme(String),
    #[error("Get {}: unsupported protocol scheme {}", goerr::quote(.url), goerr::quote(.scheme))]
    UnsupportedScheme { url: String, scheme: String },
    /// A request that got no answer: `cause` is what Go would print after the URL.
    #[error("Get {}: {cause}", goerr::quote(.url))]
    Get { url: String, cause: String },
    /// An answer other than 200 OK (or, for `file://`, the 403/404 Go's file transport gives).
    #[error("cannot fetch {}: {status}", goerr::quote(.url))]
    Status { url: String, status: String },
    #[error("{0}")]
    Body(String),
}

/// Reads the certificate bytes named by `--cert`.
pub fn open_local(name: &str) -> Result<Vec<u8>, CertError> {
    match url_scheme(name)? {
        // No scheme, or a Windows drive letter: a file name.
        None => read_file(name),
        Some(s) if s.len() == 1 => read_file(name),
        Some(s) if s.eq_ignore_ascii_case("file") => open_file_url(name),
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => fetch(name),
        Some(s) => Err(CertError::UnsupportedScheme {
            url: name.to_string(),
            scheme: s.to_string(),
        }),
    }
}

fn read_file(path: &str) -> Result<Vec<u8>, CertError> {
    Ok(std::fs::read(path).map_err(PathError::on("open", path))?)
}

/// Go `url.Parse` scheme detection: `[A-Za-z][A-Za-z0-9+.-]*:`; `:` first is an error.
fn url_scheme(s: &str) -> Result<Option<&str>, CertError> {
    for (i, c) in s.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => {
                return Err(CertError::MissingScheme(s.to_string()));
            }
            ':' => return Ok(s.get(..i)),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// `file://` URLs are served from `/` as Go's `http.NewFileTransport(http.Dir("/"))` does: only the
/// path counts, a missing file is a 404.
fn open_file_url(url: &str) -> Result<Vec<u8>, CertError> {
    let after_scheme = url.split_once(':').map(|(_, r)| r).unwrap_or("");
    let path = match after_scheme.strip_prefix("//") {
        Some(rest) => rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/"),
        None => after_scheme,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = percent_decode(path);
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let status = |status: &str| CertError::Status {
        url: url.to_string(),
        status: status.to_string(),
    };
    match std::fs::read(&path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(status("403 Forbidden")),
        Err(_) => Err(status("404 Not Found")),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = ((*h as char).to_digit(16), (*l as char).to_digit(16))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn fetch(url: &str) -> Result<Vec<u8>, CertError> {
    let get_err = |e: &dyn std::fmt::Display| CertError::Get {
        url: url.to_string(),
        cause: e.to_string(),
    };
    let uri: http::Uri = url.parse().map_err(|e| get_err(&e))?;
    let proxy = match proxy_for(&uri) {
        Some(p) => Some(ureq::Proxy::new(&p).map_err(|e| get_err(&format!("proxyconnect: {e}")))?),
        None => None,
    };
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(system_roots())
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(proxy)
        .tls_config(tls)
        .build()
        .into();
    let mut resp = agent.get(url).call().map_err(|e| get_err(&e))?;
    let status = resp.status();
    if status != http::StatusCode::OK {
        let line = match status.canonical_reason() {
            Some(r) => format!("{} {r}", status.as_u16()),
            None => status.as_u16().to_string(),
        };
        return Err(CertError::Status {
            url: url.to_string(),
            status: line,
        });
    }
    resp.body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| CertError::Body(e.to_string()))
}

/// The system trust store (plus `SSL_CERT_FILE`/`SSL_CERT_DIR`), as Go's `crypto/x509` uses.
fn system_roots() -> ureq::tls::RootCerts {
    let found = rustls_native_certs::load_native_certs();
    let certs: Vec<ureq::tls::Certificate<'static>> = found
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    ureq::tls::RootCerts::new_with_certs(&certs)
}

/// Go `httpproxy.Config.ProxyFunc`: `HTTPS_PROXY` for https, `HTTP_PROXY` for http, nothing for
/// localhost/loopback or hosts matched by `NO_PROXY`.
fn proxy_for(uri: &http::Uri) -> Option<String> {
    let env = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    };
    let https = uri.scheme_str() == Some("https");
    let proxy = if https {
        env(&["HTTPS_PROXY", "https_proxy"])
    } else {
        env(&["HTTP_PROXY", "http_proxy"])
    }?;
    let host = uri
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
        return None;
    }
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let no_proxy = env(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    if no_proxy_matches(&no_proxy, &host, port) {
        return None;
    }
    Some(proxy)
}

fn no_proxy_matches(no_proxy: &str, host: &str, port: u16) -> bool {
    for entry in no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()) {
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return true;
        }
        if let Some((net, bits)) = entry.split_once('/')
            && let (Ok(net), Ok(bits), Ok(ip)) = (
                net.parse::<IpAddr>(),
                bits.parse::<u32>(),
                host.parse::<IpAddr>(),
            )
        {
            if cidr_contains(net, bits, ip) {
                return true;
            }
            continue;
        }
        let (entry_host, entry_port) = match entry.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                (h.trim_matches(['[', ']']), p.parse::<u16>().ok())
            }
            _ => (entry.trim_matches(['[', ']']), None),
        };
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        let entry_host = entry_host.strip_prefix("*").unwrap_or(entry_host);
        if let Some(suffix) = entry_host.strip_prefix('.') {
            if host.ends_with(&format!(".{suffix}")) {
                return true;
            }
        } else if host == entry_host || host.ends_with(&format!(".{entry_host}")) {
            return true;
        }
    }
    false
}

fn cidr_contains(net: IpAddr, bits: u32, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(url_scheme("/a/b.pem").ok(), Some(None));
        assert_eq!(url_scheme("cert.pem").ok(), Some(None));
        assert_eq!(url_scheme("C:\\x.pem").ok(), Some(Some("C")));
        assert_eq!(url_scheme("https://x/y").ok(), Some(Some("https")));
        assert_eq!(
            url_scheme(":x").err().map(|e| e.to_string()).as_deref(),
            Some("parse \":x\": missing protocol scheme")
        );
        assert_eq!(url_scheme("./a:b").ok(), Some(None));
    }

    #[test]
    fn no_proxy() {
        assert!(no_proxy_matches("*", "a.b", 443));
        assert!(no_proxy_matches("example.com", "x.example.com", 443));
        assert!(no_proxy_matches(".example.com", "x.example.com", 443));
        assert!(!no_proxy_matches(".example.com", "example.com", 443));
        assert!(no_proxy_matches("10.0.0.0/8", "10.1.2.3", 80));
        assert!(!no_proxy_matches("example.com:80", "example.com", 443));
        assert!(!no_proxy_matches("other.com", "example.com", 443));
    }

    #[test]
    fn file_urls() {
        assert!(
            open_file_url("file:///nonexistent/x.pem")
                .err()
                .is_some_and(|e| e.to_string().ends_with("404 Not Found"))
        );
        assert_eq!(percent_decode("/a%20b"), "/a b");
    }
}

//! kubeseal's kubeconfig handling (cli/src/kubeconfig.rs, compiled here from the same source):
//! the input as the `--kubeconfig` file, read by kube's `Kubeconfig::read_from` (`from_yaml`),
//! then the namespace choice (`ClientConfig::namespace`) and the client configuration
//! (`ClientConfig::kube_config`: the context, cluster and user selection, the kubectl-style
//! overrides, client-go's `ConfirmUsable` checks, kube's `Config::from_custom_kubeconfig`), once
//! without flags and once with `--context`, `--cluster` and `--user` naming the file's last ones
//! and the other overrides set; and kube's `Kubeconfig::merge` with another file (a `KUBECONFIG` list).
//!
//! Properties: no panic, and no error text holds a credential of the file (a token, a password or
//! a client key: the errors quote no content, cli/src/kubeconfig.rs `source_text`).
#![no_main]

use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use fuzz_support::flags::KubeFlags;
use fuzz_support::kubeconfig::ClientConfig;
use kube::config::Kubeconfig;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The file each input is written to (one per process: fork mode runs several).
fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "sealed-secrets-fuzz-kubeconfig-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("config")
    })
}

/// kubeseal awaits `kube_config` in its runtime; nothing in it waits (no I/O but the file reads
/// it makes synchronously), so one poll finishes it.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("kube_config waited for something"),
    }
}

/// The credentials of the file (values of `token`, `password`, `client-key-data`) long and odd
/// enough that an error text holding one cannot be a coincidence, and no part of a value the
/// errors may name (names, servers, paths).
fn credentials(config: &Kubeconfig) -> Vec<String> {
    fn walk(v: &Value, key: &str, secret: &mut Vec<String>, public: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                if ["token", "password", "client-key-data"].contains(&key) {
                    secret.push(s.clone());
                } else {
                    public.push(s.clone());
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, key, secret, public)),
            Value::Object(m) => m.iter().for_each(|(k, i)| walk(i, k, secret, public)),
            _ => {}
        }
    }
    let (mut secret, mut public) = (Vec::new(), Vec::new());
    if let Ok(v) = serde_json::to_value(config) {
        walk(&v, "", &mut secret, &mut public);
    }
    public.push(file().to_string_lossy().into_owned());
    secret.retain(|s| {
        s.len() >= 16
            && s.bytes().any(|b| b.is_ascii_digit())
            && !public.iter().any(|p| p.contains(s.as_str()))
    });
    secret
}

fn check(text: &str, secrets: &[String], what: &str) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what}: an error quotes a credential: {text}");
    }
}

fn run(flags: &KubeFlags, secrets: &[String]) {
    let path = file().to_string_lossy().into_owned();
    let config = ClientConfig::new(&path, flags);
    if let Err(e) = config.namespace() {
        check(&e.to_string(), secrets, "namespace");
    }
    if let Err(e) = now(config.kube_config()) {
        check(&e.to_string(), secrets, "kube_config");
    }
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(file(), data).unwrap();
    let parsed = std::str::from_utf8(data)
        .ok()
        .and_then(|text| Kubeconfig::from_yaml(text).ok());
    let secrets = parsed.as_ref().map(credentials).unwrap_or_default();
    run(&KubeFlags::default(), &secrets);
    let Some(parsed) = parsed else {
        return;
    };
    let last = |names: Vec<&String>| names.last().map(|n| n.to_string()).unwrap_or_default();
    let flags = KubeFlags {
        context: last(parsed.contexts.iter().map(|c| &c.name).collect()),
        cluster: last(parsed.clusters.iter().map(|c| &c.name).collect()),
        user: last(parsed.auth_infos.iter().map(|a| &a.name).collect()),
        server: "https://127.0.0.1:6443".into(),
        token: "override-token".into(),
        tls_server_name: "kubernetes".into(),
        proxy_url: "socks5://127.0.0.1:1080".into(),
        as_user: "someone".into(),
        as_group: vec!["group".into()],
        request_timeout: "1m30s".into(),
        ..Default::default()
    };
    run(&flags, &secrets);
    // Two files of a `KUBECONFIG` list, this one first or second (the first wins).
    let _ = parsed.clone().merge(fixture().clone());
    let _ = fixture().clone().merge(parsed);
});

/// The CLI tests' kubeconfig (two contexts, one cluster, a token user).
fn fixture() -> &'static Kubeconfig {
    static FIXTURE: OnceLock<Kubeconfig> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        Kubeconfig::from_yaml(include_str!("../../cli/tests/fixtures/kubeconfig.yaml")).unwrap()
    })
}

//! Prometheus metrics with the names and labels of upstream's `pkg/controller/metrics.go`, on an
//! injected registry.
//!
//! prometheus-client appends `_total` to counters (and a full stop to help texts) when it encodes
//! them, so counters are registered without it. The names are registered under the
//! `sealed_secrets_controller` prefix, so pass a registry that has no prefix of its own. The
//! exposition is OpenMetrics text (see [`encode`]).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

const PREFIX: &str = "sealed_secrets_controller";

/// `build_info{revision}`: the version as the controller prints it (upstream: its `git describe` tag).
const REVISION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// Go client_golang's `prometheus.DefBuckets`.
const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Content type of [`encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct UnsealErrorLabels {
    reason: String,
    namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct ConditionLabels {
    // Shared by the family and `condition_series`, and ordered so that the series of one
    // SealedSecret are neighbours there.
    namespace: Arc<str>,
    name: Arc<str>,
    condition: Arc<str>,
    ss_app_kubernetes_io_instance: Arc<str>,
}

impl ConditionLabels {
    /// The series of `namespace/name` in `series`.
    fn of<'a>(
        series: &'a BTreeSet<ConditionLabels>,
        namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ConditionLabels> + 'a {
        let first = ConditionLabels {
            namespace: namespace.into(),
            name: name.into(),
            condition: "".into(),
            ss_app_kubernetes_io_instance: "".into(),
        };
        series
            .range(first..)
            .take_while(move |l| &*l.namespace == namespace && &*l.name == name)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpRequestLabels {
    path: String,
    code: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpDurationLabels {
    path: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct KeyLabels {
    key: String,
}

type HistogramFamily = Family<HttpDurationLabels, Histogram, fn() -> Histogram>;

fn default_histogram() -> Histogram {
    Histogram::new(DEFAULT_BUCKETS)
}

#[derive(Debug)]
pub struct Metrics {
    build_info: Gauge,
    unseal_requests: Counter,
    unseal_errors: Family<UnsealErrorLabels, Counter>,
    condition_info: Family<ConditionLabels, Gauge>,
    /// The label sets present in `condition_info`, so that a deleted SealedSecret's series can be
    /// found (the family cannot be iterated).
    condition_series: Mutex<BTreeSet<ConditionLabels>>,
    http_requests: Family<HttpRequestLabels, Counter>,
    http_request_duration: HistogramFamily,
    /// Ours: key Secrets without the backup annotation (docs/operations.md).
    keys_not_backed_up: Gauge,
    /// `--metrics-omit-secret-labels`: `condition_info` never gets a series.
    omit_secret_labels: bool,
    /// Ours: NotAfter of the active key's certificate, Unix seconds (docs/operations.md).
    active_certificate_expiry: Gauge,
    /// Ours: SealedSecrets per sealing key (see [`KeyUsage`]).
    key_usage: KeyUsage,
}

/// Unregistered metrics (for tests and tools that do not expose them).
impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            build_info: Gauge::default(),
            unseal_requests: Counter::default(),
            unseal_errors: Family::default(),
            condition_info: Family::default(),
            condition_series: Mutex::new(BTreeSet::new()),
            http_requests: Family::default(),
            http_request_duration: Family::new_with_constructor(default_histogram),
            keys_not_backed_up: Gauge::default(),
            omit_secret_labels: false,
            active_certificate_expiry: Gauge::default(),
            key_usage: KeyUsage::default(),
        }
    }
}

impl Metrics {
    /// Registers every metric in `registry`, under `sealed_secrets_controller_`.
    #[cfg(test)]
    pub fn new(registry: &mut Registry) -> Self {
        Self::with_options(registry, false)
    }

    /// [`Metrics::new`]; with `omit_secret_labels` (`--metrics-omit-secret-labels`, upstream
    /// `SetMetricsOmitSecretLabels`) `condition_info` is never set and not exposed, so `/metrics`
    /// names no SealedSecret (upstream's stays registered, but client_golang exposes nothing for
    /// an empty vector).
    pub fn with_options(registry: &mut Registry, omit_secret_labels: bool) -> Self {
        let m = Metrics {
            omit_secret_labels,
            ..Metrics::default()
        };
        let r = registry.sub_registry_with_prefix(PREFIX);
        r.register(
            "unseal_requests",
            "Total number of sealed secret unseal requests",
            m.unseal_requests.clone(),
        );
        r.register(
            "unseal_errors",
            "Total number of sealed secret unseal errors by reason",
            m.unseal_errors.clone(),
        );
        // prometheus-client writes HELP and TYPE even for an empty family, client_golang nothing:
        // an omitted family is therefore not registered at all.
        if !omit_secret_labels {
            r.register(
                "condition_info",
                "Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)",
                m.condition_info.clone(),
            );
        }
        r.register(
            "http_requests",
            "A counter for requests to the wrapped handler",
            m.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "A histogram of latencies for requests",
            m.http_request_duration.clone(),
        );
        r.register(
            "keys_not_backed_up",
            "Number of current sealing key Secrets without the sealedsecrets-rs.io/backed-up-at annotation, i.e. in no backup made with kubeseal --backup-keys",
            m.keys_not_backed_up.clone(),
        );
        // Certificate expiry (kubeseal --cert-expiry-warning warns the sealing side).
        r.register(
            "active_certificate_expiry_timestamp_seconds",
            "Expiry time (NotAfter) of the certificate of the key that currently seals, in seconds since the Unix epoch",
            m.active_certificate_expiry.clone(),
        );
        r.register_collector(Box::new(RsaPrivateKeyOperations));
        r.register(
            "key_sealed_secrets",
            "Number of SealedSecrets last unsealed with each sealing key (label key: the key fingerprint, as kubeseal --list-keys shows it)",
            m.key_usage.gauge.clone(),
        );
        // Registered but never set: upstream exposes 0. (A sub-registry's metrics are encoded after
        // its parent's, so build_info comes last, as before.)
        r.sub_registry_with_label(("revision".into(), REVISION.into()))
            .register("build_info", "Build information", m.build_info.clone());
        m
    }

    /// `sealed_secrets_controller_keys_not_backed_up`.
    pub fn set_keys_not_backed_up(&self, n: usize) {
        self.keys_not_backed_up
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// `sealed_secrets_controller_active_certificate_expiry_timestamp_seconds`.
    pub fn set_active_certificate_expiry(&self, not_after: std::time::SystemTime) {
        let secs = not_after
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.active_certificate_expiry.set(secs);
    }

    /// `sealed_secrets_controller_unseal_requests_total` +1.
    pub fn unseal_request(&self) {
        self.unseal_requests.inc();
    }

    /// `sealed_secrets_controller_unseal_errors_total{reason, namespace}` +1; reasons `fetch`,
    /// `unseal`, `update`, `unmanaged`, `status`.
    pub fn unseal_error(&self, reason: &str, namespace: &str) {
        let labels = UnsealErrorLabels {
            reason: reason.to_string(),
            namespace: namespace.to_string(),
        };
        self.unseal_errors.get_or_create(&labels).inc();
    }

    /// `sealed_secrets_controller_condition_info{namespace,name,condition,ss_app_kubernetes_io_instance}`:
    /// -1 False, 0 Unknown, 1 True.
    ///
    /// A series of the same SealedSecret and condition under a previous instance label is dropped
    /// (upstream would leave it behind until the SealedSecret is deleted).
    pub fn set_condition(
        &self,
        namespace: &str,
        name: &str,
        condition: &str,
        instance: &str,
        value: i64,
    ) {
        if self.omit_secret_labels {
            return;
        }
        let labels = ConditionLabels {
            namespace: namespace.into(),
            name: name.into(),
            condition: condition.into(),
            ss_app_kubernetes_io_instance: instance.into(),
        };
        let mut series = self.lock_series();
        let stale: Vec<ConditionLabels> = ConditionLabels::of(&series, namespace, name)
            .filter(|l| {
                l.condition == labels.condition
                    && l.ss_app_kubernetes_io_instance != labels.ss_app_kubernetes_io_instance
            })
            .cloned()
            .collect();
        for l in stale {
            self.condition_info.remove(&l);
            series.remove(&l);
        }
        self.condition_info.get_or_create(&labels).set(value);
        series.insert(labels);
    }

    /// Drops every condition_info series of a deleted SealedSecret.
    pub fn remove_conditions(&self, namespace: &str, name: &str) {
        if self.omit_secret_labels {
            return;
        }
        let mut series = self.lock_series();
        let gone: Vec<ConditionLabels> = ConditionLabels::of(&series, namespace, name)
            .cloned()
            .collect();
        for l in gone {
            self.condition_info.remove(&l);
            series.remove(&l);
        }
    }

    /// One request to an instrumented path (`/v1/verify`, `/v1/rotate`, `/v1/cert.pem`):
    /// `http_requests_total{path,code,method}` and `http_request_duration_seconds{path,method}`, as
    /// client_golang's `InstrumentHandlerCounter`/`InstrumentHandlerDuration` label them.
    pub fn http_request(&self, path: &str, method: &str, code: u16, elapsed: Duration) {
        let method = sanitize_method(method);
        self.http_requests
            .get_or_create(&HttpRequestLabels {
                path: path.to_string(),
                code: code.to_string(),
                method: method.to_string(),
            })
            .inc();
        self.http_request_duration
            .get_or_create(&HttpDurationLabels {
                path: path.to_string(),
                method: method.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    fn lock_series(&self) -> std::sync::MutexGuard<'_, BTreeSet<ConditionLabels>> {
        self.condition_series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Ours: `rsa_private_key_operations_total`, the core's count of RSA private-key operations
/// (`sealed_secrets::crypto::rsa_private_key_operations`), read at each scrape.
#[derive(Debug)]
struct RsaPrivateKeyOperations;

impl Collector for RsaPrivateKeyOperations {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new(sealed_secrets::crypto::rsa_private_key_operations());
        let metric = encoder.encode_descriptor(
            "rsa_private_key_operations",
            "Number of RSA private-key operations (each key tried on each encrypted value, and each certificate signature)",
            None,
            counter.metric_type(),
        )?;
        counter.encode(metric)
    }
}

// Key usage (docs/operations.md "Key inventory and retirement"): which keys each SealedSecret
// needs, by object uid, kept by the reconciler (success) and the deletion handler, and exposed as
// `sealed_secrets_controller_key_sealed_secrets{key}`. A key keeps its series (0) once seen.

/// SealedSecret uid -> fingerprints of the keys that unsealed it, and the gauge derived from it.
/// Each distinct set of fingerprints is kept once (most SealedSecrets share one), and the count per
/// key is kept up to date as objects come and go.
#[derive(Debug, Default)]
pub struct KeyUsage {
    state: Mutex<KeyUsageState>,
    gauge: Family<KeyLabels, Gauge>,
}

#[derive(Debug, Default)]
struct KeyUsageState {
    by_object: std::collections::HashMap<String, Arc<BTreeSet<String>>>,
    /// Every set some object has, once.
    sets: std::collections::HashSet<Arc<BTreeSet<String>>>,
    /// SealedSecrets per key fingerprint.
    counts: std::collections::HashMap<String, i64>,
}

impl KeyUsageState {
    fn intern(&mut self, keys: BTreeSet<String>) -> Arc<BTreeSet<String>> {
        if let Some(shared) = self.sets.get(&keys) {
            return shared.clone();
        }
        let shared = Arc::new(keys);
        self.sets.insert(shared.clone());
        shared
    }

    /// Drops `set` (no longer held by `uid`) from the shared sets when nobody else holds it.
    fn release(&mut self, set: Arc<BTreeSet<String>>) {
        // Held here and in `sets` only.
        if Arc::strong_count(&set) == 2 {
            self.sets.remove(&set);
        }
    }
}

impl KeyUsage {
    fn lock(&self) -> std::sync::MutexGuard<'_, KeyUsageState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `uid` was unsealed with `keys` (replacing what it needed before); `None` forgets it.
    fn set(&self, uid: &str, keys: Option<BTreeSet<String>>) {
        let mut state = self.lock();
        let after = keys.map(|k| state.intern(k));
        let before = match &after {
            Some(a) => state.by_object.insert(uid.to_string(), a.clone()),
            None => state.by_object.remove(uid),
        };
        let empty = BTreeSet::new();
        let (old, new) = (
            before.as_deref().unwrap_or(&empty),
            after.as_deref().unwrap_or(&empty),
        );
        for key in old.union(new) {
            let delta = i64::from(new.contains(key)) - i64::from(old.contains(key));
            let n = state.counts.entry(key.clone()).or_insert(0);
            *n = n.saturating_add(delta);
            let n = *n;
            self.gauge
                .get_or_create(&KeyLabels { key: key.clone() })
                .set(n);
        }
        if let Some(before) = before {
            state.release(before);
        }
    }

    /// Forgets every SealedSecret; each key seen keeps its series at 0.
    fn clear(&self) {
        let mut state = self.lock();
        state.by_object.clear();
        state.sets.clear();
        for (key, n) in state.counts.iter_mut() {
            *n = 0;
            self.gauge
                .get_or_create(&KeyLabels { key: key.clone() })
                .set(0);
        }
    }

    #[cfg(test)]
    fn count(&self, key: &str) -> i64 {
        self.gauge
            .get_or_create(&KeyLabels {
                key: key.to_string(),
            })
            .get()
    }

    #[cfg(test)]
    fn shared_sets(&self) -> usize {
        self.lock().sets.len()
    }
}

impl Metrics {
    /// The SealedSecret `uid` was unsealed (and its Secret written) with the keys `fingerprints`.
    pub fn set_key_usage(&self, uid: &str, fingerprints: BTreeSet<String>) {
        if !uid.is_empty() {
            self.key_usage.set(uid, Some(fingerprints));
        }
    }

    /// The SealedSecret `uid` is gone.
    pub fn forget_key_usage(&self, uid: &str) {
        self.key_usage.set(uid, None);
    }

    /// This replica stopped leading: another one reconciles now, so the per-SealedSecret series
    /// this one set (`condition_info`, `key_sealed_secrets`) would go stale. They are dropped
    /// (`key_sealed_secrets` of a known key goes to 0) until it leads again; the leader's
    /// reconciles set them afresh.
    pub fn forget_sealed_secrets(&self) {
        let mut series = self.lock_series();
        for l in series.iter() {
            self.condition_info.remove(l);
        }
        series.clear();
        drop(series);
        self.key_usage.clear();
    }

    /// `key_sealed_secrets{key}` (0 for a key never seen).
    #[cfg(test)]
    pub fn key_usage(&self, fingerprint: &str) -> i64 {
        self.key_usage.count(fingerprint)
    }
}

/// client_golang's `sanitizeMethod`: the ten common methods lowercased, anything else `unknown`.
fn sanitize_method(m: &str) -> &'static str {
    match m {
        "GET" | "get" => "get",
        "PUT" | "put" => "put",
        "HEAD" | "head" => "head",
        "POST" | "post" => "post",
        "DELETE" | "delete" => "delete",
        "CONNECT" | "connect" => "connect",
        "OPTIONS" | "options" => "options",
        "NOTIFY" | "notify" => "notify",
        "TRACE" | "trace" => "trace",
        "PATCH" | "patch" => "patch",
        _ => "unknown",
    }
}

/// The registry as OpenMetrics text (what `/metrics` serves, with [`OPENMETRICS_CONTENT_TYPE`]).
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry)?;
    Ok(out)
}

// ---- leader election (ours; docs/operations.md) ----

/// Leader election state: `leader` (1 while this replica reconciles and manages keys),
/// `leadership_changes_total` (times this replica started or stopped leading) and
/// `leader_election_unavailable` (1 when `--leader-elect` is set but Leases are forbidden, so
/// this replica runs as a single instance).
#[derive(Debug, Default)]
pub struct LeaderMetrics {
    leader: Gauge,
    leadership_changes: Counter,
    unavailable: Gauge,
}

impl LeaderMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = LeaderMetrics::default();
        let r = registry.sub_registry_with_prefix(PREFIX);
        r.register(
            "leader",
            "Whether this replica is the leader: 1 while it unseals SealedSecrets and manages keys",
            m.leader.clone(),
        );
        r.register(
            "leadership_changes",
            "Times this replica started or stopped leading",
            m.leadership_changes.clone(),
        );
        r.register(
            "leader_election_unavailable",
            "1 when --leader-elect is set but the Lease is forbidden, so this replica runs as a single instance",
            m.unavailable.clone(),
        );
        m
    }

    pub fn set_leading(&self, leading: bool) {
        let was = self.leader.set(i64::from(leading));
        if was != i64::from(leading) {
            self.leadership_changes.inc();
        }
    }

    pub fn set_unavailable(&self) {
        self.unavailable.set(1);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod leader_tests {
    use super::*;

    #[test]
    fn leader_metrics() {
        let mut r = Registry::default();
        let m = LeaderMetrics::register(&mut r);
        let text = || encode(&r).unwrap();
        assert!(text().contains("sealed_secrets_controller_leader 0\n"));
        assert!(text().contains("sealed_secrets_controller_leadership_changes_total 0\n"));
        m.set_leading(true);
        m.set_leading(true);
        assert!(text().contains("sealed_secrets_controller_leader 1\n"));
        assert!(text().contains("sealed_secrets_controller_leadership_changes_total 1\n"));
        m.set_leading(false);
        assert!(text().contains("sealed_secrets_controller_leadership_changes_total 2\n"));
        assert!(text().contains("sealed_secrets_controller_leader_election_unavailable 0\n"));
        m.set_unavailable();
        assert!(text().contains("sealed_secrets_controller_leader_election_unavailable 1\n"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn sample_names(text: &str) -> BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split(['{', ' ']).next())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn exposed_names_are_upstreams() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        m.unseal_request();
        m.unseal_error("unseal", "ns1");
        m.set_condition("ns1", "s1", "Synced", "inst", 1);
        m.http_request("/v1/verify", "POST", 200, Duration::from_millis(3));
        m.set_keys_not_backed_up(2);
        m.set_active_certificate_expiry(std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let text = encode(&registry).unwrap();
        assert!(
            text.contains(
                "sealed_secrets_controller_active_certificate_expiry_timestamp_seconds 1800000000\n"
            ),
            "{text}"
        );
        let names = sample_names(&text);
        assert!(
            text.contains("sealed_secrets_controller_keys_not_backed_up 2\n"),
            "{text}"
        );
        for want in [
            "sealed_secrets_controller_build_info",
            "sealed_secrets_controller_unseal_requests_total",
            "sealed_secrets_controller_unseal_errors_total",
            "sealed_secrets_controller_condition_info",
            "sealed_secrets_controller_http_requests_total",
            "sealed_secrets_controller_http_request_duration_seconds_bucket",
            "sealed_secrets_controller_http_request_duration_seconds_sum",
            "sealed_secrets_controller_http_request_duration_seconds_count",
        ] {
            assert!(names.contains(want), "{want} missing from\n{text}");
        }
        assert!(!text.contains("_total_total"), "{text}");
        assert!(text.contains(&format!(
            "sealed_secrets_controller_build_info{{revision=\"{REVISION}\"}} 0\n"
        )));
        assert!(
            !text.contains(".."),
            "help texts end in one full stop\n{text}"
        );
        assert!(
            text.contains("sealed_secrets_controller_unseal_requests_total 1\n"),
            "{text}"
        );
        assert!(text.contains(
            "sealed_secrets_controller_unseal_errors_total{reason=\"unseal\",namespace=\"ns1\"} 1\n"
        ));
        assert!(text.contains("sealed_secrets_controller_condition_info{namespace=\"ns1\",name=\"s1\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"inst\"} 1\n"));
        assert!(text.contains("sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"200\",method=\"post\"} 1\n"));
        for le in [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
            "+Inf",
        ] {
            assert!(
                text.contains(&format!("sealed_secrets_controller_http_request_duration_seconds_bucket{{le=\"{le}\",path=\"/v1/verify\",method=\"post\"}}"))
                    || text.contains(&format!("sealed_secrets_controller_http_request_duration_seconds_bucket{{path=\"/v1/verify\",method=\"post\",le=\"{le}\"}}")),
                "bucket {le} missing from\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"));
    }

    fn rsa_operations(registry: &Registry) -> u64 {
        let text = encode(registry).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("sealed_secrets_controller_rsa_private_key_operations_total "))
            .unwrap_or_else(|| panic!("no RSA counter in\n{text}"));
        assert!(
            text.contains("# TYPE sealed_secrets_controller_rsa_private_key_operations counter\n")
        );
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn rsa_private_key_operations_are_counted() {
        let mut registry = Registry::default();
        let _m = Metrics::new(&mut registry);
        let key = sealed_secrets::keys::PrivateKey::from_pem(include_bytes!(
            "../../tests/fixtures/keys/key-pkcs1.pem"
        ))
        .unwrap();
        let ct = key.public_key().encrypt(b"v", b"ns/s").unwrap();
        let before = rsa_operations(&registry);
        key.decrypt(&ct, b"ns/s").unwrap();
        // A failed decryption (wrong label) is an operation too.
        assert!(key.decrypt(&ct, b"ns/other").is_err());
        // Other tests of this binary may decrypt meanwhile: at least these two.
        assert!(rsa_operations(&registry) >= before + 2);
    }

    #[test]
    fn methods_are_sanitized() {
        assert_eq!(sanitize_method("GET"), "get");
        assert_eq!(sanitize_method("patch"), "patch");
        assert_eq!(sanitize_method("Get"), "unknown");
        assert_eq!(sanitize_method("PROPFIND"), "unknown");
    }

    #[test]
    fn a_replica_that_stops_leading_drops_its_sealed_secret_series() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        m.set_condition("ns1", "s1", "Synced", "", -1);
        m.set_key_usage("uid-1", BTreeSet::from(["k1".to_string()]));
        let before = encode(&registry).unwrap();
        assert!(
            before.contains("sealed_secrets_controller_condition_info{"),
            "{before}"
        );
        assert!(before.contains("sealed_secrets_controller_key_sealed_secrets{key=\"k1\"} 1\n"));
        m.forget_sealed_secrets();
        let after = encode(&registry).unwrap();
        assert!(
            !after.contains("sealed_secrets_controller_condition_info{"),
            "{after}"
        );
        assert!(after.contains("sealed_secrets_controller_key_sealed_secrets{key=\"k1\"} 0\n"));
        // Leading again: the reconciles set them afresh.
        m.set_condition("ns1", "s1", "Synced", "", 1);
        let again = encode(&registry).unwrap();
        assert!(
            again.contains("name=\"s1\",condition=\"Synced\""),
            "{again}"
        );
    }

    /// U8: with `--metrics-omit-secret-labels` the condition_info family is absent; the other
    /// metrics (namespaces in unseal_errors included) are unchanged.
    #[test]
    fn omit_secret_labels_hides_condition_info_only() {
        let mut with = Registry::default();
        let mut without = Registry::default();
        let shown = Metrics::new(&mut with);
        let omitted = Metrics::with_options(&mut without, true);
        for m in [&shown, &omitted] {
            m.set_condition("ns1", "s1", "Synced", "inst", 1);
            m.set_condition("ns1", "s2", "Synced", "", -1);
            m.remove_conditions("ns1", "s2");
            m.unseal_error("unseal", "ns1");
            m.http_request("/v1/verify", "POST", 200, Duration::from_millis(3));
        }
        let shown = encode(&with).unwrap();
        let omitted = encode(&without).unwrap();
        assert!(
            shown.contains("sealed_secrets_controller_condition_info{"),
            "{shown}"
        );
        assert!(!omitted.contains("condition_info"), "{omitted}");
        assert!(!omitted.contains("name=\"s1\""), "{omitted}");
        let without_condition: String = shown
            .lines()
            .filter(|l| !l.contains("condition_info"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(omitted, without_condition);
        assert!(omitted.contains(
            "sealed_secrets_controller_unseal_errors_total{reason=\"unseal\",namespace=\"ns1\"} 1\n"
        ));
    }

    #[test]
    fn conditions_are_replaced_and_removed() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        m.set_condition("ns", "a", "Synced", "", -1);
        m.set_condition("ns", "a", "Synced", "", 1);
        m.set_condition("ns", "b", "Synced", "old", 1);
        m.set_condition("ns", "b", "Synced", "new", 0);
        let text = encode(&registry).unwrap();
        assert!(
            text.contains(
                "name=\"a\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"\"} 1\n"
            )
        );
        assert!(!text.contains("\"old\""), "{text}");
        assert!(text.contains("ss_app_kubernetes_io_instance=\"new\"} 0\n"));
        m.remove_conditions("ns", "a");
        let text = encode(&registry).unwrap();
        assert!(!text.contains("name=\"a\""), "{text}");
        assert!(text.contains("name=\"b\""));
    }

    #[test]
    fn key_usage_follows_updates_and_deletions() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        let keys = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();
        m.set_key_usage("u1", keys(&["k1"]));
        m.set_key_usage("u2", keys(&["k1"]));
        m.set_key_usage("u3", keys(&["k1", "k2"]));
        m.set_key_usage("", keys(&["k1"]));
        assert_eq!((m.key_usage("k1"), m.key_usage("k2")), (3, 1));
        // Two distinct sets, each kept once.
        assert_eq!(m.key_usage.shared_sets(), 2);
        // Re-sealed under k2: k1 loses it, k2 gains it; the same again changes nothing.
        m.set_key_usage("u1", keys(&["k2"]));
        m.set_key_usage("u1", keys(&["k2"]));
        assert_eq!((m.key_usage("k1"), m.key_usage("k2")), (2, 2));
        m.forget_key_usage("u3");
        m.forget_key_usage("unknown");
        assert_eq!((m.key_usage("k1"), m.key_usage("k2")), (1, 1));
        m.forget_key_usage("u2");
        // Only u1's {k2} is left; {k1} and {k1, k2} are gone.
        assert_eq!(m.key_usage.shared_sets(), 1);
        let text = encode(&registry).unwrap();
        assert!(
            text.contains("sealed_secrets_controller_key_sealed_secrets{key=\"k1\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("sealed_secrets_controller_key_sealed_secrets{key=\"k2\"} 1\n"));
    }
}

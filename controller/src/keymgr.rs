//! Sealing keys in the cluster (upstream `pkg/controller/keys.go`, `keyregistry.go`, and
//! `main.go` `initKeyRegistry`, `initKeyRenewal`): loading upstream-format key Secrets, generating
//! and storing new ones, the renewal schedule, and the watch that registers key Secrets added while
//! running. The clock is injected so that renewal scheduling is testable without sleeping.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use sealed_secrets::k8s::{from_k8s, to_k8s, zeroize_secret_data};
use sealed_secrets::key_secret::{
    KeySecretTemplate, key_pair_from_secret, key_secret_name, key_selector, new_key_secret,
    short_digest,
};
use sealed_secrets::keys::{KeyOrder, SealingKeyPair, generate_key};
use sealed_secrets::ownership::FIELD_MANAGER;
pub use sealed_secrets::renewal::{first_renewal_delay, needs_initial_key};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::events::{EventRecorder, EventType, ObjectReference};
use crate::metrics::Metrics;
use crate::registry::KeyRegistry;

/// Event reason for a key Secret that cannot be used (ours; upstream has none, it crashes).
pub const REASON_KEY_INVALID: &str = "ErrInvalidKey";
/// Event reason for a freshly generated key, which no backup holds yet (ours).
pub const REASON_KEY_NOT_BACKED_UP: &str = "KeyNotBackedUp";

/// Whether a key Secret carries the annotation `kubeseal --backup-keys` sets after a backup.
pub fn is_backed_up(secret: &Secret) -> bool {
    secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(sealed_secrets::backup::BACKED_UP_AT))
        .is_some_and(|v| !v.is_empty())
}

/// The current key Secrets (by name) and whether each is in a backup: the source of the
/// `keys_not_backed_up` gauge. Unlike the key registry, it follows deletions and relabelling.
#[derive(Debug, Default)]
pub struct BackupStatus {
    inner: Mutex<BackupStatusInner>,
}

#[derive(Debug, Default)]
struct BackupStatusInner {
    keys: BTreeMap<String, bool>,
    /// Names seen since the watch started a re-list; `None` outside a re-list.
    relisted: Option<BTreeSet<String>>,
}

impl BackupStatus {
    fn lock(&self) -> std::sync::MutexGuard<'_, BackupStatusInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a usable key Secret; returns the number of keys not backed up.
    pub fn set(&self, name: &str, backed_up: bool) -> usize {
        let mut inner = self.lock();
        inner.keys.insert(name.to_string(), backed_up);
        if let Some(seen) = inner.relisted.as_mut() {
            seen.insert(name.to_string());
        }
        inner.not_backed_up()
    }

    /// Forgets a key Secret (deleted, relabelled or unusable).
    pub fn remove(&self, name: &str) -> usize {
        let mut inner = self.lock();
        inner.keys.remove(name);
        inner.not_backed_up()
    }

    pub fn begin_relist(&self) {
        self.lock().relisted = Some(BTreeSet::new());
    }

    /// Ends a re-list: names not seen in it are gone, except `keep` (the legacy key Secret, which
    /// has no label and so is not in the watch).
    pub fn end_relist(&self, keep: &str) -> usize {
        let mut inner = self.lock();
        if let Some(seen) = inner.relisted.take() {
            inner
                .keys
                .retain(|name, _| name == keep || seen.contains(name));
        }
        inner.not_backed_up()
    }

    #[cfg(test)]
    pub fn not_backed_up(&self) -> usize {
        self.lock().not_backed_up()
    }
}

impl BackupStatusInner {
    fn not_backed_up(&self) -> usize {
        self.keys.values().filter(|b| !**b).count()
    }
}

/// Wall-clock time, injected so that key renewal can be tested.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Api(#[from] kube::Error),
    #[error(transparent)]
    Key(#[from] sealed_secrets::keys::KeyError),
    #[error("key generation task failed: {0}")]
    Task(String),
    #[error("invalid key Secret: {0}")]
    Convert(#[from] sealed_secrets::k8s::ConvertError),
}

/// Everything needed to make and find key Secrets.
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub namespace: String,
    pub prefix: String,
    pub key_size: usize,
    pub ttl: Duration,
    pub common_name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub order: KeyOrder,
}

/// Runs `job` after `initial_delay` and then every `period` (a fixed schedule, not reset by manual
/// triggers, as upstream's `ScheduleJobWithTrigger`), and at once for every message on `trigger`
/// (SIGUSR1). `initial_delay == None` disables the timer; triggers still work.
pub async fn run_schedule<F, Fut>(
    initial_delay: Option<Duration>,
    period: Duration,
    trigger: &mut mpsc::Receiver<()>,
    shutdown: CancellationToken,
    mut job: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut next = initial_delay.map(|d| tokio::time::Instant::now() + d);
    let mut trigger_open = true;
    loop {
        let timer = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            msg = trigger.recv(), if trigger_open => match msg {
                Some(()) => job().await,
                None => trigger_open = false,
            },
            _ = timer => {
                job().await;
                next = next.map(|at| at + period);
            }
        }
    }
}

impl KeySettings {
    /// Where and how new key Secrets are made.
    pub fn key_secret_template(&self) -> KeySecretTemplate {
        KeySecretTemplate {
            namespace: self.namespace.clone(),
            name_prefix: self.prefix.clone(),
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
        }
    }
}

pub fn secret_object_ref(secret: &Secret) -> ObjectReference {
    ObjectReference {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: secret.metadata.namespace.clone().unwrap_or_default(),
        name: secret.metadata.name.clone().unwrap_or_default(),
        uid: secret.metadata.uid.clone().unwrap_or_default(),
        resource_version: secret.metadata.resource_version.clone().unwrap_or_default(),
    }
}

/// Sorts key Secrets by creationTimestamp, oldest first (upstream `ByCreationTimestamp`).
pub fn sort_by_creation(secrets: &mut [Secret]) {
    secrets.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .cmp(&b.metadata.creation_timestamp)
    });
}

/// A key Secret as the registry holds it (the core's [`key_pair_from_secret`]), read through the
/// core's tolerant types (they zeroize the key bytes on drop).
pub fn parse_key_secret(secret: &Secret, order: KeyOrder) -> Result<SealingKeyPair, KeyError> {
    Ok(key_pair_from_secret(&from_k8s(secret)?, order)?)
}

/// The name of the key Secret that succeeds the key whose SubjectPublicKeyInfo is `latest`
/// (`None`: the first key): `<prefix>-` and the first hex digits of its SHA-256 (`-initial` for
/// the first key). Every replica derives the same name for one renewal. Upstream's random
/// `generateName` suffix differs, but upstream finds key Secrets by label, never by name.
pub fn successor_key_name(prefix: &str, latest: Option<&[u8]>) -> String {
    let tag = latest.map_or_else(|| "initial".to_string(), short_digest);
    key_secret_name(prefix, &tag)
}

/// Owns the key registry's link to the cluster.
pub struct KeyManager {
    client: Client,
    settings: KeySettings,
    registry: Arc<KeyRegistry>,
    recorder: Arc<EventRecorder>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    backup: BackupStatus,
    /// Key Secrets already reported as unusable (uid, resourceVersion), so a watch re-list does
    /// not repeat the Event.
    reported: Mutex<HashSet<(String, String)>>,
}

impl KeyManager {
    pub fn new(
        client: Client,
        settings: KeySettings,
        registry: Arc<KeyRegistry>,
        recorder: Arc<EventRecorder>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        KeyManager {
            client,
            settings,
            registry,
            recorder,
            clock,
            metrics,
            backup: BackupStatus::default(),
            reported: Mutex::default(),
        }
    }

    fn publish_backup_status(&self, not_backed_up: usize) {
        self.metrics.set_keys_not_backed_up(not_backed_up);
    }

    /// The active (sealing) key's certificate expiry as a metric.
    fn publish_active_expiry(&self) {
        if let Some(latest) = self.registry.read().latest() {
            self.metrics
                .set_active_certificate_expiry(latest.certificate.not_after);
        }
    }

    fn api(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.settings.namespace)
    }

    /// Upstream `initKeyRegistry`: the active key Secrets plus the legacy `<key-prefix>` Secret,
    /// oldest first. A Secret that cannot be used is reported and skipped.
    pub async fn load_existing(&self) -> Result<(), KeyError> {
        info!("Searching for existing private keys");
        let api = self.api();
        let list = api
            .list(&ListParams::default().labels(&key_selector()))
            .await?;
        let mut items = list.items;
        if !self.settings.prefix.is_empty() {
            match api.get_opt(&self.settings.prefix).await {
                Ok(Some(legacy)) => items.push(legacy),
                Ok(None) => {}
                Err(kube::Error::Api(s)) if s.code == 403 => {
                    warn!(name = %self.settings.prefix, error = %s.message, "cannot read the legacy key Secret");
                }
                Err(e) => return Err(e.into()),
            }
        }
        sort_by_creation(&mut items);
        for mut secret in items {
            self.register_secret(&secret).await;
            zeroize_secret_data(&mut secret);
        }
        Ok(())
    }

    /// Parses and registers one key Secret; `true` when it was new. Failures are logged and
    /// recorded as a Warning Event on the Secret, never fatal.
    pub async fn register_secret(&self, secret: &Secret) -> bool {
        let name = secret.metadata.name.clone().unwrap_or_default();
        match parse_key_secret(secret, self.settings.order) {
            Ok(pair) => {
                self.publish_backup_status(self.backup.set(&name, is_backed_up(secret)));
                let added = self.registry.add(pair);
                self.publish_active_expiry();
                if added {
                    info!(secretname = %name, "registered private key");
                }
                added
            }
            Err(e) => {
                self.publish_backup_status(self.backup.remove(&name));
                error!(secret = %name, error = %e, "Error reading key");
                let id = (
                    secret.metadata.uid.clone().unwrap_or_default(),
                    secret.metadata.resource_version.clone().unwrap_or_default(),
                );
                let first = self
                    .reported
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id);
                if first {
                    let message = format!("Failed to read sealing key: {e}");
                    self.recorder
                        .publish(
                            &secret_object_ref(secret),
                            EventType::Warning,
                            REASON_KEY_INVALID,
                            &message,
                        )
                        .await;
                }
                false
            }
        }
    }

    /// Upstream `generateKey`: a new key pair and certificate, written to a new key Secret first;
    /// the key is used only once the write succeeded. Returns the Secret's name.
    pub async fn generate(&self) -> Result<String, KeyError> {
        let (bits, cn, ttl) = (
            self.settings.key_size,
            self.settings.common_name.clone(),
            self.settings.ttl,
        );
        // A name fixed by the key this one succeeds, taken when the renewal is decided: two
        // replicas renewing the same key (a leadership change in the middle of a renewal, a rolling
        // update without leader election) conflict on it instead of both adding a key.
        let slot = successor_key_name(
            &self.settings.prefix,
            self.registry.latest_spki().as_deref(),
        );
        let now = self.clock.now();
        let generated = tokio::task::spawn_blocking(move || generate_key(bits, &cn, ttl, now))
            .await
            .map_err(|e| KeyError::Task(e.to_string()))??;
        let mut key_secret = new_key_secret(
            &self.settings.key_secret_template(),
            &generated.private_key_pem,
            &generated.certificate_pem,
        );
        key_secret.metadata.name = slot.clone();
        key_secret.metadata.generate_name = String::new();
        let secret = to_k8s(&key_secret)?;
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..Default::default()
        };
        let mut result = self.api().create(&pp, &secret).await;
        drop(secret);
        if let Err(kube::Error::Api(s)) = &result
            && s.code == 409
        {
            if self.adopt(&slot).await? {
                return Ok(slot);
            }
            // Taken by a Secret that is not an active key (relabelled): a random name, as upstream.
            key_secret.metadata.name = String::new();
            key_secret.metadata.generate_name = self.settings.prefix.clone();
            let secret = to_k8s(&key_secret)?;
            result = self.api().create(&pp, &secret).await;
        }
        drop(key_secret);
        let mut created = result?;
        zeroize_secret_data(&mut created);
        let name = created.metadata.name.clone().unwrap_or_default();
        self.publish_backup_status(self.backup.set(&name, false));
        self.recorder
            .publish(
                &secret_object_ref(&created),
                EventType::Warning,
                REASON_KEY_NOT_BACKED_UP,
                &format!(
                    "New sealing key {name} is not in any backup yet: back it up with kubeseal --backup-keys"
                ),
            )
            .await;
        let mut pair = generated.key_pair;
        // Upstream orders a freshly generated key by the time of its creation.
        pair.order_time = self.clock.now();
        self.registry.add(pair);
        self.publish_active_expiry();
        info!(namespace = %self.settings.namespace, name = %name, "New key written");
        // The public certificate only, for offline sealing (`kubeseal --cert`), as upstream.
        info!(certificate = %generated.certificate_pem, "Certificate generated");
        Ok(name)
    }

    /// The key Secret `name` exists already: another replica made this renewal's key. Registers
    /// it when it is an active key; `false` when it is not one. A list by name and label, not a
    /// `get`: the controller's Role may `get` the legacy key Secret only.
    async fn adopt(&self, name: &str) -> Result<bool, KeyError> {
        let params = ListParams::default()
            .labels(&key_selector())
            .fields(&format!("metadata.name={name}"));
        let mut found = self.api().list(&params).await?.items;
        let mut usable = false;
        for existing in &mut found {
            if parse_key_secret(existing, self.settings.order).is_ok() {
                info!(secretname = %name, "key of this renewal already created by another replica, using it");
                self.register_secret(existing).await;
                usable = true;
            }
            zeroize_secret_data(existing);
        }
        Ok(usable)
    }

    /// Key generation for the renewal timer and SIGUSR1: failures are logged, not fatal.
    pub async fn renew(&self) {
        if let Err(e) = self.generate().await {
            error!(error = %e, "Failed to generate new key");
        }
    }

    /// Watches active key Secrets in the controller namespace and registers every one it sees, so
    /// restored or bring-your-own keys are used without a restart. Always on (upstream needs
    /// `--watch-for-secrets`); the initial list replays known keys, which is idempotent.
    pub async fn watch(self: Arc<Self>, shutdown: CancellationToken) {
        let config = watcher::Config::default().labels(&key_selector());
        let stream = watcher(self.api(), config).default_backoff();
        futures::pin_mut!(stream);
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = stream.next() => next,
            };
            match next {
                Some(Ok(watcher::Event::Apply(mut s) | watcher::Event::InitApply(mut s))) => {
                    self.register_secret(&s).await;
                    zeroize_secret_data(&mut s);
                }
                Some(Ok(watcher::Event::Delete(mut s))) => {
                    // The key stays registered (keys are never unregistered while running), but
                    // it is no longer a current key Secret that needs a backup.
                    let name = s.metadata.name.clone().unwrap_or_default();
                    self.publish_backup_status(self.backup.remove(&name));
                    zeroize_secret_data(&mut s);
                }
                Some(Ok(watcher::Event::Init)) => self.backup.begin_relist(),
                Some(Ok(watcher::Event::InitDone)) => {
                    self.publish_backup_status(self.backup.end_relist(&self.settings.prefix));
                }
                Some(Err(e)) => warn!(error = %e, "key Secret watch failed, retrying"),
                None => return,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const H: Duration = Duration::from_secs(3600);

    #[test]
    fn backup_status_counts_current_keys() {
        let status = BackupStatus::default();
        assert_eq!(status.set("a", false), 1);
        assert_eq!(status.set("b", true), 1);
        assert_eq!(status.set("legacy", false), 2);
        // The backup annotation arrives on a's update.
        assert_eq!(status.set("a", true), 1);
        assert_eq!(status.remove("b"), 1);
        // A re-list that no longer sees "a": it is gone; the legacy key is kept.
        status.begin_relist();
        assert_eq!(status.set("c", false), 2);
        assert_eq!(status.end_relist("legacy"), 2);
        assert_eq!(status.not_backed_up(), 2);
        status.begin_relist();
        assert_eq!(status.end_relist("other"), 0);
    }

    #[test]
    fn backup_annotation_is_read() {
        let mut s = key_secret(&settings(), "K", "C");
        assert!(!is_backed_up(&s));
        s.metadata.annotations = Some(BTreeMap::from([(
            sealed_secrets::backup::BACKED_UP_AT.to_string(),
            "2026-01-01T00:00:00Z".to_string(),
        )]));
        assert!(is_backed_up(&s));
    }

    /// A clock the test moves by hand.
    struct FakeClock(Mutex<SystemTime>);
    impl Clock for FakeClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn schedule_fires_after_initial_delay_then_every_period() {
        let clock = FakeClock(Mutex::new(SystemTime::UNIX_EPOCH + 1000 * H));
        let latest = clock.now() - 700 * H;
        let delay = first_renewal_delay(720 * H, Some(latest), clock.now());
        assert_eq!(delay, Some(20 * H));

        let fired = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel(4);
        let shutdown = CancellationToken::new();
        let start = tokio::time::Instant::now();
        let f = fired.clone();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            let mut rx = rx;
            run_schedule(delay, 720 * H, &mut rx, token, move || {
                let f = f.clone();
                async move { f.lock().unwrap().push(tokio::time::Instant::now() - start) }
            })
            .await
        });
        tokio::time::sleep(19 * H).await;
        assert!(fired.lock().unwrap().is_empty());
        tokio::time::sleep(2 * H).await;
        assert_eq!(*fired.lock().unwrap(), vec![20 * H]);
        // A manual trigger (SIGUSR1) runs at once and does not move the schedule.
        tx.send(()).await.unwrap();
        tokio::time::sleep(H).await;
        assert_eq!(fired.lock().unwrap().len(), 2);
        tokio::time::sleep(720 * H).await;
        let got = fired.lock().unwrap().clone();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], 740 * H);
        shutdown.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn zero_period_disables_timer_but_not_trigger() {
        let count = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel(4);
        let shutdown = CancellationToken::new();
        let c = count.clone();
        let delay = first_renewal_delay(Duration::ZERO, None, SystemTime::now());
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            let mut rx = rx;
            run_schedule(delay, Duration::ZERO, &mut rx, token, move || {
                c.fetch_add(1, Ordering::SeqCst);
                async {}
            })
            .await
        });
        tokio::time::sleep(100_000 * H).await;
        assert_eq!(count.load(Ordering::SeqCst), 0);
        tx.send(()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // The trigger closing does not stop the loop; shutdown does.
        drop(tx);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!task.is_finished());
        shutdown.cancel();
        task.await.unwrap();
    }

    fn settings() -> KeySettings {
        KeySettings {
            namespace: "kube-system".into(),
            prefix: "sealed-secrets-key".into(),
            key_size: 2048,
            ttl: H,
            common_name: String::new(),
            labels: BTreeMap::from([("team".to_string(), "a".to_string())]),
            annotations: BTreeMap::from([("note".to_string(), "x".to_string())]),
            order: KeyOrder::CertNotBefore,
        }
    }

    /// The key Secret as the client sends it.
    fn key_secret(settings: &KeySettings, key: &str, cert: &str) -> Secret {
        to_k8s(&new_key_secret(&settings.key_secret_template(), key, cert))
            .unwrap()
            .0
            .clone()
    }

    #[test]
    fn key_secret_shape() {
        let mut s = key_secret(&settings(), "KEY", "CERT");
        assert_eq!(
            s.metadata.generate_name.as_deref(),
            Some("sealed-secrets-key")
        );
        assert_eq!(s.metadata.name, None);
        assert_eq!(s.metadata.namespace.as_deref(), Some("kube-system"));
        assert_eq!(s.type_.as_deref(), Some("kubernetes.io/tls"));
        let labels = s.metadata.labels.clone().unwrap();
        assert_eq!(labels[sealed_secrets::key_secret::KEY_LABEL], "active");
        assert_eq!(labels["team"], "a");
        assert_eq!(s.metadata.annotations.clone().unwrap()["note"], "x");
        let data = s.data.clone().unwrap();
        assert_eq!(data["tls.key"].0, b"KEY");
        assert_eq!(data["tls.crt"].0, b"CERT");
        zeroize_secret_data(&mut s);
        assert!(
            s.data
                .unwrap()
                .values()
                .all(|v| v.0.iter().all(|b| *b == 0))
        );
    }

    fn with_ts(name: &str, ts: Option<&str>) -> Secret {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "creationTimestamp": ts}
        }))
        .unwrap()
    }

    #[test]
    fn creation_order() {
        let mut v = vec![
            with_ts("c", Some("2024-03-01T00:00:00Z")),
            with_ts("a", Some("2024-01-01T00:00:00Z")),
            with_ts("legacy", None),
            with_ts("b", Some("2024-02-01T00:00:00Z")),
        ];
        sort_by_creation(&mut v);
        let names: Vec<_> = v.iter().map(|s| s.metadata.name.clone().unwrap()).collect();
        assert_eq!(names, ["legacy", "a", "b", "c"]);
    }

    fn key_secret_from(name: &str, key: &str, cert: &str, created: &str) -> Secret {
        let mut s = key_secret(&settings(), key, cert);
        s.metadata.name = Some(name.into());
        s.metadata.creation_timestamp =
            Some(serde_json::from_value(serde_json::json!(created)).unwrap());
        s
    }

    const PKCS1: &str = include_str!("../../tests/fixtures/keys/key-pkcs1.pem");
    const PKCS8: &str = include_str!("../../tests/fixtures/keys/key-pkcs8.pem");
    const CERT: &str = include_str!("../../tests/fixtures/keys/cert.pem");
    const OTHER_KEY: &str = include_str!("../../tests/fixtures/keys/other-key.pem");
    const OTHER_CERT: &str = include_str!("../../tests/fixtures/keys/other-cert.pem");
    const OLD_KEY: &str = include_str!("../../tests/fixtures/keys/expired-key.pem");
    const OLD_CERT: &str = include_str!("../../tests/fixtures/keys/expired-cert.pem");
    const EC_KEY: &str = include_str!("../../tests/fixtures/keys/ec-key.pem");
    const EC_CERT: &str = include_str!("../../tests/fixtures/keys/ec-cert.pem");

    #[test]
    fn parses_pkcs1_and_pkcs8_and_dedups() {
        let registry = KeyRegistry::new();
        let a = parse_key_secret(
            &key_secret_from("k1", PKCS1, CERT, "2024-01-01T00:00:00Z"),
            KeyOrder::CertNotBefore,
        )
        .unwrap();
        let b = parse_key_secret(
            &key_secret_from("k2", PKCS8, CERT, "2024-01-02T00:00:00Z"),
            KeyOrder::CertNotBefore,
        )
        .unwrap();
        assert!(registry.add(a));
        // The same key in PKCS#8 form (a re-listed or duplicated Secret) counts once.
        assert!(!registry.add(b));
        assert_eq!(registry.read().len(), 1);
    }

    #[test]
    fn malformed_key_secrets_are_errors_not_panics() {
        let bad = [
            key_secret_from("garbage", "not a key", CERT, "2024-01-01T00:00:00Z"),
            key_secret_from("nocert", PKCS1, "", "2024-01-01T00:00:00Z"),
            key_secret_from("ec", EC_KEY, EC_CERT, "2024-01-01T00:00:00Z"),
            with_ts("empty", Some("2024-01-01T00:00:00Z")),
        ];
        for s in &bad {
            assert!(
                parse_key_secret(s, KeyOrder::CertNotBefore).is_err(),
                "{:?}",
                s.metadata.name
            );
        }
        let e = parse_key_secret(&bad[2], KeyOrder::CertNotBefore).unwrap_err();
        assert_eq!(e.to_string(), "private key is not an RSA key");
    }

    #[test]
    fn ordering_by_cert_not_before_or_creation() {
        // The expired key's certificate is from 2020, the main key's from 2026; the old key's
        // Secret is the newer one.
        let old = key_secret_from("old", OLD_KEY, OLD_CERT, "2027-01-01T00:00:00Z");
        let new = key_secret_from("new", PKCS1, CERT, "2026-12-01T00:00:00Z");
        let latest_cert = |order: KeyOrder| {
            let registry = KeyRegistry::new();
            let mut items = vec![old.clone(), new.clone()];
            sort_by_creation(&mut items);
            for s in &items {
                registry.add(parse_key_secret(s, order).unwrap());
            }
            let ring = registry.read();
            ring.latest().map(|k| k.certificate.pem.clone()).unwrap()
        };
        assert_eq!(latest_cert(KeyOrder::CertNotBefore).trim(), CERT.trim());
        assert_eq!(
            latest_cert(KeyOrder::SecretCreationTimestamp).trim(),
            OLD_CERT.trim()
        );
    }

    #[test]
    fn ties_keep_the_first_registered() {
        // cert.pem and other-cert.pem were made in the same second.
        let a = parse_key_secret(
            &key_secret_from("a", PKCS1, CERT, "2024-01-01T00:00:00Z"),
            KeyOrder::CertNotBefore,
        )
        .unwrap();
        let b = parse_key_secret(
            &key_secret_from("b", OTHER_KEY, OTHER_CERT, "2024-01-01T00:00:00Z"),
            KeyOrder::CertNotBefore,
        )
        .unwrap();
        assert_eq!(
            a.order_time, b.order_time,
            "the fixtures must tie on NotBefore for this test"
        );
        let registry = KeyRegistry::new();
        registry.add(a);
        registry.add(b);
        assert_eq!(
            registry.read().latest().unwrap().certificate.pem.trim(),
            CERT.trim()
        );
        // A strictly newer key (e.g. one just generated) takes over.
        let mut newer = parse_key_secret(
            &key_secret_from("c", OLD_KEY, OLD_CERT, "2024-01-01T00:00:00Z"),
            KeyOrder::CertNotBefore,
        )
        .unwrap();
        newer.order_time = SystemTime::now() + 1000 * H;
        registry.add(newer);
        assert_eq!(
            registry.read().latest().unwrap().certificate.pem.trim(),
            OLD_CERT.trim()
        );
    }

    /// Ours: one name per renewal, derived from the key it succeeds, a valid Secret name.
    #[test]
    fn successor_names_are_deterministic_and_valid() {
        assert_eq!(
            successor_key_name("sealed-secrets-key", None),
            "sealed-secrets-key-initial"
        );
        let a = successor_key_name("sealed-secrets-key", Some(b"spki-a"));
        assert_eq!(a, successor_key_name("sealed-secrets-key", Some(b"spki-a")));
        assert_ne!(a, successor_key_name("sealed-secrets-key", Some(b"spki-b")));
        let suffix = a.strip_prefix("sealed-secrets-key-").unwrap();
        assert_eq!(suffix.len(), 10);
        assert!(
            suffix
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(successor_key_name("", None), "initial");
        assert_eq!(successor_key_name("k-", None), "k-initial");
        let long = successor_key_name(&"a".repeat(245), Some(b"x"));
        assert_eq!(long.len(), 253);
    }
}

//! The reconciler (upstream `pkg/controller/controller.go` `(*Controller).unseal` and
//! `processNextItem`): SealedSecret → desired Secret (core `unseal`, on the blocking pool) →
//! ownership gate → create / overwrite / patch → Events → status, and the retry policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::{Api, DynamicObject, PostParams};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt as _};
use sealed_secrets::decode::{DecodeError, sealed_secret_from_object};
use sealed_secrets::diagnosis::{Diagnosis, diagnose, with_diagnosis};
use sealed_secrets::inventory::{needs_write, unseal_recording};
use sealed_secrets::k8s::{Scrubbed, from_k8s, to_k8s};
use sealed_secrets::ownership::{FIELD_MANAGER, Unmanaged, ownership, updated_secret};
use sealed_secrets::status::{gauge_value, next_status};
use sealed_secrets::types::{SealedSecret, SealedSecretStatus, metav1_time};
use sealed_secrets::unseal::UnsealOptions;
use sealed_secrets::unseal_record::{Decision, LiveSecret, SpecDigest, decide, spec_digest, stamp};
use tracing::{debug, error, info, warn};

use crate::events::{EventRecorder, EventType, ObjectReference};
use crate::keymgr::Clock;
use crate::metrics::Metrics;
use crate::registry::KeyRegistry;
use crate::secret_cache::{Cached, SecretCache};
use crate::secret_update::{immutable_message, is_immutable_error};
use crate::stored::StoredSealedSecret;

pub const REASON_UNSEALED: &str = "Unsealed";
pub const REASON_UNSEAL_FAILED: &str = "ErrUnsealFailed";
pub const REASON_UPDATE_FAILED: &str = "ErrUpdateFailed";
pub const MESSAGE_UNSEALED: &str = "SealedSecret unsealed successfully";
const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Reconcile options from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub accept_v1_data: bool,
    pub update_status: bool,
    pub old_gc_behavior: bool,
    pub max_unseal_retries: u32,
}

/// Shared by every reconcile of every controller instance.
pub struct Context {
    pub client: Client,
    pub keys: Arc<KeyRegistry>,
    pub metrics: Arc<Metrics>,
    pub recorder: Arc<EventRecorder>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    /// Requeue counts per `namespace/name` (client-go's `NumRequeues`), reset on success.
    retries: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub fn new(
        client: Client,
        keys: Arc<KeyRegistry>,
        metrics: Arc<Metrics>,
        recorder: Arc<EventRecorder>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        Context {
            client,
            keys,
            metrics,
            recorder,
            clock,
            settings,
            retries: Mutex::default(),
        }
    }

    fn retries(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.retries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn forget(&self, key: &str) {
        self.retries().remove(key);
    }
}

/// One controller instance: the shared [`Context`] and the instance's cache of the Secrets it may
/// have written (`None` with `--skip-recreate`: then each reconcile reads its Secret).
pub struct Instance {
    pub ctx: Arc<Context>,
    pub secrets: Option<Arc<SecretCache>>,
}

impl std::ops::Deref for Instance {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.ctx
    }
}

/// A failed reconcile. The message is what the `Synced` condition shows.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object could not be read as a SealedSecret at all.
    #[error(transparent)]
    Malformed(DecodeError),
    /// Building the desired Secret failed (decryption, template, v1 data).
    #[error(transparent)]
    Unseal(sealed_secrets::Error),
    /// Decryption failed, and the items do decrypt under the name, namespace or scope the
    /// template names: upstream's message, then the diagnosis (docs/operations.md).
    #[error("{}", with_diagnosis(&.0.to_string(), Some(.1.as_ref())))]
    Renamed(sealed_secrets::Error, Box<Diagnosis>),
    /// The unseal job on the blocking pool did not finish (a panic or a shutdown).
    #[error("unseal task failed: {0}")]
    UnsealTask(String),
    /// The API server refused a read or write of the Secret; the raw API error text.
    /// `transient`: an error it should recover from ([`is_transient`]).
    #[error("{message}")]
    Api {
        message: String,
        immutable: bool,
        transient: bool,
    },
    /// The Secret is written but the status update met a transient API error: retried (upstream
    /// logs it and leaves the status stale; docs/compatibility.md).
    #[error("{0}")]
    Status(String),
    /// The ownership gate refused the existing Secret.
    #[error("failed update: {0}")]
    Unmanaged(Unmanaged),
}

impl Error {
    /// `unseal_errors_total{reason}`.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Malformed(_) | Error::Unseal(_) | Error::Renamed(..) | Error::UnsealTask(_) => {
                "unseal"
            }
            Error::Api { .. } => "update",
            Error::Unmanaged(_) => "unmanaged",
            Error::Status(_) => "status",
        }
    }

    /// Retried past `--max-unseal-retries` ([`retry_decision`]).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Api {
                transient: true,
                ..
            } | Error::Status(_)
        )
    }

    /// Immutable Secrets are not retried (upstream `processNextItem`), nor unparsable objects.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Error::Malformed(_)
                | Error::Api {
                    immutable: true,
                    ..
                }
        )
    }
}

/// The text of a kube error as Go's `err.Error()` shows an API status: its message.
pub fn api_error_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// An error the API server, or the connection to it, should recover from: 429 (API priority and
/// fairness), any 5xx (etcd unavailable, a webhook that cannot be called), or no answer at all;
/// and a conflict (409 `Conflict`: the write was based on a copy that has changed since, say by a
/// write of ours whose answer was lost; the watch brings the newer one). kube's client already
/// retries 503 and 504 a few times; what reaches the reconcile is retried past
/// `--max-unseal-retries` (docs/compatibility.md).
pub fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(status) => {
            status.code == 429
                || status.code >= 500
                || (status.code == 409 && status.reason == "Conflict")
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// The longest wait between two retries of a transient error.
pub const TRANSIENT_RETRY_CAP: Duration = Duration::from_secs(300);

/// client-go's per-item exponential backoff: 5 ms · 2^n, capped at 1000 s.
pub fn retry_backoff(requeues: u32) -> Duration {
    let millis = 5u64.saturating_mul(1u64.checked_shl(requeues.min(40)).unwrap_or(u64::MAX));
    Duration::from_millis(millis).min(Duration::from_secs(1000))
}

/// The retry decision for a failed reconcile (upstream `processNextItem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    After(Duration),
    GiveUp,
    Never,
}

/// `requeues` = how often this key was requeued since its last success. Upstream gives up after
/// `max_retries`; a transient error is retried on, at most [`TRANSIENT_RETRY_CAP`] apart, so an
/// API server that answers 500 for longer than a second does not leave SealedSecrets unsynced
/// until their next change.
pub fn retry_decision(retryable: bool, transient: bool, requeues: u32, max_retries: u32) -> Retry {
    if !retryable {
        Retry::Never
    } else if requeues < max_retries {
        Retry::After(retry_backoff(requeues))
    } else if transient {
        Retry::After(retry_backoff(requeues).min(TRANSIENT_RETRY_CAP))
    } else {
        Retry::GiveUp
    }
}

pub fn object_key(obj: &impl kube::Resource) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// The status of a possibly malformed object, read on its own.
fn current_status(obj: &DynamicObject) -> Option<SealedSecretStatus> {
    obj.data
        .get("status")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
}

fn sealed_secret_ref(obj: &DynamicObject) -> ObjectReference {
    ObjectReference {
        api_version: sealed_secrets::types::API_VERSION.to_string(),
        kind: sealed_secrets::types::KIND.to_string(),
        namespace: obj.namespace().unwrap_or_default(),
        name: obj.name_any(),
        uid: obj.uid().unwrap_or_default(),
        resource_version: obj.resource_version().unwrap_or_default(),
    }
}

/// One reconcile of an existing SealedSecret (upstream `(*Controller).unseal`).
pub async fn reconcile(
    stored: Arc<StoredSealedSecret>,
    ctx: Arc<Instance>,
) -> Result<Action, Error> {
    ctx.metrics.unseal_request();
    let obj = stored.to_dynamic();
    let key = object_key(&obj);
    let namespace = obj.namespace().unwrap_or_default();
    let ss_ref = sealed_secret_ref(&obj);
    info!(key = %key, "Updating");

    let result = match sealed_secret_from_object(&obj) {
        Ok(ss) => {
            let observed = current_status(&obj).map(|s| s.observed_generation);
            unseal_and_write(&ss, &key, &ss_ref, observed, &ctx).await
        }
        Err(e) => {
            error!(key = %key, error = %e, "Cannot read SealedSecret");
            let message = format!("Failed to unseal: {e}");
            ctx.recorder
                .publish(&ss_ref, EventType::Warning, REASON_UNSEAL_FAILED, &message)
                .await;
            Err(Error::Malformed(e))
        }
    };
    if let Err(e) = &result {
        ctx.metrics.unseal_error(e.metric_label(), &namespace);
    }

    // Every exit from here on updates the status (the deferred status update in upstream `unseal`).
    let error_text = result.as_ref().err().map(ToString::to_string);
    let mut status_failed = None;
    let observed = if ctx.settings.update_status {
        match write_status(&obj, error_text.as_deref(), &ctx).await {
            Ok(status) => Some(status),
            Err(e) => {
                let message = api_error_message(&e);
                error!(sealed_secret = %key, error = %message, "Error updating SealedSecret status");
                ctx.metrics.unseal_error("status", &namespace);
                status_failed = is_transient(&e).then_some(message);
                None
            }
        }
    } else {
        current_status(&obj)
    };
    if let Some(status) = observed {
        let instance = obj
            .labels()
            .get(INSTANCE_LABEL)
            .cloned()
            .unwrap_or_default();
        for c in &status.conditions {
            ctx.metrics.set_condition(
                &namespace,
                &obj.name_any(),
                &c.type_,
                &instance,
                gauge_value(&c.status),
            );
        }
    }

    match (result, status_failed) {
        // The retry finds the Secret current (no RSA work, no write) and writes the status.
        (Ok(()), Some(message)) => Err(Error::Status(message)),
        (Ok(()), None) => {
            ctx.forget(&key);
            Ok(Action::await_change())
        }
        (Err(e), _) => Err(e),
    }
}

/// The Secret of a SealedSecret as the reconcile first sees it: read from the API server, or
/// what the instance's Secret cache says of it.
enum Existing {
    Fetched(Option<Box<Scrubbed>>),
    Cached(Option<Cached>),
}

impl Existing {
    async fn look_up(
        ss: &SealedSecret,
        api: &Api<K8sSecret>,
        ctx: &Instance,
    ) -> Result<Self, kube::Error> {
        if let Some(cache) = &ctx.secrets
            && cache.wait_ready().await
        {
            return Ok(Existing::Cached(
                cache.get(&ss.metadata.namespace, &ss.metadata.name),
            ));
        }
        Ok(Existing::Fetched(
            api.get_opt(&ss.metadata.name)
                .await?
                .map(|s| Box::new(Scrubbed(s))),
        ))
    }

    /// What the unseal decision needs of it (`None`: no Secret, or one it cannot read).
    fn live(&self) -> Option<LiveSecret> {
        match self {
            Existing::Fetched(Some(s)) => from_k8s(s).ok().map(|s| LiveSecret::of(&s)),
            Existing::Cached(Some(Cached::Stamped(live))) => Some(live.clone()),
            Existing::Fetched(None) | Existing::Cached(Some(Cached::Present) | None) => None,
        }
    }
}

/// No RSA work for a SealedSecret whose Secret still holds what unsealing its current spec wrote
/// (docs/architecture.md "No RSA work for unchanged SealedSecrets"): true when the reconcile is
/// done (no decryption, no write, no Event).
fn already_current(
    ss: &SealedSecret,
    spec: Option<&SpecDigest>,
    existing: &Existing,
    ctx: &Context,
) -> bool {
    let (Some(spec), Some(live)) = (spec, existing.live()) else {
        return false;
    };
    match decide(spec, Some(&live), &ctx.keys.read()) {
        Decision::Current { used } => {
            ctx.metrics.set_key_usage(&ss.metadata.uid, used);
            true
        }
        Decision::Unseal(why) => {
            debug!(sealed_secret = %format!("{}/{}", ss.metadata.namespace, ss.metadata.name), ?why, "unsealing");
            false
        }
    }
}

async fn unseal_and_write(
    ss: &SealedSecret,
    key: &str,
    ss_ref: &ObjectReference,
    observed_generation: Option<i64>,
    ctx: &Instance,
) -> Result<(), Error> {
    let namespace = &ss.metadata.namespace;
    let name = &ss.metadata.name;
    let api: Api<K8sSecret> = Api::namespaced(ctx.client.clone(), namespace);
    let pp = PostParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..Default::default()
    };
    let update_failed = |message: String, transient: bool| async move {
        ctx.recorder
            .publish(ss_ref, EventType::Warning, REASON_UPDATE_FAILED, &message)
            .await;
        Err(Error::Api {
            message,
            immutable: false,
            transient,
        })
    };
    let api_failed = |e: kube::Error| update_failed(api_error_message(&e), is_transient(&e));
    // Cannot fail for the core's types; without it the SealedSecret is simply unsealed.
    let spec = spec_digest(ss, ctx.settings.accept_v1_data).ok();
    let existing = match Existing::look_up(ss, &api, ctx).await {
        Ok(e) => e,
        Err(e) => return api_failed(e).await,
    };
    if already_current(ss, spec.as_ref(), &existing, ctx) {
        return Ok(());
    }

    let opts = UnsealOptions {
        accept_v1_data: ctx.settings.accept_v1_data,
        render_templates: true,
    };
    // RSA decryption is CPU work: keep it off the async workers.
    let keys = ctx.keys.clone();
    let owned = ss.clone();
    let unsealed = tokio::task::spawn_blocking(move || {
        let ring = keys.read();
        // A failure is diagnosed only when the template names another place; the diagnosis never
        // unseals (docs/security.md "The rename diagnosis is no oracle").
        // The Secret names the keys that decrypted it (docs/operations.md "Key inventory").
        unseal_recording(&owned, &ring, opts).map_err(|e| match diagnose(&owned, &*ring) {
            Some(d) => Error::Renamed(e, Box::new(d)),
            None => Error::Unseal(e),
        })
    })
    .await
    .unwrap_or_else(|e| Err(Error::UnsealTask(e.to_string())));
    let (desired, used_keys) = match unsealed {
        Ok(unsealed) => unsealed,
        Err(e) => {
            let message = format!("Failed to unseal: {e}");
            ctx.recorder
                .publish(ss_ref, EventType::Warning, REASON_UNSEAL_FAILED, &message)
                .await;
            return Err(e);
        }
    };
    // The unseal record of what is written (docs/architecture.md); `None`: none is written.
    let stamped = |mut secret: sealed_secrets::types::Secret| {
        if let Some(spec) = &spec {
            stamp(&mut secret, spec, &ctx.keys.read(), &used_keys);
        }
        secret
    };

    // From the cache, a Secret that is not there is created at once (upstream reads it first);
    // if it exists after all (the cache lags), it is read and handled as below.
    let existing = match existing {
        Existing::Fetched(Some(s)) => Some(*s),
        Existing::Fetched(None) | Existing::Cached(None) => None,
        Existing::Cached(Some(_)) => match api.get_opt(name).await {
            Ok(s) => s.map(Scrubbed),
            Err(e) => return api_failed(e).await,
        },
    };
    let existing = match existing {
        Some(s) => s,
        None => {
            let body = match to_k8s(&stamped(desired.clone())) {
                Ok(b) => b,
                Err(e) => return update_failed(e.to_string(), false).await,
            };
            match api.create(&pp, &body).await {
                Ok(s) => Scrubbed(s),
                Err(kube::Error::Api(s)) if s.code == 409 && s.reason == "AlreadyExists" => {
                    match api.get_opt(name).await {
                        Ok(Some(s)) => Scrubbed(s),
                        Ok(None) => return update_failed(s.message.clone(), false).await,
                        Err(e) => return api_failed(e).await,
                    }
                }
                Err(e) => return api_failed(e).await,
            }
        }
    };
    let current = match from_k8s(&existing) {
        Ok(s) => s,
        Err(e) => return update_failed(e.to_string(), false).await,
    };

    if let Err(unmanaged) = ownership(&current, ss).check(&current) {
        let message = unmanaged.to_string();
        ctx.recorder
            .publish(ss_ref, EventType::Warning, REASON_UPDATE_FAILED, &message)
            .await;
        return Err(Error::Unmanaged(unmanaged));
    }

    let updated = stamped(updated_secret(&current, &desired));
    if needs_write(
        &current,
        &updated,
        ss.metadata.generation,
        observed_generation,
    ) {
        let body = match to_k8s(&updated) {
            Ok(b) => b,
            Err(e) => return update_failed(e.to_string(), false).await,
        };
        let replaced = api.replace(name, &pp, &body).await.map(Scrubbed);
        if let Err(e) = replaced {
            let message = api_error_message(&e);
            let immutable = is_immutable_error(&message);
            let transient = is_transient(&e);
            let event = if immutable {
                immutable_message(key)
            } else {
                message.clone()
            };
            ctx.recorder
                .publish(ss_ref, EventType::Warning, REASON_UPDATE_FAILED, &event)
                .await;
            return Err(Error::Api {
                message,
                immutable,
                transient,
            });
        }
    }

    ctx.metrics.set_key_usage(&ss.metadata.uid, used_keys);
    ctx.recorder
        .publish(ss_ref, EventType::Normal, REASON_UNSEALED, MESSAGE_UNSEALED)
        .await;
    Ok(())
}

/// Writes the status through the status subresource by the rules of upstream's
/// `updateSealedSecretStatus`; returns the status as it now stands (also when no write was
/// needed). On a conflict the object is re-read once and the rules applied to the fresh copy.
async fn write_status(
    obj: &DynamicObject,
    error: Option<&str>,
    ctx: &Context,
) -> Result<SealedSecretStatus, kube::Error> {
    let api = sealed_secret_api(&ctx.client, &obj.namespace().unwrap_or_default());
    match write_status_once(&api, obj.clone(), error, ctx).await {
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let fresh = api.get(&obj.name_any()).await?;
            write_status_once(&api, fresh, error, ctx).await
        }
        other => other,
    }
}

async fn write_status_once(
    api: &Api<DynamicObject>,
    mut object: DynamicObject,
    error: Option<&str>,
    ctx: &Context,
) -> Result<SealedSecretStatus, kube::Error> {
    let now = metav1_time(ctx.clock.now());
    let generation = object.metadata.generation.unwrap_or(0);
    let (status, write) = next_status(current_status(&object).as_ref(), generation, error, &now);
    if write {
        let value = serde_json::to_value(&status).map_err(kube::Error::SerdeError)?;
        match object.data.as_object_mut() {
            Some(map) => {
                map.insert("status".to_string(), value);
            }
            None => object.data = serde_json::json!({ "status": value }),
        }
        api.replace_status(&object.name_any(), &PostParams::default(), &object)
            .await?;
    }
    Ok(status)
}

pub fn sealed_secret_api(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        namespace,
        &crate::controller::sealed_secret_resource(),
    )
}

/// The error policy (upstream `processNextItem`): retry with client-go's backoff up to
/// `--max-unseal-retries` requeues (transient API errors beyond them), never for immutable
/// Secrets.
pub fn error_policy(obj: Arc<StoredSealedSecret>, err: &Error, ctx: Arc<Instance>) -> Action {
    let key = object_key(&*obj);
    let requeues = ctx.retries().get(&key).copied().unwrap_or(0);
    match retry_decision(
        err.is_retryable(),
        err.is_transient(),
        requeues,
        ctx.settings.max_unseal_retries,
    ) {
        Retry::Never => {
            if let Error::Api {
                immutable: true, ..
            } = err
            {
                error!("{}", immutable_message(&key));
            }
            ctx.forget(&key);
            Action::await_change()
        }
        Retry::After(delay) => {
            error!(key = %key, error = %err, "Error updating, will retry");
            ctx.retries().insert(key, requeues.saturating_add(1));
            Action::requeue(delay)
        }
        Retry::GiveUp => {
            error!(key = %key, error = %err, "Error updating, giving up");
            ctx.forget(&key);
            Action::await_change()
        }
    }
}

/// A SealedSecret disappeared (the `!exists` branch of upstream `unseal`): count it, drop its
/// gauges, and with `--old-gc-behavior` delete the Secret of the same name (unless a SealedSecret
/// of that name exists again by then).
pub fn on_deleted(
    obj: &impl kube::Resource,
    ctx: &Arc<Context>,
    still_exists: impl Fn() -> bool + Send + 'static,
) {
    ctx.metrics.unseal_request();
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let key = format!("{namespace}/{name}");
    ctx.metrics.remove_conditions(&namespace, &name);
    ctx.metrics.forget_key_usage(&obj.uid().unwrap_or_default());
    ctx.forget(&key);
    if !ctx.settings.old_gc_behavior {
        return;
    }
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let api: Api<K8sSecret> = Api::namespaced(ctx.client.clone(), &namespace);
        for attempt in 0..=ctx.settings.max_unseal_retries {
            if still_exists() {
                return;
            }
            info!(sealed_secret = %key, "SealedSecret has gone, deleting Secret");
            match api.delete(&name, &Default::default()).await {
                Ok(_) => return,
                Err(kube::Error::Api(s)) if s.code == 404 => return,
                Err(e) => {
                    warn!(key = %key, error = %api_error_message(&e), "Error deleting Secret");
                    tokio::time::sleep(retry_backoff(attempt)).await;
                }
            }
        }
        error!(key = %key, "Error deleting Secret, giving up");
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn backoff_like_client_go() {
        assert_eq!(retry_backoff(0), Duration::from_millis(5));
        assert_eq!(retry_backoff(1), Duration::from_millis(10));
        assert_eq!(retry_backoff(4), Duration::from_millis(80));
        assert_eq!(retry_backoff(30), Duration::from_secs(1000));
        assert_eq!(retry_backoff(u32::MAX), Duration::from_secs(1000));
    }

    #[test]
    fn retry_policy() {
        // Default 5 retries: requeues 0..4 retry, the 6th failure gives up.
        for n in 0..5 {
            for transient in [false, true] {
                assert_eq!(
                    retry_decision(true, transient, n, 5),
                    Retry::After(retry_backoff(n))
                );
            }
        }
        assert_eq!(retry_decision(true, false, 5, 5), Retry::GiveUp);
        assert_eq!(retry_decision(true, false, 0, 0), Retry::GiveUp);
        assert_eq!(retry_decision(false, false, 0, 5), Retry::Never);
        assert_eq!(retry_decision(false, true, 9, 5), Retry::Never);
        // A transient error is retried on, client-go's backoff capped at five minutes.
        assert_eq!(
            retry_decision(true, true, 5, 5),
            Retry::After(Duration::from_millis(160))
        );
        assert_eq!(
            retry_decision(true, true, 15, 5),
            Retry::After(Duration::from_millis(163_840))
        );
        for n in [16, 17, 40, u32::MAX] {
            assert_eq!(
                retry_decision(true, true, n, 5),
                Retry::After(TRANSIENT_RETRY_CAP)
            );
        }
        assert_eq!(
            retry_decision(true, true, 0, 0),
            Retry::After(retry_backoff(0))
        );
        let immutable = Error::Api {
            message: "x".into(),
            immutable: true,
            transient: false,
        };
        assert!(!immutable.is_retryable());
        let refused = |transient| Error::Api {
            message: "x".into(),
            immutable: false,
            transient,
        };
        assert!(refused(false).is_retryable() && !refused(false).is_transient());
        assert!(refused(true).is_retryable() && refused(true).is_transient());
        let status = Error::Status("etcdserver: request timed out".into());
        assert!(status.is_retryable() && status.is_transient());
        assert_eq!(status.metric_label(), "status");
        assert_eq!(status.to_string(), "etcdserver: request timed out");
        assert!(!Error::Unseal(sealed_secrets::Error::NoKeyCouldDecrypt).is_transient());
        assert!(Error::Unseal(sealed_secrets::Error::NoKeyCouldDecrypt).is_retryable());
        assert!(Error::UnsealTask("x".into()).is_retryable());
        assert!(!Error::Malformed(DecodeError::Invalid("x".into())).is_retryable());
    }

    #[test]
    fn transient_api_errors() {
        let api_with = |code: u16, reason: &str| {
            kube::Error::Api(Box::new(
                kube::core::Status::failure("x", reason).with_code(code),
            ))
        };
        let api = |code: u16| api_with(code, "InternalError");
        for code in [429, 500, 502, 503, 504] {
            assert!(is_transient(&api(code)), "{code}");
        }
        for code in [400, 403, 404, 409, 410, 422] {
            assert!(!is_transient(&api(code)), "{code}");
        }
        assert!(is_transient(&api_with(409, "Conflict")));
        assert!(!is_transient(&api_with(409, "AlreadyExists")));
        assert!(is_transient(&kube::Error::Service(
            "connection reset".into()
        )));
        let bad_json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert!(!is_transient(&kube::Error::SerdeError(bad_json)));
    }

    #[test]
    fn error_texts_and_labels() {
        let e = Error::Unmanaged(Unmanaged {
            name: "mysecret".into(),
        });
        assert_eq!(
            e.to_string(),
            "failed update: Resource \"mysecret\" already exists and is not managed by SealedSecret"
        );
        assert_eq!(e.metric_label(), "unmanaged");
        assert_eq!(
            Error::Unseal(sealed_secrets::Error::NoKeyCouldDecrypt).metric_label(),
            "unseal"
        );
        assert_eq!(Error::UnsealTask("x".into()).metric_label(), "unseal");
        let malformed = Error::Malformed(DecodeError::Invalid("missing field".into()));
        assert_eq!(malformed.to_string(), "invalid SealedSecret: missing field");
        assert_eq!(malformed.metric_label(), "unseal");
        assert_eq!(
            Error::Api {
                message: String::new(),
                immutable: false,
                transient: false,
            }
            .metric_label(),
            "update"
        );
        let status = kube::core::Status::failure("secrets \"x\" already exists", "AlreadyExists")
            .with_code(409);
        assert_eq!(
            api_error_message(&kube::Error::Api(Box::new(status))),
            "secrets \"x\" already exists"
        );
    }

    fn dynamic(value: serde_json::Value) -> DynamicObject {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn sealed_secret_conversion_is_tolerant() {
        let obj = dynamic(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "s", "namespace": "ns", "uid": "u", "generation": 2},
            "spec": {
                "encryptedData": {"a": "AgA=", "b": 5},
                "template": {"metadata": {"labels": {"x": "y"}}, "type": "Opaque"}
            },
            "status": {"observedGeneration": 1, "conditions": [{"type": "Synced", "status": "True"}]}
        }));
        let ss = sealed_secret_from_object(&obj).unwrap();
        assert_eq!(ss.metadata.uid, "u");
        assert_eq!(ss.spec.encrypted_data["b"], "");
        assert_eq!(ss.spec.template.metadata.labels["x"], "y");
        assert_eq!(current_status(&obj).unwrap().observed_generation, 1);
        assert_eq!(object_key(&obj), "ns/s");
        let r = sealed_secret_ref(&obj);
        assert_eq!(
            (r.kind.as_str(), r.api_version.as_str()),
            ("SealedSecret", "bitnami.com/v1alpha1")
        );

        // A non-object encryptedData is tolerated too (an empty map).
        let odd = dynamic(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "s", "namespace": "ns"},
            "spec": {"encryptedData": ["x"]},
            "status": {"conditions": "garbage"}
        }));
        assert!(
            sealed_secret_from_object(&odd)
                .unwrap()
                .spec
                .encrypted_data
                .is_empty()
        );
        assert!(current_status(&odd).is_none());
    }
}

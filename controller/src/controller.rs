//! One controller instance per watched namespace scope (upstream `pkg/controller/controller.go`
//! `NewController`, `pkg/controller/main.go` `Main`), on kube-runtime's `Controller`:
//!
//! * SealedSecrets are watched as [`StoredSealedSecret`]s (read like `DynamicObject`s, so one
//!   malformed object cannot break the watch; each is converted with the core's tolerant serde in
//!   the reconciler, but kept compactly) into a reflector store; only spec changes (a new `metadata.generation`, which for a CRD with a status
//!   subresource bumps only on spec changes) and first sightings trigger a reconcile
//!   ([`SpecChangeFilter`]); deletions are handled on the watch stream (the runtime never
//!   reconciles an object that is gone).
//! * Secrets are watched as metadata only (`PartialObjectMeta<Secret>`, nothing cached), and only
//!   their deletions matter: the SealedSecret of the same name is reconciled when it controlled
//!   the Secret (ownerReference UID) or the Secret carried `managed: "true"` (upstream
//!   `watchSecrets`). A plain `owns` relation would also reconcile on every change of an owned
//!   Secret, which upstream does not do (and every reconcile emits an `Unsealed` Event).
//! * Reconciles run concurrently (at most [`CONCURRENCY`] per instance, never two for one object).

use std::sync::Arc;

use futures::{FutureExt as _, StreamExt as _, TryStreamExt as _, future};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt as _;
use kube::api::{Api, ApiResource};
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use sealed_secrets::scope::{MANAGED_ANNOTATION, annotation_is_true};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::reconcile::{Context, Instance, error_policy, object_key, on_deleted, reconcile};
use crate::secret_cache::SecretCache;
use crate::stored::StoredSealedSecret;

/// Concurrent reconciles per controller instance.
pub const CONCURRENCY: u16 = 8;

pub fn sealed_secret_resource() -> ApiResource {
    ApiResource {
        group: sealed_secrets::types::GROUP.to_string(),
        version: sealed_secrets::types::VERSION.to_string(),
        api_version: sealed_secrets::types::API_VERSION.to_string(),
        kind: sealed_secrets::types::KIND.to_string(),
        plural: sealed_secrets::types::PLURAL.to_string(),
    }
}

/// Whether a SealedSecret seen by the watch needs a reconcile, given the copy the store held before
/// (`None`: none, or it vanished in a re-list): its first sighting (by namespace/name/UID) and every
/// new generation; the rest are metadata- or status-only updates (upstream: `update suppressed, no
/// changes in spec`). The store is the memory of what was seen: during a re-list it still holds
/// the objects of the list before, and it forgets the ones that vanished when the re-list is done.
pub fn spec_changed(before: Option<&ObjectMeta>, now: &ObjectMeta) -> bool {
    match before {
        None => true,
        Some(before) => {
            before.uid != now.uid || now.generation.is_none() || before.generation != now.generation
        }
    }
}

/// What one SealedSecret watch event means for the reconciles.
#[derive(Debug)]
pub enum Seen {
    /// A new object or a new spec: reconcile it.
    Changed(StoredSealedSecret),
    /// A metadata- or status-only update.
    Unchanged(StoredSealedSecret),
    Deleted(StoredSealedSecret),
    /// The start or end of a (re-)list.
    Other,
}

/// Applies one watch event to the store (what `reflect` would do), comparing an object with the
/// copy the store held before it ([`spec_changed`]).
pub fn take_in(
    writer: &mut reflector::store::Writer<StoredSealedSecret>,
    event: watcher::Event<StoredSealedSecret>,
) -> Seen {
    let before = match &event {
        watcher::Event::Apply(obj) | watcher::Event::InitApply(obj) => {
            writer.as_reader().get(&ObjectRef::from_obj(obj))
        }
        _ => None,
    };
    writer.apply_watcher_event(&event);
    match event {
        watcher::Event::Apply(obj) | watcher::Event::InitApply(obj) => {
            if spec_changed(before.as_ref().map(|b| &b.metadata), &obj.metadata) {
                Seen::Changed(obj)
            } else {
                Seen::Unchanged(obj)
            }
        }
        watcher::Event::Delete(obj) => Seen::Deleted(obj),
        watcher::Event::Init | watcher::Event::InitDone => Seen::Other,
    }
}

/// Which SealedSecret to reconcile when a Secret was deleted (upstream `watchSecrets`).
pub fn recreate_target(
    store: &Store<StoredSealedSecret>,
    secret: &ObjectMeta,
) -> Option<ObjectRef<StoredSealedSecret>> {
    let namespace = secret.namespace.clone()?;
    let name = secret.name.clone().unwrap_or_default();
    let target = ObjectRef::new(&name).within(&namespace);
    let ss = store.get(&target)?;
    let controlled = match (ss.uid(), secret.owner_references.as_ref()) {
        (Some(uid), Some(refs)) => refs
            .iter()
            .any(|r| r.controller == Some(true) && r.uid == uid),
        _ => false,
    };
    let no_annotations = std::collections::BTreeMap::new();
    let managed = annotation_is_true(
        secret.annotations.as_ref().unwrap_or(&no_annotations),
        MANAGED_ANNOTATION,
    );
    (controlled || managed).then_some(target)
}

/// Where one instance looks.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `None`: all namespaces.
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    /// `--skip-recreate`: no Secret watch.
    pub skip_recreate: bool,
}

/// Runs one controller instance until `shutdown` (then lets running reconciles finish).
pub async fn run(ctx: Arc<Context>, scope: Scope, shutdown: CancellationToken) {
    let client = ctx.client.clone();
    // Secrets are read whole (their content digest decides whether a SealedSecret needs
    // unsealing), but only a digest of the ones a SealedSecret may own is kept (`SecretCache`).
    let (ss_api, secret_api): (Api<StoredSealedSecret>, Api<Secret>) = match &scope.namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let mut wc = watcher::Config::default();
    if let Some(sel) = &scope.label_selector {
        wc = wc.labels(sel);
    }

    let mut writer = reflector::store::Writer::default();
    let store = writer.as_reader();
    let delete_ctx = ctx.clone();
    let delete_store = store.clone();
    let triggers = watcher(ss_api, wc.clone())
        .default_backoff()
        .filter_map(move |event| {
            let out = match event.map(|e| take_in(&mut writer, e)) {
                Ok(Seen::Changed(obj)) => Some(Ok(obj)),
                Ok(Seen::Unchanged(obj)) => {
                    info!(sealed_secret = %object_key(&obj), "update suppressed, no changes in spec");
                    None
                }
                Ok(Seen::Deleted(obj)) => {
                    let store = delete_store.clone();
                    let target = ObjectRef::from_obj(&obj);
                    on_deleted(&obj, &delete_ctx, move || store.get(&target).is_some());
                    None
                }
                Ok(Seen::Other) => None,
                Err(e) => Some(Err(e)),
            };
            future::ready(out)
        });

    let mut ctrl = Controller::for_stream(triggers, store.clone())
        .with_config(controller::Config::default().concurrency(CONCURRENCY))
        .graceful_shutdown_on(shutdown.clone().cancelled_owned());
    // `--skip-recreate` (no list/watch of Secrets): no cache, every reconcile reads its Secret.
    let secrets = (!scope.skip_recreate).then(|| Arc::new(SecretCache::default()));
    if let Some(cache) = &secrets {
        let cache = cache.clone();
        let deletes = watcher(secret_api, wc)
            .default_backoff()
            .try_filter_map(move |event| future::ready(Ok(cache.observe(event))));
        let map_store = store.clone();
        ctrl = ctrl.watches_stream(deletes, move |secret: Secret| {
            recreate_target(&map_store, &secret.metadata)
        });
    }
    let instance = Arc::new(Instance { ctx, secrets });
    let run = ctrl
        .run(reconcile, error_policy, instance)
        .for_each(|result| {
            match result {
                Ok(_) => {}
                // Logged (and retried) by the error policy.
                Err(controller::Error::ReconcilerFailed(..)) => {}
                // A requeue of an object deleted meanwhile.
                Err(controller::Error::ObjectNotFound(obj)) => {
                    debug!(object = %obj, "object gone before its reconcile")
                }
                Err(e) => warn!(error = %e, "watch error, retrying"),
            }
            future::ready(())
        });
    // kube-runtime's graceful shutdown waits for the store to be ready (the first list done)
    // before it lets the applier finish; the shutdown stops the watch that would make it ready,
    // so a shutdown during the first list (a SIGTERM just after start) would wait forever. Nothing
    // has been reconciled yet then: stop at once.
    let ready = store.clone();
    let stopped_before_ready = async move {
        shutdown.cancelled().await;
        if !matches!(ready.wait_until_ready().now_or_never(), Some(Ok(()))) {
            return;
        }
        future::pending::<()>().await
    };
    tokio::select! {
        () = run => {}
        () = stopped_before_ready => debug!("stopped before the first list finished"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn meta(uid: &str, generation: Option<i64>) -> ObjectMeta {
        ObjectMeta {
            name: Some("a".into()),
            namespace: Some("ns".into()),
            uid: Some(uid.into()),
            generation,
            ..Default::default()
        }
    }

    #[test]
    fn spec_changes() {
        // First sighting.
        assert!(spec_changed(None, &meta("u1", Some(1))));
        // Status or metadata update: same generation.
        assert!(!spec_changed(
            Some(&meta("u1", Some(1))),
            &meta("u1", Some(1))
        ));
        // Spec update.
        assert!(spec_changed(
            Some(&meta("u1", Some(1))),
            &meta("u1", Some(2))
        ));
        // Deleted and re-created with the same name: a new UID.
        assert!(spec_changed(
            Some(&meta("u1", Some(2))),
            &meta("u2", Some(2))
        ));
        // No generation at all: always reconcile.
        assert!(spec_changed(Some(&meta("u3", None)), &meta("u3", None)));
    }

    /// The watch stream as `run` builds it, on a list of events: the objects it triggers a
    /// reconcile for. A re-list does not reconcile the unchanged objects again, and forgets the
    /// ones that vanished meanwhile.
    #[test]
    fn triggers_follow_the_store() {
        use watcher::Event::*;
        let obj = |name: &str, uid: &str, generation: i64| {
            let mut o = ss("ns", name, uid);
            o.metadata.generation = Some(generation);
            o
        };
        let mut writer = reflector::store::Writer::default();
        let mut triggered = |e: watcher::Event<StoredSealedSecret>| {
            matches!(take_in(&mut writer, e), Seen::Changed(_))
        };
        assert!(!triggered(Init));
        assert!(triggered(InitApply(obj("a", "u1", 1))));
        assert!(triggered(InitApply(obj("b", "u2", 1))));
        assert!(!triggered(InitDone));
        assert!(!triggered(Apply(obj("a", "u1", 1))));
        assert!(triggered(Apply(obj("a", "u1", 2))));
        // A re-list: "a" unchanged, "b" gone.
        assert!(!triggered(Init));
        assert!(!triggered(InitApply(obj("a", "u1", 2))));
        assert!(!triggered(InitDone));
        assert!(triggered(Apply(obj("b", "u2", 1))));
        // Deleted, then seen again.
        assert!(!triggered(Delete(obj("a", "u1", 2))));
        assert!(triggered(Apply(obj("a", "u1", 2))));
    }

    fn store_with(objects: Vec<StoredSealedSecret>) -> Store<StoredSealedSecret> {
        let mut writer = reflector::store::Writer::default();
        for o in objects {
            writer.apply_watcher_event(&watcher::Event::Apply(o));
        }
        writer.as_reader()
    }

    fn ss(ns: &str, name: &str, uid: &str) -> StoredSealedSecret {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": ns, "uid": uid}, "spec": {}
        }))
        .unwrap()
    }

    fn secret_meta(value: serde_json::Value) -> ObjectMeta {
        serde_json::from_value::<Secret>(value).unwrap().metadata
    }

    #[test]
    fn deleted_secret_triggers() {
        let store = store_with(vec![
            ss("ns", "owned", "u1"),
            ss("ns", "managed", "u2"),
            ss("ns", "plain", "u3"),
        ]);
        let owned = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "owned", "namespace": "ns", "ownerReferences": [
                {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "owned", "uid": "u1", "controller": true}
            ]}
        }));
        assert!(recreate_target(&store, &owned).is_some());
        // Owned by an older incarnation (other UID): no.
        let stale = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "plain", "namespace": "ns", "ownerReferences": [
                {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "plain", "uid": "old", "controller": true}
            ]}
        }));
        assert!(recreate_target(&store, &stale).is_none());
        let managed = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "managed", "namespace": "ns",
                         "annotations": {"sealedsecrets.bitnami.com/managed": "true"}}
        }));
        assert!(recreate_target(&store, &managed).is_some());
        // C12: patch only → not re-created. C11: no annotations → not re-created.
        let patch = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "plain", "namespace": "ns",
                         "annotations": {"sealedsecrets.bitnami.com/patch": "true"}}
        }));
        assert!(recreate_target(&store, &patch).is_none());
        // No SealedSecret of that name.
        let orphan = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "nobody", "namespace": "ns",
                         "annotations": {"sealedsecrets.bitnami.com/managed": "true"}}
        }));
        assert!(recreate_target(&store, &orphan).is_none());
    }

    /// A shutdown before the first list finished (here: no API server answers) stops the
    /// instance at once; kube-runtime alone would wait for a ready store forever.
    #[tokio::test]
    async fn shutdown_before_the_first_list_does_not_wait() {
        let client =
            kube::Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().unwrap()))
                .unwrap();
        let ctx = Arc::new(Context::new(
            client,
            Arc::new(crate::registry::KeyRegistry::new()),
            Arc::new(crate::metrics::Metrics::default()),
            Arc::new(crate::events::EventRecorder::new(
                kube::Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().unwrap()))
                    .unwrap(),
            )),
            Arc::new(crate::keymgr::SystemClock),
            crate::reconcile::Settings {
                accept_v1_data: false,
                update_status: true,
                old_gc_behavior: false,
                max_unseal_retries: 5,
            },
        ));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run(
            ctx,
            Scope {
                namespace: Some("ns".into()),
                label_selector: None,
                skip_recreate: false,
            },
            shutdown.clone(),
        ));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        shutdown.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .expect("controller instance still running after the shutdown")
            .unwrap();
    }
}

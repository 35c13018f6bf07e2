//! One controller instance per watched namespace scope (upstream `pkg/controller/controller.go`
//! `NewController`, `pkg/controller/main.go` `Main`), on kube-runtime's `Controller`:
//!
//! * SealedSecrets are watched as `DynamicObject`s (so one malformed object cannot break the
//!   watch; each is converted with the core's tolerant serde in the reconciler) into a reflector
//!   store; only spec changes (a new `metadata.generation`, which for a CRD with a status
//!   subresource bumps only on spec changes) and first sightings trigger a reconcile
//!   ([`SpecChangeFilter`]); deletions are handled on the watch stream (the runtime never
//!   reconciles an object that is gone).
//! * Secrets are watched as metadata only (`PartialObjectMeta<Secret>`, nothing cached), and only
//!   their deletions matter: the SealedSecret of the same name is reconciled when it controlled
//!   the Secret (ownerReference UID) or the Secret carried `managed: "true"` (upstream
//!   `watchSecrets`). A plain `owns` relation would also reconcile on every change of an owned
//!   Secret, which upstream does not do (and every reconcile emits an `Unsealed` Event).
//! * Reconciles run concurrently (at most [`CONCURRENCY`] per instance, never two for one object).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::{FutureExt as _, StreamExt as _, TryStreamExt as _, future};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt as _;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use sealed_secrets::scope::{MANAGED_ANNOTATION, annotation_is_true};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::reconcile::{Context, Instance, error_policy, on_deleted, reconcile};
use crate::secret_cache::SecretCache;

/// kubectl's copy of the whole object, which reconcile never reads.
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What the SealedSecret store keeps of an object: all but its managedFields and kubectl's
/// last-applied-configuration annotation (a second copy of the ciphertexts), which no reconcile
/// reads. A status write sends the object without managedFields, which the API server keeps.
pub fn slim(obj: &mut DynamicObject) {
    obj.metadata.managed_fields = None;
    if let Some(a) = obj.metadata.annotations.as_mut() {
        a.remove(LAST_APPLIED_ANNOTATION);
    }
}

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

/// Decides which SealedSecret events need a reconcile: the first sighting of an object (by
/// namespace/name/UID) and every new generation; the rest are metadata- or status-only updates
/// (upstream: `update suppressed, no changes in spec`).
#[derive(Debug, Default)]
pub struct SpecChangeFilter {
    seen: HashMap<(String, String), (String, Option<i64>)>,
    /// Keys seen during a re-list, to forget the objects that vanished meanwhile.
    relisting: Option<HashSet<(String, String)>>,
}

impl SpecChangeFilter {
    /// Records an applied object; `true` when it must be reconciled.
    pub fn applied(
        &mut self,
        namespace: &str,
        name: &str,
        uid: &str,
        generation: Option<i64>,
    ) -> bool {
        let key = (namespace.to_string(), name.to_string());
        if let Some(relist) = self.relisting.as_mut() {
            relist.insert(key.clone());
        }
        let changed = match self.seen.get(&key) {
            None => true,
            Some((seen_uid, seen_gen)) => {
                seen_uid != uid || generation.is_none() || *seen_gen != generation
            }
        };
        self.seen.insert(key, (uid.to_string(), generation));
        changed
    }

    pub fn deleted(&mut self, namespace: &str, name: &str) {
        self.seen.remove(&(namespace.to_string(), name.to_string()));
    }

    pub fn relist_started(&mut self) {
        self.relisting = Some(HashSet::new());
    }

    pub fn relist_done(&mut self) {
        if let Some(present) = self.relisting.take() {
            self.seen.retain(|k, _| present.contains(k));
        }
    }
}

/// Which SealedSecret to reconcile when a Secret was deleted (upstream `watchSecrets`).
pub fn recreate_target(
    store: &Store<DynamicObject>,
    resource: &ApiResource,
    secret: &ObjectMeta,
) -> Option<ObjectRef<DynamicObject>> {
    let namespace = secret.namespace.clone()?;
    let name = secret.name.clone().unwrap_or_default();
    let target = ObjectRef::new_with(&name, resource.clone()).within(&namespace);
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
    let resource = sealed_secret_resource();
    let client = ctx.client.clone();
    // Secrets are read whole (their content digest decides whether a SealedSecret needs
    // unsealing), but only a digest of the ones a SealedSecret may own is kept (`SecretCache`).
    let (ss_api, secret_api): (Api<DynamicObject>, Api<Secret>) = match &scope.namespace {
        Some(ns) => (
            Api::namespaced_with(client.clone(), ns, &resource),
            Api::namespaced(client.clone(), ns),
        ),
        None => (
            Api::all_with(client.clone(), &resource),
            Api::all(client.clone()),
        ),
    };
    let mut wc = watcher::Config::default();
    if let Some(sel) = &scope.label_selector {
        wc = wc.labels(sel);
    }

    let writer = reflector::store::Writer::new(resource.clone());
    let store = writer.as_reader();
    let mut filter = SpecChangeFilter::default();
    let delete_ctx = ctx.clone();
    let delete_store = store.clone();
    let delete_resource = resource.clone();
    let triggers = watcher(ss_api, wc.clone())
        .default_backoff()
        .modify(slim)
        .reflect(writer)
        .filter_map(move |event| {
            let out = match event {
                Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj)) => {
                    let ns = obj.namespace().unwrap_or_default();
                    let name = obj.name_any();
                    let uid = obj.uid().unwrap_or_default();
                    if filter.applied(&ns, &name, &uid, obj.metadata.generation) {
                        Some(Ok(obj))
                    } else {
                        info!(sealed_secret = %format!("{ns}/{name}"), "update suppressed, no changes in spec");
                        None
                    }
                }
                Ok(watcher::Event::Delete(obj)) => {
                    let ns = obj.namespace().unwrap_or_default();
                    let name = obj.name_any();
                    filter.deleted(&ns, &name);
                    let store = delete_store.clone();
                    let target = ObjectRef::new_with(&name, delete_resource.clone()).within(&ns);
                    on_deleted(&obj, &delete_ctx, move || store.get(&target).is_some());
                    None
                }
                Ok(watcher::Event::Init) => {
                    filter.relist_started();
                    None
                }
                Ok(watcher::Event::InitDone) => {
                    filter.relist_done();
                    None
                }
                Err(e) => Some(Err(e)),
            };
            future::ready(out)
        });

    let mut ctrl = Controller::for_stream_with(triggers, store.clone(), resource.clone())
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
        let map_resource = resource.clone();
        ctrl = ctrl.watches_stream(deletes, move |secret: Secret| {
            recreate_target(&map_store, &map_resource, &secret.metadata)
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

    #[test]
    fn spec_change_filter() {
        let mut f = SpecChangeFilter::default();
        assert!(f.applied("ns", "a", "u1", Some(1)));
        // Status or metadata update: same generation.
        assert!(!f.applied("ns", "a", "u1", Some(1)));
        // Spec update.
        assert!(f.applied("ns", "a", "u1", Some(2)));
        // Deleted and re-created with the same name: a new UID.
        assert!(f.applied("ns", "a", "u2", Some(2)));
        // No generation at all: always reconcile.
        assert!(f.applied("ns", "b", "u3", None));
        assert!(f.applied("ns", "b", "u3", None));
        f.deleted("ns", "a");
        assert!(f.applied("ns", "a", "u2", Some(2)));

        // A re-list forgets objects that vanished while the watch was down, and does not
        // reconcile the unchanged ones again.
        f.relist_started();
        assert!(!f.applied("ns", "a", "u2", Some(2)));
        f.relist_done();
        assert!(f.applied("ns", "b", "u3", Some(1)));
        assert!(!f.applied("ns", "a", "u2", Some(2)));
    }

    #[test]
    fn the_store_drops_what_reconcile_never_reads() {
        let mut obj: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "s", "namespace": "ns", "uid": "u",
                "annotations": {LAST_APPLIED_ANNOTATION: "{...}", "sealedsecrets.bitnami.com/cluster-wide": "true"},
                "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "spec": {"encryptedData": {"a": "AgA="}}
        }))
        .unwrap();
        slim(&mut obj);
        assert!(obj.metadata.managed_fields.is_none());
        let annotations = obj.metadata.annotations.as_ref().unwrap();
        assert_eq!(
            annotations.keys().collect::<Vec<_>>(),
            ["sealedsecrets.bitnami.com/cluster-wide"]
        );
        assert_eq!(obj.data["spec"]["encryptedData"]["a"], "AgA=");
    }

    fn store_with(objects: Vec<DynamicObject>) -> Store<DynamicObject> {
        let mut writer = reflector::store::Writer::new(sealed_secret_resource());
        for o in objects {
            writer.apply_watcher_event(&watcher::Event::Apply(o));
        }
        writer.as_reader()
    }

    fn ss(ns: &str, name: &str, uid: &str) -> DynamicObject {
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
        let r = sealed_secret_resource();
        let owned = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "owned", "namespace": "ns", "ownerReferences": [
                {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "owned", "uid": "u1", "controller": true}
            ]}
        }));
        assert!(recreate_target(&store, &r, &owned).is_some());
        // Owned by an older incarnation (other UID): no.
        let stale = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "plain", "namespace": "ns", "ownerReferences": [
                {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "plain", "uid": "old", "controller": true}
            ]}
        }));
        assert!(recreate_target(&store, &r, &stale).is_none());
        let managed = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "managed", "namespace": "ns",
                         "annotations": {"sealedsecrets.bitnami.com/managed": "true"}}
        }));
        assert!(recreate_target(&store, &r, &managed).is_some());
        // C12: patch only → not re-created. C11: no annotations → not re-created.
        let patch = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "plain", "namespace": "ns",
                         "annotations": {"sealedsecrets.bitnami.com/patch": "true"}}
        }));
        assert!(recreate_target(&store, &r, &patch).is_none());
        // No SealedSecret of that name.
        let orphan = secret_meta(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "nobody", "namespace": "ns",
                         "annotations": {"sealedsecrets.bitnami.com/managed": "true"}}
        }));
        assert!(recreate_target(&store, &r, &orphan).is_none());
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

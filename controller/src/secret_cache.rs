//! The Secrets one controller instance may have written, as its watch shows them, holding no value
//! of any Secret (docs/architecture.md "No RSA work for unchanged SealedSecrets"): for a Secret
//! stamped with the unseal record, the core's [`LiveSecret`] (a content digest and two
//! annotations); for another Secret a SealedSecret may own (an ownerReference to a SealedSecret,
//! or the `managed` / `patch` annotation), only that it exists; nothing at all for the other
//! Secrets of the cluster. The reconciler decides from it whether a SealedSecret needs unsealing,
//! and whether its Secret must be read before it is written (upstream `(*Controller).unseal` reads
//! every Secret from its informer's cache, which holds every Secret of the cluster with its data).

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt as _;
use kube::runtime::watcher;
use sealed_secrets::k8s::{Scrubbed, from_k8s};
use sealed_secrets::scope::{MANAGED_ANNOTATION, PATCH_ANNOTATION};
use sealed_secrets::unseal_record::{LiveSecret, RECORD_ANNOTATION};
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a reconcile waits for the first list of Secrets before it reads the Secret itself
/// (a list of 60,000 Secrets takes tens of seconds on a small control plane). Without
/// `list`/`watch` on Secrets the cache never fills; reconciles then GET, as with `--skip-recreate`
/// (upstream's informer would wait for ever).
pub const READY_WAIT: Duration = Duration::from_secs(60);

/// What the cache knows of one Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// Stamped with the unseal record.
    Stamped(LiveSecret),
    /// A Secret a SealedSecret may own, without a record.
    Present,
}

type Key = (String, String);

#[derive(Debug)]
pub struct SecretCache {
    entries: RwLock<HashMap<Key, Cached>>,
    /// The entries of a list in progress (the watcher's `Init` .. `InitDone`).
    relist: Mutex<Option<HashMap<Key, Cached>>>,
    ready: watch::Sender<bool>,
    created: Instant,
}

impl Default for SecretCache {
    fn default() -> Self {
        SecretCache {
            entries: RwLock::default(),
            relist: Mutex::default(),
            ready: watch::Sender::new(false),
            created: Instant::now(),
        }
    }
}

/// What the cache keeps of `secret`, if anything.
fn entry(secret: &Secret) -> Option<Cached> {
    let annotations = secret.annotations();
    if annotations.contains_key(RECORD_ANNOTATION) {
        // A Secret that does not convert gets no decision of its own: the reconcile reads it.
        return Some(match from_k8s(secret) {
            Ok(s) => Cached::Stamped(LiveSecret::of(&s)),
            Err(_) => Cached::Present,
        });
    }
    let owned_by_sealed_secret = secret
        .owner_references()
        .iter()
        .any(|r| r.kind == sealed_secrets::types::KIND);
    let annotated =
        annotations.contains_key(MANAGED_ANNOTATION) || annotations.contains_key(PATCH_ANNOTATION);
    (owned_by_sealed_secret || annotated).then_some(Cached::Present)
}

fn key_of(secret: &Secret) -> Key {
    (secret.namespace().unwrap_or_default(), secret.name_any())
}

impl SecretCache {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Key, Cached>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }

    fn relist(&self) -> std::sync::MutexGuard<'_, Option<HashMap<Key, Cached>>> {
        self.relist.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn upsert(map: &mut HashMap<Key, Cached>, secret: &Secret) {
        match entry(secret) {
            Some(e) => {
                map.insert(key_of(secret), e);
            }
            None => {
                map.remove(&key_of(secret));
            }
        }
    }

    /// Takes in one watch event (the Secret's values are scrubbed when it is dropped); returns the
    /// Secret of a deletion, without its values, for the recreate trigger.
    pub fn observe(&self, event: watcher::Event<Secret>) -> Option<Secret> {
        match event {
            watcher::Event::Apply(s) => {
                let s = Scrubbed(s);
                Self::upsert(&mut self.write(), &s);
                None
            }
            watcher::Event::Delete(s) => {
                let s = Scrubbed(s);
                self.write().remove(&key_of(&s));
                Some(Secret {
                    metadata: s.metadata.clone(),
                    ..Default::default()
                })
            }
            watcher::Event::Init => {
                *self.relist() = Some(HashMap::new());
                None
            }
            watcher::Event::InitApply(s) => {
                let s = Scrubbed(s);
                if let Some(map) = self.relist().as_mut() {
                    Self::upsert(map, &s);
                }
                None
            }
            watcher::Event::InitDone => {
                if let Some(map) = self.relist().take() {
                    *self.write() = map;
                }
                self.ready.send_replace(true);
                None
            }
        }
    }

    /// Waits until the first list is in (at most until [`READY_WAIT`] after the cache was made);
    /// false when it is not.
    pub async fn wait_ready(&self) -> bool {
        let mut rx = self.ready.subscribe();
        let deadline = self.created + READY_WAIT;
        matches!(
            tokio::time::timeout_at(deadline, rx.wait_for(|r| *r)).await,
            Ok(Ok(_))
        )
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<Cached> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn secret(name: &str, annotations: serde_json::Value, owner_kind: Option<&str>) -> Secret {
        let owners = owner_kind.map(
            |k| serde_json::json!([{"apiVersion": "x/v1", "kind": k, "name": name, "uid": "u"}]),
        );
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "ns", "annotations": annotations,
                         "ownerReferences": owners},
            "data": {"foo": "YmFy"}
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn keeps_only_what_a_sealed_secret_may_own_and_no_values() {
        let cache = SecretCache::default();
        let stamped = secret(
            "stamped",
            serde_json::json!({RECORD_ANNOTATION: "v1:00"}),
            Some("SealedSecret"),
        );
        let live = LiveSecret::of(&from_k8s(&stamped).unwrap());
        for e in [
            watcher::Event::Init,
            watcher::Event::InitApply(stamped.clone()),
            watcher::Event::InitApply(secret("owned", serde_json::json!({}), Some("SealedSecret"))),
            watcher::Event::InitApply(secret(
                "managed",
                serde_json::json!({MANAGED_ANNOTATION: "true"}),
                None,
            )),
            watcher::Event::InitApply(secret("unrelated", serde_json::json!({}), Some("Pod"))),
        ] {
            assert!(cache.observe(e).is_none());
        }
        // Not ready, nothing visible, until the list is done.
        assert_eq!(cache.len(), 0);
        assert!(cache.observe(watcher::Event::InitDone).is_none());
        assert!(cache.wait_ready().await);
        assert_eq!(cache.get("ns", "stamped"), Some(Cached::Stamped(live)));
        assert_eq!(cache.get("ns", "owned"), Some(Cached::Present));
        assert_eq!(cache.get("ns", "managed"), Some(Cached::Present));
        assert_eq!(cache.get("ns", "unrelated"), None);
        assert_eq!(cache.len(), 3);
        // No value is kept: the entry is the same whatever the values were.
        let mut other_value = stamped.clone();
        other_value.data = None;
        assert!(cache.observe(watcher::Event::Apply(other_value)).is_none());
        assert!(
            matches!(cache.get("ns", "stamped"), Some(Cached::Stamped(l)) if l != LiveSecret::of(&from_k8s(&stamped).unwrap()))
        );

        // A deletion is handed on, without values.
        let gone = cache
            .observe(watcher::Event::Delete(stamped.clone()))
            .unwrap();
        assert!(gone.data.is_none());
        assert_eq!(gone.name_any(), "stamped");
        assert_eq!(cache.get("ns", "stamped"), None);
        // An update that drops the ownership drops the entry.
        cache.observe(watcher::Event::Apply(secret(
            "owned",
            serde_json::json!({}),
            None,
        )));
        assert_eq!(cache.get("ns", "owned"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn never_ready_gives_up_after_the_wait() {
        let cache = SecretCache::default();
        assert!(!cache.wait_ready().await);
        // Later calls return at once.
        let t = Instant::now();
        assert!(!cache.wait_ready().await);
        assert_eq!(t.elapsed(), Duration::ZERO);
    }
}

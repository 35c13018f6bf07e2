//! Kubernetes Events as upstream records them (`pkg/controller/controller.go` `NewController` and
//! `unseal`): core/v1 Events with source component `sealed-secrets`, named `<object>.<hex nanos>`,
//! a repeated event (same object, type, reason and message) bumping `count` and `lastTimestamp`
//! with a PATCH, as client-go's recorder does.
//!
//! Why not kube-runtime's `Recorder`: it writes `events.k8s.io/v1` Events without a `source`, which
//! needs RBAC on the `events.k8s.io` group. Upstream's ClusterRole (and Helm chart) grant only core
//! `events` `create`/`patch`, so with the kube recorder this controller would lose its Events when
//! dropped into an existing upstream installation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use k8s_openapi::api::core::v1::Event;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use sealed_secrets::types::metav1_time;
use serde_json::json;

pub const COMPONENT: &str = "sealed-secrets";
const CACHE_LIMIT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// The `involvedObject` of an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ObjectReference {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EventKey {
    object: (String, String, String, String, String),
    type_: EventType,
    reason: String,
    message: String,
}

#[derive(Debug, Clone)]
struct Recorded {
    name: String,
    count: i32,
}

/// Publishes events; failures are logged, never returned (events are best effort, as upstream).
pub struct EventRecorder {
    client: Client,
    cache: Mutex<HashMap<EventKey, Recorded>>,
}

/// What client-go's broadcaster logs for each event (`StartLogging`).
pub fn log_line(obj: &ObjectReference, type_: EventType, reason: &str, message: &str) -> String {
    format!(
        "Event(v1.ObjectReference{{Kind:{:?}, Namespace:{:?}, Name:{:?}, UID:{:?}, APIVersion:{:?}, ResourceVersion:{:?}, FieldPath:\"\"}}): type: '{}' reason: '{}' {}",
        obj.kind,
        obj.namespace,
        obj.name,
        obj.uid,
        obj.api_version,
        obj.resource_version,
        type_.as_str(),
        reason,
        message
    )
}

/// The new core/v1 Event, as client-go's `makeEvent` builds it.
pub fn new_event(
    obj: &ObjectReference,
    type_: EventType,
    reason: &str,
    message: &str,
    now: SystemTime,
) -> serde_json::Value {
    let nanos = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let ts = metav1_time(now);
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{}.{:x}", obj.name, nanos), "namespace": obj.namespace},
        "involvedObject": {
            "kind": obj.kind,
            "namespace": obj.namespace,
            "name": obj.name,
            "uid": obj.uid,
            "apiVersion": obj.api_version,
            "resourceVersion": obj.resource_version,
        },
        "reason": reason,
        "message": message,
        "source": {"component": COMPONENT},
        "firstTimestamp": ts,
        "lastTimestamp": ts,
        "count": 1,
        "type": type_.as_str(),
        "reportingComponent": COMPONENT,
        "reportingInstance": "",
    })
}

impl EventRecorder {
    pub fn new(client: Client) -> Self {
        EventRecorder {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn publish(
        &self,
        obj: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        tracing::info!("{}", log_line(obj, type_, reason, message));
        if let Err(e) = self.try_publish(obj, type_, reason, message).await {
            tracing::warn!(
                namespace = %obj.namespace,
                name = %obj.name,
                reason,
                error = %e,
                "Server rejected event (will not retry!)"
            );
        }
    }

    async fn try_publish(
        &self,
        obj: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let key = EventKey {
            object: (
                obj.kind.clone(),
                obj.namespace.clone(),
                obj.name.clone(),
                obj.uid.clone(),
                obj.api_version.clone(),
            ),
            type_,
            reason: reason.to_string(),
            message: message.to_string(),
        };
        let now = SystemTime::now();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &obj.namespace);
        let previous = self.lock().get(&key).cloned();
        if let Some(prev) = previous {
            let count = prev.count.saturating_add(1);
            let patch =
                json!({"count": count, "lastTimestamp": metav1_time(now), "message": message});
            match api
                .patch(
                    &prev.name,
                    &PatchParams::default(),
                    &Patch::Strategic(&patch),
                )
                .await
            {
                Ok(_) => {
                    self.remember(
                        key,
                        Recorded {
                            name: prev.name,
                            count,
                        },
                    );
                    return Ok(());
                }
                // The event expired (1h TTL) or was deleted: record a new one.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let event: Event = serde_json::from_value(new_event(obj, type_, reason, message, now))
            .map_err(kube::Error::SerdeError)?;
        let created = api.create(&PostParams::default(), &event).await?;
        let name = created.metadata.name.unwrap_or_default();
        self.remember(key, Recorded { name, count: 1 });
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EventKey, Recorded>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, key: EventKey, rec: Recorded) {
        let mut cache = self.lock();
        if cache.len() >= CACHE_LIMIT && !cache.contains_key(&key) {
            cache.clear();
        }
        cache.insert(key, rec);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn obj() -> ObjectReference {
        ObjectReference {
            api_version: "bitnami.com/v1alpha1".into(),
            kind: "SealedSecret".into(),
            namespace: "ns".into(),
            name: "db".into(),
            uid: "u-1".into(),
            resource_version: "42".into(),
        }
    }

    #[test]
    fn event_shape() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let v = new_event(
            &obj(),
            EventType::Warning,
            "ErrUnsealFailed",
            "Failed to unseal: x",
            t,
        );
        assert_eq!(
            v["metadata"]["name"],
            format!("db.{:x}", 1_700_000_000u128 * 1_000_000_000)
        );
        assert_eq!(v["source"]["component"], "sealed-secrets");
        assert_eq!(v["involvedObject"]["kind"], "SealedSecret");
        assert_eq!(v["type"], "Warning");
        assert_eq!(v["firstTimestamp"], "2023-11-14T22:13:20Z");
        // It is a valid core/v1 Event.
        let e: Event = serde_json::from_value(v).unwrap();
        assert_eq!(e.count, Some(1));
        assert_eq!(e.reason.as_deref(), Some("ErrUnsealFailed"));
    }

    #[test]
    fn broadcaster_log_line() {
        assert_eq!(
            log_line(
                &obj(),
                EventType::Normal,
                "Unsealed",
                "SealedSecret unsealed successfully"
            ),
            "Event(v1.ObjectReference{Kind:\"SealedSecret\", Namespace:\"ns\", Name:\"db\", UID:\"u-1\", APIVersion:\"bitnami.com/v1alpha1\", ResourceVersion:\"42\", FieldPath:\"\"}): type: 'Normal' reason: 'Unsealed' SealedSecret unsealed successfully"
        );
    }
}

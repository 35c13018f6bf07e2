//! What the SealedSecret store keeps of one object (docs/architecture.md "What the programs keep"):
//! its metadata without managedFields and kubectl's last-applied-configuration annotation, and every
//! other field (spec, status, anything else) as one compact JSON text. A reconcile turns it back
//! into the `DynamicObject` the watch used to keep ([`StoredSealedSecret::to_dynamic`]) and reads
//! that as before, so a malformed spec or status is reported by the reconcile exactly as upstream's
//! informer would let it through, and can never break the watch: like a `DynamicObject`, this type
//! reads any JSON object whose metadata the API server accepted.
//!
//! A `DynamicObject` keeps the same fields as a tree of `serde_json::Value`s (a map per object with
//! its own hash table, a string per key and value) and names its resource in every reflector key
//! (`ApiResource`, five strings); this keeps one string and a static type.

use std::borrow::Cow;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DynamicObject, TypeMeta};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use sealed_secrets::types::{API_VERSION, GROUP, KIND, PLURAL, VERSION};

/// kubectl's copy of the whole object, which reconcile never reads.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// One SealedSecret as the store keeps it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredSealedSecret {
    pub metadata: ObjectMeta,
    /// The object's fields other than apiVersion, kind and metadata, as a JSON object.
    rest: Box<str>,
}

impl StoredSealedSecret {
    /// Keeps `metadata` (less what no reconcile reads: a status write sends the object without
    /// managedFields, which the API server keeps) and the other fields.
    pub fn new(mut metadata: ObjectMeta, rest: Map<String, Value>) -> Self {
        metadata.managed_fields = None;
        if let Some(a) = metadata.annotations.as_mut() {
            a.remove(LAST_APPLIED_ANNOTATION);
        }
        StoredSealedSecret {
            metadata,
            rest: Value::Object(rest).to_string().into_boxed_str(),
        }
    }

    /// The object as the watch delivered it (apiVersion and kind are the watched resource's), less
    /// what [`StoredSealedSecret::new`] drops.
    pub fn to_dynamic(&self) -> DynamicObject {
        DynamicObject {
            types: Some(TypeMeta {
                api_version: API_VERSION.to_string(),
                kind: KIND.to_string(),
            }),
            metadata: self.metadata.clone(),
            // The text is the serialization of a JSON object, which always parses back.
            data: serde_json::from_str(&self.rest).unwrap_or_else(|_| Value::Object(Map::new())),
        }
    }
}

impl kube::Resource for StoredSealedSecret {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        KIND.into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn api_version(_: &()) -> Cow<'_, str> {
        API_VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        PLURAL.into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl<'de> Deserialize<'de> for StoredSealedSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = StoredSealedSecret;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a SealedSecret object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut metadata = ObjectMeta::default();
                let mut rest = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "metadata" => metadata = map.next_value()?,
                        "apiVersion" | "kind" => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => {
                            let value = map.next_value()?;
                            rest.insert(key, value);
                        }
                    }
                }
                Ok(StoredSealedSecret::new(metadata, rest))
            }
        }
        d.deserialize_map(Fields)
    }
}

/// As the `DynamicObject` it stands for.
impl Serialize for StoredSealedSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_dynamic().serialize(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use kube::core::ObjectList;
    use serde_json::json;

    /// What the watch kept before: the `DynamicObject`, less managedFields and last-applied.
    fn as_dynamic_object_was_kept(v: &Value) -> DynamicObject {
        let mut obj: DynamicObject = serde_json::from_value(v.clone()).unwrap();
        obj.metadata.managed_fields = None;
        if let Some(a) = obj.metadata.annotations.as_mut() {
            a.remove(LAST_APPLIED_ANNOTATION);
        }
        obj
    }

    fn objects() -> Vec<Value> {
        vec![
            json!({
                "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                "metadata": {"name": "s", "namespace": "ns", "uid": "u", "generation": 3,
                    "resourceVersion": "42", "labels": {"app.kubernetes.io/instance": "x"},
                    "annotations": {LAST_APPLIED_ANNOTATION: "{...}", "sealedsecrets.bitnami.com/cluster-wide": "true"},
                    "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
                "spec": {"encryptedData": {"b": "AgB=", "a": "AgA="},
                         "template": {"metadata": {"name": "s", "namespace": "ns", "creationTimestamp": null},
                                      "type": "Opaque", "data": {"x": null, "y": "{{ .a }}"}}},
                "status": {"observedGeneration": 2, "conditions": [{"type": "Synced", "status": "True"}]}
            }),
            // Malformed spec and status, numbers, an unknown top-level field.
            json!({
                "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                "metadata": {"name": "odd", "namespace": "ns"},
                "spec": {"encryptedData": ["x", 1.5, -7, {"deep": [true, null]}], "data": 5},
                "status": {"conditions": "garbage"},
                "extra": "kept"
            }),
            json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                   "metadata": {"name": "bare", "namespace": "ns"}}),
        ]
    }

    #[test]
    fn reconciles_see_the_object_the_watch_kept_before() {
        for v in objects() {
            let stored: StoredSealedSecret = serde_json::from_value(v.clone()).unwrap();
            let mut expected = as_dynamic_object_was_kept(&v);
            expected.types = Some(TypeMeta {
                api_version: API_VERSION.to_string(),
                kind: KIND.to_string(),
            });
            assert_eq!(stored.to_dynamic(), expected, "{v}");
            // Key order is kept (the order of a Go map print does not depend on it, but the status
            // write sends the object back).
            assert_eq!(
                serde_json::to_string(&stored.to_dynamic().data).unwrap(),
                serde_json::to_string(&expected.data).unwrap()
            );
            // Reading the object back from its serialization gives the same.
            let again: StoredSealedSecret =
                serde_json::from_str(&serde_json::to_string(&stored).unwrap()).unwrap();
            assert_eq!(again, stored);
        }
    }

    #[test]
    fn drops_what_reconcile_never_reads() {
        let stored: StoredSealedSecret = serde_json::from_value(objects().remove(0)).unwrap();
        assert!(stored.metadata.managed_fields.is_none());
        assert_eq!(
            stored
                .metadata
                .annotations
                .as_ref()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["sealedsecrets.bitnami.com/cluster-wide"]
        );
        assert_eq!(
            stored.to_dynamic().data["spec"]["encryptedData"]["a"],
            "AgA="
        );
    }

    /// A list page with a malformed object still reads whole (the watch does not break on it).
    #[test]
    fn a_malformed_object_does_not_break_a_list() {
        let list = json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecretList",
            "metadata": {"resourceVersion": "7"},
            "items": objects()
        });
        let text = serde_json::to_string(&list).unwrap();
        let page: ObjectList<StoredSealedSecret> = serde_json::from_str(&text).unwrap();
        assert_eq!(page.items.len(), 3);
        assert_eq!(page.items[1].metadata.name.as_deref(), Some("odd"));
        // Not an object at all: refused, as by `DynamicObject`.
        assert!(serde_json::from_value::<StoredSealedSecret>(json!(["x"])).is_err());
        assert!(serde_json::from_value::<DynamicObject>(json!(["x"])).is_err());
    }
}

//! The SealedSecret CustomResourceDefinition: a hand-written schema, compatible with upstream's
//! (`helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml`; v0.36.6's and v0.40.0's are checked
//! in as `tests/fixtures/upstream/crd-v0.36.6.yaml` and `crd-v0.40.0.yaml`), and a superset of it:
//! `spec.template.data` values are nullable, so that a `null` entry (upstream v0.40.0's way to omit
//! a key, docs/templates.md) survives the API server, which prunes a null that the schema does not
//! allow.
//! `crds/sealedsecret.yaml` is this value rendered as YAML; a test fails when the file is stale, and
//! another checks the schema against the fields our Rust types serialize.

use serde_json::{Value, json};

use crate::types::{GROUP, KIND, PLURAL, VERSION};

fn string_map() -> Value {
    string_map_with([])
}

/// `{type: object, additionalProperties: {type: string}}` followed by `extra`, in that order.
fn string_map_with(extra: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("additionalProperties".into(), json!({"type": "string"}));
    m.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
    Value::Object(m)
}

/// `spec.template.data`: Go `map[string]*string`, itself nullable, and (our superset) so are its
/// values.
fn template_data_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": true},
        "description": "Keys that should be templated using decrypted data.\nSet a key with the same name as in `encryptedData`\nto `null` to omit the unsealed data from the final secret.",
        "nullable": true,
    })
}

fn template_schema() -> Value {
    json!({
        "description": "Template defines the structure of the Secret that will be\ncreated from this sealed secret.",
        "type": "object",
        "properties": {
            "metadata": {
                "description": "Standard object's metadata.\nMore info: https://git.k8s.io/community/contributors/devel/api-conventions.md#metadata",
                "type": "object",
                "nullable": true,
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "annotations": string_map(),
                    "finalizers": {"type": "array", "items": {"type": "string"}},
                    "labels": string_map(),
                    "name": {"type": "string"},
                    "namespace": {"type": "string"},
                },
            },
            "type": {"description": "Used to facilitate programmatic handling of secret data.", "type": "string"},
            "immutable": {
                "description": "Immutable, if set to true, ensures that data stored in the Secret cannot\nbe updated (only object metadata can be modified).\nIf not set to true, the field can be modified at any time.\nDefaulted to nil.",
                "type": "boolean",
            },
            "data": template_data_schema(),
        },
    })
}

fn status_schema() -> Value {
    let time = |d: &str| json!({"description": d, "type": "string", "format": "date-time"});
    let text = |d: &str| json!({"description": d, "type": "string"});
    json!({
        "description": "SealedSecretStatus is the most recently observed status of the SealedSecret.",
        "type": "object",
        "properties": {
            "observedGeneration": {
                "description": "ObservedGeneration reflects the generation most recently observed by the sealed-secrets controller.",
                "type": "integer",
                "format": "int64",
            },
            "conditions": {
                "description": "Represents the latest available observations of a sealed secret's current state.",
                "type": "array",
                "items": {
                    "description": "SealedSecretCondition describes the state of a sealed secret at a certain point.",
                    "type": "object",
                    "required": ["status", "type"],
                    "properties": {
                        "type": text("Type of condition for a sealed secret.\nValid value: \"Synced\""),
                        "status": text("Status of the condition for a sealed secret.\nValid values for \"Synced\": \"True\", \"False\", or \"Unknown\"."),
                        "lastUpdateTime": time("The last time this condition was updated."),
                        "lastTransitionTime": time("Last time the condition transitioned from one status to another."),
                        "reason": text("The reason for the condition's last transition."),
                        "message": text("A human readable message indicating details about the transition."),
                    },
                },
            },
        },
    })
}

/// The CRD object.
pub fn sealed_secret_crd() -> Value {
    let encrypted_data = string_map_with([("x-kubernetes-preserve-unknown-fields", json!(true))]);
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": format!("{PLURAL}.{GROUP}"),
            "annotations": {"controller-gen.kubebuilder.io/version": "v0.20.1"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": format!("{KIND}List"),
                "plural": PLURAL,
                "singular": "sealedsecret",
            },
            "scope": "Namespaced",
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"jsonPath": ".status.conditions[0].message", "name": "Status", "type": "string"},
                    {"jsonPath": ".status.conditions[0].status", "name": "Synced", "type": "string"},
                    {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
                ],
                "schema": {"openAPIV3Schema": {
                    "description": "SealedSecret is the K8s representation of a \"sealed Secret\" - a\nregular k8s Secret that has been sealed (encrypted) using the\ncontroller's key.",
                    "type": "object",
                    "required": ["spec"],
                    "properties": {
                        "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."},
                        "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this object represents."},
                        "metadata": {"type": "object"},
                        "spec": {
                            "description": "SealedSecretSpec is the specification of a SealedSecret.",
                            "type": "object",
                            "required": ["encryptedData"],
                            "properties": {
                                "data": {
                                    "description": "Data is deprecated and will be removed eventually. Use per-value EncryptedData instead.",
                                    "type": "string",
                                    "format": "byte",
                                },
                                "encryptedData": encrypted_data,
                                "template": template_schema(),
                            },
                        },
                        "status": status_schema(),
                    },
                }},
            }],
        },
    })
}

/// The checked-in file's text: `---`-less YAML with sorted keys.
pub fn sealed_secret_crd_yaml() -> String {
    format!(
        "# Generated from the Rust types by sealed-secrets (src/crd.rs); do not edit. `make crds` regenerates it.\n{}",
        goyaml::to_yaml(&sealed_secret_crd())
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::types::*;
    use std::collections::BTreeMap;

    fn crd_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/sealedsecret.yaml")
    }

    /// `UPDATE_CRDS=1` rewrites the file; otherwise the checked-in file must match exactly.
    #[test]
    fn checked_in_crd_is_current() {
        let want = sealed_secret_crd_yaml();
        if std::env::var_os("UPDATE_CRDS").is_some() {
            std::fs::write(crd_path(), &want).unwrap();
        }
        let have = std::fs::read_to_string(crd_path()).unwrap_or_default();
        assert!(
            have == want,
            "crds/sealedsecret.yaml is stale: run `make crds`"
        );
    }

    fn schema_of(crd: &Value) -> &Value {
        &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    }

    /// Where our schema allows `null` and upstream's does not.
    const NULLABLE_SUPERSET: &[&str] = &[".spec.template.data[additionalProperties]"];

    /// Every property path (with its type) that `upstream` declares is declared the same in `ours`.
    fn assert_accepts(upstream: &Value, ours: &Value, path: &str) {
        for key in ["type", "format", "x-kubernetes-preserve-unknown-fields"] {
            assert_eq!(upstream.get(key), ours.get(key), "{path}: {key} differs");
        }
        let want_nullable = if NULLABLE_SUPERSET.contains(&path) {
            assert_eq!(
                upstream.get("nullable"),
                None,
                "{path}: upstream is nullable"
            );
            Some(&json!(true))
        } else {
            upstream.get("nullable")
        };
        assert_eq!(
            ours.get("nullable"),
            want_nullable,
            "{path}: nullable differs"
        );
        if let Some(props) = upstream.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                let mine = ours["properties"]
                    .get(name)
                    .unwrap_or_else(|| panic!("{path}.{name}: missing in our CRD"));
                assert_accepts(sub, mine, &format!("{path}.{name}"));
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(sub) = upstream.get(key) {
                assert_accepts(sub, &ours[key], &format!("{path}[{key}]"));
            }
        }
        assert_eq!(
            upstream.get("required"),
            ours.get("required"),
            "{path}: required differs"
        );
    }

    fn upstream_crd(version: &str) -> Value {
        let text = match version {
            "v0.36.6" => include_str!("../tests/fixtures/upstream/crd-v0.36.6.yaml"),
            "v0.40.0" => include_str!("../tests/fixtures/upstream/crd-v0.40.0.yaml"),
            other => panic!("no upstream CRD {other}"),
        };
        goyaml::parse_documents(text.as_bytes()).unwrap().remove(0)
    }

    #[test]
    fn accepts_every_field_of_the_upstream_crds() {
        for version in ["v0.36.6", "v0.40.0"] {
            accepts_every_field_of(&upstream_crd(version));
        }
    }

    /// `spec.template.data`'s description and the controller-gen annotation are upstream v0.40.0's.
    #[test]
    fn documents_null_entries_as_upstream_v0_40_0() {
        let upstream = upstream_crd("v0.40.0");
        let ours = sealed_secret_crd();
        assert_eq!(upstream["metadata"], ours["metadata"]);
        let description = |crd: &Value| {
            schema_of(crd)["properties"]["spec"]["properties"]["template"]["properties"]["data"]["description"].clone()
        };
        assert_eq!(
            description(&ours),
            json!(
                "Keys that should be templated using decrypted data.\nSet a key with the same name as in `encryptedData`\nto `null` to omit the unsealed data from the final secret."
            )
        );
        assert_eq!(description(&upstream), description(&ours));
    }

    fn accepts_every_field_of(upstream: &Value) {
        let ours = sealed_secret_crd();
        assert_accepts(schema_of(upstream), schema_of(&ours), "");
        for key in ["group", "names", "scope"] {
            assert_eq!(upstream["spec"][key], ours["spec"][key]);
        }
        let (uv, ov) = (
            &upstream["spec"]["versions"][0],
            &ours["spec"]["versions"][0],
        );
        for key in [
            "name",
            "served",
            "storage",
            "subresources",
            "additionalPrinterColumns",
        ] {
            assert_eq!(uv[key], ov[key], "versions[0].{key}");
        }
    }

    /// Every field a fully populated SealedSecret serializes is declared in the schema.
    #[test]
    fn schema_covers_the_rust_types() {
        let full = SealedSecret {
            kind: KIND.into(),
            api_version: API_VERSION.into(),
            metadata: ObjectMeta {
                name: "n".into(),
                ..Default::default()
            },
            spec: SealedSecretSpec {
                template: SecretTemplateSpec {
                    metadata: ObjectMeta {
                        name: "n".into(),
                        namespace: "ns".into(),
                        labels: BTreeMap::from([("a".into(), "b".into())]),
                        annotations: BTreeMap::from([("a".into(), "b".into())]),
                        finalizers: vec!["f".into()],
                        ..Default::default()
                    },
                    type_: "Opaque".into(),
                    immutable: Some(true),
                    data: BTreeMap::from([
                        ("k".into(), Some("v".into())),
                        ("omitted".into(), None),
                    ]),
                },
                data: Some("AAAA".into()),
                encrypted_data: BTreeMap::from([("k".into(), "v".into())]),
            },
            status: Some(SealedSecretStatus {
                observed_generation: 1,
                conditions: vec![SealedSecretCondition {
                    type_: "Synced".into(),
                    status: "True".into(),
                    last_update_time: Some("t".into()),
                    last_transition_time: Some("t".into()),
                    reason: "r".into(),
                    message: "m".into(),
                }],
            }),
        };
        fn walk(value: &Value, schema: &Value, path: &str) {
            let preserve = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
            match value {
                Value::Object(m) => {
                    for (k, v) in m {
                        if let Some(sub) = schema["properties"].get(k) {
                            walk(v, sub, &format!("{path}.{k}"));
                        } else if let Some(sub) = schema.get("additionalProperties") {
                            walk(v, sub, &format!("{path}.{k}"));
                        } else {
                            assert!(
                                preserve
                                    || schema["type"] == "object"
                                        && schema.get("properties").is_none(),
                                "{path}.{k} is not in the CRD schema"
                            );
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| walk(v, &schema["items"], path)),
                _ => {}
            }
        }
        walk(
            &serde_json::to_value(&full).unwrap(),
            schema_of(&sealed_secret_crd()),
            "",
        );
    }
}

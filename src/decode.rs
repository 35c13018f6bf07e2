//! SealedSecrets from the bytes and objects the controller receives, read as upstream reads them:
//! a request body of `/v1/verify` and `/v1/rotate` (upstream `pkg/controller/server.go`, which
//! decodes with `scheme.Codecs.UniversalDeserializer().Decode`), and an object from the watch
//! (upstream's informer, whose typed decoding tolerates malformed fields).
//!
//! Error texts quote no document content beyond its apiVersion and kind: serde's messages can quote
//! field values, so they are not passed on for request bodies.

use serde::Serialize;
use serde_json::Value;

use crate::types::{API_VERSION, KIND, SealedSecret};
use goyaml::{CodecError, parse_documents};

/// Longest apiVersion or kind quoted in an error.
const QUOTED_TYPE_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Parse(#[from] CodecError),
    #[error(
        "Multistream YAML not supported yet (see https://github.com/bitnami-labs/sealed-secrets/issues/114)"
    )]
    MultipleDocuments,
    /// An empty body.
    #[error("Object 'Kind' is missing in ''")]
    Empty,
    #[error("Object 'Kind' is missing")]
    KindMissing,
    #[error("unexpected resource type: {api_version}, Kind={kind}")]
    UnexpectedType { api_version: String, kind: String },
    #[error("cannot decode SealedSecret: malformed object")]
    Malformed,
    /// An object from the API server that is not a SealedSecret at all (serde's message).
    #[error("invalid SealedSecret: {0}")]
    Invalid(String),
    /// An object that does not even serialize to JSON (serde's message).
    #[error("{0}")]
    NotJson(String),
}

/// One SealedSecret document of a request body: apiVersion and kind must be present and be
/// `bitnami.com/v1alpha1`/`SealedSecret`. More than one document is refused (upstream: verify
/// refuses, rotate silently uses the first).
pub fn sealed_secret_from_request(body: &[u8]) -> Result<SealedSecret, DecodeError> {
    let mut documents = parse_documents(body)?;
    if documents.len() > 1 {
        return Err(DecodeError::MultipleDocuments);
    }
    let document = documents.pop().ok_or(DecodeError::Empty)?;
    let (api_version, kind) = type_meta(&document);
    if kind.is_empty() {
        return Err(DecodeError::KindMissing);
    }
    if api_version != API_VERSION || kind != KIND {
        let shorten = |s: &str| s.chars().take(QUOTED_TYPE_CHARS).collect::<String>();
        return Err(DecodeError::UnexpectedType {
            api_version: shorten(&api_version),
            kind: shorten(&kind),
        });
    }
    serde_json::from_value::<SealedSecret>(document).map_err(|_| DecodeError::Malformed)
}

/// A document's apiVersion and kind as upstream's decoders read them: empty when missing or not a
/// string.
fn type_meta(document: &Value) -> (String, String) {
    let field = |name: &str| {
        document
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (field("apiVersion"), field("kind"))
}

/// Why a document is not a SealedSecret for kubeseal's decoder; kubeseal words each case as
/// upstream does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntoError {
    /// Not a JSON object; Go's name of its JSON type (`null`, `bool`, `number`, `string`, `array`).
    #[error("not an object but {0}")]
    NotAnObject(&'static str),
    /// A `v1` `Secret`.
    #[error("a v1 Secret is not a SealedSecret")]
    Secret,
    /// Another kind (the version is the SealedSecret's when the document gives none).
    #[error("kind {kind} is not registered for version {version}")]
    UnregisteredKind { kind: String, version: String },
    /// serde's message, with no string of the document quoted in it.
    #[error("{0}")]
    Malformed(String),
}

/// One document as kubeseal reads a SealedSecret file (upstream `decodeSealedSecret` in
/// `pkg/kubeseal/kubeseal.go`: `runtime.DecodeInto(codecs.UniversalDecoder(), b, &ss)`): it must be
/// an object; a missing kind is the SealedSecret's (decoding into a typed value defaults it), any
/// other kind is refused, whatever the apiVersion when the kind is SealedSecret.
pub fn sealed_secret_into(document: Value) -> Result<SealedSecret, IntoError> {
    if !document.is_object() {
        return Err(IntoError::NotAnObject(go_json_type(&document)));
    }
    let (api_version, kind) = type_meta(&document);
    if !kind.is_empty() && kind != KIND {
        if kind == "Secret" && api_version == "v1" {
            return Err(IntoError::Secret);
        }
        let version = if api_version.is_empty() {
            API_VERSION.to_string()
        } else {
            api_version
        };
        return Err(IntoError::UnregisteredKind { kind, version });
    }
    serde_json::from_value::<SealedSecret>(document)
        .map_err(|e| IntoError::Malformed(crate::secret::redact_serde_values(&e.to_string())))
}

/// Go's name of a JSON value's type, as `encoding/json` prints it in `cannot unmarshal <type>`.
fn go_json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A watched SealedSecret object (any serde type, e.g. the client's dynamic object) in the core's
/// tolerant types, with apiVersion and kind defaulted. The status is left out: it plays no part in
/// unsealing, and a malformed one must not make the object unreadable.
pub fn sealed_secret_from_object(object: &impl Serialize) -> Result<SealedSecret, DecodeError> {
    let mut object =
        serde_json::to_value(object).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    serde_json::from_value::<SealedSecret>(object)
        .map(SealedSecret::with_type_meta)
        .map_err(|e| DecodeError::Invalid(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(v: &Value) -> Result<SealedSecret, DecodeError> {
        sealed_secret_from_request(goyaml::to_json_compact(v).as_bytes())
    }

    #[test]
    fn requests_need_the_sealed_secret_type() {
        let ok = json!({"apiVersion": API_VERSION, "kind": KIND,
                        "metadata": {"name": "s", "namespace": "ns"},
                        "spec": {"encryptedData": {"a": "AgA="}}});
        let ss = request(&ok).unwrap();
        assert_eq!(ss.metadata.name, "s");
        assert_eq!(ss.spec.encrypted_data["a"], "AgA=");

        let e = |v: Value| request(&v).unwrap_err().to_string();
        assert_eq!(e(json!({"apiVersion": "v1"})), "Object 'Kind' is missing");
        assert_eq!(
            e(json!({"apiVersion": "v1", "kind": "Secret"})),
            "unexpected resource type: v1, Kind=Secret"
        );
        assert_eq!(
            e(json!({"kind": KIND})),
            "unexpected resource type: , Kind=SealedSecret"
        );
        let long = "k".repeat(150);
        assert_eq!(
            e(json!({"apiVersion": API_VERSION, "kind": long})),
            format!(
                "unexpected resource type: {API_VERSION}, Kind={}",
                "k".repeat(100)
            )
        );
        // serde's message would quote the value: it is not passed on.
        assert_eq!(
            e(json!({"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": ["s3cr3t"]}})),
            "cannot decode SealedSecret: malformed object"
        );
    }

    #[test]
    fn requests_are_one_document() {
        assert_eq!(
            sealed_secret_from_request(b"").unwrap_err(),
            DecodeError::Empty
        );
        assert_eq!(
            DecodeError::Empty.to_string(),
            "Object 'Kind' is missing in ''"
        );
        let doc = format!("apiVersion: {API_VERSION}\nkind: {KIND}\nmetadata:\n  name: s\n");
        assert!(sealed_secret_from_request(doc.as_bytes()).is_ok());
        let two = format!("{doc}---\n{doc}");
        assert_eq!(
            sealed_secret_from_request(two.as_bytes()).unwrap_err(),
            DecodeError::MultipleDocuments
        );
        assert!(matches!(
            sealed_secret_from_request(b"garbage: [").unwrap_err(),
            DecodeError::Parse(_)
        ));
    }

    #[test]
    fn objects_are_read_tolerantly() {
        let ss = sealed_secret_from_object(&json!({
            "metadata": {"name": "s", "namespace": "ns", "uid": "u"},
            "spec": {"encryptedData": {"a": "AgA=", "b": 5}},
            "status": {"conditions": "garbage"}
        }))
        .unwrap();
        assert_eq!(
            (ss.api_version.as_str(), ss.kind.as_str()),
            (API_VERSION, KIND)
        );
        assert_eq!(ss.spec.encrypted_data["b"], "");
        assert_eq!(ss.status, None);
        let e = sealed_secret_from_object(&json!({"metadata": "x"})).unwrap_err();
        assert!(e.to_string().starts_with("invalid SealedSecret: "), "{e}");
    }

    #[test]
    fn documents_decode_into_a_sealed_secret_as_kubeseal_does() {
        let ss = sealed_secret_into(json!({"metadata": {"name": "s"},
                                           "spec": {"encryptedData": {"a": "AgA="}}}))
        .unwrap();
        assert_eq!(ss.metadata.name, "s");
        assert_eq!(ss.spec.encrypted_data["a"], "AgA=");
        // The kind decides; the apiVersion of a SealedSecret is not checked.
        assert!(sealed_secret_into(json!({"apiVersion": "v9", "kind": KIND})).is_ok());
        assert_eq!(
            sealed_secret_into(json!([1])).unwrap_err(),
            IntoError::NotAnObject("array")
        );
        assert_eq!(
            sealed_secret_into(json!(null)).unwrap_err(),
            IntoError::NotAnObject("null")
        );
        assert_eq!(
            sealed_secret_into(json!({"apiVersion": "v1", "kind": "Secret"})).unwrap_err(),
            IntoError::Secret
        );
        assert_eq!(
            sealed_secret_into(json!({"kind": "Secret"})).unwrap_err(),
            IntoError::UnregisteredKind {
                kind: "Secret".into(),
                version: API_VERSION.into()
            }
        );
        assert_eq!(
            sealed_secret_into(json!({"apiVersion": "x/v2", "kind": "Foo"})).unwrap_err(),
            IntoError::UnregisteredKind {
                kind: "Foo".into(),
                version: "x/v2".into()
            }
        );
        let e = sealed_secret_into(json!({"metadata": "s3cr3t"})).unwrap_err();
        assert!(
            matches!(&e, IntoError::Malformed(m) if !m.contains("s3cr3t")),
            "{e}"
        );
    }
}

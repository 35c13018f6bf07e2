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
    let field = |name: &str| {
        document
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind) = (field("apiVersion"), field("kind"));
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
}

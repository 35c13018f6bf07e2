//! Reading the input documents as upstream kubeseal does (`pkg/kubeseal/kubeseal.go`
//! `readSecrets`, `readSealedSecrets`, `decodeSealedSecret`): Secrets and SealedSecrets from a YAML
//! or JSON stream, with upstream's error texts.

use serde::de::DeserializeOwned;
use serde_json::Value;

use goyaml::{CodecError, FieldPath, parse_documents_with_string_fields};
use sealed_secrets::decode::{IntoError, sealed_secret_into};
use sealed_secrets::types::{SealedSecret, Secret};

/// Why the input documents could not be read, in upstream's words.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum DocumentError {
    #[error("no secrets found. Ensure the input is valid and UTF-8 encoded")]
    NoSecrets,
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// serde's message, with no value quoted; YAML input gets the prefix sigs.k8s.io/yaml adds.
    #[error("{}{message}", decode_prefix(*.yaml))]
    Decode { message: String, yaml: bool },
    #[error(
        "couldn't get version/kind; json parse error: invalid character '{{' after top-level value"
    )]
    SeveralJsonObjects,
    #[error(
        "couldn't get version/kind; json parse error: json: cannot unmarshal {0} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}"
    )]
    NotAnObject(&'static str),
    #[error("converting (v1.Secret) to (v1alpha1.SealedSecret): unknown conversion")]
    SecretNotSealedSecret,
    #[error(
        "no kind {} is registered for version {} in scheme \"pkg/runtime/scheme.go:111\"",
        crate::goerr::quote(.kind),
        crate::goerr::quote(.version)
    )]
    UnregisteredKind { kind: String, version: String },
}

fn decode_prefix(yaml: bool) -> &'static str {
    if yaml {
        "error unmarshaling JSON: while decoding JSON: "
    } else {
        ""
    }
}

/// Upstream decides between JSON and YAML on the first non-space byte.
fn is_json(input: &[u8]) -> bool {
    input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The Secrets of a seal input (`readSecrets`): every document, decoded as a Secret whatever its
/// `kind`; documents that decode to nothing are skipped.
pub fn read_secrets(input: &[u8]) -> Result<Vec<Secret>, DocumentError> {
    let json = is_json(input);
    // An unparsable stream yields no Secret upstream (its decoder skips what it cannot read).
    let docs = parse_documents_with_string_fields(input, SECRET_STRING_FIELDS)
        .map_err(|_| DocumentError::NoSecrets)?;
    let mut secrets = Vec::new();
    for doc in docs {
        if !doc.is_object() {
            continue;
        }
        let touches_fields = touches_any(
            &doc,
            &[
                "kind",
                "apiVersion",
                "metadata",
                "data",
                "stringData",
                "type",
                "immutable",
            ],
        );
        match decode::<Secret>(doc, json) {
            Ok(s) if s.is_empty() => {}
            Ok(s) => secrets.push(s),
            // Go keeps going over a document that decoded to nothing.
            Err(_) if !touches_fields => {}
            Err(e) => return Err(e),
        }
    }
    if secrets.is_empty() {
        return Err(DocumentError::NoSecrets);
    }
    Ok(secrets)
}

/// The SealedSecrets of a `--validate` / `--re-encrypt` input (`readSealedSecrets`).
pub fn read_sealed_secrets(input: &[u8]) -> Result<Vec<SealedSecret>, DocumentError> {
    let json = is_json(input);
    let docs = parse_documents_with_string_fields(input, SEALED_SECRET_STRING_FIELDS)?;
    let mut out = Vec::new();
    for doc in docs {
        if !doc.is_object() {
            continue;
        }
        let ss = decode::<SealedSecret>(doc, json)?;
        if ss != SealedSecret::default() {
            out.push(ss);
        }
    }
    Ok(out)
}

/// One SealedSecret as upstream's universal decoder reads a whole file (`--recovery-unseal` input,
/// `--merge-into` target): the first YAML document or exactly one JSON object; `kind`, when given,
/// must be SealedSecret. An empty input is an empty object.
pub fn decode_sealed_secret(input: &[u8]) -> Result<SealedSecret, DocumentError> {
    let json = is_json(input);
    let docs = parse_documents_with_string_fields(input, SEALED_SECRET_STRING_FIELDS)?;
    if json && docs.len() > 1 {
        return Err(DocumentError::SeveralJsonObjects);
    }
    let Some(doc) = docs.into_iter().next() else {
        return Ok(SealedSecret::default());
    };
    sealed_secret_into(doc).map_err(|e| match e {
        IntoError::NotAnObject(json_type) => DocumentError::NotAnObject(json_type),
        IntoError::Secret => DocumentError::SecretNotSealedSecret,
        IntoError::UnregisteredKind { kind, version } => {
            DocumentError::UnregisteredKind { kind, version }
        }
        IntoError::Malformed(message) => DocumentError::Decode {
            message,
            yaml: !json,
        },
    })
}

fn touches_any(doc: &Value, fields: &[&str]) -> bool {
    fields
        .iter()
        .any(|f| doc.get(*f).is_some_and(|v| !v.is_null()))
}

/// serde errors never quote values; YAML input gets the prefix sigs.k8s.io/yaml adds.
fn decode<T: DeserializeOwned>(doc: Value, json: bool) -> Result<T, DocumentError> {
    serde_json::from_value::<T>(doc).map_err(|e| DocumentError::Decode {
        message: sealed_secrets::secret::redact_serde_values(&e.to_string()),
        yaml: !json,
    })
}

const SECRET_STRING_FIELDS: &[FieldPath] = &[
    &["kind"],
    &["apiVersion"],
    &["type"],
    &["stringData", "*"],
    &["metadata", "name"],
    &["metadata", "generateName"],
    &["metadata", "namespace"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "resourceVersion"],
    &["metadata", "labels", "*"],
    &["metadata", "annotations", "*"],
    &["metadata", "finalizers", "*"],
    &["metadata", "ownerReferences", "*", "apiVersion"],
    &["metadata", "ownerReferences", "*", "kind"],
    &["metadata", "ownerReferences", "*", "name"],
    &["metadata", "ownerReferences", "*", "uid"],
];

const SEALED_SECRET_STRING_FIELDS: &[FieldPath] = &[
    &["kind"],
    &["apiVersion"],
    &["metadata", "name"],
    &["metadata", "generateName"],
    &["metadata", "namespace"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "resourceVersion"],
    &["metadata", "labels", "*"],
    &["metadata", "annotations", "*"],
    &["metadata", "finalizers", "*"],
    &["spec", "encryptedData", "*"],
    &["spec", "template", "type"],
    // Not `spec.template.data.*`: upstream decodes those values (`*string`) without the
    // string conversion, so a `null` entry stays null and a number or boolean is refused.
    &["spec", "template", "metadata", "name"],
    &["spec", "template", "metadata", "generateName"],
    &["spec", "template", "metadata", "namespace"],
    &["spec", "template", "metadata", "labels", "*"],
    &["spec", "template", "metadata", "annotations", "*"],
    &["spec", "template", "metadata", "finalizers", "*"],
    &[
        "spec",
        "template",
        "metadata",
        "ownerReferences",
        "*",
        "apiVersion",
    ],
    &[
        "spec",
        "template",
        "metadata",
        "ownerReferences",
        "*",
        "kind",
    ],
    &[
        "spec",
        "template",
        "metadata",
        "ownerReferences",
        "*",
        "name",
    ],
    &[
        "spec",
        "template",
        "metadata",
        "ownerReferences",
        "*",
        "uid",
    ],
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn string_data(input: &str) -> Vec<(String, String)> {
        let secrets = read_secrets(input.as_bytes()).unwrap();
        secrets[0]
            .string_data
            .iter()
            .map(|(k, v)| (k.clone(), v.0.as_str().to_string()))
            .collect()
    }

    #[test]
    fn yaml_scalars_become_strings() {
        let secrets = read_secrets(
            b"metadata: {name: 12, labels: {a: true}}\nstringData: {num: 1.5, m: 1000.0, z: null, s: x}\n",
        )
        .unwrap();
        let s = &secrets[0];
        assert_eq!(s.metadata.name, "12");
        assert_eq!(s.metadata.labels["a"], "true");
        let got: Vec<(&str, &str)> = s
            .string_data
            .iter()
            .map(|(k, v)| (k.as_str(), v.0.as_str()))
            .collect();
        assert_eq!(got, [("m", "1000"), ("num", "1.5"), ("s", "x"), ("z", "")]);
    }

    /// The two examples of issue 8: Go formats floats as float32 `%g` and seals `.inf` as `+Inf`.
    #[test]
    fn floats_and_special_floats_as_upstream() {
        assert_eq!(
            string_data(
                "kind: Secret\nstringData: {num: 123456789.0, i: .inf, m: -.inf, nan: .nan}\n"
            ),
            [
                ("i".to_string(), "+Inf".to_string()),
                ("m".to_string(), "-Inf".to_string()),
                ("nan".to_string(), "NaN".to_string()),
                ("num".to_string(), "1.2345679e+08".to_string()),
            ]
        );
        assert_eq!(
            string_data(r#"{"kind":"Secret","stringData":{"n":123456789.0,"b":true,"z":null}}"#),
            [
                ("b".to_string(), "true".to_string()),
                ("n".to_string(), "1.2345679e+08".to_string()),
                ("z".to_string(), String::new()),
            ]
        );
    }

    /// `data` is `[]byte` in Go: a number there is refused, `.inf` fails the JSON step.
    #[test]
    fn numbers_in_data_are_refused() {
        let e = read_secrets(b"kind: Secret\ndata: {d: 1.0}\n").unwrap_err();
        assert!(matches!(e, DocumentError::Decode { yaml: true, .. }), "{e}");
        let e = read_secrets(b"kind: Secret\ndata: {d: .inf}\n").unwrap_err();
        assert_eq!(e, DocumentError::NoSecrets);
    }
}

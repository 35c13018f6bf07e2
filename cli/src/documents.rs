//! Reading the input documents as upstream kubeseal does (spec §7.4, §7.6-7.9): Secrets and
//! SealedSecrets from a YAML or JSON stream, with upstream's error texts.

use serde::de::DeserializeOwned;
use serde_json::Value;

use goyaml::parse_documents;
use sealed_secrets::types::{SealedSecret, Secret};

const NO_SECRETS: &str = "no secrets found. Ensure the input is valid and UTF-8 encoded";

/// Upstream decides between JSON and YAML on the first non-space byte.
fn is_json(input: &[u8]) -> bool {
    input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The Secrets of a seal input (`readSecrets`): every document, decoded as a Secret whatever its
/// `kind`; documents that decode to nothing are skipped.
pub fn read_secrets(input: &[u8]) -> Result<Vec<Secret>, String> {
    let json = is_json(input);
    // An unparsable stream yields no Secret upstream (its decoder skips what it cannot read).
    let docs = parse_documents(input).map_err(|_| NO_SECRETS.to_string())?;
    let mut secrets = Vec::new();
    for mut doc in docs {
        if !doc.is_object() {
            continue;
        }
        coerce_strings(&mut doc, SECRET_STRING_FIELDS);
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
        return Err(NO_SECRETS.to_string());
    }
    Ok(secrets)
}

/// The SealedSecrets of a `--validate` / `--re-encrypt` input (`readSealedSecrets`).
pub fn read_sealed_secrets(input: &[u8]) -> Result<Vec<SealedSecret>, String> {
    let json = is_json(input);
    let docs = parse_documents(input).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for mut doc in docs {
        if !doc.is_object() {
            continue;
        }
        coerce_strings(&mut doc, SEALED_SECRET_STRING_FIELDS);
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
pub fn decode_sealed_secret(input: &[u8]) -> Result<SealedSecret, String> {
    let json = is_json(input);
    let docs = parse_documents(input).map_err(|e| e.to_string())?;
    if json && docs.len() > 1 {
        return Err(
            "couldn't get version/kind; json parse error: invalid character '{' after top-level value".into(),
        );
    }
    let Some(mut doc) = docs.into_iter().next() else {
        return Ok(SealedSecret::default());
    };
    if !doc.is_object() {
        return Err(format!(
            "couldn't get version/kind; json parse error: json: cannot unmarshal {} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}",
            go_json_type(&doc)
        ));
    }
    coerce_strings(&mut doc, SEALED_SECRET_STRING_FIELDS);
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let api_version = doc
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !kind.is_empty() && kind != sealed_secrets::types::KIND {
        if kind == "Secret" && api_version == "v1" {
            return Err(
                "converting (v1.Secret) to (v1alpha1.SealedSecret): unknown conversion".into(),
            );
        }
        // A missing apiVersion defaults to the SealedSecret's in upstream's decoder.
        let version = if api_version.is_empty() {
            sealed_secrets::types::API_VERSION
        } else {
            &api_version
        };
        return Err(format!(
            "no kind {} is registered for version {} in scheme \"pkg/runtime/scheme.go:111\"",
            crate::goerr::quote(&kind),
            crate::goerr::quote(version)
        ));
    }
    decode::<SealedSecret>(doc, json)
}

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

fn touches_any(doc: &Value, fields: &[&str]) -> bool {
    fields
        .iter()
        .any(|f| doc.get(*f).is_some_and(|v| !v.is_null()))
}

/// serde errors never quote values; YAML input gets the prefix sigs.k8s.io/yaml adds.
fn decode<T: DeserializeOwned>(doc: Value, json: bool) -> Result<T, String> {
    serde_json::from_value::<T>(doc).map_err(|e| {
        let e = crate::goerr::redact_serde_values(&e.to_string());
        if json {
            e
        } else {
            format!("error unmarshaling JSON: while decoding JSON: {e}")
        }
    })
}

/// A path into a document: object keys, `*` for every value of a map or item of a list.
type FieldPath = &'static [&'static str];

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
    &["spec", "template", "data", "*"],
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

/// Upstream decodes with the target struct in hand, so a scalar lands in a string field as text:
/// `count: 1` gives `"1"`, YAML `name: y` (a YAML 1.1 boolean) gives `"true"`; JSON input behaves
/// the same. The document arrives here as untyped JSON, so the string-typed fields are converted
/// back by path.
fn coerce_strings(doc: &mut Value, paths: &[FieldPath]) {
    for path in paths {
        coerce_path(doc, path);
    }
}

fn coerce_path(v: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        if let Some(s) = scalar_text(v) {
            *v = Value::String(s);
        }
        return;
    };
    match (*first, v) {
        ("*", Value::Object(map)) => map.values_mut().for_each(|c| coerce_path(c, rest)),
        ("*", Value::Array(items)) => items.iter_mut().for_each(|c| coerce_path(c, rest)),
        (key, Value::Object(map)) => {
            if let Some(child) = map.get_mut(key) {
                coerce_path(child, rest);
            }
        }
        _ => {}
    }
}

/// The text Go's YAML-to-JSON conversion gives a non-string scalar bound for a string field;
/// `null` becomes the empty string.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_become_strings() {
        let mut doc = serde_json::json!({
            "metadata": {"name": 12, "labels": {"a": true}},
            "stringData": {"n": 1.5, "m": 1000.0, "z": null, "s": "x"},
            "data": {"d": 1}
        });
        coerce_strings(&mut doc, SECRET_STRING_FIELDS);
        assert_eq!(doc["metadata"]["name"], "12");
        assert_eq!(doc["metadata"]["labels"]["a"], "true");
        assert_eq!(doc["stringData"]["n"], "1.5");
        assert_eq!(doc["stringData"]["m"], "1000");
        assert_eq!(doc["stringData"]["z"], "");
        assert_eq!(doc["data"]["d"], 1);
    }
}

//! Go-identical Kubernetes YAML/JSON: documents in, bytes out, exactly as upstream (Go) kubeseal
//! does it with `sigs.k8s.io/yaml` over go-yaml v2 and `encoding/json`.
//!
//! * Output: [`to_json_pretty`] / [`to_json_compact`] reproduce Go's `encoding/json`
//!   (`json.MarshalIndent` / `json.Marshal`), [`to_yaml`] reproduces `sigs.k8s.io/yaml.JSONToYAML`
//!   (go-yaml v2's emitter, ported in `emit.rs`); [`try_to_yaml`] also fails where it does.
//! * Input: [`parse_documents`] reproduces `k8s.io/apimachinery`'s `NewYAMLOrJSONDecoder` with
//!   go-yaml v2 + `sigs.k8s.io/yaml.YAMLToJSON` semantics for each YAML document.
//!
//! Every function here is checked byte for byte against the real Go libraries by
//! `go_reference_tests.rs`, on fixtures under `crates/goyaml/tests/fixtures/` produced by the Go
//! program in `crates/goyaml/reference/`.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod decode;
mod emit;
mod json;
mod keysort;
mod positions;
mod resolve;
mod unicode_tables;

use serde_json::Value;

pub use positions::{DocumentLines, mapping_document_lines};

/// A decoding error: one line, quoting no document content (only positions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(pub String);

/// Go's `json.MarshalIndent(v, "", "  ")` followed by `"\n"` (what upstream kubeseal prints per
/// object).
///
/// Object keys are written in the `Value`'s insertion order. Strings are escaped as Go does:
/// `<` `>` `&` as `\u003c` `\u003e` `\u0026`, U+2028/U+2029 as `\u2028`/`\u2029`, `\"` `\\`
/// `\b` `\f` `\n` `\r` `\t`, other control characters as `\u00XX`. Integers print as such,
/// floats as Go prints a float64.
pub fn to_json_pretty(v: &Value) -> String {
    let mut out = String::new();
    json::write_pretty(&mut out, v, 0);
    out.push('\n');
    out
}

/// Go's `json.Marshal(v)` (compact), same escaping as [`to_json_pretty`]. No trailing newline.
pub fn to_json_compact(v: &Value) -> String {
    let mut out = String::new();
    json::write_compact(&mut out, v);
    out
}

/// What `sigs.k8s.io/yaml.JSONToYAML` (go-yaml v2 under it) prints for this value.
///
/// All mapping keys sorted in go-yaml's natural order, 2-space indent, block sequences not
/// indented under their parent key, strings plain when possible, double-quoted when they would
/// otherwise resolve to another type (YAML 1.1: `"yes"`, `"0x1F"`, `"1:20"`, timestamps, ...),
/// single-quoted when the emitter forbids plain, literal blocks for multi-line strings, long
/// scalars folded at column 80, `{}` / `[]` for empty collections, `null` for null.
/// No leading `---`; ends with `"\n"`.
///
/// For the rare values where Go's `JSONToYAML` *fails* (see [`try_to_yaml`]) this still prints
/// the YAML go-yaml would have printed had its parser accepted the value; use [`try_to_yaml`]
/// to fail like upstream kubeseal does.
pub fn to_yaml(v: &Value) -> String {
    emit::to_yaml(v)
}

/// [`to_yaml`], failing where Go's `sigs.k8s.io/yaml.JSONToYAML` fails, with Go's message:
/// strings containing DEL, C1 control characters (other than NEL), U+FFFE or U+FFFF
/// (`yaml: control characters are not allowed`), mapping keys longer than 1022 characters once
/// JSON-escaped or containing NEL, and strings where a NEL is directly followed by `---` or `...`
/// and a blank. (Go's JSON encoder leaves those characters raw and libyaml, reading the JSON
/// text back as YAML 1.1, refuses them.)
pub fn try_to_yaml(v: &Value) -> Result<String, CodecError> {
    emit::try_to_yaml(v)
}

/// Splits an input stream into documents and decodes each to a JSON value, as upstream kubeseal
/// reads its input.
///
/// If the first non-whitespace byte is `{`, the input is a stream of JSON values (whitespace
/// between); should one fail to parse after at most one success, the rest is read as YAML, as
/// Go's `YAMLOrJSONDecoder` does. Otherwise the input is YAML, split into documents on lines
/// starting with `---` (optionally followed by spaces or a comment), each decoded like go-yaml v2
/// and `sigs.k8s.io/yaml.YAMLToJSON` (YAML 1.1 booleans, ints in any base, merge keys, keys
/// made strings). Documents that are empty, only comments, or `null` are dropped. Object keys keep
/// their document order. YAML floats are `f64` numbers even when integral (`1.0`; they print as
/// `1` like Go), so that [`yaml_scalar_as_go_string`] can stringify them as Go would.
///
/// Errors are one-line messages that quote no document content. Recursion and alias expansion
/// are bounded.
pub fn parse_documents(input: &[u8]) -> Result<Vec<Value>, CodecError> {
    decode::parse_documents(input, &[])
}

/// A path into a document: object keys, `*` for every value of a map or item of a list.
pub type FieldPath = &'static [&'static str];

/// [`parse_documents`] for documents bound for a Go struct whose `string` fields are at
/// `string_fields`, as `sigs.k8s.io/yaml.Unmarshal` (which kubeseal's decoder uses for YAML and,
/// through YAML, for JSON) decodes them: a number or boolean there becomes its Go text
/// ([`yaml_scalar_as_go_string`]; `.inf` gives `+Inf`), `null` the empty string Go leaves in
/// the field. Scalars elsewhere stay as [`parse_documents`] gives them.
pub fn parse_documents_with_string_fields(
    input: &[u8],
    string_fields: &[FieldPath],
) -> Result<Vec<Value>, CodecError> {
    let mut docs = decode::parse_documents(input, string_fields)?;
    for doc in &mut docs {
        for path in string_fields {
            stringify_path(doc, path);
        }
    }
    Ok(docs)
}

fn stringify_path(v: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        let text = match &*v {
            Value::Null => Some(String::new()),
            other => yaml_scalar_as_go_string(other),
        };
        if let Some(text) = text {
            *v = Value::String(text);
        }
        return;
    };
    match (*first, v) {
        ("*", Value::Object(map)) => map.values_mut().for_each(|c| stringify_path(c, rest)),
        ("*", Value::Array(items)) => items.iter_mut().for_each(|c| stringify_path(c, rest)),
        (key, Value::Object(map)) => {
            if let Some(child) = map.get_mut(key) {
                stringify_path(child, rest);
            }
        }
        _ => {}
    }
}

/// The string `sigs.k8s.io/yaml.Unmarshal` stores in a Go `string` field (a label or annotation
/// value, a `stringData` value, a name...) when the YAML has a number or a boolean there:
/// kubeseal reads `labels: {tier: 1}` as `"1"` and `stringData: {on: yes}` as `"true"`. Ints
/// print in decimal, floats (YAML floats stay `f64` in [`parse_documents`]' output, even `1.0`)
/// as Go's `strconv.FormatFloat(f, 'g', -1, 32)` (`1.5`, `1e+20`, `1.2345679e+08`), booleans as
/// `true` / `false`. `None` for other values.
///
/// kubeseal reads JSON input through the same conversion (`1.0` gives `"1"` there too).
pub fn yaml_scalar_as_go_string(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else if let Some(i) = n.as_i64() {
                Some(i.to_string())
            } else {
                n.as_f64()
                    .map(|f| go_semantics::strconv::format_float(f, b'g', -1, 32))
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod go_reference_tests;

//! Differential: kubeseal's document decoding (`goyaml::parse_documents`) against Go's
//! `NewYAMLOrJSONDecoder` + `YAMLToJSON` (crates/goyaml/reference, `serve` mode): the same documents
//! when Go succeeds, a failure when Go fails (the texts are not compared: ours quote no content).
//!
//! Two listed differences (docs/compatibility.md) are left out, each by an exact predicate:
//! tabs where libyaml refuses them (`tab_listed`), and NEL, LS and PS, which libyaml reads as line
//! breaks also outside quoted scalars (`line_break_listed`).
#![no_main]

use fuzz_support::{GoReference, b64};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

static GO: GoReference = GoReference::new("GOYAML_REFERENCE");

/// Go's answer: its error (empty if none) and its documents.
fn go_decode(data: &[u8]) -> Option<(String, Vec<String>)> {
    let go = GO.ask(&json!({"op": "decode", "input_b64": b64(data)}));
    if go.get("skip").is_some() {
        return None;
    }
    let error = go.get("error").and_then(Value::as_str).unwrap_or("");
    let docs = go["docs"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some((error.to_string(), docs))
}

/// Listed: libyaml refuses a tab where a token may start in block context (at the start of a
/// line, after `- `, `? ` or a complex key's `: `; `yaml_parser_scan_to_next_token`), and one
/// that violates indentation inside a plain scalar; we read it as the blank it is. The class, and
/// only it: Go failed with one of those two errors, and with every tab among the blanks and
/// indicators that start a line turned into a space Go reads exactly our documents.
fn tab_listed(data: &[u8], go_error: &str, ours: &[String]) -> bool {
    if !(go_error.contains("found character that cannot start any token")
        || go_error.contains("found a tab character that violates indentation"))
    {
        return false;
    }
    let mut spaced = data.to_vec();
    let mut line_start = true;
    let mut changed = false;
    for b in &mut spaced {
        match *b {
            b'\n' | b'\r' => line_start = true,
            b'\t' if line_start => {
                *b = b' ';
                changed = true;
            }
            b' ' | b'-' | b'?' | b':' if line_start => {}
            _ => line_start = false,
        }
    }
    changed && go_decode(&spaced).is_some_and(|(e, docs)| e.is_empty() && docs == ours)
}

/// Listed: libyaml reads NEL, LS and PS as line breaks outside quoted scalars too (plain and
/// block scalars, between tokens); we read them as content there, as YAML 1.2 does. Quoted
/// scalars are read as libyaml does (table case `quoted_ls_ps_nel_breaks`). The class: the input
/// has one of the three and the answers differ.
fn line_break_listed(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    text.contains(['\u{85}', '\u{2028}', '\u{2029}'])
}

fuzz_target!(|data: &[u8]| {
    let ours = goyaml::parse_documents(data);
    let Some((go_error, go_docs)) = go_decode(data) else {
        return;
    };
    match ours {
        Ok(docs) => {
            let ours: Vec<String> = docs
                .iter()
                .map(|d| goyaml::to_json_compact(&fuzz_support::sorted_keys(d)))
                .collect();
            let same = go_error.is_empty() && ours == go_docs;
            if same || line_break_listed(data) || tab_listed(data, &go_error, &ours) {
                return;
            }
            assert!(
                go_error.is_empty(),
                "Go failed ({go_error}), ours decoded {} documents",
                docs.len()
            );
            assert_eq!(ours, go_docs, "documents differ from Go's");
        }
        Err(e) => {
            if go_error.is_empty() && line_break_listed(data) {
                return;
            }
            assert!(
                !go_error.is_empty(),
                "ours failed ({e}), Go decoded {go_docs:?}"
            );
        }
    }
});

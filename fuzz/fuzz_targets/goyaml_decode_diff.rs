//! Differential: kubeseal's document decoding (`goyaml::parse_documents`) against Go's
//! `NewYAMLOrJSONDecoder` + `YAMLToJSON` (crates/goyaml/reference, `serve` mode): the same documents
//! when Go succeeds, a failure when Go fails (the texts are not compared: ours quote no content).
#![no_main]

use fuzz_support::{GoReference, b64};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

static GO: GoReference = GoReference::new("GOYAML_REFERENCE");

fuzz_target!(|data: &[u8]| {
    let ours = goyaml::parse_documents(data);
    let go = GO.ask(&json!({"op": "decode", "input_b64": b64(data)}));
    if go.get("skip").is_some() {
        return;
    }
    let go_error = go.get("error").and_then(Value::as_str).unwrap_or("");
    let go_docs: Vec<&str> = go["docs"]
        .as_array()
        .map(|d| d.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match ours {
        Ok(docs) => {
            assert!(
                go_error.is_empty(),
                "Go failed ({go_error}), ours decoded {} documents",
                docs.len()
            );
            let ours: Vec<String> = docs
                .iter()
                .map(|d| goyaml::to_json_compact(&fuzz_support::sorted_keys(d)))
                .collect();
            assert_eq!(ours, go_docs, "documents differ from Go's");
        }
        Err(e) => assert!(
            !go_error.is_empty(),
            "ours failed ({e}), Go decoded {go_docs:?}"
        ),
    }
});

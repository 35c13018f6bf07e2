//! Differential: the Go-identical encoders (crates/goyaml) against Go's `json.MarshalIndent`,
//! `json.Marshal` and `sigs.k8s.io/yaml.JSONToYAML` (crates/goyaml/reference, `serve` mode), for
//! any JSON value.
#![no_main]

use fuzz_support::GoReference;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

static GO: GoReference = GoReference::new("GOYAML_REFERENCE");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let go = GO.ask(&json!({"op": "encode", "value": text}));
    if go.get("skip").is_some() {
        return;
    }
    let field = |name: &str| {
        go.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        goyaml::to_json_pretty(&value),
        field("pretty"),
        "MarshalIndent differs"
    );
    assert_eq!(
        goyaml::to_json_compact(&value),
        field("compact"),
        "Marshal differs"
    );
    let ours = match goyaml::try_to_yaml(&value) {
        Ok(y) => y,
        Err(e) => format!("error: {e}"),
    };
    let want = match field("yaml_error") {
        e if !e.is_empty() => format!("error: {e}"),
        _ => field("yaml"),
    };
    if go.get("yaml_random").and_then(Value::as_bool) == Some(true) {
        // Go's own output varies from run to run for these keys (go-yaml's key order is not
        // transitive, Go's map order random): compare the lines as a set.
        let mut a: Vec<&str> = ours.lines().collect();
        let mut b: Vec<&str> = want.lines().collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "JSONToYAML differs (as a set of lines)");
    } else {
        assert_eq!(ours, want, "JSONToYAML differs");
    }
});

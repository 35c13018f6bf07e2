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
    let want = go_yaml(&go);
    // The reference flags Go's YAML as random when 20 more runs of JSONToYAML differ, which
    // misses orders Go prints only now and then (label maps with `#`-keys: go-yaml's key order is
    // not transitive there and Go starts from a random map order). Before a difference counts,
    // Go is asked again: if its output varies, it is random too (compared as a set of lines).
    let random = go.get("yaml_random").and_then(Value::as_bool) == Some(true)
        || (ours != want && go_varies(text, &want));
    if random {
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

/// Whether Go's JSONToYAML of `text` prints anything but `yaml` (or flags its output random) in
/// one of up to 15 more requests (each of which runs it 21 times).
fn go_varies(text: &str, yaml: &str) -> bool {
    (0..15).any(|_| {
        let again = GO.ask(&json!({"op": "encode", "value": text}));
        again.get("yaml_random").and_then(Value::as_bool) == Some(true) || go_yaml(&again) != yaml
    })
}

/// Go's YAML in an answer of the reference, or `error: ` and its error.
fn go_yaml(go: &Value) -> String {
    let field = |name: &str| go.get(name).and_then(Value::as_str).unwrap_or("");
    match field("yaml_error") {
        e if !e.is_empty() => format!("error: {e}"),
        _ => field("yaml").to_string(),
    }
}

//! Differential: Go templates (crates/gotemplate) against Go's text/template + Sprig with the
//! controller's function map (crates/gotemplate/reference, `serve` mode): the same output bytes
//! when both succeed, and failure together (the texts differ in known, listed ways:
//! crates/gotemplate/tests/fixtures/error_text_allowlist.txt). Not compared: templates our limits
//! stop (Go has none), and those naming a function Go defines and we deliberately do not
//! (randomness, the clock) or whose output Go orders at random (`keys`, `values`), complex
//! constants (`{{ 5i }}`), which we refuse, and `printf "%p"` of a map or list, which Go prints
//! as a memory address and we refuse (docs/templates.md "Differences from Go").
#![no_main]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use fuzz_support::{GoReference, b64, unb64};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

static GO: GoReference = GoReference::new("GOTEMPLATE_REFERENCE");

/// Names Go's function map has and ours has not, plus the ones Go answers in random order.
fn not_compared() -> &'static Vec<String> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let go = GO.ask(&json!({"op": "funcs"}));
        let ours: BTreeSet<&str> = gotemplate::supported_functions().iter().copied().collect();
        let mut names: Vec<String> = go["funcs"]
            .as_array()
            .expect("Go's function names")
            .iter()
            .filter_map(Value::as_str)
            .filter(|n| !ours.contains(n))
            .map(str::to_string)
            .collect();
        names.extend(["keys".to_string(), "values".to_string()]);
        names
    })
}

/// Our limits, and the differences docs/templates.md lists.
fn is_limit(message: &str) -> bool {
    [
        "exceed",
        "too deep",
        "limit",
        "complex constants are not supported",
        "prints a memory address, which is not supported",
    ]
    .iter()
    .any(|w| message.contains(w))
}

fuzz_target!(|data: &[u8]| {
    let Some((source, extra)) = fuzz_support::template_input(data) else {
        return;
    };
    if not_compared()
        .iter()
        .any(|name| source.contains(name.as_str()))
    {
        return;
    }
    let items = fuzz_support::template_data(extra);
    let ours = gotemplate::render("fuzz", source, &items);
    if let Err(e) = &ours
        && is_limit(&e.0)
    {
        return;
    }
    let data_b64: Map<String, Value> = items
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(b64(v))))
        .collect();
    let go =
        GO.ask(&json!({"op": "render", "name": "fuzz", "template": source, "data_b64": data_b64}));
    if go.get("skip").is_some() {
        return;
    }
    let go_error = go.get("error").and_then(Value::as_str);
    match (ours, go_error) {
        (Ok(out), None) => {
            let want = unb64(go["output_b64"].as_str().unwrap_or(""));
            assert!(
                out == want,
                "output differs from Go's: ours {:?}, Go {:?}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want)
            );
        }
        (Err(_), Some(_)) => {}
        (Ok(out), Some(e)) => panic!("Go failed ({e}), ours rendered {} bytes", out.len()),
        (Err(e), None) => panic!("ours failed ({e}), Go rendered"),
    }
});

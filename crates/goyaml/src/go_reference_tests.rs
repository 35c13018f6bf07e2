//! Differential test against the real Go libraries: every case of
//! `crates/goyaml/tests/fixtures/*_expected.json` (written by `crates/goyaml/reference/`) must match
//! byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{parse_documents, to_json_compact, to_json_pretty, to_yaml, try_to_yaml};

fn fixture(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case.get(name).and_then(Value::as_str).unwrap_or("")
}

/// Keys sorted by bytes at every level, as Go's `json.Marshal` of a `map[string]any` has them.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[test]
fn codec_matches_go_encoding() {
    let cases = fixture("encode_expected.json");
    assert!(cases.len() > 200, "too few encode cases: {}", cases.len());
    let mut failures = Vec::new();
    let mut checks = 0;
    for case in &cases {
        let name = field(case, "name");
        let value: Value = serde_json::from_str(field(case, "value_json")).unwrap();
        let yaml_error = field(case, "yaml_error");
        let yaml = match try_to_yaml(&value) {
            Ok(y) => {
                assert_eq!(y, to_yaml(&value));
                y
            }
            Err(e) => format!("error: {e}"),
        };
        let want_yaml = if yaml_error.is_empty() {
            field(case, "yaml").to_string()
        } else {
            format!("error: {yaml_error}")
        };
        let random = case
            .get("yaml_random")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        for (what, got, want) in [
            ("pretty", to_json_pretty(&value), field(case, "pretty")),
            ("compact", to_json_compact(&value), field(case, "compact")),
            ("yaml", yaml, want_yaml.as_str()),
        ] {
            checks += 1;
            if what == "yaml" && random {
                // Go's own output varies from run to run (go-yaml's key comparison is not
                // transitive for these keys and Go's map order is random): only the entries
                // can be compared, not their order.
                let mut a: Vec<&str> = got.lines().collect();
                let mut b: Vec<&str> = want.lines().collect();
                a.sort_unstable();
                b.sort_unstable();
                if a != b {
                    failures.push(format!(
                        "{name} [{what}, as a set of lines]\n--- go:\n{want}\n--- ours:\n{got}"
                    ));
                }
                continue;
            }
            if got != want {
                failures.push(format!(
                    "{name} [{what}]\n--- go:\n{want}\n--- ours:\n{got}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checks} encode checks differ from Go:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn codec_matches_go_decoding() {
    let cases = fixture("decode_expected.json");
    assert!(cases.len() > 80, "too few decode cases: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = field(case, "name");
        let input: Vec<u8> = match case.get("input_b64").and_then(Value::as_str) {
            Some(b64) => decode_b64(b64),
            None => field(case, "input").as_bytes().to_vec(),
        };
        let want_err = field(case, "error");
        let want: Vec<&str> = case["docs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        match parse_documents(&input) {
            Ok(docs) => {
                let got: Vec<String> = docs.iter().map(|d| to_json_compact(&sorted(d))).collect();
                if !want_err.is_empty() {
                    failures.push(format!("{name}: Go failed ({want_err}), ours gave {got:?}"));
                } else if got != want {
                    failures.push(format!("{name}:\n  go:   {want:?}\n  ours: {got:?}"));
                }
            }
            Err(e) => {
                assert!(!e.0.contains('\n'), "{name}: multi-line error {e:?}");
                if want_err.is_empty() {
                    failures.push(format!("{name}: ours failed ({e}), Go gave {want:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} decode cases differ from Go:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn yaml_scalars_as_go_strings() {
    use super::yaml_scalar_as_go_string as f;
    let docs = parse_documents(
        b"a: 1\nb: 1.0\nc: 1.50\nd: 123456789.0\ne: yes\nf: 0x10\ng: 1e20\nh: x\ni: -0.0\n",
    )
    .unwrap();
    let m = docs[0].as_object().unwrap();
    let got: Vec<Option<String>> = m.values().map(f).collect();
    let want =
        ["1", "1", "1.5", "1.2345679e+08", "true", "16", "1e+20"].map(|s| Some(s.to_string()));
    assert_eq!(got[..7], want);
    assert_eq!(got[7], None);
    assert_eq!(got[8].as_deref(), Some("-0"));
}

fn decode_b64(s: &str) -> Vec<u8> {
    go_semantics::base64::decode(s.as_bytes()).unwrap()
}

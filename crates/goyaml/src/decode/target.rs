//! The one step of `sigs.k8s.io/yaml.Unmarshal`'s target-aware conversion
//! (`convertToJSONableObject` with a `jsonTarget`) that cannot wait until the document is JSON:
//! a YAML float bound for a Go `string` field is formatted with `strconv.FormatFloat(f, 'g', -1,
//! 32)` before `json.Marshal`, so `.inf`, `.nan` (and `1e300`, `+Inf` once a float32) reach the
//! field as `"+Inf"`, `"NaN"` where JSON has no spelling for them. The other scalars survive the
//! JSON step and are turned into text afterwards by `crate::yaml_scalar_as_go_string`.

use super::super::FieldPath;
use super::{GoValue, key_string};

/// Formats, in place, every float found at one of `fields` (`*` matches every key of a mapping
/// and every item of a sequence).
pub(super) fn format_string_floats(v: &mut GoValue, fields: &[FieldPath]) {
    for path in fields {
        walk(v, path);
    }
}

fn walk(v: &mut GoValue, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        if let GoValue::Float(f) = v {
            *v = GoValue::Str(go_semantics::strconv::format_float(*f, b'g', -1, 32));
        }
        return;
    };
    match v {
        GoValue::Map(map) => {
            for (key, child) in &mut map.entries {
                // Keys that cannot be JSON keys fail later, in `to_json`.
                if *first == "*" || key_string(key.clone()).is_ok_and(|k| k == *first) {
                    walk(child, rest);
                }
            }
        }
        GoValue::Seq(items) if *first == "*" => items.iter_mut().for_each(|c| walk(c, rest)),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::{parse_documents, parse_documents_with_string_fields};

    const FIELDS: &[crate::FieldPath] = &[&["s", "*"], &["l", "*", "name"], &["top"]];

    #[test]
    fn floats_and_nulls_bound_for_strings() {
        let input = b"s: {a: .inf, b: -.Inf, c: .nan, d: 123456789.0, e: 1e300, f: 1, g: yes, h: ~, i: x}\nl: [{name: 1.0}, {name: 2}]\ntop: 0x1F\nother: 1.0\n";
        let docs = parse_documents_with_string_fields(input, FIELDS).unwrap();
        let want = serde_json::json!({
            "s": {"a": "+Inf", "b": "-Inf", "c": "NaN", "d": "1.2345679e+08", "e": "+Inf",
                  "f": "1", "g": "true", "h": "", "i": "x"},
            "l": [{"name": "1"}, {"name": "2"}],
            "top": "31",
            "other": 1.0,
        });
        assert_eq!(docs, [want]);
    }

    #[test]
    fn special_floats_elsewhere_still_fail() {
        let e = parse_documents_with_string_fields(b"x: .inf\n", FIELDS).unwrap_err();
        assert_eq!(
            e.0,
            "error converting YAML to JSON: json: unsupported value: +Inf"
        );
        assert_eq!(parse_documents(b"s: {a: .inf}\n").unwrap_err(), e);
    }

    #[test]
    fn json_input_through_the_same_rule() {
        let docs = parse_documents_with_string_fields(
            br#"{"s": {"a": 1.0, "b": null}, "x": 1.0}"#,
            FIELDS,
        )
        .unwrap();
        assert_eq!(
            docs,
            [serde_json::json!({"s": {"a": "1", "b": ""}, "x": 1.0})]
        );
    }
}

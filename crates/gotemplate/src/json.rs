//! `encoding/json` as Sprig's `toJson`/`toPrettyJson`/`toRawJson`/`fromJson` use it.

use std::collections::BTreeMap;

use super::MAX_VALUE_DEPTH;
use super::value::{Elem, Heap, Value};
use go_semantics::json::write_string;

fn write_float(out: &mut Vec<u8>, f: f64) -> Result<(), String> {
    if f.is_nan() || f.is_infinite() {
        return Err(format!(
            "json: unsupported value: {}",
            go_semantics::strconv::format_float(f, b'g', -1, 64)
        ));
    }
    out.extend_from_slice(go_semantics::json::format_float64(f).as_bytes());
    Ok(())
}

/// `json.Marshal` (compact). `escape_html` is false for `toRawJson`.
pub fn encode(heap: &Heap, v: &Value, escape_html: bool, limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    encode_into(heap, v, escape_html, &mut out, 0, limit)?;
    Ok(out)
}

fn encode_into(
    heap: &Heap,
    v: &Value,
    escape_html: bool,
    out: &mut Vec<u8>,
    depth: usize,
    limit: usize,
) -> Result<(), String> {
    if depth > MAX_VALUE_DEPTH {
        return Err("json: value nesting too deep".into());
    }
    if out.len() > limit {
        return Err(format!("json: encoded value exceeds {limit} bytes"));
    }
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i, _) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => write_float(out, *f)?,
        Value::Str(s) => write_string(out, s, escape_html),
        Value::List(id) => {
            let l = heap.list(*id);
            if l.nil {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            out.push(b'[');
            for (i, it) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_into(heap, it, escape_html, out, depth + 1, limit)?;
            }
            out.push(b']');
        }
        Value::Map(id) => {
            out.push(b'{');
            for (i, (k, it)) in heap.map(*id).entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, k, escape_html);
                out.push(b':');
                encode_into(heap, it, escape_html, out, depth + 1, limit)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// `json.Indent(dst, compact, "", "  ")` on valid compact JSON produced by
/// [`encode`]; fails when the result would exceed `limit` bytes.
pub fn indent(compact: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut need_indent = false;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        for _ in 0..depth {
            out.extend_from_slice(b"  ");
        }
    };
    for &c in compact {
        if out.len() > limit {
            return Err(format!("json: encoded value exceeds {limit} bytes"));
        }
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        if need_indent && c != b']' && c != b'}' {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match c {
            b'"' => {
                in_string = true;
                out.push(c);
            }
            b'[' | b'{' => {
                out.push(c);
                need_indent = true;
            }
            b',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            b':' => {
                out.push(c);
                out.push(b' ');
            }
            b']' | b'}' => {
                if need_indent {
                    // empty array/object stays compact
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if out.len() > limit {
        return Err(format!("json: encoded value exceeds {limit} bytes"));
    }
    Ok(out)
}

/// `json.Unmarshal` into `interface{}`: the value and the error Go returns with it (Go-like
/// text, without the input's bytes). Invalid JSON gives nil; a number beyond float64 is nil where
/// it stands, the rest is decoded, and the error is `cannot unmarshal number`.
pub fn decode(heap: &mut Heap, input: &[u8]) -> (Value, Option<String>) {
    let nulled = null_out_of_range_numbers(input);
    match serde_json::from_slice(nulled.as_deref().unwrap_or(input)) {
        Err(e) => (Value::Nil, Some(format!("invalid JSON: {}", classify(&e)))),
        Ok(parsed) => (
            convert(heap, parsed),
            nulled.map(|_| "json: cannot unmarshal number into Go value of type float64".into()),
        ),
    }
}

/// Go decodes a number beyond float64 (`1e999`) into `interface{}` as nil and goes on with the
/// rest, keeping the error (encoding/json decode.go `convertNumber`, `saveError`); Sprig's
/// `fromJson` drops that error. serde_json refuses the whole document instead, so such numbers
/// are replaced by `null` first. `None`: none found. A number is a token outside strings that
/// starts with `-` or a digit; one that is not valid JSON is left for serde_json to refuse.
fn null_out_of_range_numbers(input: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(&c) = input.get(i) {
        match c {
            b'"' => {
                i += 1;
                while let Some(&c) = input.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while input
                    .get(i)
                    .is_some_and(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    i += 1;
                }
                let token = input.get(start..i).unwrap_or_default();
                let infinite = is_json_number(token)
                    .then(|| std::str::from_utf8(token).ok())
                    .flatten()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(f64::is_infinite);
                if infinite {
                    let o = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
                    o.extend_from_slice(input.get(copied..start).unwrap_or_default());
                    o.extend_from_slice(b"null");
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    let mut o = out?;
    o.extend_from_slice(input.get(copied..).unwrap_or_default());
    Some(o)
}

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(t: &[u8]) -> bool {
    let digits = |t: &[u8]| t.iter().take_while(|c| c.is_ascii_digit()).count();
    let t = t.strip_prefix(b"-").unwrap_or(t);
    let int = match t.first() {
        Some(b'0') => 1,
        Some(b'1'..=b'9') => digits(t),
        _ => return false,
    };
    let mut rest = t.get(int..).unwrap_or_default();
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = digits(frac);
        if n == 0 {
            return false;
        }
        rest = frac.get(n..).unwrap_or_default();
    }
    if let Some(exp) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exp = exp
            .strip_prefix(b"+")
            .or_else(|| exp.strip_prefix(b"-"))
            .unwrap_or(exp);
        let n = digits(exp);
        if n == 0 {
            return false;
        }
        rest = exp.get(n..).unwrap_or_default();
    }
    rest.is_empty()
}

fn classify(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "syntax error",
        Category::Data => "data error",
        Category::Eof => "unexpected end of JSON input",
    }
}

fn convert(heap: &mut Heap, v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::str(s.into_bytes()),
        serde_json::Value::Array(a) => {
            let items = a.into_iter().map(|x| convert(heap, x)).collect();
            heap.new_list(Elem::Iface, items)
        }
        serde_json::Value::Object(o) => {
            let mut m = BTreeMap::new();
            for (k, x) in o {
                let c = convert(heap, x);
                m.insert(k.into_bytes(), c);
            }
            heap.new_map(Elem::Iface, m)
        }
    }
}

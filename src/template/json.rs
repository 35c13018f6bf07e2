//! `encoding/json` as Sprig's `toJson`/`toPrettyJson`/`toRawJson`/`fromJson` use it.

use std::collections::BTreeMap;

use super::MAX_VALUE_DEPTH;
use super::gofmt::format_float;
use super::text::decode_rune;
use super::value::{Elem, Heap, Value};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Go's `appendString`: JSON string with Go's escaping.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], escape_html: bool) {
    out.push(b'"');
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b < 0x80 {
            let html = matches!(b, b'<' | b'>' | b'&');
            if b >= 0x20 && b != b'"' && b != b'\\' && !(escape_html && html) {
                out.push(b);
                i += 1;
                continue;
            }
            match b {
                b'\\' | b'"' => {
                    out.push(b'\\');
                    out.push(b);
                }
                0x08 => out.extend_from_slice(b"\\b"),
                0x0C => out.extend_from_slice(b"\\f"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                _ => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
                    out.push(HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0'));
                }
            }
            i += 1;
            continue;
        }
        let (c, size) = decode_rune(s.get(i..).unwrap_or_default());
        if c == super::text::REPLACEMENT && size <= 1 {
            out.extend_from_slice(b"\\ufffd");
            i += 1;
            continue;
        }
        if c == '\u{2028}' || c == '\u{2029}' {
            out.extend_from_slice(if c == '\u{2028}' {
                b"\\u2028"
            } else {
                b"\\u2029"
            });
            i += size;
            continue;
        }
        out.extend_from_slice(s.get(i..i + size).unwrap_or_default());
        i += size;
    }
    out.push(b'"');
}

fn write_float(out: &mut Vec<u8>, f: f64) -> Result<(), String> {
    if f.is_nan() || f.is_infinite() {
        let g = format_float(f, b'g', -1);
        return Err(format!(
            "json: unsupported value: {}",
            String::from_utf8_lossy(&g)
        ));
    }
    let abs = f.abs();
    let fmt = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        b'e'
    } else {
        b'f'
    };
    let mut b = format_float(f, fmt, -1);
    if fmt == b'e' {
        // clean up e-09 to e-9
        let n = b.len();
        if n >= 4 && b.get(n - 4..n - 1) == Some(&b"e-0"[..]) {
            let last = b.get(n - 1).copied().unwrap_or(b'0');
            b.truncate(n - 2);
            b.push(last);
        }
    }
    out.extend_from_slice(&b);
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

/// `json.Unmarshal` into `interface{}`; `Err` carries Go-like error text.
pub fn decode(heap: &mut Heap, input: &[u8]) -> Result<Value, String> {
    let parsed: serde_json::Value =
        serde_json::from_slice(input).map_err(|e| format!("invalid JSON: {}", classify(&e)))?;
    Ok(convert(heap, parsed))
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

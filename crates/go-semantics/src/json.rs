//! `encoding/json` output rules shared by the YAML/JSON codec and Sprig's `toJson`.

use crate::strconv::format_float;
use crate::utf8::{RUNE_ERROR, decode_rune};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Go's `appendString`: `s` as a JSON string literal. `"` `\` and `\b \f \n \r \t` backslashed,
/// other control characters as `\u00XX`, invalid UTF-8 bytes as `\ufffd`, U+2028 / U+2029 as
/// `\u2028` / `\u2029`, and with `escape_html` (what `json.Marshal` does) `<` `>` `&` as
/// `\u003c` `\u003e` `\u0026`.
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
        if c == RUNE_ERROR && size <= 1 {
            out.extend_from_slice(b"\\ufffd");
            i += 1;
            continue;
        }
        match c {
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            _ => out.extend_from_slice(s.get(i..i + size).unwrap_or_default()),
        }
        i += size;
    }
    out.push(b'"');
}

/// [`write_string`] with `escape_html` for text that is already a `&str`.
pub fn write_str(out: &mut String, s: &str) {
    let mut buf = Vec::with_capacity(s.len() + 2);
    write_string(&mut buf, s.as_bytes(), true);
    // Valid UTF-8 in, valid UTF-8 out: escapes are ASCII and everything else is copied whole.
    out.push_str(&String::from_utf8_lossy(&buf));
}

/// How `encoding/json` writes a float64: `strconv` 'f' format, or 'e' (with a one-digit
/// negative exponent written `e-7`, not `e-07`) below 1e-6 and from 1e21 on. NaN and the
/// infinities are not JSON: callers reject them first (this prints them as `strconv` does).
pub fn format_float64(f: f64) -> String {
    let abs = f.abs();
    let fmt = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        b'e'
    } else {
        b'f'
    };
    let mut s = format_float(f, fmt, -1, 64);
    if fmt == b'e' {
        // clean up e-09 to e-9
        let n = s.len();
        if n >= 4 && s.get(n - 4..n - 1) == Some("e-0") {
            s.remove(n - 2);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(s: &[u8], html: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, s, html);
        out
    }

    #[test]
    fn strings_escape_like_go() {
        assert_eq!(quoted(b"a\"b\\c\n\t\x01", true), br#""a\"b\\c\n\t\u0001""#);
        assert_eq!(quoted(b"<a&b>", true), br#""\u003ca\u0026b\u003e""#);
        assert_eq!(quoted(b"<a&b>", false), br#""<a&b>""#);
        assert_eq!(quoted(b"\x7f\xff", true), b"\"\x7f\\ufffd\"");
        assert_eq!(
            quoted("\u{2028}é\u{2029}".as_bytes(), false),
            "\"\\u2028é\\u2029\"".as_bytes()
        );
        let mut s = String::from("x");
        write_str(&mut s, "é<");
        assert_eq!(s, "x\"é\\u003c\"");
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(format_float64(1e21), "1e+21");
        assert_eq!(format_float64(1e-7), "1e-7");
        assert_eq!(format_float64(1.5e-10), "1.5e-10");
        assert_eq!(format_float64(1e20), "100000000000000000000");
        assert_eq!(format_float64(0.000001), "0.000001");
        assert_eq!(format_float64(1.0), "1");
        assert_eq!(format_float64(-0.0), "-0");
        assert_eq!(format_float64(5e-324), "5e-324");
    }
}

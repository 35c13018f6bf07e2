//! go-yaml v2 `resolve.go`: what a plain scalar means (YAML 1.1 rules), plus the
//! `isBase60Float` check of `encode.go` and the timestamp formats of `parseTimestamp`.

use go_semantics::strconv::{parse_float, parse_int, parse_uint};

pub(super) const STR_TAG: &str = "tag:yaml.org,2002:str";
pub(super) const BOOL_TAG: &str = "tag:yaml.org,2002:bool";
pub(super) const INT_TAG: &str = "tag:yaml.org,2002:int";
pub(super) const FLOAT_TAG: &str = "tag:yaml.org,2002:float";
pub(super) const NULL_TAG: &str = "tag:yaml.org,2002:null";
pub(super) const TIMESTAMP_TAG: &str = "tag:yaml.org,2002:timestamp";
pub(super) const BINARY_TAG: &str = "tag:yaml.org,2002:binary";
pub(super) const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

/// A resolved scalar (go-yaml's `out interface{}` of `resolve`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A string; for timestamps too (decoding into `interface{}` keeps the source text).
    Str,
    Timestamp,
    Merge,
}

impl Resolved {
    fn tag(&self) -> &'static str {
        match self {
            Resolved::Null => NULL_TAG,
            Resolved::Bool(_) => BOOL_TAG,
            Resolved::Int(_) | Resolved::Uint(_) => INT_TAG,
            Resolved::Float(_) => FLOAT_TAG,
            Resolved::Str => STR_TAG,
            Resolved::Timestamp => TIMESTAMP_TAG,
            Resolved::Merge => MERGE_TAG,
        }
    }
}

fn lookup(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Resolved::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

fn hint(s: &str) -> u8 {
    match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    }
}

/// `resolve("", s)`: the meaning of an untagged plain scalar.
pub(super) fn resolve_plain(s: &str) -> Resolved {
    resolve_inner(s, true)
}

fn resolve_inner(s: &str, try_timestamp: bool) -> Resolved {
    let h = hint(s);
    if h == 0 {
        return Resolved::Str;
    }
    if let Some(r) = lookup(s) {
        return r;
    }
    match h {
        b'.' => {
            if let Some(f) = parse_float(s) {
                return Resolved::Float(f);
            }
        }
        b'D' | b'S' => {
            if try_timestamp && parse_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if let Some(i) = parse_int(&plain, 0) {
                return Resolved::Int(i);
            }
            if let Some(u) = parse_uint(&plain, 0) {
                return Resolved::Uint(u);
            }
            if is_yaml_style_float(&plain)
                && let Some(f) = parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            // go-yaml's own "0b" / "-0b" branches; they matter for what ParseInt's base prefix
            // does not take, such as a sign after the prefix ("0b-1" is -1).
            if let Some(rest) = plain.strip_prefix("0b") {
                if let Some(i) = parse_int(rest, 2) {
                    return Resolved::Int(i);
                }
                if let Some(u) = parse_uint(rest, 2) {
                    return Resolved::Uint(u);
                }
            } else if let Some(rest) = plain.strip_prefix("-0b")
                && let Some(i) = parse_int(&format!("-{rest}"), 2)
            {
                return Resolved::Int(i);
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// `resolve(tag, s)` for a scalar that carries an explicit tag (or the non-specific `!`).
/// Returns the resolved tag and value, or the go-yaml error message (which quotes nothing).
pub(super) fn resolve_tagged(tag: &str, s: &str) -> Result<(String, Resolved), String> {
    let resolvable = matches!(
        tag,
        "" | STR_TAG | BOOL_TAG | INT_TAG | FLOAT_TAG | NULL_TAG | TIMESTAMP_TAG
    );
    if !resolvable {
        return Ok((tag.to_string(), Resolved::Str));
    }
    let r = if tag == STR_TAG {
        Resolved::Str
    } else {
        resolve_inner(s, tag.is_empty() || tag == TIMESTAMP_TAG)
    };
    let rtag = r.tag();
    if tag.is_empty() || tag == rtag || tag == STR_TAG {
        return Ok((rtag.to_string(), r));
    }
    // go-yaml converts int and int64 to float for !!float, not uint64.
    if tag == FLOAT_TAG
        && let Resolved::Int(i) = r
    {
        #[allow(clippy::cast_precision_loss)]
        return Ok((FLOAT_TAG.to_string(), Resolved::Float(i as f64)));
    }
    Err(format!(
        "cannot decode {} as a {}",
        short_tag(rtag),
        short_tag(tag)
    ))
}

pub(super) fn short_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let at = |i: usize| b.get(i).copied();
    let digits = |mut i: usize| {
        let start = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        (i, i - start)
    };
    if matches!(at(i), Some(b'+' | b'-')) {
        i += 1;
    }
    if at(i) == Some(b'.') {
        let (j, n) = digits(i + 1);
        if n == 0 {
            return false;
        }
        i = j;
    } else {
        let (j, n) = digits(i);
        if n == 0 {
            return false;
        }
        i = j;
        if at(i) == Some(b'.') {
            i = digits(i + 1).0;
        }
    }
    if matches!(at(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let (j, n) = digits(i);
        if n == 0 {
            return false;
        }
        i = j;
    }
    i == b.len()
}

/// `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
pub(super) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if *c == b'+' || *c == b'-' || c.is_ascii_digit() => {}
        _ => return false,
    }
    if !b.contains(&b':') {
        return false;
    }
    let at = |i: usize| b.get(i).copied();
    let mut i = 0;
    if matches!(at(i), Some(b'+' | b'-')) {
        i += 1;
    }
    if !at(i).is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    i += 1;
    while at(i).is_some_and(|c| c.is_ascii_digit() || c == b'_') {
        i += 1;
    }
    let mut segments = 0;
    while at(i) == Some(b':') {
        i += 1;
        let start = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if at(start).is_some_and(|c| (b'0'..=b'5').contains(&c)) => {}
            _ => return false,
        }
        segments += 1;
    }
    if segments == 0 {
        return false;
    }
    if at(i) == Some(b'.') {
        i += 1;
        while at(i).is_some_and(|c| c.is_ascii_digit() || c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

// ---------------------------------------------------------------------------------------------
// parseTimestamp: Go's time.Parse with the four layouts go-yaml v2 tries.

/// `parseTimestamp(s)` succeeds.
pub(super) fn parse_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i != 4 || i == b.len() || b.get(i) != Some(&b'-') {
        return false;
    }
    [
        Layout::DateTime(b'T'),
        Layout::DateTime(b't'),
        Layout::DateSpaceTime,
        Layout::Date,
    ]
    .iter()
    .any(|l| time_parse(*l, b))
}

#[derive(Clone, Copy)]
enum Layout {
    /// "2006-1-2T15:4:5.999999999Z07:00" (or lower-case 't')
    DateTime(u8),
    /// "2006-1-2 15:4:5.999999999"
    DateSpaceTime,
    /// "2006-1-2"
    Date,
}

/// Go's `getnum(s, false)`: one or two digits.
fn getnum(v: &[u8]) -> Option<(u32, &[u8])> {
    let d0 = v.first().filter(|c| c.is_ascii_digit())?;
    match v.get(1).filter(|c| c.is_ascii_digit()) {
        Some(d1) => Some((
            u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'),
            v.get(2..)?,
        )),
        None => Some((u32::from(d0 - b'0'), v.get(1..)?)),
    }
}

/// Go's `getnum(s, true)`: exactly two digits.
fn getnum_fixed(v: &[u8]) -> Option<u32> {
    let d0 = v.first().filter(|c| c.is_ascii_digit())?;
    let d1 = v.get(1).filter(|c| c.is_ascii_digit())?;
    Some(u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'))
}

fn lit(v: &[u8], c: u8) -> Option<&[u8]> {
    if v.first() == Some(&c) {
        v.get(1..)
    } else {
        None
    }
}

fn time_parse(layout: Layout, v: &[u8]) -> bool {
    time_parse_inner(layout, v).is_some()
}

fn time_parse_inner(layout: Layout, v: &[u8]) -> Option<()> {
    // stdLongYear: four bytes, the caller checked they are digits.
    let year: u32 = std::str::from_utf8(v.get(..4)?).ok()?.parse().ok()?;
    let v = lit(v.get(4..)?, b'-')?;
    let (month, v) = getnum(v)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let v = lit(v, b'-')?;
    let (day, mut v) = getnum(v)?;
    match layout {
        Layout::Date => {}
        Layout::DateTime(_) | Layout::DateSpaceTime => {
            if let Layout::DateTime(sep) = layout {
                v = lit(v, sep)?;
            } else {
                // A space in a layout matches any number (even zero) of spaces, but a
                // non-space character right there is an error.
                if v.first().is_some_and(|&c| c != b' ') {
                    return None;
                }
                while v.first() == Some(&b' ') {
                    v = v.get(1..)?;
                }
            }
            let (hour, rest) = getnum(v)?;
            if hour >= 24 {
                return None;
            }
            let rest = lit(rest, b':')?;
            let (min, rest) = getnum(rest)?;
            if min >= 60 {
                return None;
            }
            let rest = lit(rest, b':')?;
            let (sec, rest) = getnum(rest)?;
            if sec >= 60 {
                return None;
            }
            v = rest;
            // stdFracSecond9: optional, any number of digits after '.' or ','.
            if v.len() >= 2
                && matches!(v.first(), Some(b'.' | b','))
                && v.get(1).is_some_and(u8::is_ascii_digit)
            {
                let mut n = 1;
                while v.get(n).is_some_and(u8::is_ascii_digit) {
                    n += 1;
                }
                v = v.get(n..)?;
            }
            if matches!(layout, Layout::DateTime(_)) {
                // stdISO8601ColonTZ
                if v.first() == Some(&b'Z') {
                    v = v.get(1..)?;
                } else {
                    if v.len() < 6 || v.get(3) != Some(&b':') {
                        return None;
                    }
                    let hr = getnum_fixed(v.get(1..3)?)?;
                    let mm = getnum_fixed(v.get(4..6)?)?;
                    if hr > 24 || mm > 60 {
                        return None;
                    }
                    if !matches!(v.first(), Some(b'+' | b'-')) {
                        return None;
                    }
                    v = v.get(6..)?;
                }
            }
        }
    }
    if !v.is_empty() {
        return None;
    }
    if day < 1 || day > days_in(month, year) {
        return None;
    }
    Some(())
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        assert_eq!(resolve_plain("yes"), Resolved::Bool(true));
        assert_eq!(resolve_plain("0x10"), Resolved::Int(16));
        assert_eq!(resolve_plain("08"), Resolved::Float(8.0));
        assert_eq!(resolve_plain("1e400"), Resolved::Str);
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("2001-12-14"), Resolved::Timestamp);
        assert_eq!(resolve_plain("2001-02-29"), Resolved::Str);
        assert_eq!(resolve_plain("2001-12-14 21:59:43.10"), Resolved::Timestamp);
        assert_eq!(
            resolve_plain("2001-12-14t21:59:43.10-05:00"),
            Resolved::Timestamp
        );
        assert_eq!(resolve_plain("abc"), Resolved::Str);
        assert_eq!(resolve_plain("0b-1"), Resolved::Int(-1));
        assert_eq!(resolve_plain("0b+1"), Resolved::Int(1));
        assert_eq!(resolve_plain("-0b-1"), Resolved::Str);
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("190:20:30.5"));
        assert!(!is_base60_float("1:60"));
        assert!(!is_base60_float("1:"));
    }
}

//! Go's `strconv` number formatting and parsing, as far as the codec needs it.
//!
//! Rust's shortest round-trip float digits are the same digits Go's shortest formatting picks
//! (both produce the shortest string that parses back to the same float, and the closest one
//! among those), so only the layout ('e', 'f', 'g', Go's JSON rules) is reimplemented here.

/// The shortest decimal digits of a finite float: value = 0.`digits` * 10^`dp`.
/// Zero has no digits.
struct Decimal {
    digits: Vec<u8>,
    dp: i32,
}

fn shortest_from_exp_str(s: &str) -> Decimal {
    // `s` is Rust's `{:e}` rendering of a finite, non-negative float: "1.2345e-7", "5e0", "0e0".
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if digits.iter().all(|&d| d == b'0') {
        return Decimal {
            digits: Vec::new(),
            dp: 0,
        };
    }
    Decimal {
        digits,
        dp: exp + 1,
    }
}

fn shortest64(f: f64) -> Decimal {
    shortest_from_exp_str(&format!("{:e}", f.abs()))
}

fn shortest32(f: f32) -> Decimal {
    shortest_from_exp_str(&format!("{:e}", f.abs()))
}

/// Go's `fmtE` with the given precision (digits after the point).
fn fmt_e(out: &mut String, d: &Decimal, prec: usize) {
    let first = d.digits.first().copied().unwrap_or(b'0');
    out.push(char::from(first));
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = d.digits.len().min(prec + 1);
        if i < m {
            for &c in d.digits.get(i..m).unwrap_or(&[]) {
                out.push(char::from(c));
            }
            i = m;
        }
        while i <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push('e');
    let mut exp = if d.digits.is_empty() { 0 } else { d.dp - 1 };
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// Go's `fmtF` with the given precision (digits after the point).
fn fmt_f(out: &mut String, d: &Decimal, prec: usize) {
    let nd = d.digits.len();
    if d.dp > 0 {
        let dp = usize::try_from(d.dp).unwrap_or(0);
        let m = nd.min(dp);
        for &c in d.digits.get(..m).unwrap_or(&[]) {
            out.push(char::from(c));
        }
        for _ in m..dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = i64::from(d.dp) + i as i64 - 1;
            let c = usize::try_from(j)
                .ok()
                .and_then(|j| d.digits.get(j).copied())
                .unwrap_or(b'0');
            out.push(char::from(c));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    E,
    F,
    G,
}

fn format_decimal(neg: bool, d: &Decimal, fmt: Fmt) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let nd = d.digits.len();
    match fmt {
        Fmt::E => fmt_e(&mut out, d, nd.saturating_sub(1)),
        Fmt::F => {
            let prec = (nd as i64 - i64::from(d.dp)).max(0);
            fmt_f(&mut out, d, usize::try_from(prec).unwrap_or(0));
        }
        Fmt::G => {
            // Shortest: %e is used if the exponent is < -4 or >= 6 (Go's eprec for shortest).
            let exp = i64::from(d.dp) - 1;
            if !(-4..6).contains(&exp) {
                fmt_e(&mut out, d, nd.saturating_sub(1));
            } else {
                let prec = nd as i64;
                let prec = if prec > i64::from(d.dp) {
                    prec
                } else {
                    nd as i64
                };
                let p = (prec - i64::from(d.dp)).max(0);
                fmt_f(&mut out, d, usize::try_from(p).unwrap_or(0));
            }
        }
    }
    out
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`.
pub(super) fn format_g64(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    format_decimal(f.is_sign_negative(), &shortest64(f), Fmt::G)
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: the float is first rounded to float32.
pub(super) fn format_g32(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    #[allow(clippy::cast_possible_truncation)]
    let f32v = f as f32;
    if let Some(s) = special(f64::from(f32v)) {
        return s.to_string();
    }
    format_decimal(f32v.is_sign_negative(), &shortest32(f32v), Fmt::G)
}

/// How Go's `encoding/json` writes a float64 (NaN and infinities are not representable and
/// must be rejected by the caller).
pub(super) fn format_json_float(f: f64) -> String {
    let abs = f.abs();
    let fmt = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        Fmt::E
    } else {
        Fmt::F
    };
    let mut s = format_decimal(f.is_sign_negative(), &shortest64(f), fmt);
    if fmt == Fmt::E {
        // clean up e-09 to e-9
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4
            && b.get(n - 4) == Some(&b'e')
            && b.get(n - 3) == Some(&b'-')
            && b.get(n - 2) == Some(&b'0')
        {
            s.remove(n - 2);
        }
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)` (underscores must already be removed).
pub(super) fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, s.get(1..)?),
        Some(b'-') => (true, s.get(1..)?),
        _ => (false, s),
    };
    let un = parse_uint_base0(rest)?;
    if neg {
        if un > 1u64 << 63 {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(un))
    } else {
        i64::try_from(un).ok()
    }
}

/// `strconv.ParseInt(s, 2, 64)`.
pub(super) fn parse_int_base2(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, s.get(1..)?),
        Some(b'-') => (true, s.get(1..)?),
        _ => (false, s),
    };
    let un = parse_uint_base2(rest)?;
    if neg {
        if un > 1u64 << 63 {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(un))
    } else {
        i64::try_from(un).ok()
    }
}

/// `strconv.ParseUint(s, 2, 64)`.
pub(super) fn parse_uint_base2(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for c in s.chars() {
        let d = c.to_digit(2)?;
        n = n.checked_mul(2)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// `strconv.ParseUint(s, 0, 64)` (underscores must already be removed).
pub(super) fn parse_uint_base0(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (base, digits): (u32, &[u8]) = if b.first() == Some(&b'0') {
        let second = b.get(1).map(u8::to_ascii_lowercase);
        match second {
            Some(b'b') if b.len() >= 3 => (2, b.get(2..)?),
            Some(b'o') if b.len() >= 3 => (8, b.get(2..)?),
            Some(b'x') if b.len() >= 3 => (16, b.get(2..)?),
            _ => (8, b.get(1..)?),
        }
    } else {
        (10, b)
    };
    let mut n: u64 = 0;
    for &c in digits {
        let d = char::from(c).to_digit(base)?;
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// `strconv.ParseFloat(s, 64)` for what go-yaml hands it: decimal (possibly with Go's digit
/// separators) or hexadecimal syntax and the special names. `None` on a syntax or range
/// error (overflow to infinity is a range error in Go; underflow to zero is not).
pub(super) fn parse_float(s: &str) -> Option<f64> {
    if let Some(f) = parse_special(s) {
        return Some(f);
    }
    if !read_float_ok(s) {
        return None;
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("0x") {
        // Hexadecimal floats never reach here from go-yaml's resolver (the '.' hint cannot
        // start one and the digit hint is guarded by a decimal-only regexp).
        return None;
    }
    let f: f64 = cleaned.parse().ok()?;
    if f.is_infinite() {
        return None;
    }
    Some(f)
}

fn parse_special(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (sign, rest, signed) = match b.first() {
        Some(b'+') => (1.0, b.get(1..).unwrap_or(&[]), true),
        Some(b'-') => (-1.0, b.get(1..).unwrap_or(&[]), true),
        _ => (1.0, b, false),
    };
    let lower: Vec<u8> = rest.iter().map(u8::to_ascii_lowercase).collect();
    if lower == b"inf" || lower == b"infinity" {
        return Some(sign * f64::INFINITY);
    }
    if !signed && lower == b"nan" {
        return Some(f64::NAN);
    }
    None
}

/// Go's `readFloat` syntax check requiring the whole string to be consumed, plus its
/// underscore rule.
fn read_float_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let at = |i: usize| b.get(i).copied();
    if matches!(at(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut hex = false;
    if i + 2 < b.len()
        && at(i) == Some(b'0')
        && at(i + 1).map(|c| c.to_ascii_lowercase()) == Some(b'x')
    {
        hex = true;
        i += 2;
    }
    let mut underscores = false;
    let mut sawdot = false;
    let mut sawdigits = false;
    while let Some(c) = at(i) {
        if c == b'_' {
            underscores = true;
        } else if c == b'.' {
            if sawdot {
                break;
            }
            sawdot = true;
        } else if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            sawdigits = true;
        } else {
            break;
        }
        i += 1;
    }
    if !sawdigits {
        return false;
    }
    let exp_char = if hex { b'p' } else { b'e' };
    if at(i).map(|c| c.to_ascii_lowercase()) == Some(exp_char) {
        i += 1;
        if i >= b.len() {
            return false;
        }
        if matches!(at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !at(i).is_some_and(|c| c.is_ascii_digit()) {
            return false;
        }
        while let Some(c) = at(i) {
            if c == b'_' {
                underscores = true;
            } else if !c.is_ascii_digit() {
                break;
            }
            i += 1;
        }
    } else if hex {
        return false;
    }
    if i != b.len() {
        return false;
    }
    !underscores || underscore_ok(s)
}

/// Go's `underscoreOK`.
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if matches!(b.first(), Some(b'+' | b'-')) {
        b = b.get(1..).unwrap_or(&[]);
    }
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2
        && b.first() == Some(&b'0')
        && matches!(
            b.get(1).map(u8::to_ascii_lowercase),
            Some(b'b' | b'o' | b'x')
        )
    {
        i = 2;
        saw = b'0';
        hex = b.get(1).map(u8::to_ascii_lowercase) == Some(b'x');
    }
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_and_json_formats() {
        assert_eq!(format_g64(1e21), "1e+21");
        assert_eq!(format_g64(1e-7), "1e-07");
        assert_eq!(format_g64(123456789.0), "1.23456789e+08");
        assert_eq!(format_g64(123456.5), "123456.5");
        assert_eq!(format_g64(0.0001), "0.0001");
        assert_eq!(format_g64(0.00001), "1e-05");
        assert_eq!(format_g64(-0.0), "-0");
        assert_eq!(format_g32(123456789.0), "1.2345679e+08");
        assert_eq!(format_g32(0.1), "0.1");
        assert_eq!(format_json_float(1e21), "1e+21");
        assert_eq!(format_json_float(1e-7), "1e-7");
        assert_eq!(format_json_float(1e20), "100000000000000000000");
        assert_eq!(format_json_float(0.000001), "0.000001");
        assert_eq!(format_json_float(1.0), "1");
        assert_eq!(format_json_float(-0.0), "-0");
        assert_eq!(format_json_float(5e-324), "5e-324");
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int_base0("0x1F"), Some(31));
        assert_eq!(parse_int_base0("017"), Some(15));
        assert_eq!(parse_int_base0("08"), None);
        assert_eq!(parse_int_base0("0"), Some(0));
        assert_eq!(parse_int_base0("-0b101"), Some(-5));
        assert_eq!(parse_int_base0("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int_base0("9223372036854775808"), None);
        assert_eq!(parse_uint_base0("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_int_base0("+"), None);
        assert_eq!(parse_int_base0("0x"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float(".5_0"), Some(0.5));
        assert_eq!(parse_float("1e400"), None);
        assert_eq!(parse_float("1e-400"), Some(0.0));
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float(".e5"), None);
        assert_eq!(parse_float("._5"), None);
    }
}

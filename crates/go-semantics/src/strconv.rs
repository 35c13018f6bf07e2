//! `strconv`: float formatting, number parsing, `ParseBool` and Go's quoting, on Go's byte
//! strings.

use crate::utf8::{RUNE_ERROR, append_rune, decode_rune, runes};

// ---------------------------------------------------------------------------
// FormatFloat

/// Decimal digits of |f| and the decimal point position (value = 0.d1d2... * 10^dp).
/// Zero has no digits.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Parses Rust's `{:e}` rendering of a finite, non-negative float ("1.2345e-7", "5e0", "0e0").
fn parse_sci(s: &str) -> Digits {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if d.iter().all(|&c| c == b'0') {
        d.clear();
        return Digits { d, dp: 0 };
    }
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    Digits { d, dp: exp + 1 }
}

/// The float as Go sees it at `bit_size` 32 or 64 (32: rounded to float32 first).
#[derive(Clone, Copy)]
enum Width {
    F32(f32),
    F64(f64),
}

impl Width {
    fn new(f: f64, bit_size: u32) -> Width {
        if bit_size == 32 {
            Width::F32(f as f32)
        } else {
            Width::F64(f)
        }
    }

    fn value(self) -> f64 {
        match self {
            Width::F32(v) => f64::from(v),
            Width::F64(v) => v,
        }
    }

    /// Shortest digits that round-trip at this width (Rust and Go pick the same ones: the
    /// shortest string that parses back, the closest among those).
    fn shortest(self) -> Digits {
        match self {
            Width::F32(v) => parse_sci(&format!("{:e}", v.abs())),
            Width::F64(v) => parse_sci(&format!("{:e}", v.abs())),
        }
    }

    /// Digits rounded (exactly, half to even) to `n` significant digits, trailing zeros trimmed.
    fn rounded(self, n: usize) -> Digits {
        // A float's exact decimal expansion has at most 767 significant digits: rounding to more
        // changes nothing (the trailing zeros are trimmed), and `format!` refuses a precision
        // above u16::MAX.
        let n = n.min(MAX_SIGNIFICANT_DIGITS);
        parse_sci(&format!("{:.*e}", n.saturating_sub(1), self.value().abs()))
    }

    /// (mantissa, biased exponent field, mantbits, bias) of the IEEE representation.
    fn parts(self) -> (u64, i64, u32, i64) {
        match self {
            Width::F32(v) => {
                let bits = v.to_bits();
                (
                    u64::from(bits & ((1 << 23) - 1)),
                    i64::from((bits >> 23) & 0xFF),
                    23,
                    -127,
                )
            }
            Width::F64(v) => {
                let bits = v.to_bits();
                (
                    bits & ((1u64 << 52) - 1),
                    ((bits >> 52) & 0x7FF) as i64,
                    52,
                    -1023,
                )
            }
        }
    }
}

fn digit_at(d: &Digits, i: i32) -> u8 {
    usize::try_from(i)
        .ok()
        .and_then(|i| d.d.get(i).copied())
        .unwrap_or(b'0')
}

fn push_exp(out: &mut String, mut exp: i64) {
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

/// strconv's `fmtE`: `prec` digits after the point, exponent char `e` or `E`.
fn fmt_e(out: &mut String, neg: bool, d: &Digits, prec: i32, e: char) {
    if neg {
        out.push('-');
    }
    out.push(char::from(d.d.first().copied().unwrap_or(b'0')));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(char::from(digit_at(d, i)));
        }
    }
    out.push(e);
    let exp = if d.d.is_empty() { 0 } else { d.dp - 1 };
    push_exp(out, i64::from(exp));
}

/// strconv's `fmtF`: `prec` digits after the point.
fn fmt_f(out: &mut String, neg: bool, d: &Digits, prec: i32) {
    if neg {
        out.push('-');
    }
    if d.dp > 0 {
        let m = i32::try_from(d.d.len()).unwrap_or(i32::MAX).min(d.dp);
        for i in 0..m {
            out.push(char::from(digit_at(d, i)));
        }
        for _ in m..d.dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(char::from(digit_at(d, d.dp + i - 1)));
        }
    }
}

/// strconv's `fmtX`: hexadecimal mantissa and binary exponent (`%x`, `%X`).
fn fmt_x(
    out: &mut String,
    prec: i32,
    upper: bool,
    neg: bool,
    mut mant: u64,
    mut exp: i64,
    mantbits: u32,
) {
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - mantbits;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = prec.unsigned_abs() * 4;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let digit = |m: u64| char::from(hex.get(((m >> 60) & 15) as usize).copied().unwrap_or(b'0'));
    if neg {
        out.push('-');
    }
    out.push('0');
    out.push(if upper { 'X' } else { 'x' });
    out.push(if (mant >> 60) & 1 == 1 { '1' } else { '0' });
    mant <<= 4;
    if prec < 0 && mant != 0 {
        out.push('.');
        while mant != 0 {
            out.push(digit(mant));
            mant <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(digit(mant));
            mant <<= 4;
        }
    }
    out.push(if upper { 'P' } else { 'p' });
    push_exp(out, exp);
}

/// strconv's `fmtB`: decimal mantissa and binary exponent (`%b`).
fn fmt_b(out: &mut String, neg: bool, mant: u64, exp: i64, mantbits: u32) {
    let exp = exp - i64::from(mantbits);
    if neg {
        out.push('-');
    }
    out.push_str(&mant.to_string());
    out.push('p');
    if exp >= 0 {
        out.push('+');
    }
    out.push_str(&exp.to_string());
}

/// More significant digits than any float's exact decimal expansion has (767 at most).
const MAX_SIGNIFICANT_DIGITS: usize = 800;
/// More decimal places than any float's exact expansion has (1074, the smallest subnormal).
const MAX_DECIMAL_PLACES: usize = 1100;

/// `strconv.FormatFloat(f, fmt, prec, bit_size)` for `fmt` in `b e E f g G x X` (`F` is taken
/// as `f`), `prec` -1 for the shortest representation, `bit_size` 32 (the value is rounded to
/// float32 first) or 64. NaN and infinities print as `NaN`, `+Inf`, `-Inf`.
pub fn format_float(f: f64, fmt: u8, prec: i32, bit_size: u32) -> String {
    let w = Width::new(f, bit_size);
    let v = w.value();
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let neg = v.is_sign_negative();
    let mut out = String::new();
    if matches!(fmt, b'b' | b'x' | b'X') {
        let (mut mant, raw_exp, mantbits, bias) = w.parts();
        let mut exp = raw_exp;
        if exp == 0 {
            exp += 1;
        } else {
            mant |= 1 << mantbits;
        }
        exp += bias;
        if fmt == b'b' {
            fmt_b(&mut out, neg, mant, exp, mantbits);
        } else {
            fmt_x(&mut out, prec, fmt == b'X', neg, mant, exp, mantbits);
        }
        return out;
    }
    let shortest = prec < 0;
    match fmt {
        b'f' | b'F' => {
            if shortest {
                let d = w.shortest();
                let p = (i32::try_from(d.d.len()).unwrap_or(i32::MAX) - d.dp).max(0);
                fmt_f(&mut out, neg, &d, p);
            } else {
                if neg {
                    out.push('-');
                }
                // Exact up to the 1074 decimal places of the smallest subnormal; zeros after
                // that, as Go writes them (`format!` refuses a precision above u16::MAX).
                let want = prec.unsigned_abs() as usize;
                let exact = want.min(MAX_DECIMAL_PLACES);
                out.push_str(&format!("{:.*}", exact, v.abs()));
                out.extend(std::iter::repeat_n('0', want - exact));
            }
        }
        b'e' | b'E' => {
            let e = char::from(fmt);
            if shortest {
                let d = w.shortest();
                let p = (i32::try_from(d.d.len()).unwrap_or(i32::MAX) - 1).max(0);
                fmt_e(&mut out, neg, &d, p, e);
            } else {
                let d = w.rounded(prec.unsigned_abs() as usize + 1);
                fmt_e(&mut out, neg, &d, prec, e);
            }
        }
        _ => {
            // g / G
            let mut prec = prec;
            let d = if shortest {
                w.shortest()
            } else {
                if prec == 0 {
                    prec = 1;
                }
                w.rounded(prec.unsigned_abs() as usize)
            };
            let nd = i32::try_from(d.d.len()).unwrap_or(i32::MAX);
            let mut eprec = prec;
            if eprec > nd && nd >= d.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
                prec = nd;
            }
            let exp = d.dp - 1;
            let e = if fmt == b'G' { 'E' } else { 'e' };
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(&mut out, neg, &d, (prec - 1).max(0), e);
            } else {
                if prec > d.dp {
                    prec = nd;
                }
                fmt_f(&mut out, neg, &d, (prec - d.dp).max(0));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// ParseInt, ParseUint, ParseFloat

/// Go's `underscoreOK`: underscores only between digits, or between a base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some((b'+' | b'-', rest)) = b.split_first() {
        b = rest;
    }
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if let [b'0', p, ..] = b
        && matches!(p.to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        i = 2;
        saw = b'0';
        hex = p.eq_ignore_ascii_case(&b'x');
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

/// `strconv.ParseUint(s, base, 64)`, `None` on a syntax or range error. `base` 0 takes Go's
/// prefixes (`0b`, `0o`, `0x`, a leading `0` for octal) and underscores between digits.
pub fn parse_uint(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let base0 = base == 0;
    let b = s.as_bytes();
    let (base, digits) = match base {
        2..=36 => (base, b),
        0 => match b {
            [b'0', p, rest @ ..] if !rest.is_empty() && p.eq_ignore_ascii_case(&b'b') => (2, rest),
            [b'0', p, rest @ ..] if !rest.is_empty() && p.eq_ignore_ascii_case(&b'o') => (8, rest),
            [b'0', p, rest @ ..] if !rest.is_empty() && p.eq_ignore_ascii_case(&b'x') => (16, rest),
            [b'0', rest @ ..] => (8, rest),
            _ => (10, b),
        },
        _ => return None,
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u32::from(c - b'0'),
            c if c.is_ascii_alphabetic() => u32::from(c.to_ascii_lowercase() - b'a') + 10,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    if underscores && !underscore_ok(s) {
        return None;
    }
    Some(n)
}

/// `strconv.ParseInt(s, base, 64)`, `None` on a syntax or range error.
pub fn parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, s.get(1..)?),
        Some(b'-') => (true, s.get(1..)?),
        _ => (false, s),
    };
    let un = parse_uint(rest, base)?;
    if neg {
        if un > 1u64 << 63 {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(un))
    } else {
        i64::try_from(un).ok()
    }
}

/// `special`: `[+-]inf`, `[+-]infinity`, `nan` (any case); the value and its length.
fn special(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let (sign, nsign, rest) = match b.split_first() {
        Some((b'+', rest)) => (1.0, 1, rest),
        Some((b'-', rest)) => (-1.0, 1, rest),
        _ => (1.0, 0, b),
    };
    let common = |word: &[u8]| {
        rest.iter()
            .zip(word)
            .take_while(|(a, w)| a.to_ascii_lowercase() == **w)
            .count()
    };
    match rest.first().map(u8::to_ascii_lowercase) {
        Some(b'i') => {
            let n = match common(b"infinity") {
                3..=7 => 3,
                n => n,
            };
            (n == 3 || n == 8).then_some((sign * f64::INFINITY, nsign + n))
        }
        Some(b'n') if nsign == 0 && common(b"nan") == 3 => Some((f64::NAN, 3)),
        _ => None,
    }
}

/// What `readFloat` finds in a syntactically valid float.
struct ReadFloat {
    mantissa: u64,
    exp: i64,
    neg: bool,
    trunc: bool,
    hex: bool,
    len: usize,
}

/// strconv's `readFloat`: `None` on a syntax error.
fn read_float(s: &str) -> Option<ReadFloat> {
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let mut i = 0;
    let mut neg = false;
    match at(i)? {
        b'+' => i += 1,
        b'-' => {
            neg = true;
            i += 1;
        }
        _ => {}
    }
    let mut base: u64 = 10;
    let mut max_mant_digits = 19;
    let mut exp_char = b'e';
    let mut hex = false;
    if i + 2 < b.len()
        && at(i) == Some(b'0')
        && at(i + 1).map(|c| c.to_ascii_lowercase()) == Some(b'x')
    {
        base = 16;
        max_mant_digits = 16;
        i += 2;
        exp_char = b'p';
        hex = true;
    }
    let mut underscores = false;
    let mut sawdot = false;
    let mut sawdigits = false;
    let mut nd: i64 = 0;
    let mut nd_mant: i64 = 0;
    let mut dp: i64 = 0;
    let mut mantissa: u64 = 0;
    let mut trunc = false;
    while let Some(c) = at(i) {
        let lc = c.to_ascii_lowercase();
        if c == b'_' {
            underscores = true;
        } else if c == b'.' {
            if sawdot {
                break;
            }
            sawdot = true;
            dp = nd;
        } else if c.is_ascii_digit() || (base == 16 && (b'a'..=b'f').contains(&lc)) {
            sawdigits = true;
            if c == b'0' && nd == 0 {
                // leading zeros
                dp -= 1;
                i += 1;
                continue;
            }
            nd += 1;
            let d = if c.is_ascii_digit() {
                c - b'0'
            } else {
                lc - b'a' + 10
            };
            if nd_mant < max_mant_digits {
                mantissa = mantissa.wrapping_mul(base).wrapping_add(u64::from(d));
                nd_mant += 1;
            } else if c != b'0' {
                trunc = true;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !sawdigits {
        return None;
    }
    if !sawdot {
        dp = nd;
    }
    if base == 16 {
        dp *= 4;
        nd_mant *= 4;
    }
    if at(i).map(|c| c.to_ascii_lowercase()) == Some(exp_char) {
        i += 1;
        let mut esign = 1;
        match at(i)? {
            b'+' => i += 1,
            b'-' => {
                i += 1;
                esign = -1;
            }
            _ => {}
        }
        if !at(i)?.is_ascii_digit() {
            return None;
        }
        let mut e: i64 = 0;
        while let Some(c) = at(i) {
            if c == b'_' {
                underscores = true;
            } else if c.is_ascii_digit() {
                if e < 10000 {
                    e = e * 10 + i64::from(c - b'0');
                }
            } else {
                break;
            }
            i += 1;
        }
        dp += e * esign;
    } else if base == 16 {
        // A hexadecimal mantissa must have a 'p' exponent.
        return None;
    }
    let exp = if mantissa != 0 { dp - nd_mant } else { 0 };
    if underscores && !underscore_ok(s.get(..i)?) {
        return None;
    }
    Some(ReadFloat {
        mantissa,
        exp,
        neg,
        trunc,
        hex,
        len: i,
    })
}

/// strconv's `atofHex` for float64: exact, round half to even; `None` on overflow.
fn atof_hex(r: &ReadFloat) -> Option<f64> {
    const MANTBITS: u32 = 52;
    const EXPBITS: u32 = 11;
    const BIAS: i64 = -1023;
    let max_exp = (1i64 << EXPBITS) + BIAS - 2;
    let min_exp = BIAS + 1;
    let mut mantissa = r.mantissa;
    let mut exp = r.exp + i64::from(MANTBITS);
    while mantissa != 0 && mantissa >> (MANTBITS + 2) == 0 {
        mantissa <<= 1;
        exp -= 1;
    }
    if r.trunc {
        mantissa |= 1;
    }
    while mantissa >> (1 + MANTBITS + 2) != 0 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    while mantissa > 1 && exp < min_exp - 2 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    let mut round = mantissa & 3;
    mantissa >>= 2;
    round |= mantissa & 1;
    exp += 2;
    if round == 3 {
        mantissa += 1;
        if mantissa == 1 << (1 + MANTBITS) {
            mantissa >>= 1;
            exp += 1;
        }
    }
    if mantissa >> MANTBITS == 0 {
        exp = BIAS;
    }
    if exp > max_exp {
        return None;
    }
    let mut bits = mantissa & ((1u64 << MANTBITS) - 1);
    bits |= (((exp - BIAS) as u64) & ((1 << EXPBITS) - 1)) << MANTBITS;
    if r.neg {
        bits |= 1 << (MANTBITS + EXPBITS);
    }
    Some(f64::from_bits(bits))
}

/// `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1p-2`) syntax with Go's underscore
/// rule, `inf` / `infinity` (signed or not) and `nan` in any case. `None` on a syntax error and
/// on overflow (a range error in Go; underflow to zero is not an error).
pub fn parse_float(s: &str) -> Option<f64> {
    if let Some((f, n)) = special(s) {
        return (n == s.len()).then_some(f);
    }
    let r = read_float(s)?;
    if r.len != s.len() {
        return None;
    }
    let f = if r.hex {
        atof_hex(&r)?
    } else {
        // The syntax is checked; Rust's conversion rounds correctly, as Go's does.
        let clean: String = s.chars().filter(|&c| c != '_').collect();
        clean.parse::<f64>().ok()?
    };
    (!f.is_infinite()).then_some(f)
}

// ---------------------------------------------------------------------------
// ParseBool

/// The error of [`parse_bool`], worded as Go's `*strconv.NumError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strconv.ParseBool: parsing {}: invalid syntax", quote(.0.as_bytes()))]
pub struct ParseBoolError(pub String);

/// `strconv.ParseBool`: `1 t T TRUE true True`, `0 f F FALSE false False`.
pub fn parse_bool(s: &str) -> Result<bool, ParseBoolError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(ParseBoolError(s.to_string())),
    }
}

// ---------------------------------------------------------------------------
// Quote, Unquote

/// `strconv.IsPrint` (the same answers as `unicode.IsPrint`): letters, marks, numbers,
/// punctuation, symbols and U+0020, from Go's own tables (`crate::isprint`), with Go's
/// algorithm (src/strconv/quote.go `IsPrint`).
pub fn is_print(c: char) -> bool {
    use crate::isprint::{IS_NOT_PRINT16, IS_NOT_PRINT32, IS_PRINT16, IS_PRINT32};
    let r = u32::from(c);
    if r <= 0xFF {
        return (0x20..=0x7E).contains(&r) || ((0xA1..=0xFF).contains(&r) && r != 0xAD);
    }
    if let Ok(rr) = u16::try_from(r) {
        return in_ranges(IS_PRINT16, rr) && IS_NOT_PRINT16.binary_search(&rr).is_err();
    }
    if !in_ranges(IS_PRINT32, r) {
        return false;
    }
    if r >= 0x20000 {
        return true;
    }
    u16::try_from(r - 0x10000).is_ok_and(|rr| IS_NOT_PRINT32.binary_search(&rr).is_err())
}

/// Whether `x` lies in one of the (first, last) pairs of the sorted `ranges`: Go's search for the
/// first entry >= x, whose pair must then hold x.
fn in_ranges<T: Ord + Copy>(ranges: &[T], x: T) -> bool {
    let i = ranges.partition_point(|&v| v < x);
    match (ranges.get(i & !1), ranges.get(i | 1)) {
        (Some(&lo), Some(&hi)) => lo <= x && x <= hi,
        _ => false,
    }
}

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, v: u32, digits: u32) {
    for k in (0..digits).rev() {
        let nib = (v >> (4 * k)) & 0xF;
        out.push(char::from(
            LOWER_HEX.get(nib as usize).copied().unwrap_or(b'0'),
        ));
    }
}

/// strconv's `appendEscapedRune`.
fn escape_rune(out: &mut String, r: char, quote: char, ascii_only: bool) {
    if r == quote || r == '\\' {
        out.push('\\');
        out.push(r);
        return;
    }
    if if ascii_only {
        r.is_ascii() && is_print(r)
    } else {
        is_print(r)
    } {
        out.push(r);
        return;
    }
    match r {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{C}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{B}' => out.push_str("\\v"),
        _ => {
            let u = u32::from(r);
            if u < 0x20 || u == 0x7F {
                out.push_str("\\x");
                push_hex(out, u, 2);
            } else if u < 0x10000 {
                out.push_str("\\u");
                push_hex(out, u, 4);
            } else {
                out.push_str("\\U");
                push_hex(out, u, 8);
            }
        }
    }
}

/// strconv's `appendQuotedWith`: bytes that are not UTF-8 print as `\xHH`.
fn quote_with(s: &[u8], quote: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for (i, r, w) in runes(s) {
        match s.get(i) {
            Some(&byte) if w == 1 && r == RUNE_ERROR => {
                out.push_str("\\x");
                push_hex(&mut out, u32::from(byte), 2);
            }
            _ => escape_rune(&mut out, r, quote, ascii_only),
        }
    }
    out.push(quote);
    out
}

/// `strconv.Quote` (what `%q` prints for a string).
pub fn quote(s: &[u8]) -> String {
    quote_with(s, '"', false)
}

/// `strconv.QuoteToASCII` (what `%+q` prints for a string).
pub fn quote_to_ascii(s: &[u8]) -> String {
    quote_with(s, '"', true)
}

/// `strconv.QuoteRune` (what `%q` prints for a rune).
pub fn quote_rune(r: char) -> String {
    let mut out = String::from('\'');
    escape_rune(&mut out, r, '\'', false);
    out.push('\'');
    out
}

/// `strconv.QuoteRuneToASCII` (what `%+q` prints for a rune).
pub fn quote_rune_to_ascii(r: char) -> String {
    let mut out = String::from('\'');
    escape_rune(&mut out, r, '\'', true);
    out.push('\'');
    out
}

/// `strconv.CanBackquote`: whether `s` can be written as a raw string literal.
pub fn can_backquote(s: &[u8]) -> bool {
    runes(s).all(|(_, r, w)| {
        if w > 1 {
            return r != '\u{FEFF}';
        }
        !(r == RUNE_ERROR || (r < ' ' && r != '\t') || r == '`' || r == '\u{7F}')
    })
}

fn unhex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// One decoded unit of [`unquote_char`]: a rune or a raw byte (`\xHH`, octal escapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unquoted {
    Rune(char),
    Byte(u8),
}

/// `strconv.UnquoteChar(s, quote)`: the first character (or escape) of `s` and the remaining
/// tail. `None` is Go's `ErrSyntax`.
pub fn unquote_char(s: &[u8], quote: u8) -> Option<(Unquoted, &[u8])> {
    let &c = s.first()?;
    if c == quote && (quote == b'\'' || quote == b'"') {
        return None;
    }
    if c >= 0x80 {
        let (r, w) = decode_rune(s);
        return Some((Unquoted::Rune(r), s.get(w..).unwrap_or_default()));
    }
    if c != b'\\' {
        return Some((
            Unquoted::Rune(char::from(c)),
            s.get(1..).unwrap_or_default(),
        ));
    }
    let &e = s.get(1)?;
    let rest = s.get(2..).unwrap_or_default();
    let simple = |ch: char| Some((Unquoted::Rune(ch), rest));
    match e {
        b'a' => simple('\u{7}'),
        b'b' => simple('\u{8}'),
        b'f' => simple('\u{C}'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'v' => simple('\u{B}'),
        b'x' | b'u' | b'U' => {
            let n = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let digits = rest.get(..n)?;
            let mut v: u32 = 0;
            for &d in digits {
                v = (v << 4) | unhex(d)?;
            }
            let tail = rest.get(n..).unwrap_or_default();
            if e == b'x' {
                // a single byte; runes below 0x80 are the same thing
                let b = u8::try_from(v).ok()?;
                return Some((Unquoted::Byte(b), tail));
            }
            let r = char::from_u32(v)?;
            Some((Unquoted::Rune(r), tail))
        }
        b'0'..=b'7' => {
            let digits = s.get(1..4)?;
            let mut v: u32 = 0;
            for &d in digits {
                if !(b'0'..=b'7').contains(&d) {
                    return None;
                }
                v = (v << 3) | u32::from(d - b'0');
            }
            let b = u8::try_from(v).ok()?;
            Some((Unquoted::Byte(b), s.get(4..).unwrap_or_default()))
        }
        b'\\' => simple('\\'),
        b'\'' | b'"' => {
            if e != quote {
                return None;
            }
            simple(char::from(e))
        }
        _ => None,
    }
}

/// `strconv.Unquote` for `"..."` and `` `...` `` literals. `None` is Go's `invalid syntax`.
pub fn unquote(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let (&q, rest) = b.split_first()?;
    let (&last, inner) = rest.split_last()?;
    if q != last {
        return None;
    }
    match q {
        b'`' => {
            if inner.contains(&b'`') {
                return None;
            }
            Some(inner.iter().copied().filter(|&c| c != b'\r').collect())
        }
        b'"' => {
            if inner.contains(&b'\n') {
                return None;
            }
            let mut out = Vec::with_capacity(inner.len());
            let mut rest = inner;
            while !rest.is_empty() {
                let (u, tail) = unquote_char(rest, b'"')?;
                match u {
                    Unquoted::Rune(r) => append_rune(&mut out, r),
                    Unquoted::Byte(x) => out.push(x),
                }
                rest = tail;
            }
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Found by the `template` fuzz target (`printf "%.3456789e"`): a precision above what
    /// Rust's `format!` takes (u16) panicked. Go formats any precision; the digits past the exact
    /// decimal expansion of a float are zeros.
    #[test]
    fn format_float_takes_any_precision() {
        let p = 100_000;
        let e = format_float(2.5, b'e', p, 64);
        assert_eq!(e.len(), 2 + 100_000 + 4, "{}", &e[..20]);
        assert!(e.starts_with("2.5000") && e.ends_with("0e+00"));
        let f = format_float(2.5, b'f', p, 64);
        assert_eq!(f.len(), 2 + 100_000);
        assert!(f.starts_with("2.5000") && f.ends_with('0'));
        assert_eq!(format_float(2.5, b'g', p, 64), "2.5");
        // The exact expansion is kept: the smallest subnormal has 751 significant digits and
        // 1074 decimal places.
        let tiny = f64::from_bits(1);
        let ex = format_float(tiny, b'e', 2000, 64);
        assert!(
            ex.starts_with("4.9406564584124654417656879286822137236505980"),
            "{}",
            &ex[..50]
        );
        assert!(ex.ends_with("0e-324"));
        assert_eq!(&ex[..752], &format_float(tiny, b'e', 750, 64)[..752]);
        let fx = format_float(tiny, b'f', 1200, 64);
        assert_eq!(fx.len(), 2 + 1200);
        assert_eq!(&fx[..1076], &format_float(tiny, b'f', 1074, 64)[..1076]);
    }

    #[test]
    fn format_float_like_go() {
        let g64 = |f| format_float(f, b'g', -1, 64);
        let g32 = |f| format_float(f, b'g', -1, 32);
        assert_eq!(g64(1e21), "1e+21");
        assert_eq!(g64(1e-7), "1e-07");
        assert_eq!(g64(123456789.0), "1.23456789e+08");
        assert_eq!(g64(123456.5), "123456.5");
        assert_eq!(g64(0.0001), "0.0001");
        assert_eq!(g64(0.00001), "1e-05");
        assert_eq!(g64(-0.0), "-0");
        assert_eq!(g64(f64::NAN), "NaN");
        assert_eq!(g64(f64::NEG_INFINITY), "-Inf");
        assert_eq!(g32(123456789.0), "1.2345679e+08");
        assert_eq!(g32(0.1), "0.1");
        assert_eq!(g32(1e39), "+Inf");
        assert_eq!(g32(16777217.0), "1.6777216e+07");
        assert_eq!(format_float(1.5, b'e', 3, 64), "1.500e+00");
        assert_eq!(format_float(1234.5678, b'f', 2, 64), "1234.57");
        assert_eq!(format_float(1234.5678, b'G', 3, 64), "1.23E+03");
        assert_eq!(format_float(0.1, b'f', -1, 32), "0.1");
        assert_eq!(format_float(0.1, b'f', 10, 32), "0.1000000015");
        assert_eq!(format_float(1.0, b'x', -1, 64), "0x1p+00");
        assert_eq!(format_float(1.0, b'x', -1, 32), "0x1p+00");
        assert_eq!(format_float(3.0, b'X', 3, 64), "0X1.800P+01");
        assert_eq!(format_float(1.0, b'b', -1, 64), "4503599627370496p-52");
        assert_eq!(format_float(1.0, b'b', -1, 32), "8388608p-23");
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int("0x1F", 0), Some(31));
        assert_eq!(parse_int("017", 0), Some(15));
        assert_eq!(parse_int("0o17", 0), Some(15));
        assert_eq!(parse_int("08", 0), None);
        assert_eq!(parse_int("0", 0), Some(0));
        assert_eq!(parse_int("-0b101", 0), Some(-5));
        assert_eq!(parse_int("1_000", 0), Some(1000));
        assert_eq!(parse_int("1__0", 0), None);
        assert_eq!(parse_int("_1", 0), None);
        assert_eq!(parse_int("0x_1F", 0), Some(31));
        assert_eq!(parse_int("1_000", 10), None);
        assert_eq!(parse_int("-9223372036854775808", 0), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808", 0), None);
        assert_eq!(parse_uint("18446744073709551615", 0), Some(u64::MAX));
        assert_eq!(parse_uint("18446744073709551616", 0), None);
        assert_eq!(parse_uint("-1", 0), None);
        assert_eq!(parse_int("+", 0), None);
        assert_eq!(parse_int("0x", 0), None);
        assert_eq!(parse_int("101", 2), Some(5));
        assert_eq!(parse_int("-101", 2), Some(-5));
        assert_eq!(parse_int("102", 2), None);
        assert_eq!(parse_int("zz", 36), Some(35 * 36 + 35));
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float(".5_0"), Some(0.5));
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("1e400"), None);
        assert_eq!(parse_float("1e-400"), Some(0.0));
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float(".e5"), None);
        assert_eq!(parse_float("._5"), None);
        assert_eq!(parse_float("1e"), None);
        assert_eq!(parse_float("-+5"), None);
        assert_eq!(parse_float("0x1p-2"), Some(0.25));
        assert_eq!(parse_float("0x1.8p1"), Some(3.0));
        assert_eq!(parse_float("0x_1p0"), Some(1.0));
        assert_eq!(parse_float("0x1.8"), None);
        assert_eq!(parse_float("0x1p2000"), None);
        assert_eq!(parse_float("0x1p-1074"), Some(5e-324));
        // 2^53 + 1 rounds to even (2^53), 2^53 + 3 rounds up.
        assert_eq!(parse_float("0x20000000000001p0"), Some(9007199254740992.0));
        assert_eq!(parse_float("0x20000000000003p0"), Some(9007199254740996.0));
        assert_eq!(parse_float("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("+infinity"), Some(f64::INFINITY));
        assert_eq!(parse_float("infin"), None);
        assert!(parse_float("NaN").unwrap().is_nan());
        assert_eq!(parse_float("+nan"), None);
        assert_eq!(parse_float(""), None);
    }

    #[test]
    fn bools() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        assert_eq!(
            parse_bool("maybe").unwrap_err().to_string(),
            "strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
        assert_eq!(
            parse_bool("\u{1}").unwrap_err().to_string(),
            "strconv.ParseBool: parsing \"\\x01\": invalid syntax"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote(b"\x07\x7f\n\xff"), r#""\a\x7f\n\xff""#);
        assert_eq!(
            quote("é\u{200B}\u{1F600}".as_bytes()),
            "\"é\\u200b\u{1F600}\""
        );
        assert_eq!(
            quote_to_ascii("é\u{1F600}".as_bytes()),
            r#""\u00e9\U0001f600""#
        );
        assert_eq!(quote_rune('\''), r"'\''");
        assert_eq!(quote_rune('"'), "'\"'");
        assert_eq!(quote_rune_to_ascii('é'), r"'\u00e9'");
        assert!(can_backquote(b"a\tb"));
        assert!(!can_backquote(b"a`b"));
        assert!(!can_backquote(b"\xff"));
        assert!(!can_backquote("\u{FEFF}".as_bytes()));
        assert_eq!(
            unquote(r#""a\x41\u00e9\101\n""#).unwrap(),
            "aAéA\n".as_bytes()
        );
        assert_eq!(unquote("`a\r\\n`").unwrap(), b"a\\n");
        assert_eq!(unquote(r#""\q""#), None);
        assert_eq!(unquote("\""), None);
        assert_eq!(unquote(r#""a"#), None);
    }
}

//! `time.ParseDuration`.

use std::fmt;

/// Why [`parse_duration`] refused its input. `Display` is Go's error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// `time: invalid duration "<input>"` (bad syntax, or out of the int64 nanosecond range).
    Invalid { input: String },
    /// `time: missing unit in duration "<input>"`.
    MissingUnit { input: String },
    /// `time: unknown unit "<unit>" in duration "<input>"`.
    UnknownUnit { unit: String, input: String },
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Invalid { input } => {
                write!(f, "time: invalid duration {}", time_quote(input))
            }
            DurationError::MissingUnit { input } => {
                write!(f, "time: missing unit in duration {}", time_quote(input))
            }
            DurationError::UnknownUnit { unit, input } => write!(
                f,
                "time: unknown unit {} in duration {}",
                time_quote(unit),
                time_quote(input)
            ),
        }
    }
}

impl std::error::Error for DurationError {}

/// The `time` package's own `quote` (not `strconv.Quote`): bytes of non-ASCII or control
/// characters as `\xHH`, `"` and `\` backslashed.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

const NANOS_PER_UNIT: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("h", 3_600 * 1_000_000_000),
];

const LIMIT: u64 = 1 << 63;

/// `leadingInt`: the leading `[0-9]*` of `s`; `None` on overflow.
fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut x: u64 = 0;
    for d in s.bytes().take(end) {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(d - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, s.get(end..).unwrap_or_default()))
}

/// `leadingFraction`: the leading `[0-9]*` of `s` as `x / scale`, precision capped (no error).
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut x: u64 = 0;
    let mut scale = 1.0f64;
    let mut overflow = false;
    for d in s.bytes().take(end) {
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(d - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, s.get(end..).unwrap_or_default())
}

/// `time.ParseDuration`: a possibly signed sequence of decimal numbers, each with an optional
/// fraction and a unit suffix (`300ms`, `-1.5h`, `2h45m`; units `ns us µs μs ms s m h`), in
/// nanoseconds. A port of Go's algorithm, including its int64 range checks and its float64
/// arithmetic for fractions.
pub fn parse_duration(input: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid {
        input: input.to_string(),
    };
    let mut s = input;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let mut f = 0u64;
        let mut scale = 1.0f64;
        let mut post = false;
        if let Some(rest) = s.strip_prefix('.') {
            let before = rest.len();
            let (fx, fscale, rest) = leading_fraction(rest);
            f = fx;
            scale = fscale;
            s = rest;
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit {
                input: input.to_string(),
            });
        }
        let (unit, rest) = s.split_at(unit_len);
        s = rest;
        let Some(&(_, per)) = NANOS_PER_UNIT.iter().find(|(name, _)| *name == unit) else {
            return Err(DurationError::UnknownUnit {
                unit: unit.to_string(),
                input: input.to_string(),
            });
        };
        if v > LIMIT / per {
            return Err(invalid());
        }
        v *= per;
        if f > 0 {
            // Go: float64 is needed to be nanosecond accurate for fractions of hours.
            let frac = (f as f64 * (per as f64 / scale)) as u64;
            v = v.saturating_add(frac);
            if v > LIMIT {
                return Err(invalid());
            }
        }
        d = d.saturating_add(v);
        if d > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok(0i64.wrapping_sub_unsigned(d));
    }
    i64::try_from(d).map_err(|_| invalid())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn parses_like_go() {
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0"), Ok(0));
        assert_eq!(parse_duration("+0"), Ok(0));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("720h0m0s"), Ok(720 * 3600 * S));
        assert_eq!(parse_duration("1h30m"), Ok(5400 * S));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_duration("5.s"), Ok(5 * S));
        assert_eq!(parse_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_duration("10µs"), Ok(10_000));
        assert_eq!(parse_duration("10μs"), Ok(10_000));
        assert_eq!(parse_duration("1us1ns"), Ok(1_001));
        assert_eq!(parse_duration("-1.5h"), Ok(-5400 * S));
        assert_eq!(
            parse_duration("0.3333333333333333333h"),
            Ok(1_200_000_000_000)
        );
        assert_eq!(parse_duration("9223372036854775807ns"), Ok(i64::MAX));
        assert_eq!(parse_duration("-9223372036854775808ns"), Ok(i64::MIN));
        assert_eq!(
            parse_duration("9223372036854775808ns")
                .unwrap_err()
                .to_string(),
            "time: invalid duration \"9223372036854775808ns\""
        );
        assert_eq!(
            parse_duration("").unwrap_err().to_string(),
            "time: invalid duration \"\""
        );
        assert_eq!(
            parse_duration("30").unwrap_err().to_string(),
            "time: missing unit in duration \"30\""
        );
        assert_eq!(
            parse_duration("1..2h").unwrap_err().to_string(),
            "time: missing unit in duration \"1..2h\""
        );
        assert_eq!(
            parse_duration("30d").unwrap_err().to_string(),
            "time: unknown unit \"d\" in duration \"30d\""
        );
        assert_eq!(
            parse_duration("1h 30m").unwrap_err().to_string(),
            "time: unknown unit \"h \" in duration \"1h 30m\""
        );
        assert_eq!(
            parse_duration("3é").unwrap_err().to_string(),
            "time: unknown unit \"\\xc3\\xa9\" in duration \"3\\xc3\\xa9\""
        );
        for bad in [".s", "h", "-", "+-1s", "1s-1s", "1e3s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

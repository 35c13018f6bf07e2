//! Go string semantics on byte strings: the `strings` and `unicode` functions Sprig uses
//! (UTF-8 decoding and `strconv` quoting are in `go_semantics`).

use go_semantics::strconv::{is_print, quote};
use go_semantics::utf8::{append_rune, decode_last_rune, decode_rune, rune_count, runes};

/// `unicode.IsSpace`.
pub fn is_space(c: char) -> bool {
    match u32::from(c) {
        0x09..=0x0D | 0x20 | 0x85 | 0xA0 => true,
        u if u < 0x100 => false,
        _ => c.is_whitespace(),
    }
}

/// `unicode.IsLetter` (approximated by Rust's alphabetic property outside ASCII).
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic()
    }
}

/// `unicode.IsDigit` (approximated by Rust's numeric property outside ASCII).
pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        c.is_numeric()
    }
}

/// Go's simple (1:1) case mapping: a rune whose full mapping is not a single
/// rune is left alone, as `unicode.ToUpper` does for e.g. 'ß'.
pub fn to_upper_rune(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// See [`to_upper_rune`]. The only rune whose full lower-case mapping has
/// several runes is U+0130, whose simple mapping is the first of them.
pub fn to_lower_rune(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// `unicode.ToTitle` (title case equals upper case outside a few digraphs).
pub fn to_title_rune(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        _ => to_upper_rune(c),
    }
}

/// `strings.Map` with a rune mapping: invalid bytes become U+FFFD.
pub fn map_runes(s: &[u8], f: impl Fn(char) -> char) -> Vec<u8> {
    if s.is_ascii() {
        return s.iter().map(|&b| char::from(b)).map(&f).fold(
            Vec::with_capacity(s.len()),
            |mut v, c| {
                append_rune(&mut v, c);
                v
            },
        );
    }
    let mut out = Vec::with_capacity(s.len());
    for (_, r, _) in runes(s) {
        append_rune(&mut out, f(r));
    }
    out
}

/// `strings.ToUpper`.
pub fn to_upper(s: &[u8]) -> Vec<u8> {
    map_runes(s, to_upper_rune)
}

/// `strings.ToLower`.
pub fn to_lower(s: &[u8]) -> Vec<u8> {
    map_runes(s, to_lower_rune)
}

/// `strings.Title` (deprecated in Go but what Sprig's `title` calls).
pub fn title(s: &[u8]) -> Vec<u8> {
    fn is_separator(r: char) -> bool {
        if r.is_ascii() {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if is_letter(r) || is_digit(r) {
            return false;
        }
        is_space(r)
    }
    let mut prev = ' ';
    let mut out = Vec::with_capacity(s.len());
    for (_, r, _) in runes(s) {
        let m = if is_separator(prev) {
            to_title_rune(r)
        } else {
            r
        };
        append_rune(&mut out, m);
        prev = r;
    }
    out
}

/// `strings.TrimSpace`.
pub fn trim_space(s: &[u8]) -> &[u8] {
    let mut start = 0;
    while let Some(rest) = s.get(start..) {
        let (r, w) = decode_rune(rest);
        if w == 0 || !is_space(r) {
            break;
        }
        start += w;
    }
    let mut end = s.len();
    while end > start {
        let (r, w) = decode_last_rune(s.get(start..end).unwrap_or_default());
        if w == 0 || !is_space(r) {
            break;
        }
        end -= w;
    }
    s.get(start..end).unwrap_or_default()
}

/// `strings.Trim(s, cutset)`.
pub fn trim_cutset<'a>(s: &'a [u8], cutset: &[u8]) -> &'a [u8] {
    if s.is_empty() || cutset.is_empty() {
        return s;
    }
    if cutset.is_ascii() {
        let mut start = 0;
        let mut end = s.len();
        while start < end && s.get(start).is_some_and(|b| cutset.contains(b)) {
            start += 1;
        }
        while end > start && s.get(end - 1).is_some_and(|b| cutset.contains(b)) {
            end -= 1;
        }
        return s.get(start..end).unwrap_or_default();
    }
    // Go decodes both strings rune by rune; invalid bytes are U+FFFD on
    // both sides, so they match each other and a literal U+FFFD.
    let set: std::collections::BTreeSet<char> = runes(cutset).map(|(_, c, _)| c).collect();
    let mut start = 0;
    while let Some(rest) = s.get(start..) {
        let (r, w) = decode_rune(rest);
        if w == 0 || !set.contains(&r) {
            break;
        }
        start += w;
    }
    let mut end = s.len();
    while end > start {
        let (r, w) = decode_last_rune(s.get(start..end).unwrap_or_default());
        if w == 0 || !set.contains(&r) {
            break;
        }
        end -= w;
    }
    s.get(start..end).unwrap_or_default()
}

/// Byte-string search (`strings.Index`).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    let m = needle.len();
    if m > hay.len() {
        return None;
    }
    if m <= 16 {
        return hay.windows(m).position(|w| w == needle);
    }
    // Knuth-Morris-Pratt keeps long needles linear.
    let at = |i: usize| needle.get(i).copied().unwrap_or(0);
    let mut fail = vec![0usize; m];
    let mut k = 0usize;
    for i in 1..m {
        while k > 0 && at(i) != at(k) {
            k = fail.get(k - 1).copied().unwrap_or(0);
        }
        if at(i) == at(k) {
            k += 1;
        }
        if let Some(f) = fail.get_mut(i) {
            *f = k;
        }
    }
    let mut q = 0usize;
    for (i, &c) in hay.iter().enumerate() {
        while q > 0 && at(q) != c {
            q = fail.get(q - 1).copied().unwrap_or(0);
        }
        if at(q) == c {
            q += 1;
        }
        if q == m {
            return Some(i + 1 - m);
        }
    }
    None
}

/// `strings.Count` for a non-empty separator.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(rest) = hay.get(i..) {
        match find(rest, needle) {
            Some(j) => {
                n += 1;
                i += j + needle.len();
            }
            None => break,
        }
    }
    n
}

/// `strings.SplitN(s, sep, n)` (n < 0 means no limit).
pub fn split_n<'a>(s: &'a [u8], sep: &[u8], n: i64) -> Vec<&'a [u8]> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        // explode into UTF-8 sequences
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut i = 0;
        while i < s.len() {
            if n > 0 && parts.len() as i64 == n - 1 {
                parts.push(s.get(i..).unwrap_or_default());
                return parts;
            }
            let (_, w) = decode_rune(s.get(i..).unwrap_or_default());
            let w = w.max(1);
            parts.push(s.get(i..i + w).unwrap_or_default());
            i += w;
        }
        return parts;
    }
    let limit = if n < 0 {
        usize::MAX
    } else {
        usize::try_from(n).unwrap_or(usize::MAX)
    };
    let mut parts = Vec::new();
    let mut rest = s;
    while parts.len() + 1 < limit {
        match find(rest, sep) {
            Some(j) => {
                parts.push(rest.get(..j).unwrap_or_default());
                rest = rest.get(j + sep.len()..).unwrap_or_default();
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

/// Number of parts `split_n(s, sep, -1)` would produce (for size checks).
pub fn split_count(s: &[u8], sep: &[u8]) -> usize {
    if sep.is_empty() {
        rune_count(s)
    } else {
        count(s, sep) + 1
    }
}

/// `strings.Replace(s, old, new, -1)`, failing when the result would exceed `max`.
pub fn replace_all(s: &[u8], old: &[u8], new: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    if old.is_empty() {
        // insert `new` before every rune and at the end
        for (i, _, w) in runes(s) {
            out.extend_from_slice(new);
            out.extend_from_slice(s.get(i..i + w).unwrap_or_default());
            if out.len() > max {
                return None;
            }
        }
        out.extend_from_slice(new);
        return (out.len() <= max).then_some(out);
    }
    let mut rest = s;
    while let Some(j) = find(rest, old) {
        out.extend_from_slice(rest.get(..j).unwrap_or_default());
        out.extend_from_slice(new);
        if out.len() > max {
            return None;
        }
        rest = rest.get(j + old.len()..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    (out.len() <= max).then_some(out)
}

/// Go's `%#U` for a rune: `U+0041 'A'` (the quoted form only when printable).
pub fn sharp_u(r: char) -> String {
    let u = u32::from(r);
    if is_print(r) {
        format!("U+{u:04X} '{r}'")
    } else {
        format!("U+{u:04X}")
    }
}

/// `%.Nq` of a string: truncate to N runes, then quote (used in parse errors).
pub fn quote_prefix(s: &str, runes_max: usize) -> String {
    let cut: String = s.chars().take(runes_max).collect();
    quote(cut.as_bytes())
}

/// `%q` of template source text (which is valid UTF-8).
pub fn quote_str(s: &str) -> String {
    quote(s.as_bytes())
}

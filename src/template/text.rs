//! Go string semantics on byte strings: UTF-8 decoding the way `unicode/utf8`
//! does it, `strconv` quoting/unquoting and the `strings` functions Sprig uses.

/// U+FFFD, what Go's decoder yields for an invalid byte.
pub const REPLACEMENT: char = '\u{FFFD}';

/// `utf8.DecodeRune`: the rune at the start of `b` and its width. Invalid or
/// truncated sequences yield (U+FFFD, 1); an empty input yields (U+FFFD, 0).
pub fn decode_rune(b: &[u8]) -> (char, usize) {
    let Some(&b0) = b.first() else {
        return (REPLACEMENT, 0);
    };
    if b0 < 0x80 {
        return (char::from(b0), 1);
    }
    let need = match b0 {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (REPLACEMENT, 1),
    };
    match b.get(..need).map(std::str::from_utf8) {
        Some(Ok(s)) => match s.chars().next() {
            Some(c) => (c, need),
            None => (REPLACEMENT, 1),
        },
        _ => (REPLACEMENT, 1),
    }
}

/// `utf8.DecodeLastRune`.
pub fn decode_last_rune(b: &[u8]) -> (char, usize) {
    let n = b.len();
    if n == 0 {
        return (REPLACEMENT, 0);
    }
    let start_min = n.saturating_sub(4);
    let mut start = n - 1;
    while start > start_min && b.get(start).is_some_and(|&c| c & 0xC0 == 0x80) {
        start -= 1;
    }
    let tail = b.get(start..).unwrap_or_default();
    let (r, size) = decode_rune(tail);
    if start + size == n {
        (r, size)
    } else {
        (REPLACEMENT, 1)
    }
}

/// Iterates over (byte offset, rune, width) the way Go's `for i, r := range s` does.
pub fn runes(b: &[u8]) -> impl Iterator<Item = (usize, char, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let rest = b.get(i..)?;
        if rest.is_empty() {
            return None;
        }
        let (r, w) = decode_rune(rest);
        let at = i;
        i += w.max(1);
        Some((at, r, w.max(1)))
    })
}

/// Appends the UTF-8 encoding of `c`.
pub fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Number of runes, as `utf8.RuneCount`.
pub fn rune_count(b: &[u8]) -> usize {
    runes(b).count()
}

/// Approximates `unicode.IsPrint` (Go's tables are not available here):
/// exact for ASCII and Latin-1, and for the rest it rejects controls, the
/// Unicode space separators other than U+0020, format characters that are
/// commonly met, surrogates and private-use code points.
pub fn is_print(c: char) -> bool {
    let u = u32::from(c);
    if u < 0x80 {
        return (0x20..0x7F).contains(&u);
    }
    if c.is_control() {
        return false;
    }
    if c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xAD
        | 0x600..=0x605
        | 0x61C
        | 0x6DD
        | 0x70F
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF
        | 0xF0000..=0x10FFFF
        | 0xFFFE
        | 0xFFFF
        | 0xE0001
        | 0xE0020..=0xE007F
    )
}

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
                push_char(&mut v, c);
                v
            },
        );
    }
    let mut out = Vec::with_capacity(s.len());
    for (_, r, _) in runes(s) {
        push_char(&mut out, f(r));
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
        push_char(&mut out, m);
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

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut Vec<u8>, v: u32, digits: usize) {
    for k in (0..digits).rev() {
        let nib = (v >> (4 * k)) & 0xF;
        out.push(LOWER_HEX.get(nib as usize).copied().unwrap_or(b'0'));
    }
}

/// `strconv.Quote`.
pub fn quote(s: &[u8]) -> Vec<u8> {
    quote_with(s, b'"')
}

/// `strconv.QuoteRune`.
pub fn quote_rune(r: char) -> Vec<u8> {
    let mut out = vec![b'\''];
    escape_rune(&mut out, r, 0, b'\'');
    out.push(b'\'');
    out
}

fn quote_with(s: &[u8], q: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(q);
    for (i, r, w) in runes(s) {
        let byte = s.get(i).copied().unwrap_or(0);
        escape_rune(&mut out, r, if w == 1 { byte } else { 0 }, q);
    }
    out.push(q);
    out
}

/// Appends one rune escaped as `strconv.Quote` does; `raw_byte` is the byte
/// when `r` came from a single invalid byte (then written as `\xHH`).
fn escape_rune(out: &mut Vec<u8>, r: char, raw_byte: u8, q: u8) {
    if r == REPLACEMENT && raw_byte >= 0x80 {
        out.extend_from_slice(b"\\x");
        push_hex(out, u32::from(raw_byte), 2);
        return;
    }
    if r == char::from(q) || r == '\\' {
        out.push(b'\\');
        push_char(out, r);
        return;
    }
    if is_print(r) {
        push_char(out, r);
        return;
    }
    match r {
        '\u{7}' => out.extend_from_slice(b"\\a"),
        '\u{8}' => out.extend_from_slice(b"\\b"),
        '\u{C}' => out.extend_from_slice(b"\\f"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\t' => out.extend_from_slice(b"\\t"),
        '\u{B}' => out.extend_from_slice(b"\\v"),
        _ => {
            let u = u32::from(r);
            if u < 0x20 || u == 0x7F {
                out.extend_from_slice(b"\\x");
                push_hex(out, u, 2);
            } else if u < 0x10000 {
                out.extend_from_slice(b"\\u");
                push_hex(out, u, 4);
            } else {
                out.extend_from_slice(b"\\U");
                push_hex(out, u, 8);
            }
        }
    }
}

fn unhex(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

/// One decoded unit of `strconv.UnquoteChar`: a rune or a raw byte.
pub enum Unquoted {
    Rune(char),
    Byte(u8),
}

/// `strconv.UnquoteChar(s, quote)`: the first character (or escape) of `s`
/// and the remaining tail. `None` means Go's `ErrSyntax`.
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

/// `strconv.Unquote` for "..." and `...` literals (the only kinds the template
/// lexer hands over). `None` means Go's "invalid syntax".
pub fn unquote(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let n = b.len();
    if n < 2 {
        return None;
    }
    let q = *b.first()?;
    if Some(&q) != b.last() {
        return None;
    }
    let inner = b.get(1..n - 1)?;
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
                    Unquoted::Rune(r) => push_char(&mut out, r),
                    Unquoted::Byte(x) => out.push(x),
                }
                rest = tail;
            }
            Some(out)
        }
        _ => None,
    }
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
    String::from_utf8_lossy(&quote(cut.as_bytes())).into_owned()
}

/// `%q` of template source text (which is valid UTF-8).
pub fn quote_str(s: &str) -> String {
    String::from_utf8_lossy(&quote(s.as_bytes())).into_owned()
}

/// Value of an ASCII digit or letter in bases up to 36.
pub fn digit_val(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

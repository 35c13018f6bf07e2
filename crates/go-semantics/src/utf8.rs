//! `unicode/utf8` on byte strings: Go strings are bytes, and invalid UTF-8 decodes one byte at a
//! time to U+FFFD.

/// `utf8.RuneError` (U+FFFD), what Go's decoder yields for an invalid byte.
pub const RUNE_ERROR: char = '\u{FFFD}';

/// `utf8.DecodeRune`: the rune at the start of `b` and its width. Invalid or truncated sequences
/// (including surrogates and overlong forms) yield `(RUNE_ERROR, 1)`; an empty input yields
/// `(RUNE_ERROR, 0)`. A real U+FFFD in the input yields `(RUNE_ERROR, 3)`.
pub fn decode_rune(b: &[u8]) -> (char, usize) {
    let Some(&b0) = b.first() else {
        return (RUNE_ERROR, 0);
    };
    if b0 < 0x80 {
        return (char::from(b0), 1);
    }
    let need = match b0 {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    match b.get(..need).map(std::str::from_utf8) {
        Some(Ok(s)) => match s.chars().next() {
            Some(c) => (c, need),
            None => (RUNE_ERROR, 1),
        },
        _ => (RUNE_ERROR, 1),
    }
}

/// [`decode_rune`] as an `Option`: `None` where Go returns `RuneError` for invalid or empty input
/// (width 0 or 1), `Some((rune, width))` otherwise.
pub fn decode_valid_rune(b: &[u8]) -> Option<(char, usize)> {
    match decode_rune(b) {
        (RUNE_ERROR, 0 | 1) => None,
        ok => Some(ok),
    }
}

/// `utf8.DecodeLastRune`.
pub fn decode_last_rune(b: &[u8]) -> (char, usize) {
    let n = b.len();
    if n == 0 {
        return (RUNE_ERROR, 0);
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
        (RUNE_ERROR, 1)
    }
}

/// (byte offset, rune, width) the way Go's `for i, r := range s` walks a string.
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

/// `utf8.RuneCount`.
pub fn rune_count(b: &[u8]) -> usize {
    runes(b).count()
}

/// `utf8.AppendRune`.
pub fn append_rune(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go() {
        assert_eq!(decode_rune(b""), (RUNE_ERROR, 0));
        assert_eq!(decode_rune(b"a"), ('a', 1));
        assert_eq!(decode_rune("é!".as_bytes()), ('é', 2));
        assert_eq!(decode_rune(b"\xff"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xe2\x82"), (RUNE_ERROR, 1));
        // Surrogate halves and overlong forms are invalid in Go too.
        assert_eq!(decode_rune(b"\xed\xa0\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xc0\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune("\u{FFFD}".as_bytes()), (RUNE_ERROR, 3));
        assert_eq!(
            decode_valid_rune("\u{FFFD}".as_bytes()),
            Some((RUNE_ERROR, 3))
        );
        assert_eq!(decode_valid_rune(b"\x80"), None);
        assert_eq!(decode_valid_rune(b""), None);
        assert_eq!(decode_last_rune("aé".as_bytes()), ('é', 2));
        assert_eq!(decode_last_rune(b"a\x80"), (RUNE_ERROR, 1));
        assert_eq!(rune_count(b"a\xffb\xe2\x82\xac"), 4);
        let mut v = Vec::new();
        append_rune(&mut v, '€');
        assert_eq!(v, "€".as_bytes());
    }
}

//! `encoding/base64.StdEncoding`: standard alphabet, `=` padding.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Go's `base64.CorruptInputError`: the byte offset Go reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal base64 data at input byte {0}")]
pub struct CorruptInputError(pub usize);

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn is_newline(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// `base64.StdEncoding.DecodeString`: padding required, `\r` and `\n` skipped anywhere, the
/// unused bits of the last quantum ignored; errors carry the byte offset Go reports
/// (`illegal base64 data at input byte N`). A port of Go's `decodeQuantum` loop.
pub fn decode(src: &[u8]) -> Result<Vec<u8>, CorruptInputError> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0usize;
    loop {
        let mut dbuf = [0u8; 4];
        let mut dlen = 4usize;
        let mut trailing_err = None;
        let mut j = 0usize;
        while j < 4 {
            let Some(&c) = src.get(si) else {
                if j == 0 {
                    return Ok(out);
                }
                return Err(CorruptInputError(si - j));
            };
            si += 1;
            if let Some(v) = sextet(c) {
                if let Some(slot) = dbuf.get_mut(j) {
                    *slot = v;
                }
                j += 1;
                continue;
            }
            if is_newline(c) {
                continue;
            }
            if c != b'=' {
                return Err(CorruptInputError(si - 1));
            }
            // Padding: `=` is only allowed in the last two positions of a quantum.
            match j {
                0 | 1 => return Err(CorruptInputError(si - 1)),
                2 => {
                    while src.get(si).is_some_and(|&c| is_newline(c)) {
                        si += 1;
                    }
                    match src.get(si) {
                        None => return Err(CorruptInputError(src.len())),
                        Some(&b'=') => si += 1,
                        Some(_) => return Err(CorruptInputError(si - 1)),
                    }
                }
                _ => {}
            }
            while src.get(si).is_some_and(|&c| is_newline(c)) {
                si += 1;
            }
            if si < src.len() {
                // Go writes the partial quantum, then reports the trailing garbage.
                trailing_err = Some(CorruptInputError(si));
            }
            dlen = j;
            break;
        }
        let [d0, d1, d2, d3] = dbuf;
        let val =
            (u32::from(d0) << 18) | (u32::from(d1) << 12) | (u32::from(d2) << 6) | u32::from(d3);
        let bytes = val.to_be_bytes();
        out.extend_from_slice(bytes.get(1..dlen).unwrap_or_default());
        if let Some(e) = trailing_err {
            return Err(e);
        }
        if dlen < 4 {
            return Ok(out);
        }
    }
}

/// `base64.StdEncoding.EncodeToString` (padded).
pub fn encode(src: &[u8]) -> String {
    encode_with(src, true)
}

/// `base64.RawStdEncoding.EncodeToString` (no padding).
pub fn encode_unpadded(src: &[u8]) -> String {
    encode_with(src, false)
}

fn encode_with(src: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(3) * 4);
    for chunk in src.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        let sym = |k: u32| {
            char::from(
                ALPHABET
                    .get(((v >> k) & 0x3F) as usize)
                    .copied()
                    .unwrap_or(b'A'),
            )
        };
        out.push(sym(18));
        out.push(sym(12));
        if chunk.len() > 1 {
            out.push(sym(6));
        } else if pad {
            out.push('=');
        }
        if chunk.len() > 2 {
            out.push(sym(0));
        } else if pad {
            out.push('=');
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decode_matches_go_offsets() {
        assert_eq!(decode(b"YWJj").unwrap(), b"abc");
        assert_eq!(decode(b"YW\nJj\r\n").unwrap(), b"abc");
        assert_eq!(decode(b"YWI=").unwrap(), b"ab");
        assert_eq!(decode(b"YQ==").unwrap(), b"a");
        assert_eq!(decode(b"YQ=\n=").unwrap(), b"a");
        assert_eq!(decode(b"").unwrap(), b"");
        assert_eq!(decode(b"\r\n").unwrap(), b"");
        // Trailing bits are ignored (StdEncoding is not Strict).
        assert_eq!(decode(b"YR==").unwrap(), b"a");
        // Values checked against Go 1.26 base64.StdEncoding.DecodeString.
        assert_eq!(decode(b"YWJ").unwrap_err(), CorruptInputError(0));
        assert_eq!(decode(b"YWJjZ").unwrap_err(), CorruptInputError(4));
        assert_eq!(decode(b"not base64!").unwrap_err(), CorruptInputError(3));
        assert_eq!(decode(b"YQ=").unwrap_err(), CorruptInputError(3));
        assert_eq!(decode(b"YQ==YQ==").unwrap_err(), CorruptInputError(4));
        assert_eq!(decode(b"=").unwrap_err(), CorruptInputError(0));
        assert_eq!(decode(b"Y===").unwrap_err(), CorruptInputError(1));
        assert_eq!(decode(b"YQ=A").unwrap_err(), CorruptInputError(2));
        assert_eq!(
            decode(b"YWJj!").unwrap_err().to_string(),
            "illegal base64 data at input byte 4"
        );
    }

    #[test]
    fn encode_round_trips() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"a"), "YQ==");
        assert_eq!(encode(b"ab"), "YWI=");
        assert_eq!(encode(b"abc"), "YWJj");
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
        assert_eq!(encode_unpadded(b"a"), "YQ");
        assert_eq!(encode_unpadded(b"ab"), "YWI");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(encode(&all).as_bytes()).unwrap(), all);
    }
}

//! Hybrid encryption in the upstream wire format (spec §1.1-1.4).
//!
//! `u16 BE len(rsa_ct) || RSA-OAEP(SHA-256, MGF1-SHA-256, label)(session_key) || AES-256-GCM(session_key,
//! nonce = 0^12, no AAD)(plaintext) || tag`. Every value gets a fresh 32-byte session key, which is
//! what makes the fixed zero nonce safe. RSA goes through aws-lc-rs (constant time, blinded; §12).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey};
use zeroize::Zeroizing;

use crate::secret::SecretBytes;

const SESSION_KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Upstream's text for a value shorter than its declared RSA part.
    #[error("SealedSecret data is too short")]
    TooShort,
    /// RSA or GCM failed with this key; deliberately carries no detail (uniform failures, §12).
    #[error("decryption error")]
    Decrypt,
    #[error("crypto/rsa: message too long for RSA key size")]
    MessageTooLong,
    #[error("encryption failed")]
    Encrypt,
}

fn oaep_label(label: &[u8]) -> Option<&[u8]> {
    // An empty OAEP label and no label are the same thing (the hash of the empty string).
    if label.is_empty() { None } else { Some(label) }
}

/// Encrypts `plaintext` for `key` with the scope `label` (§1.3).
pub fn hybrid_encrypt(
    key: &OaepPublicEncryptingKey,
    plaintext: &[u8],
    label: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    aws_lc_rs::rand::fill(session_key.as_mut()).map_err(|_| CryptoError::Encrypt)?;

    let rsa_len = key.ciphertext_size();
    let prefix = u16::try_from(rsa_len).map_err(|_| CryptoError::MessageTooLong)?;
    let mut out = Vec::with_capacity(2 + rsa_len + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&prefix.to_be_bytes());
    out.resize(2 + rsa_len, 0);
    let written = key
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            session_key.as_ref(),
            out.get_mut(2..).ok_or(CryptoError::Encrypt)?,
            oaep_label(label),
        )
        .map_err(|_| CryptoError::MessageTooLong)?
        .len();
    out.truncate(2 + written);

    let aead = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, session_key.as_ref()).map_err(|_| CryptoError::Encrypt)?,
    );
    let mut body = plaintext.to_vec();
    aead.seal_in_place_append_tag(
        Nonce::assume_unique_for_key([0u8; 12]),
        Aad::empty(),
        &mut body,
    )
    .map_err(|_| CryptoError::Encrypt)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypts one value with one private key (§1.4 step 2).
pub fn hybrid_decrypt(
    key: &OaepPrivateDecryptingKey,
    ciphertext: &[u8],
    label: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let (len_bytes, rest) = ciphertext
        .split_first_chunk::<2>()
        .ok_or(CryptoError::TooShort)?;
    let rsa_len = usize::from(u16::from_be_bytes(*len_bytes));
    if rest.len() < rsa_len {
        return Err(CryptoError::TooShort);
    }
    let (rsa_part, aes_part) = rest.split_at(rsa_len);

    let mut session_key = Zeroizing::new(vec![0u8; key.min_output_size().max(SESSION_KEY_LEN)]);
    let session_key = key
        .decrypt(
            &OAEP_SHA256_MGF1SHA256,
            rsa_part,
            session_key.as_mut_slice(),
            oaep_label(label),
        )
        .map_err(|_| CryptoError::Decrypt)?;
    let unbound = UnboundKey::new(&AES_256_GCM, session_key).map_err(|_| CryptoError::Decrypt)?;
    let aead = LessSafeKey::new(unbound);
    let mut body = Zeroizing::new(aes_part.to_vec());
    let plain = aead
        .open_in_place(
            Nonce::assume_unique_for_key([0u8; 12]),
            Aad::empty(),
            body.as_mut_slice(),
        )
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(SecretBytes::produced(plain.to_vec()))
}

/// Base64 decoding exactly as Go's `base64.StdEncoding.DecodeString`: padding required, `\r` and `\n`
/// skipped anywhere, trailing bits ignored; errors report Go's byte offset
/// (`illegal base64 data at input byte N`).
pub fn go_base64_decode(src: &[u8]) -> Result<Vec<u8>, Base64Error> {
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
    let is_nl = |c: u8| c == b'\n' || c == b'\r';
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
                return Err(Base64Error(si - j));
            };
            si += 1;
            if let Some(v) = sextet(c) {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if is_nl(c) {
                continue;
            }
            if c != b'=' {
                return Err(Base64Error(si - 1));
            }
            match j {
                0 | 1 => return Err(Base64Error(si - 1)),
                2 => {
                    while src.get(si).is_some_and(|&c| is_nl(c)) {
                        si += 1;
                    }
                    match src.get(si) {
                        None => return Err(Base64Error(src.len())),
                        Some(&b'=') => si += 1,
                        Some(_) => return Err(Base64Error(si - 1)),
                    }
                }
                _ => {}
            }
            while src.get(si).is_some_and(|&c| is_nl(c)) {
                si += 1;
            }
            if si < src.len() {
                trailing_err = Some(Base64Error(si));
            }
            dlen = j;
            break;
        }
        let val = (u32::from(dbuf[0]) << 18)
            | (u32::from(dbuf[1]) << 12)
            | (u32::from(dbuf[2]) << 6)
            | u32::from(dbuf[3]);
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

/// Go's `base64.CorruptInputError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal base64 data at input byte {0}")]
pub struct Base64Error(pub usize);

/// Standard base64 with padding, single line (§1.2).
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn go_base64_matches_go_offsets() {
        assert_eq!(go_base64_decode(b"YWJj").unwrap(), b"abc");
        assert_eq!(go_base64_decode(b"YW\nJj\r\n").unwrap(), b"abc");
        assert_eq!(go_base64_decode(b"YWI=").unwrap(), b"ab");
        assert_eq!(go_base64_decode(b"YQ==").unwrap(), b"a");
        assert_eq!(go_base64_decode(b"").unwrap(), b"");
        // Values checked against Go 1.26 base64.StdEncoding.DecodeString.
        assert_eq!(go_base64_decode(b"YWJ").unwrap_err(), Base64Error(0));
        assert_eq!(go_base64_decode(b"YWJjZ").unwrap_err(), Base64Error(4));
        assert_eq!(
            go_base64_decode(b"not base64!").unwrap_err(),
            Base64Error(3)
        );
        assert_eq!(go_base64_decode(b"YQ=").unwrap_err(), Base64Error(3));
        assert_eq!(go_base64_decode(b"YQ==YQ==").unwrap_err(), Base64Error(4));
        assert_eq!(go_base64_decode(b"=").unwrap_err(), Base64Error(0));
        assert_eq!(
            go_base64_decode(b"YWJj!").unwrap_err().to_string(),
            "illegal base64 data at input byte 4"
        );
    }
}

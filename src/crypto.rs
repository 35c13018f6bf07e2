//! Hybrid encryption in the upstream wire format (`pkg/crypto/crypto.go` `HybridEncrypt`,
//! `HybridDecrypt`).
//!
//! `u16 BE len(rsa_ct) || RSA-OAEP(SHA-256, MGF1-SHA-256, label)(session_key) || AES-256-GCM(session_key,
//! nonce = 0^12, no AAD)(plaintext) || tag`. Every value gets a fresh 32-byte session key, which is
//! what makes the fixed zero nonce safe. RSA goes through aws-lc-rs (constant time, blinded; see
//! docs/security.md).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey};
use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroizing;

use crate::secret::SecretBytes;

const SESSION_KEY_LEN: usize = 32;

/// Every RSA private-key operation of the process (each key tried on each value counts once,
/// whether it decrypts or not): the controller exports it as
/// `sealed_secrets_controller_rsa_private_key_operations_total` (docs/operations.md), which makes
/// "no RSA work for unchanged SealedSecrets" measurable.
static RSA_PRIVATE_KEY_OPERATIONS: AtomicU64 = AtomicU64::new(0);

/// The number of RSA private-key operations so far (see [`RSA_PRIVATE_KEY_OPERATIONS`]).
pub fn rsa_private_key_operations() -> u64 {
    RSA_PRIVATE_KEY_OPERATIONS.load(Ordering::Relaxed)
}

/// Counts one RSA private-key operation; called right before aws-lc-rs performs it.
pub(crate) fn count_rsa_private_key_operation() {
    RSA_PRIVATE_KEY_OPERATIONS.fetch_add(1, Ordering::Relaxed);
}
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Upstream's text for a value shorter than its declared RSA part.
    #[error("SealedSecret data is too short")]
    TooShort,
    /// RSA or GCM failed with this key; deliberately carries no detail (docs/security.md).
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

/// Encrypts `plaintext` for `key` with the scope `label` (upstream `HybridEncrypt`).
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

/// Decrypts one value with one private key (upstream `singleDecrypt`).
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
    count_rsa_private_key_operation();
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

//! sealed-secrets core: no Kubernetes client, no async runtime, no network, no filesystem.
//! Bytes in (YAML/JSON, PEM) -> typed values -> bytes out. No panics on any input; every failure is
//! a typed error whose text matches upstream where the spec gives it, and never contains plaintext.

pub mod backup;
pub mod codec;
pub mod crd;
pub mod crypto;
pub mod keys;
pub mod output;
pub mod raw;
pub mod recovery;
pub mod scope;
pub mod seal;
pub mod seal_target;
pub mod secret;
pub mod template;
pub mod types;
pub mod unseal;

#[cfg(test)]
mod tests;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("no key could decrypt secret")]
    NoKeyCouldDecrypt,
    /// Per-item unseal failures, already grouped as upstream prints them (§4.3).
    #[error("{0}")]
    Unseal(String),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
    #[error("{0}")]
    Message(String),
}

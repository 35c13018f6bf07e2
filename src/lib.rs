//! sealed-secrets core: no Kubernetes client, no async runtime, no network, no filesystem.
//! Bytes in (YAML/JSON, PEM) -> typed values -> bytes out. No panics on any input; every failure is
//! a typed error whose text matches upstream's where upstream has one, and never contains plaintext.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod backup;
pub mod crd;
pub mod crypto;
pub mod decode;
pub mod diagnosis;
pub mod expiry;
pub mod in_cluster;
pub mod inventory;
#[cfg(feature = "k8s-openapi")]
pub mod k8s;
pub mod key_secret;
pub mod keys;
pub mod lint;
pub mod output;
pub mod ownership;
pub mod parallel;
pub mod raw;
pub mod recovery;
pub mod renewal;
pub mod reseal;
pub mod rewrite;
pub mod scope;
pub mod seal;
pub mod seal_target;
pub mod secret;
pub mod status;
pub mod types;
pub mod unseal;
pub mod unseal_record;

#[cfg(test)]
mod test_keys;
#[cfg(test)]
mod tests;

/// Every failure of the core. The texts are upstream's where the spec gives them, and never contain
/// plaintext or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("no key could decrypt secret")]
    NoKeyCouldDecrypt,
    /// Per-item unseal failures, grouped as upstream prints them.
    #[error("{0}")]
    Unseal(unseal::ItemErrors),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error(transparent)]
    Codec(#[from] goyaml::CodecError),
    /// A value that is not Go-valid base64 (standard alphabet, padded).
    #[error(transparent)]
    Base64(#[from] go_semantics::base64::CorruptInputError),
    #[error("unsupported output format: {0}")]
    UnsupportedOutputFormat(String),
    /// An object could not be turned into JSON (serde's message, which names no values).
    #[error("{0}")]
    Serialize(String),
    #[error(
        "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used"
    )]
    EmptyData,
    #[error("missing metadata.name in input Secret")]
    MissingName,
    #[error(
        "namespace mismatch: input secret is in namespace {input:?} but {specified:?} was specified"
    )]
    NamespaceMismatch { input: String, specified: String },
    #[error("secret must declare a namespace")]
    MissingNamespace,
    #[error("using deprecated 'data' field, use 'encryptedData' or flip the feature flag")]
    DeprecatedDataRefused,
    #[error(
        "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"
    )]
    DataAndEncryptedData,
    /// The legacy `data` blob decrypted but is not a Secret (serde's message names positions only).
    #[error("invalid secret in deprecated data field: {0}")]
    InvalidV1Secret(String),
}

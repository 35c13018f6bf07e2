//! The checked-in fixture keys (tests/fixtures/keys) for unit tests of the core, and a value
//! sealed with them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::keys::{Certificate, PrivateKey, PublicKey};

pub const CERT: &[u8] = include_bytes!("../tests/fixtures/keys/cert.pem");
pub const KEY: &[u8] = include_bytes!("../tests/fixtures/keys/key-pkcs1.pem");
pub const OTHER_KEY: &[u8] = include_bytes!("../tests/fixtures/keys/other-key.pem");

/// The private key of [`CERT`].
pub fn keys() -> Vec<PrivateKey> {
    vec![PrivateKey::from_pem(KEY).unwrap()]
}

/// A key that opens nothing sealed with [`CERT`].
pub fn other_keys() -> Vec<PrivateKey> {
    vec![PrivateKey::from_pem(OTHER_KEY).unwrap()]
}

pub fn cert() -> PublicKey {
    Certificate::from_pem(CERT).unwrap().public_key
}

/// `plain` sealed for `label` with [`CERT`], base64 as in `encryptedData`.
pub fn seal_value(plain: &str, label: &[u8]) -> String {
    go_semantics::base64::encode(&cert().encrypt(plain.as_bytes(), label).unwrap())
}

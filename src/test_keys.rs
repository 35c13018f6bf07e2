//! The checked-in fixture keys (tests/fixtures/keys) for unit tests of the core, and a value
//! sealed with them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime};

use crate::keys::{Certificate, KeyRing, PrivateKey, PublicKey, SealingKeyPair};

pub const CERT: &[u8] = include_bytes!("../tests/fixtures/keys/cert.pem");
pub const KEY: &[u8] = include_bytes!("../tests/fixtures/keys/key-pkcs1.pem");
pub const OTHER_KEY: &[u8] = include_bytes!("../tests/fixtures/keys/other-key.pem");
/// The certificate of [`OTHER_KEY`] (4096 bits).
pub const OTHER_CERT: &[u8] = include_bytes!("../tests/fixtures/keys/other-cert.pem");

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

/// A key ring of `(private key, certificate)` PEM pairs, made in that order: the n-th at the
/// epoch plus n seconds (the last is the latest).
pub fn ring(pairs: &[(&[u8], &[u8])]) -> KeyRing {
    let mut ring = KeyRing::new();
    for (i, (key, cert)) in pairs.iter().enumerate() {
        ring.add(SealingKeyPair {
            private_key: PrivateKey::from_pem(key).unwrap(),
            certificate: Certificate::from_pem(cert).unwrap(),
            order_time: SystemTime::UNIX_EPOCH + Duration::from_secs(i as u64),
        });
    }
    ring
}

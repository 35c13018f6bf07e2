//! Certificates and private keys (src/keys.rs): PEM and DER in every form kubeseal and the
//! controller accept (`--cert`, `--recovery-private-key` PEM, key Secrets' `tls.crt` / `tls.key`).
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use sealed_secrets::keys::{Certificate, PrivateKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    for cert in [Certificate::from_pem(data), Certificate::from_der(data)]
        .into_iter()
        .flatten()
    {
        let _ = cert.check_not_expired(SystemTime::UNIX_EPOCH);
        let _ = cert.check_not_expired(SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 34));
        let key = &cert.public_key;
        let _ = key.fingerprint();
        let _ = key.encrypt(b"x", b"label");
    }
    for key in [
        PrivateKey::from_pem(data),
        PrivateKey::from_pkcs8_der(data),
        PrivateKey::from_pkcs1_der(data),
    ]
    .into_iter()
    .flatten()
    {
        let _ = key.to_pkcs1_pem();
        let _ = key.public_key().fingerprint();
    }
    if let Ok(key) = PublicKey::from_spki_der(data) {
        let _ = key.fingerprint();
        let _ = key.encrypt(b"x", b"");
    }
});

//! Ciphertext framing and hybrid decryption with a fixed key (src/crypto.rs through
//! `PrivateKey::decrypt`), and whole SealedSecrets unsealed as the controller does it (src/unseal.rs:
//! items, the legacy `data` blob, templates rendered).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_secrets::unseal::{UnsealOptions, unseal};

fuzz_target!(|data: &[u8]| {
    let key = fuzz_support::private_key();
    // The raw framing: 2-byte length, RSA-OAEP session key, AES-GCM body; with the labels of the
    // three scopes.
    let labels: [&[u8]; 3] = [b"", b"ns", b"ns/name"];
    for label in labels {
        let _ = key.decrypt(data, label);
    }
    let Ok(docs) = goyaml::parse_documents(data) else {
        return;
    };
    for doc in docs {
        let Ok(ss) = sealed_secrets::decode::sealed_secret_from_object(&doc) else {
            continue;
        };
        let _ = unseal(&ss, fuzz_support::key_ring(), UnsealOptions::default());
        let _ = sealed_secrets::recovery::recover(&ss, fuzz_support::key_ring());
    }
});

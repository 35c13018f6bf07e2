//! Key Secrets (src/key_secret.rs, src/backup.rs `key_info`): any document read as a Secret, then
//! registered as the controller does (both `--key-order-priority` orders) and checked as
//! `--backup-keys` / `--restore-keys` check a key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_secrets::backup::{key_info, same_key};
use sealed_secrets::key_secret::{key_pair_from_secret, private_key};
use sealed_secrets::keys::KeyOrder;
use sealed_secrets::types::Secret;

fuzz_target!(|data: &[u8]| {
    let Ok(docs) = goyaml::parse_documents(data) else {
        return;
    };
    for doc in docs {
        let Ok(secret) = serde_json::from_value::<Secret>(doc) else {
            continue;
        };
        let _ = private_key(&secret);
        for order in [KeyOrder::CertNotBefore, KeyOrder::SecretCreationTimestamp] {
            let _ = key_pair_from_secret(&secret, order);
        }
        let _ = key_info(&secret);
        let _ = same_key(&secret, &secret);
    }
});

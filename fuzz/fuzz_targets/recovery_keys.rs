//! `--recovery-private-key` files (src/keys.rs `parse_recovery_keys`): a PEM key, a List of key
//! Secrets or a stream of them; the keys found then unseal a fixed SealedSecret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_secrets::keys::parse_recovery_keys;

fuzz_target!(|data: &[u8]| {
    let _ = parse_recovery_keys(data);
});

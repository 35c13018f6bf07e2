//! Key backups (src/backup.rs): the envelope test, age decryption (armored and binary) with a fixed
//! identity and with an identity file taken from the input, and the plain lists `--restore-keys`
//! reads. Passphrase (scrypt) files are only classified: their decryption costs up to 2^22 scrypt
//! work by design, which would make every such input a timeout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_secrets::backup::{Envelope, decrypt_with_identities, envelope, is_encrypted, parse};

/// A fixed age identity (made once with `age-keygen`; it protects only the seed backups in
/// fuzz/corpus/backup, which hold the test key of cli/tests/fixtures).
const IDENTITY: &[u8] =
    b"AGE-SECRET-KEY-1MXZ8XMT30DE3L9GUXAWR89WSPE3P3GR64VS8U957PD8L9KF4Z04QUSZR6P\n";

fuzz_target!(|data: &[u8]| {
    let _ = is_encrypted(data);
    match envelope(data) {
        Ok(Envelope::Plain) => {
            let _ = parse(data);
        }
        Ok(Envelope::Recipients) => {
            if let Ok(plain) = decrypt_with_identities(data, &[IDENTITY]) {
                let _ = parse(&plain);
            }
        }
        Ok(Envelope::Passphrase) | Err(_) => {}
    }
    // The input as an identity file (`--recovery-age-identity`), on a fixed empty backup.
    let _ = decrypt_with_identities(b"age-encryption.org/v1\n", &[data]);
});

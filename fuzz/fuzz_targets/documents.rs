//! kubeseal's input paths: the Secrets of a seal input (`read_secrets`, then sealing and printing
//! each as JSON and YAML), the SealedSecrets of `--validate` / `--re-encrypt` (`read_sealed_secrets`),
//! one SealedSecret of `--recovery-unseal` / `--merge-into` (`decode_sealed_secret`), and the
//! in-place rewrite of `--re-encrypt-path` (`rewrite::locate` + `rewrite::rewrite`).
#![no_main]

use fuzz_support::documents::{decode_sealed_secret, read_sealed_secrets, read_secrets};
use libfuzzer_sys::fuzz_target;
use sealed_secrets::output::OutputFormat;
use sealed_secrets::rewrite::{Change, locate, rewrite};
use sealed_secrets::scope::Scope;
use sealed_secrets::seal::{SealOptions, seal_secret};

fuzz_target!(|data: &[u8]| {
    if let Ok(secrets) = read_secrets(data) {
        let key = fuzz_support::private_key().public_key();
        let opts = SealOptions {
            name: String::new(),
            scope: Scope::Strict,
            namespace: "default".into(),
            namespace_explicit: false,
            allow_empty_data: true,
        };
        for secret in secrets {
            if let Ok(sealed) = seal_secret(secret, key, &opts) {
                for format in [OutputFormat::Json, OutputFormat::Yaml] {
                    let _ = format.render(&sealed.clone().with_type_meta());
                }
            }
        }
    }
    let _ = read_sealed_secrets(data);
    let _ = decode_sealed_secret(data);
    if let Ok(located) = locate(data) {
        // Replace every located value: the rewrite checks itself by decoding its output again.
        let changes: Vec<Change> = located
            .iter()
            .flat_map(|l| {
                l.sealed_secret
                    .spec
                    .encrypted_data
                    .keys()
                    .map(|item| Change {
                        document: l.document,
                        item: item.clone(),
                        value: "AgBy3i4OJSWK+PiTySYZZA==".into(),
                    })
            })
            .collect();
        let _ = rewrite(data, &located, &changes);
    }
});

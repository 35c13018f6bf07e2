//! `kubeseal --recovery-unseal`: a SealedSecret decrypted offline with private keys, as upstream's
//! `pkg/kubeseal/kubeseal.go` `UnsealSealedSecret` prints it. The decryption is the controller's
//! ([`crate::unseal::unseal`], templates rendered, no v1 data); the owner reference differs.

use crate::Error;
use crate::keys::Decrypter;
use crate::types::{SealedSecret, Secret};
use crate::unseal::{UnsealOptions, unseal};

/// The Secret `--recovery-unseal` prints for `ss`.
pub fn recover(ss: &SealedSecret, keys: &(impl Decrypter + ?Sized)) -> Result<Secret, Error> {
    let opts = UnsealOptions {
        accept_v1_data: false,
        render_templates: true,
    };
    let mut secret = unseal(ss, keys, opts)?;
    recovered_owner_reference(&mut secret, ss);
    Ok(secret)
}

/// Upstream's recovered owner reference carries the input's `apiVersion` and `kind` as they were
/// written, even empty, where the controller fills in the SealedSecret defaults.
fn recovered_owner_reference(secret: &mut Secret, input: &SealedSecret) {
    if let Some(owner) = secret.metadata.owner_references.first_mut() {
        owner.api_version = input.api_version.clone();
        owner.kind = input.kind.clone();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keys::{Certificate, PrivateKey};
    use crate::seal::{SealOptions, seal_secret};
    use crate::types::OwnerReference;

    fn sealed() -> (SealedSecret, Vec<PrivateKey>) {
        let cert =
            Certificate::from_pem(include_bytes!("../tests/fixtures/keys/cert.pem")).unwrap();
        let keys = vec![
            PrivateKey::from_pem(include_bytes!("../tests/fixtures/keys/key-pkcs1.pem")).unwrap(),
        ];
        let mut secret = Secret::default();
        secret.metadata.name = "db".into();
        secret.metadata.namespace = "prod".into();
        secret.string_data.insert(
            "k".into(),
            crate::types::SecretString("v".to_string().into()),
        );
        let ss = seal_secret(secret, &cert.public_key, &SealOptions::default()).unwrap();
        (ss, keys)
    }

    #[test]
    fn owner_keeps_the_input_type_meta() {
        let (mut ss, keys) = sealed();
        ss.metadata.uid = "u-1".into();
        let owner = |s: &Secret| s.metadata.owner_references.clone();
        assert_eq!(
            owner(&recover(&ss, keys.as_slice()).unwrap()),
            [OwnerReference {
                api_version: "bitnami.com/v1alpha1".into(),
                kind: "SealedSecret".into(),
                name: "db".into(),
                uid: "u-1".into(),
                controller: Some(true),
                block_owner_deletion: None,
            }]
        );
        ss.api_version.clear();
        ss.kind.clear();
        let recovered = recover(&ss, keys.as_slice()).unwrap();
        let o = owner(&recovered);
        assert_eq!((o[0].api_version.as_str(), o[0].kind.as_str()), ("", ""));
        assert_eq!(recovered.data["k"].as_bytes(), b"v");
        // The controller's unseal fills the defaults in.
        let unsealed = unseal(&ss, keys.as_slice(), UnsealOptions::default()).unwrap();
        assert_eq!(owner(&unsealed)[0].kind, "SealedSecret");
    }

    #[test]
    fn wrong_key_is_refused() {
        let (ss, _) = sealed();
        let other = vec![
            PrivateKey::from_pem(include_bytes!("../tests/fixtures/keys/other-key.pem")).unwrap(),
        ];
        assert!(recover(&ss, other.as_slice()).is_err());
    }
}

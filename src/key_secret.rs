//! The key Secret: how the controller stores a sealing key in the cluster, written and read here
//! together (upstream `pkg/controller/keys.go`, `writeKey` and `readKey`; `main.go`,
//! `initKeyRegistry`): a `kubernetes.io/tls` Secret labelled [`KEY_LABEL`]`=active`, its PKCS#1 (or
//! PKCS#8) private key in `tls.key` and its certificate in `tls.crt`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::keys::{Certificate, KeyError, KeyOrder, PrivateKey, SealingKeyPair, parse_rfc3339};
use crate::secret::SecretBytes;
use crate::types::{ObjectMeta, Secret};

/// Label of active key Secrets.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The value of [`KEY_LABEL`] on a key that is in use.
pub const ACTIVE: &str = "active";
/// The data item holding the private key.
pub const TLS_KEY: &str = "tls.key";
/// The data item holding the certificate.
pub const TLS_CRT: &str = "tls.crt";
/// The type of a key Secret.
pub const SECRET_TYPE: &str = "kubernetes.io/tls";

/// Label selector of active key Secrets.
pub fn key_selector() -> String {
    format!("{KEY_LABEL}={ACTIVE}")
}

/// A key Secret name of ours, `<base>-<tag>`: `base` is cut so that the name has at most 253
/// characters and loses its trailing `-` and `.`; an empty `base` gives `tag` alone. The
/// controller finds key Secrets by label, never by name (upstream `pkg/controller/keyregistry.go`
/// too), so these names matter only to people and to our own idempotent writes.
pub fn key_secret_name(base: &str, tag: &str) -> String {
    let keep = 253usize.saturating_sub(tag.len() + 1);
    let base: String = base.chars().take(keep).collect();
    match base.trim_end_matches(['-', '.']) {
        "" => tag.to_string(),
        b => format!("{b}-{tag}"),
    }
}

/// The first 10 hex digits of the SHA-256 of `bytes`: the tag of a name derived from a key.
pub fn short_digest(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .take(5)
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Where and how a new key Secret is made: `--key-prefix`, `--privatekey-labels`,
/// `--privatekey-annotations` and the controller namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySecretTemplate {
    pub namespace: String,
    /// `generateName`: the API server appends a random suffix.
    pub name_prefix: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// The key Secret upstream's `writeKey` creates. The values are zeroized when it is dropped.
pub fn new_key_secret(
    template: &KeySecretTemplate,
    private_key_pem: &str,
    certificate_pem: &str,
) -> Secret {
    let mut labels = template.labels.clone();
    labels.insert(KEY_LABEL.to_string(), ACTIVE.to_string());
    Secret {
        kind: "Secret".to_string(),
        api_version: "v1".to_string(),
        metadata: ObjectMeta {
            generate_name: template.name_prefix.clone(),
            namespace: template.namespace.clone(),
            labels,
            annotations: template.annotations.clone(),
            ..Default::default()
        },
        data: BTreeMap::from([
            (
                TLS_KEY.to_string(),
                SecretBytes::from(private_key_pem.as_bytes()),
            ),
            (
                TLS_CRT.to_string(),
                SecretBytes::from(certificate_pem.as_bytes()),
            ),
        ]),
        type_: SECRET_TYPE.to_string(),
        ..Default::default()
    }
}

/// The private key of a key Secret: the first usable PEM block of `tls.key`.
pub fn private_key(secret: &Secret) -> Result<PrivateKey, KeyError> {
    let key = secret.data.get(TLS_KEY).ok_or(KeyError::MissingTlsKey)?;
    PrivateKey::from_pem(key.as_bytes())
}

/// A key Secret as the controller registers it: PKCS#1 or PKCS#8 `tls.key`, the first certificate
/// of `tls.crt`, ordered per `--key-order-priority` (a missing or unreadable creationTimestamp
/// falls back to the certificate's NotBefore).
pub fn key_pair_from_secret(secret: &Secret, order: KeyOrder) -> Result<SealingKeyPair, KeyError> {
    let private_key = private_key(secret)?;
    let crt = secret.data.get(TLS_CRT).ok_or(KeyError::NoCertificate)?;
    let certificate = Certificate::from_pem(crt.as_bytes())?;
    let order_time: SystemTime = match order {
        KeyOrder::CertNotBefore => certificate.not_before,
        KeyOrder::SecretCreationTimestamp => secret
            .metadata
            .creation_timestamp
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or(certificate.not_before),
    };
    Ok(SealingKeyPair {
        private_key,
        certificate,
        order_time,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const PKCS1: &str = include_str!("../tests/fixtures/keys/key-pkcs1.pem");
    const PKCS8: &str = include_str!("../tests/fixtures/keys/key-pkcs8.pem");
    const CERT: &str = include_str!("../tests/fixtures/keys/cert.pem");
    const OLD_KEY: &str = include_str!("../tests/fixtures/keys/expired-key.pem");

    #[test]
    fn key_secret_names_are_valid_names() {
        assert_eq!(
            key_secret_name("sealed-secrets-key", "initial"),
            "sealed-secrets-key-initial"
        );
        assert_eq!(key_secret_name("k.-", "t"), "k-t");
        assert_eq!(key_secret_name("", "t"), "t");
        assert_eq!(key_secret_name("-", "t"), "t");
        let long = key_secret_name(&"a".repeat(300), "0123456789");
        assert_eq!(long.len(), 253);
        assert!(long.ends_with("a-0123456789"));
        assert_eq!(short_digest(b"x"), "2d711642b7");
    }
    const OLD_CERT: &str = include_str!("../tests/fixtures/keys/expired-cert.pem");
    const EC_KEY: &str = include_str!("../tests/fixtures/keys/ec-key.pem");
    const EC_CERT: &str = include_str!("../tests/fixtures/keys/ec-cert.pem");

    fn template() -> KeySecretTemplate {
        KeySecretTemplate {
            namespace: "kube-system".into(),
            name_prefix: "sealed-secrets-key".into(),
            labels: BTreeMap::from([("team".to_string(), "a".to_string())]),
            annotations: BTreeMap::from([("note".to_string(), "x".to_string())]),
        }
    }

    #[test]
    fn written_shape() {
        let s = new_key_secret(&template(), "KEY", "CERT");
        assert_eq!(s.metadata.generate_name, "sealed-secrets-key");
        assert!(s.metadata.name.is_empty());
        assert_eq!(s.metadata.namespace, "kube-system");
        assert_eq!(s.type_, "kubernetes.io/tls");
        assert_eq!(s.metadata.labels[KEY_LABEL], "active");
        assert_eq!(s.metadata.labels["team"], "a");
        assert_eq!(s.metadata.annotations["note"], "x");
        assert_eq!(s.data[TLS_KEY].as_bytes(), b"KEY");
        assert_eq!(s.data[TLS_CRT].as_bytes(), b"CERT");
        assert_eq!(key_selector(), format!("{KEY_LABEL}=active"));
    }

    #[test]
    fn written_secrets_read_back() {
        for key in [PKCS1, PKCS8] {
            let s = new_key_secret(&template(), key, CERT);
            let pair = key_pair_from_secret(&s, KeyOrder::CertNotBefore).unwrap();
            assert_eq!(pair.certificate.pem.trim(), CERT.trim());
            assert_eq!(pair.order_time, pair.certificate.not_before);
            assert_eq!(
                pair.private_key.public_key().fingerprint(),
                pair.certificate.public_key.fingerprint()
            );
        }
    }

    #[test]
    fn order_by_creation_timestamp_falls_back_to_not_before() {
        let mut s = new_key_secret(&template(), OLD_KEY, OLD_CERT);
        let not_before = key_pair_from_secret(&s, KeyOrder::CertNotBefore)
            .unwrap()
            .order_time;
        let by_creation = |s: &Secret| {
            key_pair_from_secret(s, KeyOrder::SecretCreationTimestamp)
                .unwrap()
                .order_time
        };
        assert_eq!(by_creation(&s), not_before);
        s.metadata.creation_timestamp = Some("garbage".into());
        assert_eq!(by_creation(&s), not_before);
        s.metadata.creation_timestamp = Some("2027-01-01T00:00:00Z".into());
        assert_eq!(
            by_creation(&s),
            parse_rfc3339("2027-01-01T00:00:00Z").unwrap()
        );
    }

    #[test]
    fn unusable_secrets_are_errors() {
        let read = |key: &str, cert: &str| {
            key_pair_from_secret(
                &new_key_secret(&template(), key, cert),
                KeyOrder::CertNotBefore,
            )
            .unwrap_err()
        };
        assert_eq!(read(EC_KEY, EC_CERT), KeyError::NotRsaPrivateKey);
        assert_eq!(read("not a key", CERT), KeyError::NoPrivateKey);
        assert_eq!(read(PKCS1, ""), KeyError::NoCertificate);
        let mut no_key = new_key_secret(&template(), PKCS1, CERT);
        no_key.data.remove(TLS_KEY);
        assert_eq!(
            key_pair_from_secret(&no_key, KeyOrder::CertNotBefore).unwrap_err(),
            KeyError::MissingTlsKey
        );
        let mut no_cert = new_key_secret(&template(), PKCS1, CERT);
        no_cert.data.remove(TLS_CRT);
        assert_eq!(
            key_pair_from_secret(&no_cert, KeyOrder::CertNotBefore).unwrap_err(),
            KeyError::NoCertificate
        );
    }
}

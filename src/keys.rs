//! Key material: certificates, private keys, key generation and the key ring (upstream
//! `pkg/crypto`, `pkg/kubeseal/kubeseal.go` `ParseKey`, `pkg/controller/keyregistry.go`).
//! RSA operations and digests use aws-lc-rs; the pkcs1/pkcs8 and x509-cert crates only encode and
//! decode (no RSA arithmetic outside aws-lc-rs, so no exposure to RUSTSEC-2023-0071).

use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use pkcs8::der::{Decode, Encode};
use x509_cert::der::asn1::{BitString, GeneralizedTime, OctetString, UtcTime};
use zeroize::Zeroizing;

use crate::crypto::{self, CryptoError};
use crate::secret::SecretBytes;

const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("data does not contain any valid RSA or ECDSA certificates")]
    NoCertificate,
    #[error("{0}")]
    BadCertificate(String),
    #[error("expected RSA public key but found {0}")]
    NotRsaCertificate(String),
    #[error("failed to encrypt using an expired certificate on {0}")]
    Expired(String),
    #[error("data does not contain a valid RSA or ECDSA private key")]
    NoPrivateKey,
    #[error("private key is not an RSA key")]
    NotRsaPrivateKey,
    #[error("unexpected private key type {0}")]
    UnexpectedPrivateKeyType(String),
    #[error("secret must contain a 'tls.data' key")]
    MissingTlsKey,
    #[error("{0}")]
    Invalid(String),
    #[error("unsupported key size {0}: must be one of 2048, 3072, 4096, 8192")]
    UnsupportedKeySize(usize),
    #[error("key generation failed: {0}")]
    Generation(String),
    /// serde's messages can quote the offending value (key material): say only what it is.
    #[error("private key file holds a document that is not a valid Secret")]
    NotASecretDocument,
}

/// A public key that can seal (OAEP-SHA256 encryption).
pub struct PublicKey {
    oaep: OaepPublicEncryptingKey,
    spki_der: Vec<u8>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl PublicKey {
    /// From an X.509 SubjectPublicKeyInfo (DER).
    pub fn from_spki_der(spki_der: &[u8]) -> Result<Self, KeyError> {
        let key = PublicEncryptingKey::from_der(spki_der)
            .map_err(|e| KeyError::Invalid(format!("invalid RSA public key: {e}")))?;
        let oaep = OaepPublicEncryptingKey::new(key)
            .map_err(|_| KeyError::Invalid("invalid RSA public key".into()))?;
        Ok(PublicKey {
            oaep,
            spki_der: spki_der.to_vec(),
        })
    }

    /// Seals one value with the scope label (upstream `pkg/crypto/crypto.go` `HybridEncrypt`).
    pub fn encrypt(&self, plaintext: &[u8], label: &[u8]) -> Result<Vec<u8>, CryptoError> {
        crypto::hybrid_encrypt(&self.oaep, plaintext, label)
    }

    /// Internal key id: `SHA256:` + unpadded base64 of SHA-256 over the SubjectPublicKeyInfo.
    /// Upstream uses the SSH fingerprint (`pkg/crypto/crypto.go` `PublicKeyFingerprint`); the id
    /// is never written anywhere and only de-duplicates keys, so any id does.
    pub fn fingerprint(&self) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki_der);
        format!(
            "SHA256:{}",
            go_semantics::base64::encode_unpadded(digest.as_ref())
        )
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub fn bits(&self) -> usize {
        self.oaep.key_size_bits()
    }
}

/// A parsed X.509 certificate holding an RSA public key.
#[derive(Debug)]
pub struct Certificate {
    pub public_key: PublicKey,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// The certificate as one PEM block (LF line endings, trailing newline), as served on /v1/cert.pem.
    pub pem: String,
}

impl Certificate {
    /// First `CERTIFICATE` block without PEM headers; other blocks are skipped (client-go
    /// `cert.ParseCertsPEM`, which upstream `pkg/kubeseal/kubeseal.go` `ParseKey` uses). Expiry is
    /// not checked here (the controller loads expired certificates too); see
    /// [`Certificate::check_not_expired`].
    pub fn from_pem(data: &[u8]) -> Result<Certificate, KeyError> {
        let blocks = pem_blocks(data);
        let block = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE" && b.headers().iter().next().is_none())
            .ok_or(KeyError::NoCertificate)?;
        Certificate::from_der(block.contents())
    }

    pub fn from_der(der: &[u8]) -> Result<Certificate, KeyError> {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|e| KeyError::BadCertificate(format!("x509: malformed certificate: {e}")))?;
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        let oid = spki.algorithm.oid.to_string();
        if oid != RSA_ENCRYPTION_OID {
            return Err(KeyError::NotRsaCertificate(describe_key_algorithm(&oid)));
        }
        let spki_der = spki
            .to_der()
            .map_err(|e| KeyError::BadCertificate(format!("x509: malformed certificate: {e}")))?;
        Ok(Certificate {
            public_key: PublicKey::from_spki_der(&spki_der)?,
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            pem: pem_encode("CERTIFICATE", der),
        })
    }

    /// kubeseal refuses to seal with an expired certificate (only NotAfter is checked, as in
    /// upstream `ParseKey`).
    pub fn check_not_expired(&self, now: SystemTime) -> Result<(), KeyError> {
        if now > self.not_after {
            return Err(KeyError::Expired(go_long_date(self.not_after)));
        }
        Ok(())
    }
}

fn describe_key_algorithm(oid: &str) -> String {
    match oid {
        "1.2.840.10045.2.1" => "ECDSA public key".to_string(),
        "1.3.101.112" => "Ed25519 public key".to_string(),
        "1.2.840.10040.4.1" => "DSA public key".to_string(),
        other => format!("public key with algorithm {other}"),
    }
}

/// Go's `January 2, 2006` layout, in UTC.
fn go_long_date(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    format!("{} {}, {}", dt.month(), dt.day(), dt.year())
}

/// PEM blocks of `data`, tolerating text around them as Go's pem.Decode does.
fn pem_blocks(data: &[u8]) -> Vec<pem::Pem> {
    // pem::parse_many fails on the first malformed block; Go skips it. Parse block by block.
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start..).unwrap_or_default();
        let Some(end_marker) = after.find("-----END ") else {
            break;
        };
        let end = after
            .get(end_marker..)
            .and_then(|tail| tail.get(9..))
            .and_then(|tail| tail.find("-----"))
            .map(|i| end_marker + 9 + i + 5)
            .unwrap_or(after.len());
        if let Ok(p) = pem::parse(after.get(..end).unwrap_or_default()) {
            out.push(p);
        }
        rest = after.get(end..).unwrap_or_default();
    }
    out
}

pub fn pem_encode(tag: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der), config)
}

/// An RSA private key (decryption). Not `Clone`, no `Display`; `Debug` shows only the key id.
pub struct PrivateKey {
    oaep: OaepPrivateDecryptingKey,
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public.fingerprint())
    }
}

impl PrivateKey {
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|_| KeyError::NoPrivateKey)?;
        if info.algorithm.oid.to_string() != RSA_ENCRYPTION_OID {
            return Err(KeyError::NotRsaPrivateKey);
        }
        let key = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|e| KeyError::Invalid(format!("invalid RSA private key: {e}")))?;
        let public = PublicKey::from_spki_der(
            key.public_key()
                .as_der()
                .map_err(|_| KeyError::Invalid("invalid RSA private key".into()))?
                .as_ref(),
        )?;
        let oaep = OaepPrivateDecryptingKey::new(key)
            .map_err(|_| KeyError::Invalid("invalid RSA private key".into()))?;
        Ok(PrivateKey {
            oaep,
            pkcs8: Zeroizing::new(der.to_vec()),
            public,
        })
    }

    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfo::new(pkcs1::ALGORITHM_ID, der);
        let pkcs8 = Zeroizing::new(info.to_der().map_err(|_| KeyError::NoPrivateKey)?);
        Self::from_pkcs8_der(&pkcs8)
    }

    /// The first PEM block that parses as `RSA PRIVATE KEY` (PKCS#1), `PRIVATE KEY` (PKCS#8) or
    /// `EC PRIVATE KEY` wins; a non-RSA key is an error
    /// (upstream `pkg/controller/keys.go` `readKey`).
    pub fn from_pem(data: &[u8]) -> Result<Self, KeyError> {
        for block in pem_blocks(data) {
            let parsed = match block.tag() {
                "RSA PRIVATE KEY" => Self::from_pkcs1_der(block.contents()),
                "PRIVATE KEY" => Self::from_pkcs8_der(block.contents()),
                "EC PRIVATE KEY" => return Err(KeyError::NotRsaPrivateKey),
                _ => continue,
            };
            match parsed {
                Ok(k) => return Ok(k),
                Err(KeyError::NotRsaPrivateKey) => return Err(KeyError::NotRsaPrivateKey),
                Err(_) => continue,
            }
        }
        Err(KeyError::NoPrivateKey)
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// PKCS#1 `RSA PRIVATE KEY` PEM, the form upstream writes to `tls.key`.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let info = pkcs8::PrivateKeyInfo::try_from(self.pkcs8.as_slice())
            .map_err(|_| KeyError::NoPrivateKey)?;
        Ok(Zeroizing::new(pem_encode(
            "RSA PRIVATE KEY",
            info.private_key,
        )))
    }

    pub fn decrypt(&self, ciphertext: &[u8], label: &[u8]) -> Result<SecretBytes, CryptoError> {
        crypto::hybrid_decrypt(&self.oaep, ciphertext, label)
    }

    /// The PKCS#8 DER of the key, for keys derived from it inside the core (the unseal record's
    /// HMAC key, `crate::unseal_record`); never leaves the crate.
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }
}

/// A key pair as the controller holds it: the private key, its first certificate and its ordering time.
#[derive(Debug)]
pub struct SealingKeyPair {
    pub private_key: PrivateKey,
    pub certificate: Certificate,
    /// `--key-order-priority`: cert NotBefore (default) or the Secret's creationTimestamp.
    pub order_time: SystemTime,
}

/// Every registered key; the most recent one seals, all of them decrypt (upstream
/// `pkg/controller/keyregistry.go` `KeyRegistry`). Keys are never removed.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<SealingKeyPair>,
    latest: Option<usize>,
}

impl KeyRing {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a key; returns false when its public key was already known. The key with the
    /// strictly latest ordering time seals; ties keep the earlier-registered key (upstream
    /// `pkg/controller/keyregistry.go` `registerNewKey`). A known key registered again with a
    /// strictly later time than the latest one takes that time and becomes the latest, as
    /// upstream's re-registration does (the key Secret watch may register a renewed key by its
    /// certificate's whole-second NotBefore before the renewal registers it with its own time).
    pub fn add(&mut self, key: SealingKeyPair) -> bool {
        let id = key.private_key.public_key().fingerprint();
        let newer = self
            .latest()
            .is_none_or(|cur| key.order_time > cur.order_time);
        let known = self
            .keys
            .iter()
            .position(|k| k.private_key.public_key().fingerprint() == id);
        let index = match known {
            Some(i) if newer => {
                if let Some(k) = self.keys.get_mut(i) {
                    k.order_time = key.order_time;
                }
                i
            }
            Some(_) => return false,
            None => {
                self.keys.push(key);
                self.keys.len() - 1
            }
        };
        if newer {
            self.latest = Some(index);
        }
        known.is_none()
    }

    pub fn latest(&self) -> Option<&SealingKeyPair> {
        self.latest.and_then(|i| self.keys.get(i))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SealingKeyPair> {
        self.keys.iter()
    }

    pub fn private_keys(&self) -> impl Iterator<Item = &PrivateKey> {
        self.keys.iter().map(|k| &k.private_key)
    }
}

/// Anything that can try a set of private keys on a value.
pub trait Decrypter {
    /// Try every key, first success wins; `no key could decrypt secret` otherwise (upstream
    /// `pkg/crypto/crypto.go` `HybridDecrypt`).
    fn decrypt(&self, ciphertext: &[u8], label: &[u8]) -> Result<SecretBytes, crate::Error>;
}

impl Decrypter for [PrivateKey] {
    fn decrypt(&self, ciphertext: &[u8], label: &[u8]) -> Result<SecretBytes, crate::Error> {
        decrypt_any(self.iter(), ciphertext, label)
    }
}

impl Decrypter for Vec<PrivateKey> {
    fn decrypt(&self, ciphertext: &[u8], label: &[u8]) -> Result<SecretBytes, crate::Error> {
        decrypt_any(self.iter(), ciphertext, label)
    }
}

impl Decrypter for KeyRing {
    fn decrypt(&self, ciphertext: &[u8], label: &[u8]) -> Result<SecretBytes, crate::Error> {
        decrypt_any(self.private_keys(), ciphertext, label)
    }
}

fn decrypt_any<'a>(
    keys: impl Iterator<Item = &'a PrivateKey>,
    ciphertext: &[u8],
    label: &[u8],
) -> Result<SecretBytes, crate::Error> {
    for key in keys {
        if let Ok(plain) = key.decrypt(ciphertext, label) {
            return Ok(plain);
        }
    }
    Err(crate::Error::NoKeyCouldDecrypt)
}

/// A freshly generated key pair with its self-signed certificate (upstream
/// `pkg/crypto/keys.go` `GeneratePrivateKeyAndCert`).
pub struct GeneratedKey {
    pub key_pair: SealingKeyPair,
    /// `tls.key`: PKCS#1 PEM.
    pub private_key_pem: Zeroizing<String>,
    /// `tls.crt`: one CERTIFICATE block.
    pub certificate_pem: String,
}

/// RSA key of `bits` with a self-signed X.509 v3 certificate: CN=`common_name` (empty → empty DN),
/// validity [now, now+ttl], random 128-bit serial, KeyUsage critical encipherOnly, BasicConstraints
/// critical CA:TRUE, SubjectKeyId; signed sha256WithRSAEncryption.
pub fn generate_key(
    bits: usize,
    common_name: &str,
    ttl: Duration,
    now: SystemTime,
) -> Result<GeneratedKey, KeyError> {
    use x509_cert::der::{Any, Tag, asn1::SetOfVec};
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
    use x509_cert::ext::{AsExtension, Extension};
    use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
    use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};

    let gen_err = |what: &str| KeyError::Generation(what.to_string());
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        8192 => KeySize::Rsa8192,
        other => return Err(KeyError::UnsupportedKeySize(other)),
    };
    let signing = KeyPair::generate(size).map_err(|_| gen_err("RSA key generation"))?;
    let pkcs8 = Zeroizing::new(
        signing
            .as_der()
            .map_err(|_| gen_err("PKCS#8 encoding"))?
            .as_ref()
            .to_vec(),
    );
    let private_key = PrivateKey::from_pkcs8_der(&pkcs8)?;
    let spki = SubjectPublicKeyInfoOwned::from_der(private_key.public_key().spki_der())
        .map_err(|_| gen_err("public key encoding"))?;

    let name = if common_name.is_empty() {
        Name::default()
    } else {
        let value = Any::new(Tag::Utf8String, common_name.as_bytes())
            .map_err(|_| gen_err("subject encoding"))?;
        let atv = x509_cert::attr::AttributeTypeAndValue {
            oid: ObjectIdentifier::new_unwrap("2.5.4.3"),
            value,
        };
        let rdn = RelativeDistinguishedName(
            SetOfVec::try_from(vec![atv]).map_err(|_| gen_err("subject encoding"))?,
        );
        RdnSequence(vec![rdn])
    };

    let mut serial = [0u8; 17];
    aws_lc_rs::rand::fill(&mut serial[1..]).map_err(|_| gen_err("serial number"))?;
    let serial = x509_cert::serial_number::SerialNumber::new(&serial)
        .map_err(|_| gen_err("serial number"))?;

    let not_after = now
        .checked_add(ttl)
        .ok_or_else(|| gen_err("certificate validity"))?;
    let validity = x509_cert::time::Validity {
        not_before: x509_time(now).map_err(|_| gen_err("certificate validity"))?,
        not_after: x509_time(not_after).map_err(|_| gen_err("certificate validity"))?,
    };

    let sig_alg = AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"),
        parameters: Some(Any::null()),
    };
    let ski = SubjectKeyIdentifier(
        OctetString::new(sha1_of(spki.subject_public_key.raw_bytes()))
            .map_err(|_| gen_err("subject key id"))?,
    );
    let ext = |e: Result<Extension, x509_cert::der::Error>| e.map_err(|_| gen_err("extensions"));
    let extensions = vec![
        ext(KeyUsage(KeyUsages::EncipherOnly.into()).to_extension(&name, &[]))?,
        ext(BasicConstraints {
            ca: true,
            path_len_constraint: None,
        }
        .to_extension(&name, &[]))?,
        ext(ski.to_extension(&name, &[]))?,
    ];
    let tbs = x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: serial,
        signature: sig_alg.clone(),
        issuer: name.clone(),
        validity,
        subject: name,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(|_| gen_err("certificate encoding"))?;
    let mut signature = vec![0u8; signing.public_modulus_len()];
    crypto::count_rsa_private_key_operation();
    signing
        .sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            &tbs_der,
            &mut signature,
        )
        .map_err(|_| gen_err("certificate signature"))?;
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: sig_alg,
        signature: BitString::from_bytes(&signature)
            .map_err(|_| gen_err("certificate encoding"))?,
    };
    let cert_der = cert.to_der().map_err(|_| gen_err("certificate encoding"))?;
    let certificate = Certificate::from_der(&cert_der)?;
    let certificate_pem = certificate.pem.clone();
    let private_key_pem = private_key.to_pkcs1_pem()?;
    Ok(GeneratedKey {
        key_pair: SealingKeyPair {
            private_key,
            certificate,
            order_time: now,
        },
        private_key_pem,
        certificate_pem,
    })
}

/// UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5), as Go does.
fn x509_time(t: SystemTime) -> Result<x509_cert::time::Time, x509_cert::der::Error> {
    let year = time::OffsetDateTime::from(t).year();
    if year < 2050 {
        Ok(UtcTime::from_system_time(t)?.into())
    } else {
        Ok(GeneralizedTime::from_system_time(t)?.into())
    }
}

fn sha1_of(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// The private keys in a `--recovery-private-key` file, as upstream's `pkg/kubeseal/kubeseal.go`
/// `readPrivKeysFromFile` reads them: a PEM private key; or a `List` (with `kind: List` or no
/// kind) of key Secrets; or a stream of key Secret documents (YAML or JSON). Every document of the
/// file is read (a safe superset of upstream, which stops after a leading List).
pub fn parse_recovery_keys(data: &[u8]) -> Result<Vec<PrivateKey>, crate::Error> {
    match PrivateKey::from_pem(data) {
        Ok(k) => return Ok(vec![k]),
        Err(KeyError::NotRsaPrivateKey) => {
            return Err(KeyError::UnexpectedPrivateKeyType("*ecdsa.PrivateKey".into()).into());
        }
        // PEM without a usable private key (a certificate, say) is not a document stream.
        Err(e) if data.windows(11).any(|w| w == b"-----BEGIN ") => return Err(e.into()),
        Err(_) => {}
    }
    let docs = goyaml::parse_documents(data)?;
    let mut secrets = Vec::new();
    for doc in docs {
        let is_list = doc.get("items").is_some_and(|i| i.is_array())
            && doc
                .get("kind")
                .and_then(|k| k.as_str())
                .is_none_or(|k| k == "List" || k.ends_with("List"));
        if is_list {
            if let Some(items) = doc.get("items").and_then(|i| i.as_array()) {
                secrets.extend(items.iter().cloned());
            }
        } else {
            secrets.push(doc);
        }
    }
    let mut keys = Vec::new();
    for doc in secrets {
        let secret: crate::types::Secret =
            serde_json::from_value(doc).map_err(|_| KeyError::NotASecretDocument)?;
        keys.push(
            crate::key_secret::private_key(&secret).map_err(|e| match e {
                KeyError::NotRsaPrivateKey => {
                    KeyError::UnexpectedPrivateKeyType("*ecdsa.PrivateKey".into())
                }
                other => other,
            })?,
        );
    }
    if keys.is_empty() {
        return Err(KeyError::NoPrivateKey.into());
    }
    Ok(keys)
}

/// `--key-order-priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyOrder {
    #[default]
    CertNotBefore,
    SecretCreationTimestamp,
}

pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}

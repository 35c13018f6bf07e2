//! The unseal record (docs/architecture.md "No RSA work for unchanged SealedSecrets",
//! docs/security.md "The unseal record tells nothing about the plaintext"): what lets the
//! controller tell, without decrypting, that a Secret still holds exactly what it wrote for the
//! current spec of its SealedSecret. Upstream has none of this: it decrypts every item of every
//! SealedSecret again on every start, leadership change and re-list
//! (`pkg/controller/controller.go` `(*Controller).unseal`).
//!
//! When the controller writes a Secret it stamps it with [`RECORD_ANNOTATION`]:
//! `v1:` and the hex HMAC-SHA256, under a key derived (HKDF-SHA256) from the private key that
//! unsealed the SealedSecret, of
//!
//! - the [`SpecDigest`]: the SealedSecret's namespace, name, uid, the `--accept-deprecated-v1-data`
//!   setting and its whole `spec` (encryptedData, template, legacy data) as canonical bytes, and
//! - the [`ContentDigest`] of the Secret as written: type, immutable, data, labels, annotations
//!   (without the record itself; with the key inventory annotation, which names the keys) and
//!   ownerReferences.
//!
//! [`decide`] then says [`Decision::Current`] only when a Secret's record verifies against the
//! SealedSecret as it is now and the Secret as it is now, and every key the Secret names is still
//! in the ring; anything else ([`Stale`]) takes the normal unseal path, as upstream.

use std::collections::BTreeSet;

use aws_lc_rs::{digest, hkdf, hmac};

use crate::Error;
use crate::inventory::{SEALING_KEYS_ANNOTATION, parse_annotation};
use crate::keys::{KeyRing, PrivateKey};
use crate::types::{SealedSecret, Secret};

/// Annotation the controller writes on every Secret it unseals (next to
/// [`SEALING_KEYS_ANNOTATION`]); see the module documentation.
pub const RECORD_ANNOTATION: &str = "sealedsecrets-rs.io/unseal-record";

/// The version prefix of a record value; a record of another version never verifies.
const RECORD_PREFIX: &str = "v1:";
/// Domain separation of every digest, the HKDF salt and the HMAC input.
const DOMAIN: &[u8] = b"sealedsecrets-rs.io/unseal-record/v1";
/// What the API server defaults an empty Secret type to.
const DEFAULT_SECRET_TYPE: &str = "Opaque";

/// SHA-256 over length-prefixed fields, so that no two different field lists hash alike.
struct Canonical(digest::Context);

impl Canonical {
    fn new(part: &[u8]) -> Self {
        let mut c = Canonical(digest::Context::new(&digest::SHA256));
        c.field(DOMAIN);
        c.field(part);
        c
    }

    fn field(&mut self, bytes: &[u8]) {
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.0.update(&len.to_be_bytes());
        self.0.update(bytes);
    }

    fn count(&mut self, n: usize) {
        self.0
            .update(&u64::try_from(n).unwrap_or(u64::MAX).to_be_bytes());
    }

    fn flag(&mut self, value: Option<bool>) {
        self.field(match value {
            None => b"-",
            Some(false) => b"0",
            Some(true) => b"1",
        });
    }

    fn map<'a>(&mut self, entries: impl ExactSizeIterator<Item = (&'a str, &'a [u8])>) {
        self.count(entries.len());
        for (k, v) in entries {
            self.field(k.as_bytes());
            self.field(v);
        }
    }

    fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

/// What of a SealedSecret decides the Secret it unseals to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecDigest([u8; 32]);

/// The spec digest of `ss` under `--accept-deprecated-v1-data=accept_v1_data`.
pub fn spec_digest(ss: &SealedSecret, accept_v1_data: bool) -> Result<SpecDigest, Error> {
    // The core's types are ordered maps and structs, so the same spec gives the same bytes.
    let spec = serde_json::to_vec(&ss.spec).map_err(|e| Error::Serialize(e.to_string()))?;
    let mut c = Canonical::new(b"spec");
    c.field(ss.metadata.namespace.as_bytes());
    c.field(ss.metadata.name.as_bytes());
    c.field(ss.metadata.uid.as_bytes());
    c.flag(Some(accept_v1_data));
    c.field(&spec);
    Ok(SpecDigest(c.finish()))
}

/// SHA-256 of what the controller controls in a Secret (it includes the values: it never leaves
/// the process, only the keyed record does). `Debug` shows nothing of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ContentDigest([u8; 32]);

impl std::fmt::Debug for ContentDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentDigest(..)")
    }
}

/// The content digest of `secret`, as the API server stores it (an empty type is `Opaque`, an
/// empty value is empty); [`RECORD_ANNOTATION`] itself is left out.
pub fn content_digest(secret: &Secret) -> ContentDigest {
    let mut c = Canonical::new(b"secret");
    let type_ = if secret.type_.is_empty() {
        DEFAULT_SECRET_TYPE
    } else {
        secret.type_.as_str()
    };
    c.field(type_.as_bytes());
    c.flag(secret.immutable);
    c.map(secret.data.iter().map(|(k, v)| (k.as_str(), v.as_bytes())));
    c.map(
        secret
            .metadata
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes())),
    );
    let annotations: Vec<(&str, &[u8])> = secret
        .metadata
        .annotations
        .iter()
        .filter(|(k, _)| k.as_str() != RECORD_ANNOTATION)
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    c.map(annotations.into_iter());
    c.count(secret.metadata.owner_references.len());
    for r in &secret.metadata.owner_references {
        c.field(r.api_version.as_bytes());
        c.field(r.kind.as_bytes());
        c.field(r.name.as_bytes());
        c.field(r.uid.as_bytes());
        c.flag(r.controller);
        c.flag(r.block_owner_deletion);
    }
    ContentDigest(c.finish())
}

/// The HMAC key of the records a private key makes: HKDF-SHA256 (salt [`DOMAIN`]) of its PKCS#8
/// DER. One-way: the record key tells nothing about the private key.
fn record_key(key: &PrivateKey) -> Option<hmac::Key> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, DOMAIN).extract(key.pkcs8_der());
    let okm = prk.expand(&[b"hmac-sha256"], hmac::HMAC_SHA256).ok()?;
    Some(hmac::Key::from(okm))
}

/// The key that makes and checks the record of a Secret unsealed with the keys `used`: the one of
/// them with the smallest fingerprint, provided every one of them is still in the ring (else the
/// SealedSecret would no longer unseal as before). `None` for no key at all.
fn record_signer<'a>(ring: &'a KeyRing, used: &BTreeSet<String>) -> Option<&'a PrivateKey> {
    let first = used.iter().next()?;
    let in_ring = |fp: &str| {
        ring.private_keys()
            .find(|k| k.public_key().fingerprint() == fp)
    };
    if !used.iter().all(|fp| in_ring(fp).is_some()) {
        return None;
    }
    in_ring(first)
}

fn message(spec: &SpecDigest, content: &ContentDigest) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + 64);
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(&spec.0);
    m.extend_from_slice(&content.0);
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [_, _] => u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok(),
            _ => None,
        })
        .collect()
}

/// The record value for `spec` unsealed to a Secret of `content` with the keys `used`; `None` when
/// there is no key to make it with (no item was decrypted, or a key is gone).
pub fn record(
    spec: &SpecDigest,
    content: &ContentDigest,
    ring: &KeyRing,
    used: &BTreeSet<String>,
) -> Option<String> {
    let key = record_key(record_signer(ring, used)?)?;
    let tag = hmac::sign(&key, &message(spec, content));
    Some(format!("{RECORD_PREFIX}{}", hex(tag.as_ref())))
}

/// Sets (or, without a key to make it, removes) the [`RECORD_ANNOTATION`] of a Secret about to be
/// written, over the Secret as it is (idempotent: the record is not part of its own input).
pub fn stamp(secret: &mut Secret, spec: &SpecDigest, ring: &KeyRing, used: &BTreeSet<String>) {
    match record(spec, &content_digest(secret), ring, used) {
        Some(r) => {
            secret
                .metadata
                .annotations
                .insert(RECORD_ANNOTATION.to_string(), r);
        }
        None => {
            secret.metadata.annotations.remove(RECORD_ANNOTATION);
        }
    }
}

/// What the decision needs of an existing Secret: its content digest and the two annotations.
/// Holds no value of the Secret (what the controller's Secret cache keeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSecret {
    pub content: ContentDigest,
    pub record: Option<String>,
    pub sealing_keys: Option<String>,
}

impl LiveSecret {
    pub fn of(secret: &Secret) -> Self {
        let annotation = |name: &str| secret.metadata.annotations.get(name).cloned();
        LiveSecret {
            content: content_digest(secret),
            record: annotation(RECORD_ANNOTATION),
            sealing_keys: annotation(SEALING_KEYS_ANNOTATION),
        }
    }
}

/// Why a SealedSecret takes the normal unseal path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// No Secret of that name.
    NoSecret,
    /// The Secret has no record (written by upstream, by hand, or by a version without records),
    /// or one of another version.
    NoRecord,
    /// A key the Secret names is no longer in the ring (or it names none).
    KeyGone,
    /// The record does not match the SealedSecret and the Secret as they are now: the spec changed,
    /// the Secret was edited, or the SealedSecret is another object of the same name.
    Mismatch,
}

/// The decision for one SealedSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The Secret holds what unsealing the current spec writes: no decryption, no write. The
    /// fingerprints of the keys that unsealed it (the key inventory annotation).
    Current {
        used: BTreeSet<String>,
    },
    Unseal(Stale),
}

/// Whether `ss` needs unsealing, given the Secret of the same name (`None`: none exists).
pub fn decide(spec: &SpecDigest, live: Option<&LiveSecret>, ring: &KeyRing) -> Decision {
    let Some(live) = live else {
        return Decision::Unseal(Stale::NoSecret);
    };
    let Some(tag) = live
        .record
        .as_deref()
        .and_then(|r| r.strip_prefix(RECORD_PREFIX))
        .and_then(unhex)
    else {
        return Decision::Unseal(Stale::NoRecord);
    };
    let used = parse_annotation(live.sealing_keys.as_deref().unwrap_or_default());
    let Some(key) = record_signer(ring, &used).and_then(record_key) else {
        return Decision::Unseal(Stale::KeyGone);
    };
    match hmac::verify(&key, &message(spec, &live.content), &tag) {
        Ok(()) => Decision::Current { used },
        Err(_) => Decision::Unseal(Stale::Mismatch),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::inventory::unseal_recording;
    use crate::secret::SecretBytes;
    use crate::test_keys::{CERT, KEY, OTHER_CERT, OTHER_KEY, ring, seal_value};
    use crate::unseal::UnsealOptions;

    fn sealed(value: &str) -> SealedSecret {
        let mut ss = SealedSecret::default();
        ss.metadata.namespace = "ns".into();
        ss.metadata.name = "s".into();
        ss.metadata.uid = "uid-1".into();
        ss.spec
            .encrypted_data
            .insert("foo".into(), seal_value(value, b"ns/s"));
        ss.spec
            .template
            .metadata
            .labels
            .insert("app".into(), "x".into());
        ss
    }

    /// The Secret the controller writes for `ss`, stamped, and the spec digest.
    fn written(ss: &SealedSecret, ring: &KeyRing) -> (Secret, SpecDigest) {
        let (mut secret, used) = unseal_recording(ss, ring, UnsealOptions::default()).unwrap();
        let spec = spec_digest(ss, true).unwrap();
        stamp(&mut secret, &spec, ring, &used);
        (secret, spec)
    }

    #[test]
    fn an_untouched_secret_is_current_without_decrypting() {
        let ring = ring(&[(KEY, CERT)]);
        let ss = sealed("v");
        let (secret, _) = written(&ss, &ring);
        let record = secret.metadata.annotations[RECORD_ANNOTATION].clone();
        assert!(
            record.starts_with("v1:") && record.len() == 3 + 64,
            "{record}"
        );
        let spec = spec_digest(&ss, true).unwrap();
        let d = decide(&spec, Some(&LiveSecret::of(&secret)), &ring);
        let fp = ring
            .private_keys()
            .next()
            .unwrap()
            .public_key()
            .fingerprint();
        assert_eq!(
            d,
            Decision::Current {
                used: BTreeSet::from([fp])
            }
        );
        // Stamping again gives the same record (the record is not part of its own input).
        let mut again = secret.clone();
        stamp(
            &mut again,
            &spec,
            &ring,
            &parse_annotation(&secret.metadata.annotations[SEALING_KEYS_ANNOTATION]),
        );
        assert_eq!(again, secret);
        // As the API server returns it: type defaulted to Opaque.
        let mut stored = secret.clone();
        stored.type_ = "Opaque".into();
        assert!(matches!(
            decide(&spec, Some(&LiveSecret::of(&stored)), &ring),
            Decision::Current { .. }
        ));
    }

    #[test]
    fn every_change_takes_the_unseal_path() {
        let ring = ring(&[(KEY, CERT)]);
        let ss = sealed("v");
        let (secret, spec) = written(&ss, &ring);
        let stale = |s: &Secret, spec: &SpecDigest, ring: &KeyRing| match decide(
            spec,
            Some(&LiveSecret::of(s)),
            ring,
        ) {
            Decision::Unseal(why) => why,
            Decision::Current { .. } => panic!("considered current"),
        };

        // No Secret.
        assert_eq!(
            decide(&spec, None, &ring),
            Decision::Unseal(Stale::NoSecret)
        );

        // The Secret edited by someone else: a value, a label, an annotation, the type, the owner.
        let mut edited = secret.clone();
        edited
            .data
            .insert("foo".into(), SecretBytes::from(b"hand".to_vec()));
        assert_eq!(stale(&edited, &spec, &ring), Stale::Mismatch);
        let mut edited = secret.clone();
        edited
            .data
            .insert("extra".into(), SecretBytes::from(Vec::new()));
        assert_eq!(stale(&edited, &spec, &ring), Stale::Mismatch);
        let mut edited = secret.clone();
        edited.metadata.labels.insert("app".into(), "y".into());
        assert_eq!(stale(&edited, &spec, &ring), Stale::Mismatch);
        let mut edited = secret.clone();
        edited
            .metadata
            .annotations
            .insert("sealedsecrets.bitnami.com/managed".into(), "true".into());
        assert_eq!(stale(&edited, &spec, &ring), Stale::Mismatch);
        let mut edited = secret.clone();
        edited.type_ = "kubernetes.io/tls".into();
        assert_eq!(stale(&edited, &spec, &ring), Stale::Mismatch);
        let mut edited = secret.clone();
        edited.metadata.owner_references.clear();
        assert_eq!(stale(&edited, &spec, &ring), Stale::Mismatch);
        let mut edited = secret.clone();
        edited.immutable = Some(true);
        assert_eq!(stale(&edited, &spec, &ring), Stale::Mismatch);

        // The SealedSecret changed: re-encrypted (same plaintext), another template, another
        // object of the same name (uid), the v1-data setting.
        let reencrypted = sealed("v");
        let spec2 = spec_digest(&reencrypted, true).unwrap();
        assert_ne!(spec2, spec);
        assert_eq!(stale(&secret, &spec2, &ring), Stale::Mismatch);
        let mut templated = ss.clone();
        templated.spec.template.type_ = "kubernetes.io/tls".into();
        assert_eq!(
            stale(&secret, &spec_digest(&templated, true).unwrap(), &ring),
            Stale::Mismatch
        );
        let mut recreated = ss.clone();
        recreated.metadata.uid = "uid-2".into();
        assert_eq!(
            stale(&secret, &spec_digest(&recreated, true).unwrap(), &ring),
            Stale::Mismatch
        );
        assert_eq!(
            stale(&secret, &spec_digest(&ss, false).unwrap(), &ring),
            Stale::Mismatch
        );

        // No record (upstream wrote the Secret), a mangled one, one of another version.
        for bad in [None, Some("v1:zz"), Some("v1:00"), Some("v2:00")] {
            let mut s = secret.clone();
            match bad {
                None => s.metadata.annotations.remove(RECORD_ANNOTATION),
                Some(v) => s
                    .metadata
                    .annotations
                    .insert(RECORD_ANNOTATION.into(), v.into()),
            };
            let want = if bad == Some("v1:00") {
                Stale::Mismatch
            } else {
                Stale::NoRecord
            };
            assert_eq!(stale(&s, &spec, &ring), want, "{bad:?}");
        }

        // The key that unsealed it is gone; the inventory annotation names a key not in the ring
        // (or none); a record made by another key.
        let other = self::ring(&[(OTHER_KEY, OTHER_CERT)]);
        assert_eq!(stale(&secret, &spec, &other), Stale::KeyGone);
        let mut s = secret.clone();
        s.metadata
            .annotations
            .insert(SEALING_KEYS_ANNOTATION.into(), String::new());
        assert_eq!(stale(&s, &spec, &ring), Stale::KeyGone);
        let both = self::ring(&[(KEY, CERT), (OTHER_KEY, OTHER_CERT)]);
        let other_fp = other
            .private_keys()
            .next()
            .unwrap()
            .public_key()
            .fingerprint();
        let mut s = secret.clone();
        stamp(&mut s, &spec, &both, &BTreeSet::from([other_fp]));
        assert_eq!(stale(&s, &spec, &both), Stale::Mismatch);
    }

    #[test]
    fn a_key_added_to_the_ring_keeps_the_secret_current() {
        let ss = sealed("v");
        let (secret, spec) = written(&ss, &ring(&[(KEY, CERT)]));
        let both = ring(&[(OTHER_KEY, OTHER_CERT), (KEY, CERT)]);
        assert!(matches!(
            decide(&spec, Some(&LiveSecret::of(&secret)), &both),
            Decision::Current { .. }
        ));
    }

    #[test]
    fn no_record_without_a_key() {
        let ring = ring(&[(KEY, CERT)]);
        let mut s = Secret::default();
        s.metadata
            .annotations
            .insert(RECORD_ANNOTATION.into(), "v1:00".into());
        let spec = spec_digest(&SealedSecret::default(), true).unwrap();
        stamp(&mut s, &spec, &ring, &BTreeSet::new());
        assert!(!s.metadata.annotations.contains_key(RECORD_ANNOTATION));
    }

    #[test]
    fn the_record_depends_on_the_key_and_is_not_a_plain_digest() {
        let ss = sealed("v");
        let a = ring(&[(KEY, CERT)]);
        let (secret, spec) = written(&ss, &a);
        let content = content_digest(&secret);
        let record = secret.metadata.annotations[RECORD_ANNOTATION].clone();
        // Not the unkeyed digest of the content, nor of the spec, nor of both.
        for plain in [
            hex(&content.0),
            hex(&spec.0),
            hex(digest::digest(&digest::SHA256, &message(&spec, &content)).as_ref()),
        ] {
            assert_ne!(record, format!("{RECORD_PREFIX}{plain}"));
        }
        assert_eq!(format!("{content:?}"), "ContentDigest(..)");
        assert!(unhex("0g").is_none() && unhex("abc").is_none());
        assert_eq!(unhex("00ff").unwrap(), vec![0, 255]);
    }
}

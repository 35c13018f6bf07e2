//! Key inventory and retirement (docs/operations.md "Key inventory and retirement"): which key
//! unsealed a SealedSecret (the [`SEALING_KEYS_ANNOTATION`] the controller writes on the Secret),
//! which key is active, how many SealedSecrets need each key, and whether a key may be retired.
//! Upstream has none of this (it keeps every key forever, `pkg/controller/keyregistry.go`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use serde::Serialize;

use crate::Error;
use crate::backup::{BACKED_UP_AT, BackupError, key_info};
use crate::keys::{Decrypter, KeyOrder, KeyRing, parse_rfc3339};
use crate::secret::SecretBytes;
use crate::types::{SealedSecret, Secret, metav1_time};
use crate::unseal::{UnsealOptions, unseal};
use crate::unseal_record::RECORD_ANNOTATION;

/// Annotation on every Secret the controller writes: the fingerprints (as
/// [`crate::keys::PublicKey::fingerprint`], the same as the backup's
/// `sealedsecrets-rs.io/key-fingerprint`) of the keys that decrypted its SealedSecret's items,
/// sorted and comma-separated; empty when the SealedSecret has no item.
pub const SEALING_KEYS_ANNOTATION: &str = "sealedsecrets-rs.io/sealing-keys";

/// A [`Decrypter`] over a [`KeyRing`] that remembers the keys that decrypted something. It tries
/// the keys in the ring's order, as the ring itself does.
pub struct RecordingDecrypter<'a> {
    ring: &'a KeyRing,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> RecordingDecrypter<'a> {
    pub fn new(ring: &'a KeyRing) -> Self {
        RecordingDecrypter {
            ring,
            used: RefCell::new(BTreeSet::new()),
        }
    }

    /// The fingerprints of the keys that decrypted at least one value.
    pub fn into_used(self) -> BTreeSet<String> {
        self.used.into_inner()
    }
}

impl Decrypter for RecordingDecrypter<'_> {
    fn decrypt(&self, ciphertext: &[u8], label: &[u8]) -> Result<SecretBytes, Error> {
        for key in self.ring.private_keys() {
            if let Ok(plain) = key.decrypt(ciphertext, label) {
                if let Ok(mut used) = self.used.try_borrow_mut() {
                    used.insert(key.public_key().fingerprint());
                }
                return Ok(plain);
            }
        }
        Err(Error::NoKeyCouldDecrypt)
    }
}

/// [`unseal`] with the ring, and the Secret annotated with [`SEALING_KEYS_ANNOTATION`]; also returns
/// the fingerprints of the keys used.
pub fn unseal_recording(
    ss: &SealedSecret,
    ring: &KeyRing,
    opts: UnsealOptions,
) -> Result<(Secret, BTreeSet<String>), Error> {
    let recorder = RecordingDecrypter::new(ring);
    let mut secret = unseal(ss, &recorder, opts)?;
    let used = recorder.into_used();
    secret
        .metadata
        .annotations
        .insert(SEALING_KEYS_ANNOTATION.to_string(), annotation_value(&used));
    Ok((secret, used))
}

/// Whether the controller writes `updated` over `current` (they differ). A difference in
/// [`SEALING_KEYS_ANNOTATION`] or [`RECORD_ANNOTATION`] alone is written only when the SealedSecret's spec changed since it
/// was last unsealed (`observed_generation`, from its status, is behind `generation`, or there is
/// no status): a Secret upstream's controller wrote is left untouched by a takeover (and counted
/// as unknown by `kubeseal --list-keys`) until its SealedSecret changes, e.g. when it is
/// re-encrypted.
pub fn needs_write(
    current: &Secret,
    updated: &Secret,
    generation: i64,
    observed_generation: Option<i64>,
) -> bool {
    if current == updated {
        return false;
    }
    let mut without = updated.clone();
    // The unseal record is bookkeeping of the same kind (docs/architecture.md).
    for annotation in [SEALING_KEYS_ANNOTATION, RECORD_ANNOTATION] {
        match current.metadata.annotations.get(annotation) {
            Some(v) => {
                without
                    .metadata
                    .annotations
                    .insert(annotation.to_string(), v.clone());
            }
            None => {
                without.metadata.annotations.remove(annotation);
            }
        }
    }
    let annotation_only = without == *current;
    let spec_changed = observed_generation.is_none_or(|observed| observed < generation);
    !annotation_only || spec_changed
}

/// The value of [`SEALING_KEYS_ANNOTATION`] for these fingerprints.
pub fn annotation_value(used: &BTreeSet<String>) -> String {
    used.iter().cloned().collect::<Vec<_>>().join(",")
}

/// The fingerprints an annotation value names (blanks and empty entries ignored).
pub fn parse_annotation(value: &str) -> BTreeSet<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// One key Secret of the controller, as the inventory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySecretInfo {
    pub name: String,
    pub fingerprint: String,
    /// The Secret's creationTimestamp as the API server wrote it.
    pub created: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// The [`BACKED_UP_AT`] annotation `kubeseal --backup-keys` sets.
    pub backed_up_at: Option<String>,
}

/// Reads a key Secret (its private key must be usable, as the controller requires).
pub fn key_secret_info(secret: &Secret) -> Result<KeySecretInfo, BackupError> {
    let info = key_info(secret)?;
    Ok(KeySecretInfo {
        name: info.name,
        fingerprint: info.fingerprint,
        created: secret
            .metadata
            .creation_timestamp
            .clone()
            .unwrap_or_default(),
        not_before: info.not_before,
        not_after: info.not_after,
        backed_up_at: secret
            .metadata
            .annotations
            .get(BACKED_UP_AT)
            .filter(|v| !v.is_empty())
            .cloned(),
    })
}

/// The key the controller seals with, as its registry picks it: keys registered oldest Secret
/// first (upstream `initKeyRegistry`, `ByCreationTimestamp`, a stable sort), and a key replaces
/// the latest only with a strictly later time for `order` (upstream `registerNewKey`,
/// `--key-order-priority`). The index into `keys`.
pub fn active_index(keys: &[KeySecretInfo], order: KeyOrder) -> Option<usize> {
    let mut registration: Vec<usize> = (0..keys.len()).collect();
    registration.sort_by(|&a, &b| {
        let created = |i: usize| keys.get(i).map(|k| k.created.as_str());
        created(a).cmp(&created(b))
    });
    let time = |k: &KeySecretInfo| match order {
        KeyOrder::CertNotBefore => k.not_before,
        KeyOrder::SecretCreationTimestamp => parse_rfc3339(&k.created).unwrap_or(k.not_before),
    };
    let mut latest: Option<(usize, SystemTime)> = None;
    for i in registration {
        let Some(k) = keys.get(i) else { continue };
        let t = time(k);
        if latest.is_none_or(|(_, cur)| t > cur) {
            latest = Some((i, t));
        }
    }
    latest.map(|(i, _)| i)
}

/// A SealedSecret in the cluster and what its Secret says about the keys it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretState {
    /// The Secret carries [`SEALING_KEYS_ANNOTATION`] for the SealedSecret's current generation.
    Known(BTreeSet<String>),
    /// No Secret, a Secret without the annotation (written by upstream, or by hand), or an
    /// annotation older than the SealedSecret's spec (its status says a newer generation was not
    /// unsealed yet).
    Unknown,
}

/// What is known about one SealedSecret: the annotation of the Secret of the same namespace and
/// name (`None` when there is no such Secret or it has no annotation), and whether the
/// SealedSecret's status shows its current generation unsealed (`true` when there is no status,
/// `--update-status=false`).
pub fn secret_state(annotation: Option<&str>, current: bool) -> SecretState {
    match annotation {
        Some(v) if current => SecretState::Known(parse_annotation(v)),
        _ => SecretState::Unknown,
    }
}

/// Whether a SealedSecret's status says its current spec was unsealed: no status at all counts as
/// current (the controller may run with `--update-status=false`).
pub fn status_is_current(generation: i64, observed_generation: Option<i64>) -> bool {
    observed_generation.is_none_or(|observed| observed >= generation)
}

/// How many SealedSecrets need each key (by fingerprint), and how many could not be told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub by_key: BTreeMap<String, usize>,
    pub unknown: usize,
    pub sealed_secrets: usize,
}

impl Usage {
    pub fn count(states: impl IntoIterator<Item = SecretState>) -> Usage {
        let mut usage = Usage::default();
        for state in states {
            usage.sealed_secrets += 1;
            match state {
                SecretState::Known(keys) => {
                    for k in keys {
                        *usage.by_key.entry(k).or_default() += 1;
                    }
                }
                SecretState::Unknown => usage.unknown += 1,
            }
        }
        usage
    }

    pub fn needing(&self, fingerprint: &str) -> usize {
        self.by_key.get(fingerprint).copied().unwrap_or(0)
    }
}

/// One row of `kubeseal --list-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyEntry {
    pub name: String,
    pub fingerprint: String,
    pub created: String,
    pub not_before: String,
    pub not_after: String,
    pub active: bool,
    pub backed_up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backed_up_at: Option<String>,
    /// SealedSecrets whose Secret says they need this key.
    pub sealed_secrets: usize,
}

/// `kubeseal --list-keys`: the keys, oldest first, and the SealedSecrets whose key is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub namespace: String,
    pub keys: Vec<KeyEntry>,
    /// SealedSecrets whose Secret does not say which key unsealed them: any key may be needed.
    pub unknown: usize,
    pub sealed_secrets: usize,
}

/// The inventory of `keys`; `active` is the fingerprint of the key the controller seals with (from
/// its certificate), else the one [`active_index`] picks with the default order.
pub fn inventory(
    namespace: &str,
    keys: &[KeySecretInfo],
    active: Option<&str>,
    usage: &Usage,
) -> Inventory {
    let computed = active_index(keys, KeyOrder::default());
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| keys.get(i).map(|k| (k.created.as_str(), k.name.as_str()));
        key(a).cmp(&key(b))
    });
    let entries = order
        .into_iter()
        .filter_map(|i| {
            let k = keys.get(i)?;
            let is_active = match active {
                Some(fp) => fp == k.fingerprint,
                None => computed == Some(i),
            };
            Some(KeyEntry {
                name: k.name.clone(),
                fingerprint: k.fingerprint.clone(),
                created: k.created.clone(),
                not_before: metav1_time(k.not_before),
                not_after: metav1_time(k.not_after),
                active: is_active,
                backed_up: k.backed_up_at.is_some(),
                backed_up_at: k.backed_up_at.clone(),
                sealed_secrets: usage.needing(&k.fingerprint),
            })
        })
        .collect();
    Inventory {
        namespace: namespace.to_string(),
        keys: entries,
        unknown: usage.unknown,
        sealed_secrets: usage.sealed_secrets,
    }
}

/// Why `kubeseal --retire-key` refuses (one line each, upstream's error style).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("key Secret {name:?} not found in namespace {namespace} (see kubeseal --list-keys)")]
    NotFound { name: String, namespace: String },
    #[error(
        "key {name:?} is the active sealing key: it is never retired (renew the key first, then re-encrypt)"
    )]
    Active { name: String },
    #[error(
        "key {name:?} is still needed by {count} SealedSecret(s): re-encrypt them first (kubeseal --re-encrypt), or give --force"
    )]
    InUse { name: String, count: usize },
    #[error(
        "{count} SealedSecret(s) do not say which key unsealed them (their Secret has no {SEALING_KEYS_ANNOTATION} annotation) and may need key {name:?}: wait for the controller to unseal them again, or give --force"
    )]
    MaybeInUse { name: String, count: usize },
    #[error(
        "key {name:?} is in no backup (no {BACKED_UP_AT} annotation): run kubeseal --backup-keys first, or give --force"
    )]
    NotBackedUp { name: String },
}

/// Whether the key Secret `name` may be retired. The active key never is (the controller's
/// certificate, and the newest key under either `--key-order-priority`, to be safe when the
/// controller's order is unknown); `force` overrides every other refusal.
pub fn check_retirement<'a>(
    inv: &'a Inventory,
    keys: &[KeySecretInfo],
    name: &str,
    force: bool,
) -> Result<&'a KeyEntry, Refusal> {
    let entry = inv
        .keys
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| Refusal::NotFound {
            name: name.to_string(),
            namespace: inv.namespace.clone(),
        })?;
    let newest_under = |order| {
        active_index(keys, order)
            .and_then(|i| keys.get(i))
            .is_some_and(|k| k.fingerprint == entry.fingerprint)
    };
    if entry.active
        || newest_under(KeyOrder::CertNotBefore)
        || newest_under(KeyOrder::SecretCreationTimestamp)
    {
        return Err(Refusal::Active {
            name: name.to_string(),
        });
    }
    if force {
        return Ok(entry);
    }
    if entry.sealed_secrets > 0 {
        return Err(Refusal::InUse {
            name: name.to_string(),
            count: entry.sealed_secrets,
        });
    }
    if inv.unknown > 0 {
        return Err(Refusal::MaybeInUse {
            name: name.to_string(),
            count: inv.unknown,
        });
    }
    if !entry.backed_up {
        return Err(Refusal::NotBackedUp {
            name: name.to_string(),
        });
    }
    Ok(entry)
}

/// `kubeseal --list-keys` without `-o`: one line per key, then the unknown count.
pub fn render_table(inv: &Inventory) -> String {
    let header = [
        "NAME",
        "FINGERPRINT",
        "CREATED",
        "NOT AFTER",
        "ACTIVE",
        "BACKED UP",
        "SEALED SECRETS",
    ];
    let rows: Vec<[String; 7]> = inv
        .keys
        .iter()
        .map(|k| {
            [
                k.name.clone(),
                k.fingerprint.clone(),
                k.created.clone(),
                k.not_after.clone(),
                if k.active { "yes" } else { "no" }.to_string(),
                k.backed_up_at.clone().unwrap_or_else(|| "no".to_string()),
                k.sealed_secrets.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            s.push_str(cell);
            if i < last {
                s.push_str(&" ".repeat(w.saturating_sub(cell.len()) + 3));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push_str(&format!(
        "{} SealedSecret(s) in the cluster, {} of them unknown (their Secret does not say which key unsealed them)\n",
        inv.sealed_secrets, inv.unknown
    ));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::keys::{Certificate, PrivateKey};
    use crate::test_keys::{CERT, KEY, OTHER_CERT, OTHER_KEY, ring, seal_value};

    fn fp(cert: &[u8]) -> String {
        Certificate::from_pem(cert)
            .unwrap()
            .public_key
            .fingerprint()
    }

    fn sealed(items: &[(&str, String)]) -> SealedSecret {
        let mut ss = SealedSecret::default();
        ss.metadata.name = "s".into();
        ss.metadata.namespace = "ns".into();
        ss.spec.encrypted_data = items
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        ss
    }

    #[test]
    fn the_key_that_decrypted_is_recorded_and_annotated() {
        let r = ring(&[(OTHER_KEY, OTHER_CERT), (KEY, CERT)]);
        let ss = sealed(&[
            ("a", seal_value("x", b"ns/s")),
            ("b", seal_value("y", b"ns/s")),
        ]);
        let (secret, used) = unseal_recording(&ss, &r, UnsealOptions::default()).unwrap();
        assert_eq!(used, BTreeSet::from([fp(CERT)]));
        assert_eq!(
            secret.metadata.annotations[SEALING_KEYS_ANNOTATION],
            fp(CERT)
        );
        assert_eq!(secret.data["a"].as_bytes(), b"x");
        // The private key's fingerprint is the certificate's (what --list-keys compares with).
        assert_eq!(
            PrivateKey::from_pem(KEY)
                .unwrap()
                .public_key()
                .fingerprint(),
            fp(CERT)
        );
    }

    #[test]
    fn items_of_two_keys_name_both_and_failures_stay_errors() {
        let r = ring(&[(KEY, CERT), (OTHER_KEY, OTHER_CERT)]);
        let other = Certificate::from_pem(OTHER_CERT).unwrap().public_key;
        let b = go_semantics::base64::encode(&other.encrypt(b"y", b"ns/s").unwrap());
        let ss = sealed(&[("a", seal_value("x", b"ns/s")), ("b", b)]);
        let (secret, used) = unseal_recording(&ss, &r, UnsealOptions::default()).unwrap();
        assert_eq!(used, BTreeSet::from([fp(CERT), fp(OTHER_CERT)]));
        let value = &secret.metadata.annotations[SEALING_KEYS_ANNOTATION];
        assert_eq!(parse_annotation(value), used);
        assert_eq!(value.matches(',').count(), 1);

        let only_other = ring(&[(OTHER_KEY, OTHER_CERT)]);
        let err = unseal_recording(&ss, &only_other, UnsealOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "no key could decrypt secret (a)");

        let empty = sealed(&[]);
        let (secret, used) = unseal_recording(&empty, &r, UnsealOptions::default()).unwrap();
        assert!(used.is_empty());
        assert_eq!(secret.metadata.annotations[SEALING_KEYS_ANNOTATION], "");
    }

    #[test]
    fn an_annotation_alone_is_written_only_for_a_changed_spec() {
        let r = ring(&[(KEY, CERT)]);
        let ss = sealed(&[("a", seal_value("x", b"ns/s"))]);
        let (desired, _) = unseal_recording(&ss, &r, UnsealOptions::default()).unwrap();
        let mut upstreams = desired.clone();
        upstreams.metadata.annotations.clear();
        // Upstream's Secret, its SealedSecret already unsealed: a takeover writes nothing.
        assert!(!needs_write(&upstreams, &desired, 2, Some(2)));
        assert!(!needs_write(&desired, &desired, 2, None));
        // A stale annotation of ours is not rewritten either until the spec changes.
        let mut stale = desired.clone();
        stale
            .metadata
            .annotations
            .insert(SEALING_KEYS_ANNOTATION.into(), "SHA256:old".into());
        assert!(!needs_write(&stale, &desired, 2, Some(2)));
        // The spec changed (re-encrypted): written; and without status, always.
        assert!(needs_write(&upstreams, &desired, 2, Some(1)));
        assert!(needs_write(&stale, &desired, 2, Some(1)));
        assert!(needs_write(&upstreams, &desired, 2, None));
        // Any other difference is written as before.
        let mut other = desired.clone();
        other.data.clear();
        assert!(needs_write(&other, &desired, 2, Some(2)));
    }

    fn info(name: &str, created: &str, not_before: u64, backed_up: bool) -> KeySecretInfo {
        KeySecretInfo {
            name: name.into(),
            fingerprint: format!("SHA256:{name}"),
            created: created.into(),
            not_before: SystemTime::UNIX_EPOCH + Duration::from_secs(not_before),
            not_after: SystemTime::UNIX_EPOCH + Duration::from_secs(not_before + 1000),
            backed_up_at: backed_up.then(|| "2026-01-01T00:00:00Z".to_string()),
        }
    }

    #[test]
    fn active_key_as_the_registry_picks_it() {
        let keys = [
            info("b", "2026-02-01T00:00:00Z", 10, false),
            info("a", "2026-01-01T00:00:00Z", 20, false),
        ];
        // Newest certificate wins by default, the newest Secret under creation order.
        assert_eq!(active_index(&keys, KeyOrder::CertNotBefore), Some(1));
        assert_eq!(
            active_index(&keys, KeyOrder::SecretCreationTimestamp),
            Some(0)
        );
        // A tie keeps the key registered first (the older Secret).
        let tie = [
            info("late", "2026-02-01T00:00:00Z", 5, false),
            info("early", "2026-01-01T00:00:00Z", 5, false),
        ];
        assert_eq!(active_index(&tie, KeyOrder::CertNotBefore), Some(1));
        assert_eq!(active_index(&[], KeyOrder::CertNotBefore), None);
    }

    #[test]
    fn usage_counts_known_and_unknown() {
        assert!(status_is_current(3, None));
        assert!(status_is_current(3, Some(3)));
        assert!(!status_is_current(3, Some(2)));
        let states = [
            secret_state(Some("SHA256:k1"), true),
            secret_state(Some("SHA256:k1,SHA256:k2"), true),
            secret_state(Some("SHA256:k2"), false),
            secret_state(None, true),
            secret_state(Some(""), true),
        ];
        let usage = Usage::count(states);
        assert_eq!(usage.needing("SHA256:k1"), 2);
        assert_eq!(usage.needing("SHA256:k2"), 1);
        assert_eq!(usage.needing("SHA256:k3"), 0);
        assert_eq!(usage.unknown, 2);
        assert_eq!(usage.sealed_secrets, 5);
    }

    fn usage(k1: usize, k2: usize, unknown: usize) -> Usage {
        Usage {
            by_key: BTreeMap::from([("SHA256:k1".into(), k1), ("SHA256:k2".into(), k2)]),
            unknown,
            sealed_secrets: k1 + k2 + unknown,
        }
    }

    #[test]
    fn inventory_rows_and_table() {
        let keys = [
            info("k2", "2026-02-01T00:00:00Z", 20, false),
            info("k1", "2026-01-01T00:00:00Z", 10, true),
        ];
        let inv = inventory("kube-system", &keys, None, &usage(2, 1, 0));
        let names: Vec<&str> = inv.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["k1", "k2"]);
        assert_eq!(
            inv.keys
                .iter()
                .map(|k| (k.active, k.backed_up, k.sealed_secrets))
                .collect::<Vec<_>>(),
            [(false, true, 2), (true, false, 1)]
        );
        // The controller's certificate decides when it is known.
        let by_cert = inventory("kube-system", &keys, Some("SHA256:k1"), &usage(2, 1, 0));
        assert!(by_cert.keys[0].active && !by_cert.keys[1].active);

        let table = render_table(&inv);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("NAME   FINGERPRINT"));
        assert!(lines[1].starts_with("k1     SHA256:k1"));
        assert!(lines[1].contains("2026-01-01T00:00:00Z   2"));
        assert!(
            lines[2].ends_with("   yes      no                     1"),
            "{table}"
        );
        assert_eq!(
            lines[3],
            "3 SealedSecret(s) in the cluster, 0 of them unknown (their Secret does not say which key unsealed them)"
        );
        let json = serde_json::to_value(&inv).unwrap();
        assert_eq!(json["keys"][0]["sealedSecrets"], 2);
        assert_eq!(json["keys"][1]["notBefore"], "1970-01-01T00:00:20Z");
        assert!(json["keys"][1].get("backedUpAt").is_none());
    }

    #[test]
    fn retirement_decisions() {
        let keys = [
            info("k1", "2026-01-01T00:00:00Z", 10, false),
            info("k2", "2026-02-01T00:00:00Z", 20, false),
        ];
        let check = |u: Usage, backed: bool, name: &str, force: bool| {
            let mut ks = keys.clone();
            ks[0].backed_up_at = backed.then(|| "t".to_string());
            let inv = inventory("kube-system", &ks, None, &u);
            check_retirement(&inv, &ks, name, force).map(|e| e.name.clone())
        };
        assert_eq!(
            check(usage(2, 1, 0), true, "k1", false),
            Err(Refusal::InUse {
                name: "k1".into(),
                count: 2
            })
        );
        assert_eq!(
            check(usage(0, 3, 1), true, "k1", false),
            Err(Refusal::MaybeInUse {
                name: "k1".into(),
                count: 1
            })
        );
        assert_eq!(
            check(usage(0, 3, 0), false, "k1", false),
            Err(Refusal::NotBackedUp { name: "k1".into() })
        );
        assert_eq!(check(usage(0, 3, 0), true, "k1", false), Ok("k1".into()));
        assert_eq!(check(usage(2, 1, 1), false, "k1", true), Ok("k1".into()));
        // The active key never, not even forced.
        for force in [false, true] {
            assert_eq!(
                check(usage(0, 0, 0), true, "k2", force),
                Err(Refusal::Active { name: "k2".into() })
            );
        }
        assert_eq!(
            check(usage(0, 0, 0), true, "nope", true),
            Err(Refusal::NotFound {
                name: "nope".into(),
                namespace: "kube-system".into()
            })
        );
        // Newest under the other key order: refused too, whatever the controller's flag is.
        let mut ks = keys.to_vec();
        ks[0].created = "2026-03-01T00:00:00Z".into();
        ks[0].backed_up_at = Some("t".into());
        let inv = inventory("kube-system", &ks, Some("SHA256:k2"), &usage(0, 0, 0));
        assert_eq!(
            check_retirement(&inv, &ks, "k1", true),
            Err(Refusal::Active { name: "k1".into() })
        );
        assert_eq!(
            Refusal::InUse {
                name: "k1".into(),
                count: 2
            }
            .to_string(),
            "key \"k1\" is still needed by 2 SealedSecret(s): re-encrypt them first (kubeseal --re-encrypt), or give --force"
        );
    }
}

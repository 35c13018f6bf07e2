//! Backups of the controller's key Secrets (docs/operations.md): the file format, its encryption
//! with [age](https://age-encryption.org) and the validation done before a restore writes anything.
//!
//! The plaintext of a backup is a standard `kind: List` of `kubernetes.io/tls` key Secrets (so
//! upstream `kubeseal --recovery-private-key` reads a decrypted backup), with the server-populated
//! metadata stripped, a comment header saying what was exported and when, and on every item the
//! annotations [`BACKED_UP_AT`], [`KEY_FINGERPRINT`], [`CERT_NOT_BEFORE`], [`CERT_NOT_AFTER`].
//! By default it is encrypted, ASCII-armored, to age X25519 recipients or to a passphrase (age's
//! scrypt recipient): the same file `age -d` decrypts.
//!
//! No I/O here: the caller reads files, asks for passphrases and talks to the API server.

use std::io::{Read, Write};
use std::str::FromStr;
use std::time::SystemTime;

use crate::types::metav1_time;

pub use age::secrecy::SecretString;
use serde_json::{Value, json};
use zeroize::{Zeroize, Zeroizing};

use crate::key_secret::{TLS_CRT, TLS_KEY};
use crate::keys::{Certificate, KeyError, PrivateKey};
use crate::types::Secret;

pub use crate::key_secret::KEY_LABEL;
/// Set on a key Secret in the cluster after a successful backup, and on the items of the backup.
pub const BACKED_UP_AT: &str = "sealedsecrets-rs.io/backed-up-at";
/// Informational annotations on the items of a backup; not restored (they are derived from the data).
pub const KEY_FINGERPRINT: &str = "sealedsecrets-rs.io/key-fingerprint";
pub const CERT_NOT_BEFORE: &str = "sealedsecrets-rs.io/cert-not-before";
pub const CERT_NOT_AFTER: &str = "sealedsecrets-rs.io/cert-not-after";

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const BINARY_MAGIC: &[u8] = b"age-encryption.org/";
/// Largest scrypt work factor accepted when decrypting (age's own default cap depends on the
/// machine; a fixed one makes a file written on a fast machine readable on a slow one).
const MAX_SCRYPT_LOG_N: u8 = 22;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    #[error("cannot decrypt the backup: wrong passphrase")]
    WrongPassphrase,
    #[error("cannot decrypt the backup: none of the given identities is a recipient of this file")]
    NoMatchingIdentity,
    #[error("the backup is encrypted with a passphrase, not to an age identity")]
    NeedsPassphrase,
    #[error("the backup is encrypted to age recipients: an identity file is needed to decrypt it")]
    NeedsIdentity,
    #[error("the backup file is corrupted or truncated: {0}")]
    Corrupted(String),
    #[error("invalid age recipient {0:?}: expected an X25519 public key (age1...)")]
    InvalidRecipient(String),
    #[error("invalid age identity file: {0}")]
    InvalidIdentity(String),
    #[error("no recipient given to encrypt the backup to")]
    NoRecipient,
    #[error("empty passphrase")]
    EmptyPassphrase,
    #[error("cannot encrypt the backup: {0}")]
    Encrypt(String),
    #[error("not a backup of key Secrets: {0}")]
    Format(String),
    #[error("the backup holds no key Secret")]
    NoKeys,
    #[error("key Secret {name:?}: {reason}")]
    BadKey { name: String, reason: String },
    #[error("the backup holds two different keys named {0:?}")]
    DuplicateName(String),
}

/// What one key Secret of a backup holds, as shown to users (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    /// `SHA256:<base64>` of the certificate's public key (SubjectPublicKeyInfo).
    pub fingerprint: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

/// A key Secret from a backup, validated and cleaned, ready to be created.
#[derive(Debug, Clone)]
pub struct BackupKey {
    pub secret: Secret,
    pub info: KeyInfo,
}

/// The plaintext of a new backup and what it holds.
pub struct Export {
    /// YAML: comment header + `kind: List`. Holds private keys: zeroized on drop, never printed.
    pub plaintext: Zeroizing<String>,
    /// RFC 3339 time written into the backup and set as [`BACKED_UP_AT`] in the cluster.
    pub exported_at: String,
    pub keys: Vec<KeyInfo>,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export")
            .field("exported_at", &self.exported_at)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Checks that a Secret is a usable sealing key: an RSA private key in `tls.key` and a certificate
/// in `tls.crt` (upstream `pkg/controller/keys.go` `readKey`).
pub fn key_info(secret: &Secret) -> Result<KeyInfo, BackupError> {
    let name = display_name(secret);
    let bad = |reason: String| BackupError::BadKey {
        name: name.clone(),
        reason,
    };
    let key = secret
        .data
        .get(TLS_KEY)
        .ok_or_else(|| bad("no tls.key".into()))?;
    PrivateKey::from_pem(key.as_bytes()).map_err(|e| match e {
        KeyError::NotRsaPrivateKey => bad("private key is not an RSA key".into()),
        other => bad(format!("tls.key: {other}")),
    })?;
    let crt = secret
        .data
        .get(TLS_CRT)
        .ok_or_else(|| bad("no tls.crt".into()))?;
    let cert = Certificate::from_pem(crt.as_bytes()).map_err(|e| bad(format!("tls.crt: {e}")))?;
    Ok(KeyInfo {
        name,
        fingerprint: cert.public_key.fingerprint(),
        not_before: cert.not_before,
        not_after: cert.not_after,
    })
}

fn display_name(secret: &Secret) -> String {
    if secret.metadata.name.is_empty() {
        secret.metadata.generate_name.clone()
    } else {
        secret.metadata.name.clone()
    }
}

/// The name `--restore-keys` gives a labelled key Secret whose own name is taken in the cluster by a
/// different Secret (for example the `-initial` key a controller generated after every key was
/// lost): `<name>-restored-` and the first 10 hex digits of the SHA-256 of the key's `fingerprint`,
/// so a second restore finds it again. The controller finds key Secrets by label, never by name
/// (upstream's `pkg/controller/keyregistry.go` too), so the name does not matter to either.
pub fn restored_name(name: &str, fingerprint: &str) -> String {
    crate::key_secret::key_secret_name(
        name,
        &format!(
            "restored-{}",
            crate::key_secret::short_digest(fingerprint.as_bytes())
        ),
    )
}

/// Whether two key Secrets hold the same key pair (same private key and certificate).
pub fn same_key(a: &Secret, b: &Secret) -> bool {
    let key_of = |s: &Secret| {
        s.data
            .get(TLS_KEY)
            .and_then(|k| PrivateKey::from_pem(k.as_bytes()).ok())
            .map(|k| k.public_key().fingerprint())
    };
    let ka = key_of(a);
    ka.is_some() && ka == key_of(b) && a.data.get(TLS_CRT) == b.data.get(TLS_CRT)
}

/// The Secret as it goes into a backup or back into a cluster: no server-populated metadata.
fn clean(mut secret: Secret) -> Secret {
    secret.metadata.clear_server_fields();
    secret.metadata.managed_fields.clear();
    secret.metadata.owner_references.clear();
    secret.metadata.generate_name.clear();
    secret.metadata.finalizers.clear();
    secret.kind = "Secret".into();
    secret.api_version = "v1".into();
    secret
}

/// Builds the plaintext of a backup of `secrets` (the key Secrets read from `namespace`), exported
/// at `now`. Every Secret must be a usable key; items are sorted oldest certificate first.
pub fn export(
    secrets: Vec<Secret>,
    namespace: &str,
    now: SystemTime,
) -> Result<Export, BackupError> {
    let exported_at = metav1_time(now);
    let mut items: Vec<(KeyInfo, Secret)> = Vec::new();
    for secret in secrets {
        let info = key_info(&secret)?;
        if let Some((_, other)) = items.iter().find(|(i, _)| i.name == info.name) {
            if same_key(other, &secret) {
                continue;
            }
            return Err(BackupError::DuplicateName(info.name));
        }
        let mut secret = clean(secret);
        let a = &mut secret.metadata.annotations;
        a.insert(BACKED_UP_AT.into(), exported_at.clone());
        a.insert(KEY_FINGERPRINT.into(), info.fingerprint.clone());
        a.insert(CERT_NOT_BEFORE.into(), metav1_time(info.not_before));
        a.insert(CERT_NOT_AFTER.into(), metav1_time(info.not_after));
        items.push((info, secret));
    }
    if items.is_empty() {
        return Err(BackupError::NoKeys);
    }
    items.sort_by(|a, b| {
        a.0.not_before
            .cmp(&b.0.not_before)
            .then(a.0.name.cmp(&b.0.name))
    });

    let mut header = String::new();
    header.push_str(
        "# sealed-secrets-rs key backup: the controller's private keys. Keep it secret.\n",
    );
    header.push_str(&format!("# exported-at: {exported_at}\n"));
    header.push_str(&format!("# namespace: {namespace}\n"));
    header.push_str(&format!("# keys: {}\n", items.len()));
    for (info, _) in &items {
        header.push_str(&format!(
            "#   {} {} not-before={} not-after={}\n",
            info.name,
            info.fingerprint,
            metav1_time(info.not_before),
            metav1_time(info.not_after)
        ));
    }
    header.push_str(
        "# Restore: kubeseal --restore-keys FILE; offline: kubeseal --recovery-unseal --recovery-private-key FILE\n",
    );

    let mut values = Vec::with_capacity(items.len());
    for (_, secret) in &items {
        values.push(serde_json::to_value(secret).map_err(|e| BackupError::Format(e.to_string()))?);
    }
    let mut list = json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": values});
    let yaml = goyaml::to_yaml(&list);
    zeroize_value(&mut list);
    let mut plaintext = Zeroizing::new(header);
    plaintext.push_str(&yaml);
    let mut yaml = yaml;
    yaml.zeroize();
    Ok(Export {
        plaintext,
        exported_at,
        keys: items.into_iter().map(|(i, _)| i).collect(),
    })
}

/// Overwrites every string of a JSON value (it held base64 private keys).
fn zeroize_value(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(zeroize_value),
        Value::Object(m) => m.values_mut().for_each(zeroize_value),
        _ => {}
    }
}

/// The key Secrets of a (decrypted or plain) backup: ours, upstream's `kubectl get secret -l ...
/// -o yaml` List (also with the legacy key appended after `---`), a List without `kind`, or a
/// stream of Secret documents. Everything is validated: one bad item fails the whole backup.
pub fn parse(plaintext: &[u8]) -> Result<Vec<BackupKey>, BackupError> {
    let docs =
        goyaml::parse_documents(plaintext).map_err(|e| BackupError::Format(e.to_string()))?;
    let mut raw = Vec::new();
    for doc in docs {
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match doc.get("items") {
            Some(Value::Array(items)) if kind.is_empty() || kind.ends_with("List") => {
                raw.extend(items.iter().cloned())
            }
            Some(Value::Null) if kind.ends_with("List") => {}
            _ if kind.is_empty() || kind == "Secret" => raw.push(doc),
            _ => {
                return Err(BackupError::Format(format!(
                    "unexpected object of kind {kind:?}"
                )));
            }
        }
    }
    let mut keys: Vec<BackupKey> = Vec::new();
    for mut value in raw {
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !kind.is_empty() && kind != "Secret" {
            let kind = kind.to_string();
            zeroize_value(&mut value);
            return Err(BackupError::Format(format!(
                "unexpected item of kind {kind:?}"
            )));
        }
        let secret: Result<Secret, _> = serde_json::from_value(value.clone());
        zeroize_value(&mut value);
        let secret = secret.map_err(|e| BackupError::Format(e.to_string()))?;
        if secret.metadata.name.is_empty() {
            return Err(BackupError::Format(
                "a key Secret has no metadata.name".into(),
            ));
        }
        let info = key_info(&secret)?;
        let mut secret = clean(secret);
        for a in [KEY_FINGERPRINT, CERT_NOT_BEFORE, CERT_NOT_AFTER] {
            secret.metadata.annotations.remove(a);
        }
        if let Some(other) = keys.iter().find(|k| k.info.name == info.name) {
            if same_key(&other.secret, &secret) {
                continue;
            }
            return Err(BackupError::DuplicateName(info.name));
        }
        keys.push(BackupKey { secret, info });
    }
    if keys.is_empty() {
        return Err(BackupError::NoKeys);
    }
    Ok(keys)
}

/// How a backup file is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// Plain YAML/JSON.
    Plain,
    /// age, to X25519 (or other public-key) recipients: needs an identity.
    Recipients,
    /// age, scrypt: needs the passphrase.
    Passphrase,
}

/// Whether `data` is an age file (armored or binary).
pub fn is_encrypted(data: &[u8]) -> bool {
    let trimmed = trim_start(data);
    trimmed.starts_with(ARMOR_BEGIN.as_bytes()) || trimmed.starts_with(BINARY_MAGIC)
}

fn trim_start(data: &[u8]) -> &[u8] {
    let n = data.iter().take_while(|b| b.is_ascii_whitespace()).count();
    data.get(n..).unwrap_or_default()
}

fn decryptor(data: &[u8]) -> Result<age::Decryptor<impl std::io::BufRead + '_>, BackupError> {
    let reader = age::armor::ArmoredReader::new(trim_start(data));
    age::Decryptor::new_buffered(reader).map_err(corrupted)
}

fn corrupted(e: age::DecryptError) -> BackupError {
    let reason = match e {
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            "invalid age header".to_string()
        }
        age::DecryptError::InvalidMac => "header MAC mismatch".to_string(),
        age::DecryptError::DecryptionFailed => "payload authentication failed".to_string(),
        age::DecryptError::Io(io) => io.to_string(),
        other => other.to_string(),
    };
    BackupError::Corrupted(reason)
}

/// How `data` is protected; an age file whose header cannot be read is an error.
pub fn envelope(data: &[u8]) -> Result<Envelope, BackupError> {
    if !is_encrypted(data) {
        return Ok(Envelope::Plain);
    }
    Ok(if decryptor(data)?.is_scrypt() {
        Envelope::Passphrase
    } else {
        Envelope::Recipients
    })
}

fn read_payload(
    reader: Result<impl Read, age::DecryptError>,
    on_key_error: BackupError,
) -> Result<Zeroizing<Vec<u8>>, BackupError> {
    let mut reader = reader.map_err(|e| match e {
        age::DecryptError::NoMatchingKeys | age::DecryptError::KeyDecryptionFailed => {
            on_key_error.clone()
        }
        // scrypt: a wrong passphrase fails the AEAD of the file key.
        age::DecryptError::DecryptionFailed => on_key_error.clone(),
        age::DecryptError::ExcessiveWork { required, .. } => {
            BackupError::Corrupted(format!("scrypt work factor 2^{required} is too large"))
        }
        other => corrupted(other),
    })?;
    let mut out = Zeroizing::new(Vec::new());
    reader.read_to_end(&mut out).map_err(|e| {
        out.zeroize();
        BackupError::Corrupted(e.to_string())
    })?;
    Ok(out)
}

/// Decrypts an age backup with the identities of one or more age identity files
/// (`AGE-SECRET-KEY-1...` lines, `#` comments).
pub fn decrypt_with_identities(
    data: &[u8],
    identity_files: &[&[u8]],
) -> Result<Zeroizing<Vec<u8>>, BackupError> {
    let mut identities: Vec<Box<dyn age::Identity + Send + Sync>> = Vec::new();
    for file in identity_files {
        let parsed = age::IdentityFile::from_buffer(*file)
            .map_err(|_| BackupError::InvalidIdentity("not an age identity file".into()))?
            .into_identities()
            .map_err(|_| BackupError::InvalidIdentity("unsupported identity".into()))?;
        if parsed.is_empty() {
            return Err(BackupError::InvalidIdentity(
                "no identity in the file".into(),
            ));
        }
        identities.extend(parsed);
    }
    let d = decryptor(data)?;
    if d.is_scrypt() {
        return Err(BackupError::NeedsPassphrase);
    }
    read_payload(
        d.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity)),
        BackupError::NoMatchingIdentity,
    )
}

/// Decrypts a passphrase-protected age backup.
pub fn decrypt_with_passphrase(
    data: &[u8],
    passphrase: &SecretString,
) -> Result<Zeroizing<Vec<u8>>, BackupError> {
    let d = decryptor(data)?;
    if !d.is_scrypt() {
        return Err(BackupError::NeedsIdentity);
    }
    let mut identity = age::scrypt::Identity::new(passphrase.clone());
    identity.set_max_work_factor(MAX_SCRYPT_LOG_N);
    read_payload(
        d.decrypt(std::iter::once(&identity as &dyn age::Identity)),
        BackupError::WrongPassphrase,
    )
}

/// A new age X25519 identity: the identity file text (`AGE-SECRET-KEY-1...`, as `age-keygen` writes
/// it) and its recipient (`age1...`).
pub fn generate_identity() -> (Zeroizing<String>, String) {
    use age::secrecy::ExposeSecret as _;
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    let text = Zeroizing::new(format!(
        "# public key: {recipient}\n{}\n",
        id.to_string().expose_secret()
    ));
    (text, recipient)
}

/// Parses `age1...` recipients.
pub fn parse_recipients(recipients: &[String]) -> Result<Vec<age::x25519::Recipient>, BackupError> {
    if recipients.is_empty() {
        return Err(BackupError::NoRecipient);
    }
    recipients
        .iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r.trim())
                .map_err(|_| BackupError::InvalidRecipient(r.clone()))
        })
        .collect()
}

/// Encrypts `plaintext` to age X25519 recipients, ASCII-armored.
pub fn encrypt_to_recipients(
    plaintext: &[u8],
    recipients: &[String],
) -> Result<String, BackupError> {
    let parsed = parse_recipients(recipients)?;
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    armored(encryptor, plaintext)
}

/// Encrypts `plaintext` with a passphrase (age scrypt recipient), ASCII-armored. `work_factor`
/// (log2 N) overrides age's choice of about one second of work (tests use a small one).
pub fn encrypt_with_passphrase(
    plaintext: &[u8],
    passphrase: &SecretString,
    work_factor: Option<u8>,
) -> Result<String, BackupError> {
    use age::secrecy::ExposeSecret as _;
    if passphrase.expose_secret().is_empty() {
        return Err(BackupError::EmptyPassphrase);
    }
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    if let Some(n) = work_factor.filter(|n| (1..64).contains(n)) {
        recipient.set_work_factor(n);
    }
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    armored(encryptor, plaintext)
}

fn armored(encryptor: age::Encryptor, plaintext: &[u8]) -> Result<String, BackupError> {
    let err = |e: std::io::Error| BackupError::Encrypt(e.to_string());
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(err)?;
    let mut writer = encryptor.wrap_output(armor).map_err(err)?;
    writer.write_all(plaintext).map_err(err)?;
    writer.finish().map_err(err)?.finish().map_err(err)?;
    String::from_utf8(out).map_err(|e| BackupError::Encrypt(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret as _;
    use std::time::Duration;

    const KEY: &str = include_str!("../tests/fixtures/keys/key-pkcs1.pem");

    #[test]
    fn restored_name_is_stable_distinct_and_a_valid_name() {
        let a = restored_name("sealed-secrets-key-initial", "SHA256:abc");
        assert_eq!(a, restored_name("sealed-secrets-key-initial", "SHA256:abc"));
        assert_ne!(a, restored_name("sealed-secrets-key-initial", "SHA256:abd"));
        assert!(a.starts_with("sealed-secrets-key-initial-restored-"), "{a}");
        assert_eq!(a.len(), "sealed-secrets-key-initial-restored-".len() + 10);
        let long = restored_name(&"k".repeat(300), "SHA256:abc");
        assert_eq!(long.len(), 253);
        assert!(restored_name("key-", "f").starts_with("key-restored-"));
    }
    const CERT: &str = include_str!("../tests/fixtures/keys/cert.pem");
    const OTHER_KEY: &str = include_str!("../tests/fixtures/keys/other-key.pem");
    const OTHER_CERT: &str = include_str!("../tests/fixtures/keys/other-cert.pem");
    const EC_KEY: &str = include_str!("../tests/fixtures/keys/ec-key.pem");
    const EC_CERT: &str = include_str!("../tests/fixtures/keys/ec-cert.pem");

    fn b64(s: &str) -> String {
        go_semantics::base64::encode(s.as_bytes())
    }

    /// A key Secret as `kubectl get -o json` returns it.
    fn server_secret(name: &str, key: &str, cert: &str) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {
                "name": name, "generateName": "sealed-secrets-key", "namespace": "kube-system",
                "uid": "0f1e", "resourceVersion": "123", "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {KEY_LABEL: "active"},
                "managedFields": [{"manager": "controller"}]
            },
            "type": "kubernetes.io/tls",
            "data": {"tls.key": b64(key), "tls.crt": b64(cert)}
        })
    }

    fn secrets() -> Vec<Secret> {
        vec![
            serde_json::from_value(server_secret("sealed-secrets-keyabcde", KEY, CERT)).unwrap(),
            serde_json::from_value(server_secret("sealed-secrets-key", OTHER_KEY, OTHER_CERT))
                .unwrap(),
        ]
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn export_plain() -> Export {
        export(secrets(), "kube-system", now()).unwrap()
    }

    #[test]
    fn export_is_a_clean_list_with_metadata() {
        let e = export_plain();
        assert_eq!(e.exported_at, "2027-01-15T08:00:00Z");
        assert_eq!(e.keys.len(), 2);
        let text: &str = &e.plaintext;
        assert!(text.starts_with("# sealed-secrets-rs key backup"));
        assert!(text.contains("# exported-at: 2027-01-15T08:00:00Z\n"));
        for k in &e.keys {
            assert!(
                text.contains(&format!("#   {} {}", k.name, k.fingerprint)),
                "{}",
                k.name
            );
        }
        for gone in [
            "uid:",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "generateName",
        ] {
            assert!(!text.contains(gone), "{gone}");
        }
        let docs = goyaml::parse_documents(text.as_bytes()).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["kind"], "List");
        let items = docs[0]["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        for item in items {
            assert_eq!(item["type"], "kubernetes.io/tls");
            assert_eq!(item["metadata"]["labels"][KEY_LABEL], "active");
            assert_eq!(
                item["metadata"]["annotations"][BACKED_UP_AT],
                "2027-01-15T08:00:00Z"
            );
            assert!(
                item["metadata"]["annotations"][KEY_FINGERPRINT]
                    .as_str()
                    .unwrap()
                    .starts_with("SHA256:")
            );
        }
        // Upstream's reader of --recovery-private-key accepts it (both keys).
        assert_eq!(
            crate::keys::parse_recovery_keys(text.as_bytes())
                .unwrap()
                .len(),
            2
        );
        // And it parses back: same names, labels, type, data; informational annotations dropped.
        let keys = parse(text.as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
        let originals = secrets();
        for k in &keys {
            let orig = originals
                .iter()
                .find(|o| o.metadata.name == k.info.name)
                .unwrap();
            assert_eq!(k.secret.data, orig.data);
            assert_eq!(k.secret.type_, orig.type_);
            assert_eq!(k.secret.metadata.labels, orig.metadata.labels);
            assert!(k.secret.metadata.uid.is_empty());
            assert_eq!(
                k.secret.metadata.annotations.keys().collect::<Vec<_>>(),
                [BACKED_UP_AT]
            );
            assert!(same_key(&k.secret, orig));
        }
    }

    #[test]
    fn debug_never_shows_keys() {
        let e = export_plain();
        let dbg = format!("{e:?}");
        assert!(!dbg.contains("PRIVATE"));
        let keys = parse(e.plaintext.as_bytes()).unwrap();
        let dbg = format!("{keys:?}");
        assert!(!dbg.contains(&b64(KEY)[..40]));
    }

    #[test]
    fn identity_round_trip_and_wrong_identity() {
        let id = age::x25519::Identity::generate();
        let recipient = id.to_public().to_string();
        let e = export_plain();
        let file = encrypt_to_recipients(e.plaintext.as_bytes(), &[recipient]).unwrap();
        assert!(file.starts_with(ARMOR_BEGIN));
        assert!(!file.contains("PRIVATE"));
        assert!(is_encrypted(file.as_bytes()));
        assert_eq!(envelope(file.as_bytes()).unwrap(), Envelope::Recipients);
        let id_file = format!("# created: test\n{}\n", id.to_string().expose_secret());
        let plain = decrypt_with_identities(file.as_bytes(), &[id_file.as_bytes()]).unwrap();
        assert_eq!(&plain[..], e.plaintext.as_bytes());
        assert_eq!(parse(&plain).unwrap().len(), 2);

        let other = age::x25519::Identity::generate();
        let other_file = other.to_string().expose_secret().to_string();
        assert_eq!(
            decrypt_with_identities(file.as_bytes(), &[other_file.as_bytes()]).unwrap_err(),
            BackupError::NoMatchingIdentity
        );
        // Two identity files, one matching.
        assert!(
            decrypt_with_identities(
                file.as_bytes(),
                &[other_file.as_bytes(), id_file.as_bytes()]
            )
            .is_ok()
        );
        assert!(matches!(
            decrypt_with_identities(file.as_bytes(), &[b"not an identity"]).unwrap_err(),
            BackupError::InvalidIdentity(_)
        ));
        assert_eq!(
            decrypt_with_passphrase(file.as_bytes(), &SecretString::from("x".to_string()))
                .unwrap_err(),
            BackupError::NeedsIdentity
        );
    }

    #[test]
    fn passphrase_round_trip_and_wrong_passphrase() {
        let pass = SecretString::from("correct horse battery staple".to_string());
        let e = export_plain();
        let file = encrypt_with_passphrase(e.plaintext.as_bytes(), &pass, Some(10)).unwrap();
        assert_eq!(envelope(file.as_bytes()).unwrap(), Envelope::Passphrase);
        let plain = decrypt_with_passphrase(file.as_bytes(), &pass).unwrap();
        assert_eq!(&plain[..], e.plaintext.as_bytes());
        assert_eq!(
            decrypt_with_passphrase(file.as_bytes(), &SecretString::from("wrong".to_string()))
                .unwrap_err(),
            BackupError::WrongPassphrase
        );
        let id = age::x25519::Identity::generate();
        assert_eq!(
            decrypt_with_identities(
                file.as_bytes(),
                &[id.to_string().expose_secret().as_bytes()]
            )
            .unwrap_err(),
            BackupError::NeedsPassphrase
        );
        assert_eq!(
            encrypt_with_passphrase(b"x", &SecretString::from(String::new()), Some(10))
                .unwrap_err(),
            BackupError::EmptyPassphrase
        );
    }

    #[test]
    fn truncated_and_corrupted_files() {
        let pass = SecretString::from("pw".to_string());
        let e = export_plain();
        let file = encrypt_with_passphrase(e.plaintext.as_bytes(), &pass, Some(10)).unwrap();
        // Truncated: half of the armor, and the armor without its last lines.
        let half = &file[..file.len() / 2];
        let r = decrypt_with_passphrase(half.as_bytes(), &pass).unwrap_err();
        assert!(matches!(r, BackupError::Corrupted(_)), "{r:?}");
        let lines: Vec<&str> = file.lines().collect();
        let cut = lines[..lines.len() - 3].join("\n") + "\n" + lines[lines.len() - 1] + "\n";
        let r = decrypt_with_passphrase(cut.as_bytes(), &pass).unwrap_err();
        assert!(matches!(r, BackupError::Corrupted(_)), "{r:?}");
        // One character of the payload flipped.
        let mut bytes = file.clone().into_bytes();
        let pos = bytes.len() - 80;
        bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
        let r = decrypt_with_passphrase(&bytes, &pass).unwrap_err();
        assert!(
            matches!(r, BackupError::Corrupted(_) | BackupError::WrongPassphrase),
            "{r:?}"
        );
        assert_ne!(
            r,
            BackupError::WrongPassphrase,
            "payload damage is not a wrong passphrase"
        );
        // A header that is not age at all.
        let r = envelope(
            b"-----BEGIN AGE ENCRYPTED FILE-----\nnope\n-----END AGE ENCRYPTED FILE-----\n",
        )
        .unwrap_err();
        assert!(matches!(r, BackupError::Corrupted(_)), "{r:?}");
        // Plain but truncated YAML: a clear error, not a panic.
        let text: &str = &e.plaintext;
        let r = parse(&text.as_bytes()[..text.len() / 2]);
        assert!(r.is_err());
    }

    #[test]
    fn non_rsa_and_incomplete_keys_are_rejected() {
        let ec: Secret = serde_json::from_value(server_secret("ec", EC_KEY, EC_CERT)).unwrap();
        let r = export(vec![ec.clone()], "kube-system", now()).unwrap_err();
        assert_eq!(
            r.to_string(),
            "key Secret \"ec\": private key is not an RSA key"
        );
        let list = json!({"kind": "List", "items": [server_secret("ok", KEY, CERT), server_secret("ec", EC_KEY, EC_CERT)]});
        let r = parse(serde_json::to_string(&list).unwrap().as_bytes()).unwrap_err();
        assert_eq!(
            r.to_string(),
            "key Secret \"ec\": private key is not an RSA key"
        );
        let mut nocert = server_secret("nocert", KEY, CERT);
        nocert["data"].as_object_mut().unwrap().remove("tls.crt");
        let r = parse(serde_json::to_string(&nocert).unwrap().as_bytes()).unwrap_err();
        assert_eq!(r.to_string(), "key Secret \"nocert\": no tls.crt");
        assert_eq!(
            parse(b"kind: List\nitems: []\n").unwrap_err(),
            BackupError::NoKeys
        );
        assert!(matches!(
            parse(b"kind: ConfigMap\nmetadata: {name: x}\n").unwrap_err(),
            BackupError::Format(_)
        ));
        // Two different keys under one name.
        let list = json!({"kind": "List", "items": [server_secret("k", KEY, CERT), server_secret("k", OTHER_KEY, OTHER_CERT)]});
        assert_eq!(
            parse(serde_json::to_string(&list).unwrap().as_bytes()).unwrap_err(),
            BackupError::DuplicateName("k".into())
        );
    }

    #[test]
    fn upstream_kubectl_list_is_accepted() {
        // `kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`,
        // then `---` and the legacy key, as upstream's README recipe writes it.
        let list = json!({
            "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
            "items": [server_secret("sealed-secrets-keyabcde", KEY, CERT)]
        });
        let mut text = goyaml::to_yaml(&list);
        text.push_str("---\n");
        text.push_str(&goyaml::to_yaml(&server_secret(
            "sealed-secrets-key",
            OTHER_KEY,
            OTHER_CERT,
        )));
        let keys = parse(text.as_bytes()).unwrap();
        let names: Vec<_> = keys.iter().map(|k| k.info.name.as_str()).collect();
        assert_eq!(names, ["sealed-secrets-keyabcde", "sealed-secrets-key"]);
        assert!(
            keys.iter()
                .all(|k| k.secret.metadata.annotations.is_empty())
        );
        // A List without kind (json.Marshal of a SecretList) too.
        let bare = json!({"items": [server_secret("a", KEY, CERT)]});
        assert_eq!(
            parse(serde_json::to_string(&bare).unwrap().as_bytes())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn bad_recipients() {
        assert_eq!(
            encrypt_to_recipients(b"x", &["age1nope".into()]).unwrap_err(),
            BackupError::InvalidRecipient("age1nope".into())
        );
        assert_eq!(
            encrypt_to_recipients(b"x", &[]).unwrap_err(),
            BackupError::NoRecipient
        );
    }
}

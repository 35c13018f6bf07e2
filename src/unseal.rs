//! SealedSecret -> Secret exactly as upstream builds it (`(*SealedSecret).Unseal` in
//! `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`, legacy `spec.data` included).
//! Shared by the controller, `/v1/verify`, `/v1/rotate` and kubeseal `--recovery-unseal`.

use std::collections::BTreeMap;

use crate::Error;
use crate::keys::Decrypter;
use crate::scope::{SKIP_SET_OWNER_REFERENCES_ANNOTATION, annotation_is_true};
use crate::secret::SecretBytes;
use crate::types::{API_VERSION, KIND, OwnerReference, SealedSecret, Secret};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsealOptions {
    /// Controller `--accept-deprecated-v1-data` (default true); kubeseal behaves as false.
    pub accept_v1_data: bool,
    /// Render `spec.template.data` (upstream `Unseal`); false is upstream's `UnsealWithoutTemplate`,
    /// which `/v1/rotate` uses (docs/security.md).
    pub render_templates: bool,
}

impl Default for UnsealOptions {
    fn default() -> Self {
        UnsealOptions {
            accept_v1_data: true,
            render_templates: true,
        }
    }
}

/// Builds the desired Secret for `ss` (upstream `(*SealedSecret).Unseal`). Errors carry
/// upstream's texts, never plaintext.
pub fn unseal(
    ss: &SealedSecret,
    keys: &(impl Decrypter + ?Sized),
    opts: UnsealOptions,
) -> Result<Secret, Error> {
    let label = ss.scope().label(&ss.metadata.namespace, &ss.metadata.name);
    let mut secret = match &ss.spec.data {
        None => unseal_items(ss, keys, &label, opts.render_templates)?,
        Some(v1) => unseal_v1(ss, v1, keys, &label, opts.accept_v1_data)?,
    };
    secret.kind = "Secret".to_string();
    secret.api_version = "v1".to_string();
    secret.metadata.namespace = ss.metadata.namespace.clone();
    secret.metadata.name = ss.metadata.name.clone();
    let skip_owner = annotation_is_true(
        &ss.spec.template.metadata.annotations,
        SKIP_SET_OWNER_REFERENCES_ANNOTATION,
    );
    if !skip_owner {
        secret.metadata.owner_references = vec![owner_reference(ss)];
    }
    Ok(secret)
}

/// The controller ownerReference a Secret gets from its SealedSecret, as upstream's
/// `(*SealedSecret).Unseal` sets it.
pub fn owner_reference(ss: &SealedSecret) -> OwnerReference {
    let or_default = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    OwnerReference {
        api_version: or_default(&ss.api_version, API_VERSION),
        kind: or_default(&ss.kind, KIND),
        name: ss.metadata.name.clone(),
        uid: ss.metadata.uid.clone(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}

/// `/v1/verify` (docs/security.md): true when every item decrypts with the current keys, as
/// [`validate_encrypted_data`] decides. The answer does not say which step failed, so this stops at
/// the first item that does not decrypt instead of spending RSA work on the rest.
pub fn verify(ss: &SealedSecret, keys: &(impl Decrypter + ?Sized), accept_v1_data: bool) -> bool {
    let label = ss.scope().label(&ss.metadata.namespace, &ss.metadata.name);
    match &ss.spec.data {
        None => ss
            .spec
            .encrypted_data
            .values()
            .all(|value| decrypt_item(value, keys, &label).is_ok()),
        Some(v1) => decrypt_v1(ss, v1, keys, &label, accept_v1_data).is_ok(),
    }
}

/// Whether every item of `ss` decrypts (upstream v0.40.0 `(*SealedSecret).ValidateEncryptedData`
/// in `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`): `spec.template` is never looked
/// at, and a legacy `spec.data` blob is only decrypted, not read as a Secret.
pub fn validate_encrypted_data(
    ss: &SealedSecret,
    keys: &(impl Decrypter + ?Sized),
    accept_v1_data: bool,
) -> Result<(), Error> {
    let label = ss.scope().label(&ss.metadata.namespace, &ss.metadata.name);
    match &ss.spec.data {
        None => {
            let errors: Vec<(String, String)> = ss
                .spec
                .encrypted_data
                .iter()
                .filter_map(|(key, value)| {
                    let failure = decrypt_item(value, keys, &label).err()?;
                    Some((key.clone(), failure.error().to_string()))
                })
                .collect();
            if errors.is_empty() {
                Ok(())
            } else {
                Err(Error::Unseal(ItemErrors::group(errors)))
            }
        }
        Some(v1) => decrypt_v1(ss, v1, keys, &label, accept_v1_data).map(drop),
    }
}

/// Decrypts the `encryptedData` items and, with `render_templates`, executes `spec.template.data`
/// as upstream v0.40.0's `unseal` does (`sealedsecret_expansion.go`; docs/templates.md):
///
/// - the rendering context holds every encryptedData key (the plaintext, or "" when it failed to
///   decrypt; a value that is not base64 is left out), then every non-null template entry whose key
///   is not there yet, as its raw source text;
/// - a `null` entry deletes the decrypted key from the Secret (its value stays in the context);
/// - any other entry is parsed and executed (errors count), and its output is the Secret's value
///   unless `spec.encryptedData` has the key (present, whether or not it decrypted), which wins.
///
/// Without `render_templates` (upstream `UnsealWithoutTemplate`, `/v1/rotate`) the Secret holds
/// exactly the decrypted items: nothing of the template data is parsed or applied, nulls included.
fn unseal_items(
    ss: &SealedSecret,
    keys: &(impl Decrypter + ?Sized),
    label: &[u8],
    render_templates: bool,
) -> Result<Secret, Error> {
    use zeroize::Zeroize as _;
    let template = &ss.spec.template;
    let mut secret = Secret {
        metadata: template.metadata.clone(),
        type_: template.type_.clone(),
        immutable: template.immutable,
        ..Default::default()
    };
    // Plaintext is copied into the context only when a template may read it.
    let render = render_templates && !template.data.is_empty();
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut context: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (key, value) in &ss.spec.encrypted_data {
        match decrypt_item(value, keys, label) {
            Ok(plain) => {
                if render {
                    context.insert(key.clone(), plain.as_bytes().to_vec());
                }
                secret.data.insert(key.clone(), plain);
            }
            Err(failure) => {
                if render && matches!(failure, ItemFailure::Undecryptable(_)) {
                    context.insert(key.clone(), Vec::new());
                }
                errors.push((key.clone(), failure.error().to_string()));
            }
        }
    }
    if render {
        for (key, source) in &template.data {
            if let Some(source) = source {
                context
                    .entry(key.clone())
                    .or_insert_with(|| source.as_bytes().to_vec());
            }
        }
        for (key, source) in &template.data {
            let Some(source) = source else {
                secret.data.remove(key);
                continue;
            };
            match gotemplate::render(key, source, &context) {
                Ok(out) if !ss.spec.encrypted_data.contains_key(key) => {
                    secret.data.insert(key.clone(), SecretBytes::produced(out));
                }
                Ok(mut discarded) => discarded.zeroize(),
                Err(e) => errors.push((key.clone(), e.to_string())),
            }
        }
    }
    zeroize_context(context);
    if errors.is_empty() {
        Ok(secret)
    } else {
        Err(Error::Unseal(ItemErrors::group(errors)))
    }
}

/// Why one `encryptedData` item failed. Upstream's `unseal` skips a value that is not base64, but
/// leaves "" in the rendering context for one that does not decrypt.
enum ItemFailure {
    NotBase64(Error),
    Undecryptable(Error),
}

impl ItemFailure {
    fn error(&self) -> &Error {
        match self {
            ItemFailure::NotBase64(e) | ItemFailure::Undecryptable(e) => e,
        }
    }
}

fn decrypt_item(
    value: &str,
    keys: &(impl Decrypter + ?Sized),
    label: &[u8],
) -> Result<SecretBytes, ItemFailure> {
    let ciphertext = go_semantics::base64::decode(value.as_bytes())
        .map_err(|e| ItemFailure::NotBase64(e.into()))?;
    keys.decrypt(&ciphertext, label)
        .map_err(ItemFailure::Undecryptable)
}

fn zeroize_context(context: BTreeMap<String, Vec<u8>>) {
    use zeroize::Zeroize as _;
    for (_, mut v) in context {
        v.zeroize();
    }
}

/// Upstream's multi-error text: identical messages grouped, `<message> (<key1>, <key2>)`, joined by
/// newlines; groups in order of first occurrence, keys in item order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemErrors {
    /// (message, item keys), in order of first occurrence.
    groups: Vec<(String, Vec<String>)>,
}

impl ItemErrors {
    /// Groups `(item key, message)` pairs.
    pub fn group(errors: Vec<(String, String)>) -> Self {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for (key, message) in errors {
            match groups.iter_mut().find(|(m, _)| *m == message) {
                Some((_, keys)) => keys.push(key),
                None => groups.push((message, vec![key])),
            }
        }
        ItemErrors { groups }
    }
}

impl std::fmt::Display for ItemErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (message, keys)) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{message} ({})", keys.join(", "))?;
        }
        Ok(())
    }
}

fn unseal_v1(
    ss: &SealedSecret,
    data: &str,
    keys: &(impl Decrypter + ?Sized),
    label: &[u8],
    accept: bool,
) -> Result<Secret, Error> {
    let plain = decrypt_v1(ss, data, keys, label, accept)?;
    // The plaintext is a whole Secret; serde errors name positions, never values.
    serde_json::from_slice::<Secret>(plain.as_bytes())
        .map_err(|e| Error::InvalidV1Secret(e.to_string()))
}

/// The legacy `spec.data` blob's plaintext, with upstream's refusals.
fn decrypt_v1(
    ss: &SealedSecret,
    data: &str,
    keys: &(impl Decrypter + ?Sized),
    label: &[u8],
    accept: bool,
) -> Result<SecretBytes, Error> {
    if !accept {
        return Err(Error::DeprecatedDataRefused);
    }
    if !ss.spec.encrypted_data.is_empty() {
        return Err(Error::DataAndEncryptedData);
    }
    let ct = go_semantics::base64::decode(data.as_bytes())?;
    keys.decrypt(&ct, label)
}

/// Upstream v0.40.0's template cases (`pkg/apis/sealedsecrets/v1alpha1/sealedsecret_test.go`) and
/// the rules around them (docs/templates.md).
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::keys::{Certificate, PrivateKey};

    const CERT: &[u8] = include_bytes!("../tests/fixtures/keys/cert.pem");
    const KEY: &[u8] = include_bytes!("../tests/fixtures/keys/key-pkcs1.pem");

    fn keys() -> Vec<PrivateKey> {
        vec![PrivateKey::from_pem(KEY).unwrap()]
    }

    fn seal_value(plain: &str, label: &[u8]) -> String {
        let key = Certificate::from_pem(CERT).unwrap().public_key;
        go_semantics::base64::encode(&key.encrypt(plain.as_bytes(), label).unwrap())
    }

    /// A SealedSecret `ns/name` (strict scope) with these items sealed for it and this template data.
    fn sealed(encrypted: &[(&str, &str)], template: &[(&str, Option<&str>)]) -> SealedSecret {
        let mut ss = SealedSecret::default().with_type_meta();
        ss.metadata.name = "name".into();
        ss.metadata.namespace = "ns".into();
        for (k, v) in encrypted {
            ss.spec
                .encrypted_data
                .insert(k.to_string(), seal_value(v, b"ns/name"));
        }
        for (k, v) in template {
            ss.spec
                .template
                .data
                .insert(k.to_string(), v.map(str::to_string));
        }
        ss
    }

    fn rendered(ss: &SealedSecret) -> Result<BTreeMap<String, String>, Error> {
        let secret = unseal(ss, keys().as_slice(), UnsealOptions::default())?;
        Ok(text_of(&secret))
    }

    fn text_of(secret: &Secret) -> BTreeMap<String, String> {
        secret
            .data
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8(v.as_bytes().to_vec()).unwrap()))
            .collect()
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// U1 `TestTemplateDataPlaintextReference`.
    #[test]
    fn plaintext_template_values_are_in_the_context() {
        let ss = sealed(
            &[],
            &[
                ("username", Some("myUsername")),
                (
                    "settings.xml",
                    Some("<server><username>{{ .username }}</username></server>"),
                ),
            ],
        );
        assert_eq!(
            rendered(&ss).unwrap(),
            map(&[
                (
                    "settings.xml",
                    "<server><username>myUsername</username></server>"
                ),
                ("username", "myUsername"),
            ])
        );
    }

    /// U2 `TestTemplateDataMixedEncryptedAndPlaintext`.
    #[test]
    fn encrypted_and_plaintext_values_mix() {
        let ss = sealed(
            &[("password", "hunter2")],
            &[
                ("username", Some("myUsername")),
                (
                    "settings.xml",
                    Some(
                        "<server><username>{{ .username }}</username><password>{{ .password }}</password></server>",
                    ),
                ),
            ],
        );
        assert_eq!(
            rendered(&ss).unwrap(),
            map(&[
                ("password", "hunter2"),
                (
                    "settings.xml",
                    "<server><username>myUsername</username><password>hunter2</password></server>"
                ),
                ("username", "myUsername"),
            ])
        );
    }

    /// U3 `TestTemplateDataEncryptedTakesPrecedenceOverPlaintext`: in the context and in the
    /// Secret (v0.36.6 let the template overwrite the decrypted value).
    #[test]
    fn encrypted_data_takes_precedence_over_a_template_of_the_same_key() {
        let ss = sealed(
            &[("shared", "from-encrypted")],
            &[
                ("shared", Some("from-plaintext-should-be-ignored")),
                ("out.txt", Some("{{ .shared }}")),
            ],
        );
        assert_eq!(
            rendered(&ss).unwrap(),
            map(&[("out.txt", "from-encrypted"), ("shared", "from-encrypted")])
        );
        // The losing template is still parsed and executed: its errors count.
        for broken in ["{{ fail \"still run\" }}", "{{ .shared"] {
            let ss = sealed(&[("shared", "from-encrypted")], &[("shared", Some(broken))]);
            let e = rendered(&ss).unwrap_err().to_string();
            assert!(e.ends_with("(shared)"), "{e}");
        }
    }

    /// U4 `TestTemplateOmitEncryptedData`.
    #[test]
    fn null_entry_omits_the_key_but_keeps_its_value_in_the_context() {
        let ss = sealed(
            &[("foo", "bar"), ("baz", "qux")],
            &[("foo", None), ("bar", Some("qux {{ .foo }} qux"))],
        );
        assert_eq!(
            rendered(&ss).unwrap(),
            map(&[("bar", "qux bar qux"), ("baz", "qux")])
        );
    }

    /// A null entry is not in the context, and omits nothing when no item has its key.
    #[test]
    fn null_entries_are_not_in_the_context() {
        let ss = sealed(&[("k", "v")], &[("a", None), ("b", Some("[{{ .a }}]"))]);
        assert_eq!(
            rendered(&ss).unwrap(),
            map(&[("b", "[<no value>]"), ("k", "v")])
        );
    }

    #[test]
    fn a_template_referencing_itself_gets_its_own_source() {
        let ss = sealed(&[], &[("self", Some("a{{ .self }}"))]);
        assert_eq!(rendered(&ss).unwrap(), map(&[("self", "aa{{ .self }}")]));
    }

    #[test]
    fn null_entry_of_an_undecryptable_item_still_fails() {
        let mut ss = sealed(&[("keep", "v")], &[("foo", None)]);
        ss.spec
            .encrypted_data
            .insert("foo".into(), seal_value("bar", b"other/name"));
        assert_eq!(
            rendered(&ss).unwrap_err().to_string(),
            "no key could decrypt secret (foo)"
        );
    }

    /// An item that failed to decrypt sits in the context as "", never shadowed by a template
    /// value of the same key; one that is not base64 is not in the context at all.
    #[test]
    fn failed_items_are_not_shadowed_by_plaintext() {
        let probe =
            Some(r#"{{ if eq .pw "" }}{{ fail "empty" }}{{ else }}{{ fail "shadowed" }}{{ end }}"#);
        let mut ss = sealed(&[], &[("pw", Some("raw")), ("probe", probe)]);
        ss.spec
            .encrypted_data
            .insert("pw".into(), seal_value("secret", b"other/name"));
        let e = rendered(&ss).unwrap_err().to_string();
        assert!(e.starts_with("no key could decrypt secret (pw)\n"), "{e}");
        assert!(e.contains("error calling fail: empty (probe)"), "{e}");
        ss.spec.encrypted_data.insert("pw".into(), "!".into());
        let e = rendered(&ss).unwrap_err().to_string();
        assert!(
            e.starts_with("illegal base64 data at input byte 0 (pw)\n"),
            "{e}"
        );
        assert!(e.contains("error calling fail: shadowed (probe)"), "{e}");
    }

    /// `UnsealWithoutTemplate` (`/v1/rotate`): exactly the decrypted items, no template parsed,
    /// executed or applied (null entries included).
    #[test]
    fn without_templates_the_secret_is_the_decrypted_items() {
        let ss = sealed(
            &[("password", "hunter2"), ("foo", "bar")],
            &[
                ("foo", None),
                (
                    "probe",
                    Some(r#"{{ if eq .password "hunter2" }}{{ fail "guessed it" }}{{ end }}"#),
                ),
                ("broken", Some("{{ .password")),
            ],
        );
        let opts = UnsealOptions {
            render_templates: false,
            ..Default::default()
        };
        let secret = unseal(&ss, keys().as_slice(), opts).unwrap();
        assert_eq!(
            text_of(&secret),
            map(&[("foo", "bar"), ("password", "hunter2")])
        );
        let e = rendered(&ss).unwrap_err().to_string();
        assert!(
            e.contains("guessed it"),
            "the probe does fail when rendered: {e}"
        );
    }

    /// U5 `TestValidateEncryptedDataIgnoresTemplate`.
    #[test]
    fn verify_ignores_templates() {
        for template in [
            r#"{{ fail "attacker-controlled failure" }}"#,
            "{{ .password",
        ] {
            let ss = sealed(&[("password", "hunter2")], &[("t", Some(template))]);
            assert_eq!(
                validate_encrypted_data(&ss, keys().as_slice(), true),
                Ok(())
            );
            assert!(rendered(&ss).is_err());
            let other = vec![
                PrivateKey::from_pem(include_bytes!("../tests/fixtures/keys/other-key.pem"))
                    .unwrap(),
            ];
            assert!(!verify(&ss, other.as_slice(), true));
        }
        let mut ss = sealed(&[("a", "v")], &[]);
        ss.spec.encrypted_data.insert("b".into(), "!".into());
        assert_eq!(
            validate_encrypted_data(&ss, keys().as_slice(), true)
                .unwrap_err()
                .to_string(),
            "illegal base64 data at input byte 0 (b)"
        );
    }

    /// The legacy `spec.data` path of `/v1/verify` only decrypts (v0.36.6 also required the
    /// plaintext to be a Secret); the controller's unseal still reads it as one.
    #[test]
    fn verify_of_legacy_data_only_decrypts() {
        let mut ss = sealed(&[], &[]);
        ss.spec.data = Some(seal_value("not a Secret", b"ns/name"));
        assert_eq!(
            validate_encrypted_data(&ss, keys().as_slice(), true),
            Ok(())
        );
        assert!(matches!(
            unseal(&ss, keys().as_slice(), UnsealOptions::default()),
            Err(Error::InvalidV1Secret(_))
        ));
        assert_eq!(
            validate_encrypted_data(&ss, keys().as_slice(), false),
            Err(Error::DeprecatedDataRefused)
        );
        ss.spec
            .encrypted_data
            .insert("a".into(), seal_value("v", b"ns/name"));
        assert_eq!(
            validate_encrypted_data(&ss, keys().as_slice(), true),
            Err(Error::DataAndEncryptedData)
        );
        assert!(!verify(&ss, keys().as_slice(), true));
        let mut foreign = sealed(&[], &[]);
        foreign.spec.data = Some(seal_value("{}", b"other/name"));
        assert!(!verify(&foreign, keys().as_slice(), true));
    }
}

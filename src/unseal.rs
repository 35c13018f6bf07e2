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
    /// Render `spec.template.data`. `/v1/verify` and `/v1/rotate` must not (docs/security.md).
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

/// `/v1/verify` (docs/security.md): true when every item decrypts with the current keys. Templates
/// are never executed, and the answer does not say which step failed.
pub fn verify(ss: &SealedSecret, keys: &(impl Decrypter + ?Sized), accept_v1_data: bool) -> bool {
    let opts = UnsealOptions {
        accept_v1_data,
        render_templates: false,
    };
    unseal(ss, keys, opts).is_ok()
}

fn unseal_items(
    ss: &SealedSecret,
    keys: &(impl Decrypter + ?Sized),
    label: &[u8],
    render_templates: bool,
) -> Result<Secret, Error> {
    let template = &ss.spec.template;
    let mut secret = Secret {
        metadata: template.metadata.clone(),
        type_: template.type_.clone(),
        immutable: template.immutable,
        ..Default::default()
    };
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut context: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (key, value) in &ss.spec.encrypted_data {
        let decrypted = go_semantics::base64::decode(value.as_bytes())
            .map_err(Error::from)
            .and_then(|ct| keys.decrypt(&ct, label));
        match decrypted {
            Ok(plain) => {
                if render_templates && !template.data.is_empty() {
                    context.insert(key.clone(), plain.as_bytes().to_vec());
                }
                secret.data.insert(key.clone(), plain);
            }
            Err(e) => errors.push((key.clone(), e.to_string())),
        }
    }
    if render_templates {
        for (key, source) in &template.data {
            match gotemplate::render(key, source, &context) {
                Ok(out) => {
                    secret.data.insert(key.clone(), SecretBytes::produced(out));
                }
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
    if !accept {
        return Err(Error::DeprecatedDataRefused);
    }
    if !ss.spec.encrypted_data.is_empty() {
        return Err(Error::DataAndEncryptedData);
    }
    let ct = go_semantics::base64::decode(data.as_bytes())?;
    let plain = keys.decrypt(&ct, label)?;
    // The plaintext is a whole Secret; serde errors name positions, never values.
    serde_json::from_slice::<Secret>(plain.as_bytes())
        .map_err(|e| Error::InvalidV1Secret(e.to_string()))
}

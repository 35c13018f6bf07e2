//! Secret -> SealedSecret exactly as upstream kubeseal builds it (`pkg/kubeseal/kubeseal.go`
//! `Seal` and `SealMergingInto`; `NewSealedSecret` in
//! `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`).

use std::collections::BTreeMap;

use crate::Error;
use crate::keys::PublicKey;
use crate::scope::Scope;
use crate::types::{ObjectMeta, SealedSecret, SealedSecretSpec, Secret, SecretTemplateSpec};

/// Annotations that would leak plaintext into Git if copied into the template (upstream
/// `StripLastAppliedAnnotations`).
const STRIPPED_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];

#[derive(Debug, Clone, Default)]
pub struct SealOptions {
    /// `--name`: replaces the input name when non-empty.
    pub name: String,
    /// `--scope`; strict (the default) leaves existing scope annotations alone.
    pub scope: Scope,
    /// The kubeconfig namespace (`-n`, else the context's, else `default`).
    pub namespace: String,
    /// Whether `namespace` came from an explicit `-n/--namespace`.
    pub namespace_explicit: bool,
    pub allow_empty_data: bool,
}

/// Seals one input Secret: the loop body of upstream `Seal`.
pub fn seal_secret(
    mut secret: Secret,
    key: &PublicKey,
    opts: &SealOptions,
) -> Result<SealedSecret, Error> {
    if secret.data.is_empty() && secret.string_data.is_empty() && !opts.allow_empty_data {
        return Err(Error::EmptyData);
    }
    if !opts.name.is_empty() {
        secret.metadata.name = opts.name.clone();
    }
    if secret.metadata.name.is_empty() {
        return Err(Error::MissingName);
    }
    if opts.scope != Scope::Strict {
        opts.scope.apply_to(&mut secret.metadata.annotations);
    }
    let scope = Scope::from_annotations(&secret.metadata.annotations);
    if scope != Scope::ClusterWide {
        if opts.namespace_explicit
            && !secret.metadata.namespace.is_empty()
            && secret.metadata.namespace != opts.namespace
        {
            return Err(Error::NamespaceMismatch {
                input: secret.metadata.namespace.clone(),
                specified: opts.namespace.clone(),
            });
        }
        if secret.metadata.namespace.is_empty() {
            secret.metadata.namespace = opts.namespace.clone();
        }
    }
    secret.metadata.clear_server_fields();
    new_sealed_secret(&secret, key)
}

/// Upstream `NewSealedSecret`: the SealedSecret for an already-normalized Secret. Also used by
/// `/v1/rotate` to re-seal.
pub fn new_sealed_secret(secret: &Secret, key: &PublicKey) -> Result<SealedSecret, Error> {
    let meta = &secret.metadata;
    let scope = Scope::from_annotations(&meta.annotations);
    if scope != Scope::ClusterWide && meta.namespace.is_empty() {
        return Err(Error::MissingNamespace);
    }
    let mut template_meta = meta.clone();
    for a in STRIPPED_ANNOTATIONS {
        template_meta.annotations.remove(a);
    }
    template_meta.owner_references.clear();

    let mut annotations = BTreeMap::new();
    if let Some(a) = scope.annotation() {
        annotations.insert(a.to_string(), "true".to_string());
    }
    let label = scope.label(&meta.namespace, &meta.name);
    let mut encrypted_data = BTreeMap::new();
    for (k, v) in &secret.data {
        encrypted_data.insert(
            k.clone(),
            go_semantics::base64::encode(&key.encrypt(v.as_bytes(), &label)?),
        );
    }
    for (k, v) in &secret.string_data {
        encrypted_data.insert(
            k.clone(),
            go_semantics::base64::encode(&key.encrypt(v.0.as_bytes(), &label)?),
        );
    }
    Ok(SealedSecret {
        kind: crate::types::KIND.to_string(),
        api_version: crate::types::API_VERSION.to_string(),
        metadata: ObjectMeta {
            name: meta.name.clone(),
            namespace: meta.namespace.clone(),
            annotations,
            ..Default::default()
        },
        spec: SealedSecretSpec {
            template: SecretTemplateSpec {
                metadata: template_meta,
                type_: secret.type_.clone(),
                immutable: secret.immutable,
                data: BTreeMap::new(),
            },
            data: None,
            encrypted_data,
        },
        status: None,
    })
}

/// `--merge-into`, as upstream `SealMergingInto` merges: items of `update` are added to or replace
/// those of `original`, and so are the template's annotations, labels and data entries.
pub fn merge_into(original: &mut SealedSecret, update: SealedSecret) {
    original
        .spec
        .encrypted_data
        .extend(update.spec.encrypted_data);
    let (orig_tpl, upd_tpl) = (&mut original.spec.template, update.spec.template);
    orig_tpl
        .metadata
        .annotations
        .extend(upd_tpl.metadata.annotations);
    orig_tpl.metadata.labels.extend(upd_tpl.metadata.labels);
    orig_tpl.data.extend(upd_tpl.data);
}

//! What the controller may do to an existing Secret and what it writes over it: the ownership gate
//! and the Secret merge (upstream `pkg/controller/controller.go`, `unseal`: `isAnnotatedToBeManaged`,
//! `isAnnotatedToBePatched`, `metav1.IsControlledBy`), as pure functions on the core's types.
//!
//! The controller writes with GET + CREATE/UPDATE (PUT) under the field manager [`FIELD_MANAGER`],
//! not server-side apply: overwrite mode must replace `labels`, `annotations`, `data` and
//! `ownerReferences` wholesale, including entries other field managers set (a user's `managed`
//! annotation must disappear), which server-side apply cannot express; and PUT with the
//! resourceVersion from the GET is an optimistic-concurrency write.

use crate::scope::{
    MANAGED_ANNOTATION, PATCH_ANNOTATION, SKIP_SET_OWNER_REFERENCES_ANNOTATION, annotation_is_true,
};
use crate::types::{SealedSecret, Secret};

/// Field manager of every write this controller makes.
pub const FIELD_MANAGER: &str = "sealed-secrets-controller";

/// What the API server defaults an empty Secret type to.
const DEFAULT_SECRET_TYPE: &str = "Opaque";

/// `metav1.IsControlledBy`: a `controller: true` ownerReference with the SealedSecret's UID.
pub fn is_controlled_by(secret: &Secret, ss: &SealedSecret) -> bool {
    !ss.metadata.uid.is_empty()
        && secret
            .metadata
            .controller_ref()
            .is_some_and(|r| r.uid == ss.metadata.uid)
}

pub fn is_managed(secret: &Secret) -> bool {
    annotation_is_true(&secret.metadata.annotations, MANAGED_ANNOTATION)
}

pub fn is_patch(secret: &Secret) -> bool {
    annotation_is_true(&secret.metadata.annotations, PATCH_ANNOTATION)
}

/// Whether a field manager entry of this controller is on the object.
pub fn written_by_controller(secret: &Secret) -> bool {
    secret.metadata.managed_fields.iter().any(|entry| {
        entry.get("manager").and_then(serde_json::Value::as_str) == Some(FIELD_MANAGER)
    })
}

/// Why the ownership gate let a Secret through, or `Denied`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    Controlled,
    Managed,
    Patch,
    /// A deviation from upstream `unseal`: the SealedSecret's template asks for no
    /// ownerReference (`skip-set-owner-references`), and the Secret is one this controller wrote,
    /// so it carries our field manager, the skip annotation (copied from the template) and no
    /// controller of its own. Upstream denies it on every reconcile after creating it.
    WrittenWithoutOwnerReference,
    Denied,
}

/// The ownership gate (upstream `unseal`).
pub fn ownership(existing: &Secret, ss: &SealedSecret) -> Ownership {
    if is_controlled_by(existing, ss) {
        Ownership::Controlled
    } else if is_managed(existing) {
        Ownership::Managed
    } else if is_patch(existing) {
        Ownership::Patch
    } else if annotation_is_true(
        &ss.spec.template.metadata.annotations,
        SKIP_SET_OWNER_REFERENCES_ANNOTATION,
    ) && annotation_is_true(
        &existing.metadata.annotations,
        SKIP_SET_OWNER_REFERENCES_ANNOTATION,
    ) && existing.metadata.controller_ref().is_none()
        && written_by_controller(existing)
    {
        Ownership::WrittenWithoutOwnerReference
    } else {
        Ownership::Denied
    }
}

/// The gate refused the existing Secret `name` (upstream's text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Resource {name:?} already exists and is not managed by SealedSecret")]
pub struct Unmanaged {
    pub name: String,
}

impl Ownership {
    /// The gate's verdict as a result: `Err` when the existing Secret must not be touched.
    pub fn check(self, existing: &Secret) -> Result<Ownership, Unmanaged> {
        match self {
            Ownership::Denied => Err(Unmanaged {
                name: existing.metadata.name.clone(),
            }),
            other => Ok(other),
        }
    }
}

/// The Secret to write over `existing`: merge in patch mode, replace in
/// overwrite mode; `type` follows the template in both (an empty type is the API server's
/// `Opaque`, so a typeless template does not cause a write on every reconcile). `immutable`,
/// `finalizers` and everything else stay as they are.
pub fn updated_secret(existing: &Secret, desired: &Secret) -> Secret {
    let mut s = existing.clone();
    if is_patch(existing) {
        s.data
            .extend(desired.data.iter().map(|(k, v)| (k.clone(), v.clone())));
        s.metadata.labels.extend(
            desired
                .metadata
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        s.metadata.annotations.extend(
            desired
                .metadata
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        if is_managed(existing) {
            s.metadata.owner_references = desired.metadata.owner_references.clone();
        }
    } else {
        s.data = desired.data.clone();
        s.metadata.annotations = desired.metadata.annotations.clone();
        s.metadata.labels = desired.metadata.labels.clone();
        s.metadata.owner_references = desired.metadata.owner_references.clone();
    }
    s.type_ = if desired.type_.is_empty() {
        DEFAULT_SECRET_TYPE.to_string()
    } else {
        desired.type_.clone()
    };
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::secret::SecretBytes;
    use crate::types::OwnerReference;
    use std::collections::BTreeMap;

    fn ss(uid: &str) -> SealedSecret {
        let mut s = SealedSecret::default();
        s.metadata.name = "mysecret".into();
        s.metadata.namespace = "ns".into();
        s.metadata.uid = uid.into();
        s
    }

    fn owner(uid: &str, controller: bool) -> OwnerReference {
        OwnerReference {
            api_version: "bitnami.com/v1alpha1".into(),
            kind: "SealedSecret".into(),
            name: "mysecret".into(),
            uid: uid.into(),
            controller: Some(controller),
            block_owner_deletion: None,
        }
    }

    fn secret(
        annotations: &[(&str, &str)],
        labels: &[(&str, &str)],
        data: &[(&str, &str)],
    ) -> Secret {
        let mut s = Secret::default();
        s.metadata.name = "mysecret".into();
        s.metadata.namespace = "ns".into();
        s.metadata.resource_version = "7".into();
        s.metadata.annotations = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        s.metadata.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        s.data = data
            .iter()
            .map(|(k, v)| (k.to_string(), SecretBytes::from(v.as_bytes())))
            .collect();
        s.type_ = "Opaque".into();
        s
    }

    fn desired(uid: &str) -> Secret {
        let mut s = secret(&[], &[("mylabel", "myvalue")], &[("foo", "bar")]);
        s.metadata.resource_version.clear();
        s.metadata.owner_references = vec![owner(uid, true)];
        s
    }

    fn data(s: &Secret) -> BTreeMap<String, String> {
        s.data
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn gate() {
        let owner_ss = ss("uid-1");
        let mut owned = secret(&[], &[], &[]);
        owned.metadata.owner_references = vec![owner("uid-1", true)];
        assert_eq!(ownership(&owned, &owner_ss), Ownership::Controlled);
        // Same name, other UID (a previous incarnation of the SealedSecret): not controlled.
        assert_eq!(ownership(&owned, &ss("uid-2")), Ownership::Denied);
        // A non-controller reference with the right UID does not count.
        owned.metadata.owner_references = vec![owner("uid-1", false)];
        assert_eq!(ownership(&owned, &owner_ss), Ownership::Denied);

        let managed = secret(&[(MANAGED_ANNOTATION, "true")], &[], &[]);
        assert_eq!(ownership(&managed, &owner_ss), Ownership::Managed);
        let patch = secret(&[(PATCH_ANNOTATION, "true")], &[], &[]);
        assert_eq!(ownership(&patch, &owner_ss), Ownership::Patch);
        let not_true = secret(
            &[(MANAGED_ANNOTATION, "TRUE"), (PATCH_ANNOTATION, "yes")],
            &[],
            &[],
        );
        assert_eq!(ownership(&not_true, &owner_ss), Ownership::Denied);
        assert_eq!(
            ownership(&secret(&[], &[], &[]), &owner_ss),
            Ownership::Denied
        );
        let denied = secret(&[], &[], &[]);
        let err = ownership(&denied, &owner_ss).check(&denied).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Resource \"mysecret\" already exists and is not managed by SealedSecret"
        );
        assert_eq!(
            ownership(&managed, &owner_ss).check(&managed),
            Ok(Ownership::Managed)
        );
    }

    #[test]
    fn gate_skip_owner_references_deviation() {
        let mut skip_ss = ss("uid-1");
        skip_ss
            .spec
            .template
            .metadata
            .annotations
            .insert(SKIP_SET_OWNER_REFERENCES_ANNOTATION.into(), "true".into());
        let ours = serde_json::json!({"manager": FIELD_MANAGER, "operation": "Update"});
        let theirs = serde_json::json!({"manager": "kubectl-create", "operation": "Update"});

        let mut created = secret(&[(SKIP_SET_OWNER_REFERENCES_ANNOTATION, "true")], &[], &[]);
        created.metadata.managed_fields = vec![ours.clone()];
        assert_eq!(
            ownership(&created, &skip_ss),
            Ownership::WrittenWithoutOwnerReference
        );

        // Someone else's Secret with the same annotation is not taken over.
        let mut foreign = created.clone();
        foreign.metadata.managed_fields = vec![theirs];
        assert_eq!(ownership(&foreign, &skip_ss), Ownership::Denied);
        // Nor one controlled by another object.
        let mut other_owner = created.clone();
        other_owner.metadata.owner_references = vec![owner("uid-9", true)];
        assert_eq!(ownership(&other_owner, &skip_ss), Ownership::Denied);
        // Nor when the SealedSecret no longer asks for skip.
        assert_eq!(ownership(&created, &ss("uid-1")), Ownership::Denied);
        // Nor when the Secret lost the annotation.
        let mut plain = secret(&[], &[], &[]);
        plain.metadata.managed_fields = vec![ours];
        assert_eq!(ownership(&plain, &skip_ss), Ownership::Denied);
    }

    #[test]
    fn overwrite_replaces_wholesale() {
        // C5: a managed Secret with extra data and labels is overwritten; annotations emptied.
        let existing = secret(
            &[(MANAGED_ANNOTATION, "true")],
            &[("extra", "x")],
            &[("foo", "old"), ("foo2", "bar2")],
        );
        let out = updated_secret(&existing, &desired("uid-1"));
        assert_eq!(data(&out), BTreeMap::from([("foo".into(), "bar".into())]));
        assert!(out.metadata.annotations.is_empty());
        assert_eq!(out.metadata.labels.len(), 1);
        assert_eq!(out.metadata.labels["mylabel"], "myvalue");
        assert_eq!(out.metadata.owner_references, vec![owner("uid-1", true)]);
        // Server fields are kept for the optimistic-concurrency PUT.
        assert_eq!(out.metadata.resource_version, "7");
    }

    #[test]
    fn patch_merges() {
        // C6: managed + patch → merged, both annotations kept, ownership taken.
        let existing = secret(
            &[(MANAGED_ANNOTATION, "true"), (PATCH_ANNOTATION, "true")],
            &[("extra", "x")],
            &[("foo2", "bar2")],
        );
        let out = updated_secret(&existing, &desired("uid-1"));
        assert_eq!(
            data(&out),
            BTreeMap::from([("foo".into(), "bar".into()), ("foo2".into(), "bar2".into())])
        );
        assert_eq!(out.metadata.annotations.len(), 2);
        assert_eq!(out.metadata.labels.len(), 2);
        assert_eq!(out.metadata.owner_references.len(), 1);

        // C7: patch only → merged, no ownerReference.
        let existing = secret(
            &[(PATCH_ANNOTATION, "true")],
            &[("extra", "x")],
            &[("foo2", "b")],
        );
        let out = updated_secret(&existing, &desired("uid-1"));
        assert_eq!(out.data.len(), 2);
        assert_eq!(out.metadata.labels.len(), 2);
        assert_eq!(out.metadata.annotations.len(), 1);
        assert!(out.metadata.owner_references.is_empty());

        // C8: patch Secret without data or labels.
        let existing = secret(&[(PATCH_ANNOTATION, "true")], &[], &[]);
        let out = updated_secret(&existing, &desired("uid-1"));
        assert_eq!(data(&out), BTreeMap::from([("foo".into(), "bar".into())]));
        assert_eq!(out.metadata.labels["mylabel"], "myvalue");
        assert!(out.metadata.owner_references.is_empty());
    }

    #[test]
    fn type_and_untouched_fields() {
        let mut existing = desired("uid-1");
        existing.immutable = Some(true);
        existing.metadata.finalizers = vec!["keep".into()];
        let mut want = desired("uid-1");
        want.immutable = Some(false);
        want.metadata.finalizers.clear();
        want.type_ = String::new();
        let out = updated_secret(&existing, &want);
        assert_eq!(out.immutable, Some(true));
        assert_eq!(out.metadata.finalizers, vec!["keep".to_string()]);
        // An empty template type is the API server's Opaque: no change, so no write.
        assert_eq!(out, existing);
        want.type_ = "kubernetes.io/dockerconfigjson".into();
        assert_eq!(
            updated_secret(&existing, &want).type_,
            "kubernetes.io/dockerconfigjson"
        );
    }
}

//! Why a strict SealedSecret that was renamed or moved does not unseal (docs/operations.md
//! "Diagnosis of a renamed SealedSecret", docs/security.md "The rename diagnosis is no oracle").
//!
//! Kustomize's `namePrefix`, `nameSuffix` and `namespace` rename the SealedSecret object but not
//! its `spec.template.metadata`, so a strict SealedSecret sealed as `prod/db-creds` arrives as
//! `prod/prod-db-creds` and upstream reports only `no key could decrypt secret (password)`. When the
//! template names another place, this module proposes the labels the items may have been sealed
//! for; the controller tries them with its keys and `kubeseal --validate` asks `/v1/verify`, and
//! either appends [`Diagnosis`] to upstream's message. Nothing is ever unsealed under such a label.

use crate::keys::Decrypter;
use crate::scope::Scope;
use crate::types::SealedSecret;

/// A place the items may have been sealed for: a scope and the name/namespace that make its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub scope: Scope,
    pub namespace: String,
    pub name: String,
}

impl Candidate {
    /// The OAEP label of this candidate.
    pub fn label(&self) -> Vec<u8> {
        self.scope.label(&self.namespace, &self.name)
    }

    /// A copy of `ss` whose own label is this candidate's (what `kubeseal --validate` sends to
    /// `/v1/verify`, whose wire format stays upstream's).
    pub fn relabelled(&self, ss: &SealedSecret) -> SealedSecret {
        let mut copy = ss.clone();
        copy.metadata.namespace = self.namespace.clone();
        copy.metadata.name = self.name.clone();
        self.scope.apply_to(&mut copy.metadata.annotations);
        copy
    }
}

/// Where the object is now and what its items were sealed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub sealed_for: Candidate,
    pub namespace: String,
    pub name: String,
}

/// The template's name and namespace when they differ from the object's own (an empty template
/// field means "the object's"), for a strict SealedSecret with `spec.encryptedData` items.
fn template_place(ss: &SealedSecret) -> Option<(String, String)> {
    if ss.scope() != Scope::Strict || ss.spec.data.is_some() || ss.spec.encrypted_data.is_empty() {
        return None;
    }
    let meta = &ss.spec.template.metadata;
    let or_own = |t: &str, own: &str| {
        if t.is_empty() {
            own.to_string()
        } else {
            t.to_string()
        }
    };
    let namespace = or_own(&meta.namespace, &ss.metadata.namespace);
    let name = or_own(&meta.name, &ss.metadata.name);
    (namespace != ss.metadata.namespace || name != ss.metadata.name).then_some((namespace, name))
}

/// The labels to try, most specific first: strict under the template's namespace/name, then
/// namespace-wide in the template's namespace (and in the object's, when that differs), then
/// cluster-wide. Empty unless the object is strict and its template names another place.
pub fn candidates(ss: &SealedSecret) -> Vec<Candidate> {
    let Some((namespace, name)) = template_place(ss) else {
        return Vec::new();
    };
    let mut out = vec![Candidate {
        scope: Scope::Strict,
        namespace: namespace.clone(),
        name: name.clone(),
    }];
    let mut namespaces = vec![namespace];
    if !namespaces.contains(&ss.metadata.namespace) {
        namespaces.push(ss.metadata.namespace.clone());
    }
    for ns in namespaces {
        out.push(Candidate {
            scope: Scope::NamespaceWide,
            namespace: ns,
            name: name.clone(),
        });
    }
    out.push(Candidate {
        scope: Scope::ClusterWide,
        namespace: ss.metadata.namespace.clone(),
        name: ss.metadata.name.clone(),
    });
    out
}

/// The first candidate under which every item decrypts with `keys`. The plaintext is dropped
/// (zeroized) at once: the answer depends only on whether each label decrypts.
pub fn diagnose(ss: &SealedSecret, keys: &(impl Decrypter + ?Sized)) -> Option<Diagnosis> {
    let found = candidates(ss).into_iter().find(|c| {
        let label = c.label();
        ss.spec.encrypted_data.values().all(|value| {
            go_semantics::base64::decode(value.as_bytes())
                .ok()
                .is_some_and(|ct| keys.decrypt(&ct, &label).is_ok())
        })
    })?;
    Some(Diagnosis::new(ss, found))
}

impl Diagnosis {
    pub fn new(ss: &SealedSecret, sealed_for: Candidate) -> Self {
        Diagnosis {
            sealed_for,
            namespace: ss.metadata.namespace.clone(),
            name: ss.metadata.name.clone(),
        }
    }
}

impl std::fmt::Display for Diagnosis {
    /// One line, appended after upstream's message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let now = format!("{}/{}", self.namespace, self.name);
        let c = &self.sealed_for;
        match c.scope {
            Scope::Strict => {
                let moved = c.namespace != self.namespace;
                let (fix, what) = if moved {
                    ("--scope cluster-wide", "namespace")
                } else {
                    ("--scope namespace-wide", "name prefix/suffix")
                };
                write!(
                    f,
                    "the items were sealed (strict scope) for \"{}/{}\" but this SealedSecret is \"{now}\" (renamed, e.g. by a Kustomize namePrefix, nameSuffix or namespace); re-seal it with {fix}, or keep it out of the {what} (and refer to it as \"{}\")",
                    c.namespace, c.name, c.name
                )
            }
            Scope::NamespaceWide => write!(
                f,
                "the items were sealed namespace-wide for namespace \"{}\" but this SealedSecret \"{now}\" has no sealedsecrets.bitnami.com/namespace-wide annotation; add the annotation, or re-seal it for \"{now}\"",
                c.namespace
            ),
            Scope::ClusterWide => write!(
                f,
                "the items were sealed cluster-wide but this SealedSecret \"{now}\" has no sealedsecrets.bitnami.com/cluster-wide annotation; add the annotation, or re-seal it for \"{now}\""
            ),
        }
    }
}

/// Upstream's message, then the diagnosis when there is one.
pub fn with_diagnosis(message: &str, diagnosis: Option<&Diagnosis>) -> String {
    match diagnosis {
        Some(d) => format!("{message}; {d}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::test_keys::{keys, seal_value};
    use crate::unseal::{UnsealOptions, unseal};

    /// Sealed as `prod/db-creds` with this label, then renamed to `ns/name`.
    fn renamed(ns: &str, name: &str, label: &[u8]) -> SealedSecret {
        let mut ss = SealedSecret::default().with_type_meta();
        ss.metadata.namespace = ns.into();
        ss.metadata.name = name.into();
        ss.spec.template.metadata.namespace = "prod".into();
        ss.spec.template.metadata.name = "db-creds".into();
        for k in ["password", "user"] {
            ss.spec
                .encrypted_data
                .insert(k.into(), seal_value("hunter2", label));
        }
        ss
    }

    #[test]
    fn a_name_prefix_is_diagnosed_after_upstreams_message() {
        let ss = renamed("prod", "prod-db-creds", b"prod/db-creds");
        let err = unseal(&ss, keys().as_slice(), UnsealOptions::default()).unwrap_err();
        let d = diagnose(&ss, keys().as_slice()).unwrap();
        assert_eq!(d.sealed_for.scope, Scope::Strict);
        assert_eq!(
            with_diagnosis(&err.to_string(), Some(&d)),
            "no key could decrypt secret (password, user); the items were sealed (strict scope) for \"prod/db-creds\" but this SealedSecret is \"prod/prod-db-creds\" (renamed, e.g. by a Kustomize namePrefix, nameSuffix or namespace); re-seal it with --scope namespace-wide, or keep it out of the name prefix/suffix (and refer to it as \"db-creds\")"
        );
        // The relabelled copy (what `--validate` sends to /v1/verify) does decrypt.
        assert!(crate::unseal::verify(
            &d.sealed_for.relabelled(&ss),
            keys().as_slice(),
            true
        ));
    }

    #[test]
    fn a_namespace_move_proposes_cluster_wide() {
        let ss = renamed("staging", "db-creds", b"prod/db-creds");
        let d = diagnose(&ss, keys().as_slice()).unwrap();
        let text = d.to_string();
        assert!(text.contains("\"prod/db-creds\" but this SealedSecret is \"staging/db-creds\""));
        assert!(text.contains("--scope cluster-wide"), "{text}");
    }

    #[test]
    fn other_scopes_are_found() {
        let ns = renamed("prod", "prod-db-creds", b"prod");
        assert_eq!(
            diagnose(&ns, keys().as_slice()).unwrap().sealed_for.scope,
            Scope::NamespaceWide
        );
        let cw = renamed("prod", "prod-db-creds", b"");
        let d = diagnose(&cw, keys().as_slice()).unwrap();
        assert_eq!(d.sealed_for.scope, Scope::ClusterWide);
        assert!(d.to_string().contains("cluster-wide annotation"));
    }

    #[test]
    fn no_diagnosis_without_a_mismatch_or_a_decrypting_label() {
        // Sealed for somewhere else entirely: no candidate decrypts, nothing is claimed.
        let ss = renamed("prod", "prod-db-creds", b"other/thing");
        assert_eq!(diagnose(&ss, keys().as_slice()), None);
        // One item of the right label is not enough: every item must decrypt.
        let mut half = renamed("prod", "prod-db-creds", b"prod/db-creds");
        half.spec
            .encrypted_data
            .insert("x".into(), seal_value("v", b"other/thing"));
        assert_eq!(diagnose(&half, keys().as_slice()), None);
        // Same place: no candidates at all (no RSA work).
        let same = renamed("prod", "db-creds", b"prod/db-creds");
        assert!(candidates(&same).is_empty());
        // Not strict: the object's own scope already ignores the name.
        let mut wide = renamed("prod", "prod-db-creds", b"prod/db-creds");
        Scope::NamespaceWide.apply_to(&mut wide.metadata.annotations);
        assert!(candidates(&wide).is_empty());
        assert_eq!(with_diagnosis("m", None), "m");
    }

    #[test]
    fn candidates_in_order() {
        let ss = renamed("staging", "x", b"");
        let c = candidates(&ss);
        let labels: Vec<Vec<u8>> = c.iter().map(Candidate::label).collect();
        assert_eq!(
            labels,
            vec![
                b"prod/db-creds".to_vec(),
                b"prod".to_vec(),
                b"staging".to_vec(),
                Vec::new()
            ]
        );
        let copy = c[1].relabelled(&ss);
        assert_eq!(copy.scope(), Scope::NamespaceWide);
        assert_eq!(copy.metadata.namespace, "prod");
    }
}

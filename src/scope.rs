//! Scopes and their OAEP labels (upstream
//! `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` `EncryptionLabel`, `SecretScope`,
//! `UpdateScopeAnnotations`).

use std::collections::BTreeMap;

pub const ANNOTATION_PREFIX: &str = "sealedsecrets.bitnami.com/";
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
pub const MANAGED_ANNOTATION: &str = "sealedsecrets.bitnami.com/managed";
pub const PATCH_ANNOTATION: &str = "sealedsecrets.bitnami.com/patch";
pub const SKIP_SET_OWNER_REFERENCES_ANNOTATION: &str =
    "sealedsecrets.bitnami.com/skip-set-owner-references";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Strict,
    NamespaceWide,
    ClusterWide,
}

/// `annotations[key] == "true"`, exactly (upstream ignores "TRUE", "yes", ...).
pub fn annotation_is_true(annotations: &BTreeMap<String, String>, key: &str) -> bool {
    annotations.get(key).is_some_and(|v| v == "true")
}

impl Scope {
    pub const VARIANTS: [&'static str; 3] = ["strict", "namespace-wide", "cluster-wide"];

    /// The CLI value (`--scope`); `""` means strict.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "" | "strict" => Some(Scope::Strict),
            "namespace-wide" => Some(Scope::NamespaceWide),
            "cluster-wide" => Some(Scope::ClusterWide),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }

    /// Cluster-wide wins over namespace-wide; anything else is strict.
    pub fn from_annotations(annotations: &BTreeMap<String, String>) -> Scope {
        if annotation_is_true(annotations, CLUSTER_WIDE_ANNOTATION) {
            Scope::ClusterWide
        } else if annotation_is_true(annotations, NAMESPACE_WIDE_ANNOTATION) {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    /// Removes both scope annotations and adds this scope's one (kubeseal `--scope`; upstream
    /// `UpdateScopeAnnotations`).
    pub fn apply_to(self, annotations: &mut BTreeMap<String, String>) {
        annotations.remove(CLUSTER_WIDE_ANNOTATION);
        annotations.remove(NAMESPACE_WIDE_ANNOTATION);
        if let Some(key) = self.annotation() {
            annotations.insert(key.to_string(), "true".to_string());
        }
    }

    pub fn annotation(self) -> Option<&'static str> {
        match self {
            Scope::Strict => None,
            Scope::NamespaceWide => Some(NAMESPACE_WIDE_ANNOTATION),
            Scope::ClusterWide => Some(CLUSTER_WIDE_ANNOTATION),
        }
    }

    /// The OAEP label: `ns/name`, `ns`, or empty.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_precedence() {
        let mut a = BTreeMap::new();
        assert_eq!(Scope::from_annotations(&a), Scope::Strict);
        a.insert(NAMESPACE_WIDE_ANNOTATION.to_string(), "true".to_string());
        assert_eq!(Scope::from_annotations(&a), Scope::NamespaceWide);
        a.insert(CLUSTER_WIDE_ANNOTATION.to_string(), "TRUE".to_string());
        assert_eq!(Scope::from_annotations(&a), Scope::NamespaceWide);
        a.insert(CLUSTER_WIDE_ANNOTATION.to_string(), "true".to_string());
        assert_eq!(Scope::from_annotations(&a), Scope::ClusterWide);
        assert_eq!(Scope::Strict.label("myns", "mysecret"), b"myns/mysecret");
        assert_eq!(Scope::NamespaceWide.label("myns", "x"), b"myns");
        assert!(Scope::ClusterWide.label("myns", "x").is_empty());
        Scope::Strict.apply_to(&mut a);
        assert!(a.is_empty());
    }
}

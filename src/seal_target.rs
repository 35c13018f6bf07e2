//! What kubeseal seals each input Secret for (upstream `pkg/kubeseal/kubeseal.go`, `Seal`, with the
//! namespace `runCLI` gives it): the scope, name and namespace that become the [`SealOptions`] of
//! [`crate::seal::seal_secret`], from the command-line flags and the Secret itself.

use crate::scope::Scope;
use crate::seal::SealOptions;
use crate::types::{ObjectMeta, Secret};

/// The kubeseal flags that decide what a Secret is sealed for.
#[derive(Debug, Clone, Copy, Default)]
pub struct SealFlags<'a> {
    /// `--scope`.
    pub scope: Scope,
    /// `-n/--namespace`; empty when not given.
    pub namespace: &'a str,
    /// `--name`; empty when not given.
    pub name: &'a str,
    /// `--allow-empty-data`.
    pub allow_empty_data: bool,
}

/// The options `secret` is sealed with. `merge_into` is the metadata of the `--merge-into` target:
/// its namespace replaces the Secret's and its name the `--name` flag (each when not empty).
/// `context_namespace` gives the kubeconfig's namespace; it is asked only when the Secret has no
/// namespace of its own, is not cluster-wide and no `-n` was given.
pub fn seal_options(
    flags: &SealFlags<'_>,
    merge_into: Option<&ObjectMeta>,
    secret: &mut Secret,
    context_namespace: &mut dyn FnMut() -> String,
) -> SealOptions {
    let merge_name = merge_into.map_or("", |m| m.name.as_str());
    let merge_namespace = merge_into.map_or("", |m| m.namespace.as_str());
    if !merge_namespace.is_empty() {
        secret.metadata.namespace = merge_namespace.to_string();
    }
    // A strict `--scope` is the default: the Secret's own scope annotations then decide.
    let scope = if flags.scope == Scope::Strict {
        Scope::from_annotations(&secret.metadata.annotations)
    } else {
        flags.scope
    };
    let (namespace, namespace_explicit) = if scope == Scope::ClusterWide {
        (String::new(), false)
    } else if !flags.namespace.is_empty() {
        (flags.namespace.to_string(), true)
    } else if secret.metadata.namespace.is_empty() {
        (context_namespace(), false)
    } else {
        (String::new(), false)
    };
    SealOptions {
        name: if merge_name.is_empty() {
            flags.name
        } else {
            merge_name
        }
        .to_string(),
        scope: flags.scope,
        namespace,
        namespace_explicit,
        allow_empty_data: flags.allow_empty_data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::CLUSTER_WIDE_ANNOTATION;

    fn secret(namespace: &str, annotations: &[(&str, &str)]) -> Secret {
        let mut s = Secret::default();
        s.metadata.namespace = namespace.to_string();
        for (k, v) in annotations {
            s.metadata.annotations.insert(k.to_string(), v.to_string());
        }
        s
    }

    /// (namespace, explicit, context asked) for one Secret.
    fn decide(flags: &SealFlags<'_>, s: &mut Secret) -> (String, bool, bool) {
        let mut asked = false;
        let opts = seal_options(flags, None, s, &mut || {
            asked = true;
            "ctxns".to_string()
        });
        (opts.namespace, opts.namespace_explicit, asked)
    }

    #[test]
    fn namespace_rules() {
        let strict = SealFlags::default();
        let with_n = SealFlags {
            namespace: "argns",
            ..Default::default()
        };
        let cluster = SealFlags {
            scope: Scope::ClusterWide,
            namespace: "argns",
            ..Default::default()
        };
        let none = (String::new(), false, false);
        assert_eq!(
            decide(&strict, &mut secret("", &[])),
            ("ctxns".into(), false, true)
        );
        assert_eq!(decide(&strict, &mut secret("own", &[])), none);
        assert_eq!(
            decide(&with_n, &mut secret("own", &[])),
            ("argns".into(), true, false)
        );
        assert_eq!(decide(&cluster, &mut secret("", &[])), none);
        // The Secret's own cluster-wide annotation counts under the default strict flag only.
        let cw = [(CLUSTER_WIDE_ANNOTATION, "true")];
        assert_eq!(decide(&with_n, &mut secret("", &cw)), none);
        let ns_wide = SealFlags {
            scope: Scope::NamespaceWide,
            ..Default::default()
        };
        assert_eq!(
            decide(&ns_wide, &mut secret("", &cw)),
            ("ctxns".into(), false, true)
        );
    }

    #[test]
    fn flags_and_merge_target() {
        let flags = SealFlags {
            scope: Scope::NamespaceWide,
            name: "flagname",
            allow_empty_data: true,
            ..Default::default()
        };
        let mut s = secret("own", &[]);
        let opts = seal_options(&flags, None, &mut s, &mut String::new);
        assert_eq!(opts.name, "flagname");
        assert_eq!(opts.scope, Scope::NamespaceWide);
        assert!(opts.allow_empty_data);

        let target = ObjectMeta {
            name: "target".into(),
            namespace: "targetns".into(),
            ..Default::default()
        };
        let opts = seal_options(&flags, Some(&target), &mut s, &mut String::new);
        assert_eq!(opts.name, "target");
        assert_eq!(s.metadata.namespace, "targetns");
        // An empty target name or namespace overrides nothing.
        let mut s = secret("own", &[]);
        let opts = seal_options(
            &flags,
            Some(&ObjectMeta::default()),
            &mut s,
            &mut String::new,
        );
        assert_eq!(
            (opts.name.as_str(), s.metadata.namespace.as_str()),
            ("flagname", "own")
        );
    }
}

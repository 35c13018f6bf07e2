//! The rules of `kubeseal --lint` (docs/operations.md "Offline lint"): what is wrong with a
//! document of a GitOps repository, decided without a cluster. The CLI walks the files, resolves
//! the Kustomize layouts around them ([`Kustomization`], [`Rename`]), hands each document here and
//! prints the [`Finding`]s; every finding names the field it is about so that the CLI can give a
//! line.

use serde_json::Value;

use crate::keys::{Decrypter, PublicKey};
use crate::scope::{CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION, Scope};
use crate::types::{KIND, SealedSecret};

/// The kinds of finding, one rule each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A plain `kind: Secret` with `data` or `stringData`: the secret itself is in the repository.
    UnsealedSecret,
    /// A strict (or namespace-wide) SealedSecret that a kustomization renames or moves.
    KustomizeRename,
    /// `metadata.name`/`namespace` differ from `spec.template.metadata`'s.
    TemplateMismatch,
    /// The object's scope annotations say something else than its template's.
    ScopeContradiction,
    /// A strict SealedSecret without a name or a namespace (or a namespace-wide one without a
    /// namespace): its label is not what it was sealed for.
    MissingTarget,
    /// A SealedSecret document that cannot be read as one.
    InvalidSealedSecret,
    /// An item that is not base64, not in the wire format, or not for the given certificate.
    MalformedCiphertext,
    /// An item that none of the given private keys decrypts.
    Undecryptable,
    /// A file that is not YAML or JSON.
    Unparsable,
}

impl Rule {
    pub const ALL: [Rule; 9] = [
        Rule::UnsealedSecret,
        Rule::KustomizeRename,
        Rule::TemplateMismatch,
        Rule::ScopeContradiction,
        Rule::MissingTarget,
        Rule::InvalidSealedSecret,
        Rule::MalformedCiphertext,
        Rule::Undecryptable,
        Rule::Unparsable,
    ];

    /// The stable identifier (JSON `rule`, SARIF `ruleId`).
    pub fn id(self) -> &'static str {
        match self {
            Rule::UnsealedSecret => "unsealed-secret",
            Rule::KustomizeRename => "kustomize-rename",
            Rule::TemplateMismatch => "template-mismatch",
            Rule::ScopeContradiction => "scope-contradiction",
            Rule::MissingTarget => "missing-name-or-namespace",
            Rule::InvalidSealedSecret => "invalid-sealed-secret",
            Rule::MalformedCiphertext => "malformed-ciphertext",
            Rule::Undecryptable => "undecryptable",
            Rule::Unparsable => "unparsable",
        }
    }

    /// One sentence on what the rule finds.
    pub fn description(self) -> &'static str {
        match self {
            Rule::UnsealedSecret => "A plain Secret with data or stringData is committed unsealed",
            Rule::KustomizeRename => {
                "A kustomization renames or moves a SealedSecret whose scope binds it to its name or namespace"
            }
            Rule::TemplateMismatch => {
                "The SealedSecret's name or namespace differs from its template's"
            }
            Rule::ScopeContradiction => {
                "The SealedSecret's scope annotations contradict its template's"
            }
            Rule::MissingTarget => "A strict SealedSecret lacks a name or a namespace",
            Rule::InvalidSealedSecret => "The document cannot be read as a SealedSecret",
            Rule::MalformedCiphertext => {
                "An encrypted item is not base64, not in the sealed-secrets wire format, or not for the given certificate"
            }
            Rule::Undecryptable => "No given private key decrypts an encrypted item",
            Rule::Unparsable => "The file is not YAML or JSON",
        }
    }
}

/// One problem of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub message: String,
    /// The field the finding is about (object keys from the document root); empty for the
    /// document itself.
    pub field: Vec<String>,
}

impl Finding {
    /// A file that does not parse (the codec's message, which quotes no content).
    pub fn unparsable(error: &goyaml::CodecError) -> Self {
        Finding::new(Rule::Unparsable, format!("cannot parse: {error}"), &[])
    }

    fn new(rule: Rule, message: String, field: &[&str]) -> Self {
        Finding {
            rule,
            message,
            field: field.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What a kustomization does to the names and namespaces of the resources it includes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rename {
    pub name_prefix: String,
    pub name_suffix: String,
    /// Empty: namespaces are left alone.
    pub namespace: String,
}

impl Rename {
    /// This kustomization's rename followed by the one of `outer`, which includes it.
    pub fn then(&self, outer: &Rename) -> Rename {
        Rename {
            name_prefix: format!("{}{}", outer.name_prefix, self.name_prefix),
            name_suffix: format!("{}{}", self.name_suffix, outer.name_suffix),
            namespace: if outer.namespace.is_empty() {
                self.namespace.clone()
            } else {
                outer.namespace.clone()
            },
        }
    }

    /// `(namespace, name)` after the rename.
    pub fn apply(&self, namespace: &str, name: &str) -> (String, String) {
        let namespace = if self.namespace.is_empty() {
            namespace.to_string()
        } else {
            self.namespace.clone()
        };
        (
            namespace,
            format!("{}{name}{}", self.name_prefix, self.name_suffix),
        )
    }

    pub fn is_identity(&self) -> bool {
        *self == Rename::default()
    }

    /// `namePrefix "prod-", namespace "prod"`: the settings that do something.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.name_prefix.is_empty() {
            parts.push(format!("namePrefix {:?}", self.name_prefix));
        }
        if !self.name_suffix.is_empty() {
            parts.push(format!("nameSuffix {:?}", self.name_suffix));
        }
        if !self.namespace.is_empty() {
            parts.push(format!("namespace {:?}", self.namespace));
        }
        parts.join(", ")
    }
}

/// The parts of a `kustomization.yaml` that matter here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kustomization {
    pub rename: Rename,
    /// `resources`, `bases` (deprecated) and `components`, in order: files or directories
    /// relative to the kustomization's directory, or remote targets.
    pub resources: Vec<String>,
}

impl Kustomization {
    /// Reads a kustomization document; fields of the wrong type count as absent.
    pub fn from_document(doc: &Value) -> Kustomization {
        let text = |key: &str| {
            doc.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut resources = Vec::new();
        for key in ["resources", "bases", "components"] {
            if let Some(items) = doc.get(key).and_then(Value::as_array) {
                resources.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
            }
        }
        Kustomization {
            rename: Rename {
                name_prefix: text("namePrefix"),
                name_suffix: text("nameSuffix"),
                namespace: text("namespace"),
            },
            resources,
        }
    }

    /// Whether a `resources` entry points outside the repository (a URL or a Git target).
    pub fn is_remote(entry: &str) -> bool {
        entry.contains("://") || entry.starts_with("git@") || entry.starts_with("github.com/")
    }
}

/// A kustomization that includes the document, and what it does to it (already composed with the
/// kustomizations between them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// How the kustomization is shown in the message (its path).
    pub kustomization: String,
    pub rename: Rename,
}

/// What the checks may use besides the document.
#[derive(Default, Clone, Copy)]
pub struct Context<'a> {
    /// `--cert`: items must have this key's RSA modulus length.
    pub cert: Option<&'a PublicKey>,
    /// `--recovery-private-key`: every item must decrypt with one of them.
    pub keys: Option<&'a dyn Decrypter>,
}

/// The findings of one document, in a fixed order.
pub fn lint_document(doc: &Value, layouts: &[Layout], ctx: Context<'_>) -> Vec<Finding> {
    match doc.get("kind").and_then(Value::as_str) {
        Some("Secret") => unsealed_secret(doc).into_iter().collect(),
        Some(KIND) => match serde_json::from_value::<SealedSecret>(doc.clone()) {
            Ok(ss) => lint_sealed_secret(&ss, layouts, ctx),
            Err(e) => vec![Finding::new(
                Rule::InvalidSealedSecret,
                format!(
                    "invalid SealedSecret: {}",
                    crate::secret::redact_serde_values(&e.to_string())
                ),
                &[],
            )],
        },
        _ => Vec::new(),
    }
}

fn display_name(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

fn meta_text<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn unsealed_secret(doc: &Value) -> Option<Finding> {
    let field = ["data", "stringData"].into_iter().find(|f| {
        doc.get(*f)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
    })?;
    let name = display_name(meta_text(doc, "namespace"), meta_text(doc, "name"));
    Some(Finding::new(
        Rule::UnsealedSecret,
        format!(
            "unsealed Secret \"{name}\" has {field}: the secret values are in the repository; seal it with kubeseal, commit only the SealedSecret, and rotate the values (they are in the Git history)"
        ),
        &[field],
    ))
}

fn lint_sealed_secret(ss: &SealedSecret, layouts: &[Layout], ctx: Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let meta = &ss.metadata;
    let scope = ss.scope();
    let here = display_name(&meta.namespace, &meta.name);

    let missing: Vec<&str> = [("name", &meta.name), ("namespace", &meta.namespace)]
        .into_iter()
        .filter(|(what, value)| {
            value.is_empty()
                && match scope {
                    Scope::Strict => true,
                    Scope::NamespaceWide => *what == "namespace",
                    Scope::ClusterWide => false,
                }
        })
        .map(|(what, _)| what)
        .collect();
    if !missing.is_empty() {
        out.push(Finding::new(
            Rule::MissingTarget,
            format!(
                "{} SealedSecret \"{here}\" has no {}: it decrypts only under the name and namespace it was sealed for, so set them as they were when sealing",
                scope.as_str(),
                missing.join(" and ")
            ),
            &["metadata"],
        ));
    }

    let template = &ss.spec.template.metadata;
    let differs = |t: &str, own: &str| !t.is_empty() && t != own;
    if differs(&template.name, &meta.name) || differs(&template.namespace, &meta.namespace) {
        let t_ns = if template.namespace.is_empty() {
            &meta.namespace
        } else {
            &template.namespace
        };
        let t_name = if template.name.is_empty() {
            &meta.name
        } else {
            &template.name
        };
        let consequence = match scope {
            Scope::Strict => {
                "a strict SealedSecret decrypts only under the name it was sealed for, which the template records"
            }
            Scope::NamespaceWide if differs(&template.namespace, &meta.namespace) => {
                "a namespace-wide SealedSecret decrypts only in the namespace it was sealed for"
            }
            _ => "the Secret is named after the SealedSecret, not after its template",
        };
        out.push(Finding::new(
            Rule::TemplateMismatch,
            format!(
                "SealedSecret \"{here}\" has template metadata \"{}\": {consequence}",
                display_name(t_ns, t_name)
            ),
            &["spec", "template", "metadata"],
        ));
    }

    let scope_keys = [CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION];
    if scope_keys
        .iter()
        .any(|k| template.annotations.contains_key(*k))
    {
        let template_scope = Scope::from_annotations(&template.annotations);
        if template_scope != scope {
            out.push(Finding::new(
                Rule::ScopeContradiction,
                format!(
                    "SealedSecret \"{here}\" is {} by its annotations but its template says {}: the object's annotations decide the label, so one of them is wrong",
                    scope.as_str(),
                    template_scope.as_str()
                ),
                &["spec", "template", "metadata", "annotations"],
            ));
        }
    }

    if scope != Scope::ClusterWide {
        for layout in layouts {
            let (ns, name) = layout.rename.apply(&meta.namespace, &meta.name);
            let moved = ns != meta.namespace;
            let renamed = name != meta.name;
            if !(moved || (renamed && scope == Scope::Strict)) {
                continue;
            }
            let fix = if moved {
                "re-seal it with --scope cluster-wide, or keep it out of that namespace setting"
            } else {
                "re-seal it with --scope namespace-wide, or keep it out of the name prefix/suffix"
            };
            out.push(Finding::new(
                Rule::KustomizeRename,
                format!(
                    "{} SealedSecret \"{here}\" becomes \"{}\" through {} ({}): it will not decrypt there; {fix}",
                    scope.as_str(),
                    display_name(&ns, &name),
                    layout.kustomization,
                    layout.rename.describe()
                ),
                &["metadata", "name"],
            ));
        }
    }

    let label = scope.label(&meta.namespace, &meta.name);
    let items = ss
        .spec
        .encrypted_data
        .iter()
        .map(|(k, v)| (vec!["spec", "encryptedData", k.as_str()], k.as_str(), v))
        .chain(
            ss.spec
                .data
                .iter()
                .map(|v| (vec!["spec", "data"], "data", v)),
        );
    for (field, key, value) in items {
        let finding = check_item(key, value, &label, ctx);
        out.extend(finding.map(|(rule, message)| Finding::new(rule, message, &field)));
    }
    out
}

/// The AES-GCM tag every item ends with.
const TAG_LEN: usize = 16;

/// One item: base64, the `u16 length || RSA part || AES-GCM part` framing of `crypto.rs`, the
/// RSA part's length against `--cert`, and decryption with the given keys (the plaintext is
/// dropped unread).
fn check_item(key: &str, value: &str, label: &[u8], ctx: Context<'_>) -> Option<(Rule, String)> {
    let malformed = |why: String| Some((Rule::MalformedCiphertext, format!("item {key:?}: {why}")));
    let ct = match go_semantics::base64::decode(value.as_bytes()) {
        Ok(ct) => ct,
        Err(e) => return malformed(format!("not base64 ({e})")),
    };
    let Some((len, rest)) = ct.split_first_chunk::<2>() else {
        return malformed(format!("{} bytes, too short to be sealed", ct.len()));
    };
    let rsa_len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < rsa_len + TAG_LEN {
        return malformed(format!(
            "declares a {rsa_len}-byte RSA part but holds {} bytes after it (at least {} needed)",
            rest.len(),
            rsa_len + TAG_LEN
        ));
    }
    if let Some(cert) = ctx.cert {
        let modulus = cert.bits().div_ceil(8);
        if rsa_len != modulus {
            return malformed(format!(
                "its RSA part is {rsa_len} bytes but the certificate's modulus is {modulus} bytes ({} bits): it was not sealed with this certificate",
                cert.bits()
            ));
        }
    }
    if let Some(keys) = ctx.keys
        && keys.decrypt(&ct, label).is_err()
    {
        return Some((
            Rule::Undecryptable,
            format!(
                "item {key:?}: no key could decrypt it under its label {:?}",
                String::from_utf8_lossy(label)
            ),
        ));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::test_keys::{cert, keys, other_keys, seal_value};

    fn sealed_value(label: &[u8]) -> String {
        seal_value("hunter2", label)
    }

    /// A SealedSecret `prod/db-creds` sealed for `label`, as kubeseal writes it.
    fn sealed(label: &[u8]) -> Value {
        serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "db-creds", "namespace": "prod"},
            "spec": {
                "encryptedData": {"password": sealed_value(label)},
                "template": {"metadata": {"name": "db-creds", "namespace": "prod"}}
            }
        })
    }

    fn rules(findings: &[Finding]) -> Vec<Rule> {
        findings.iter().map(|f| f.rule).collect()
    }

    fn lint(doc: &Value) -> Vec<Finding> {
        lint_document(doc, &[], Context::default())
    }

    #[test]
    fn a_clean_sealed_secret_has_no_findings() {
        let keys = keys();
        let key = cert();
        let ctx = Context {
            cert: Some(&key),
            keys: Some(&keys),
        };
        assert_eq!(
            lint_document(&sealed(b"prod/db-creds"), &[], ctx),
            Vec::new()
        );
        // Other kinds are not looked at, and an empty Secret leaks nothing.
        assert_eq!(
            lint(&serde_json::json!({"kind": "ConfigMap", "data": {"a": "b"}})),
            vec![]
        );
        assert_eq!(
            lint(&serde_json::json!({"kind": "Secret", "data": {}})),
            vec![]
        );
    }

    #[test]
    fn unsealed_secret() {
        for field in ["data", "stringData"] {
            let doc = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "db", "namespace": "prod"}, field: {"password": "aHVudGVyMg=="}});
            let f = lint(&doc);
            assert_eq!(rules(&f), vec![Rule::UnsealedSecret]);
            assert_eq!(f[0].field, vec![field.to_string()]);
            assert!(f[0].message.starts_with("unsealed Secret \"prod/db\" has "));
            assert!(!f[0].message.contains("aHVudGVyMg"), "no value is quoted");
        }
    }

    #[test]
    fn kustomize_rename_and_move() {
        let doc = sealed(b"prod/db-creds");
        let layout = |prefix: &str, ns: &str| Layout {
            kustomization: "apps/overlays/prod/kustomization.yaml".into(),
            rename: Rename {
                name_prefix: prefix.into(),
                namespace: ns.into(),
                ..Default::default()
            },
        };
        let f = lint_document(&doc, &[layout("prod-", "")], Context::default());
        assert_eq!(rules(&f), vec![Rule::KustomizeRename]);
        assert_eq!(
            f[0].message,
            "strict SealedSecret \"prod/db-creds\" becomes \"prod/prod-db-creds\" through apps/overlays/prod/kustomization.yaml (namePrefix \"prod-\"): it will not decrypt there; re-seal it with --scope namespace-wide, or keep it out of the name prefix/suffix"
        );
        let moved = lint_document(&doc, &[layout("", "staging")], Context::default());
        assert!(moved[0].message.contains("--scope cluster-wide"));
        // A kustomization that sets the namespace it already has changes nothing.
        assert_eq!(
            lint_document(&doc, &[layout("", "prod")], Context::default()),
            vec![]
        );
        // Namespace-wide: a prefix is harmless, a move is not; cluster-wide: nothing matters.
        let mut wide = doc.clone();
        wide["metadata"]["annotations"] = serde_json::json!({NAMESPACE_WIDE_ANNOTATION: "true"});
        wide["spec"]["template"]["metadata"]["annotations"] =
            serde_json::json!({NAMESPACE_WIDE_ANNOTATION: "true"});
        assert_eq!(
            lint_document(&wide, &[layout("prod-", "")], Context::default()),
            vec![]
        );
        assert_eq!(
            rules(&lint_document(
                &wide,
                &[layout("", "staging")],
                Context::default()
            )),
            vec![Rule::KustomizeRename]
        );
        let mut cluster = doc.clone();
        cluster["metadata"]["annotations"] = serde_json::json!({CLUSTER_WIDE_ANNOTATION: "true"});
        assert_eq!(
            lint_document(&cluster, &[layout("p-", "x")], Context::default()),
            vec![]
        );
    }

    #[test]
    fn renames_compose_outer_last() {
        let base = Rename {
            name_prefix: "b-".into(),
            name_suffix: "-b".into(),
            namespace: "base".into(),
        };
        let overlay = Rename {
            name_prefix: "o-".into(),
            name_suffix: "-o".into(),
            namespace: String::new(),
        };
        let both = base.then(&overlay);
        assert_eq!(
            both.apply("ns", "x"),
            ("base".to_string(), "o-b-x-b-o".to_string())
        );
        assert!(Rename::default().is_identity());
        let k = Kustomization::from_document(&serde_json::json!({
            "namePrefix": "prod-", "namespace": 5,
            "resources": ["../../base", "ss.yaml", 3], "bases": ["old"], "components": ["c"]
        }));
        assert_eq!(k.rename.name_prefix, "prod-");
        assert_eq!(k.rename.namespace, "");
        assert_eq!(k.resources, vec!["../../base", "ss.yaml", "old", "c"]);
        assert!(Kustomization::is_remote(
            "https://github.com/x/y//deploy?ref=v1"
        ));
        assert!(!Kustomization::is_remote("../base"));
    }

    #[test]
    fn template_mismatch() {
        let mut doc = sealed(b"prod/db-creds");
        doc["metadata"]["name"] = "prod-db-creds".into();
        let f = lint(&doc);
        assert_eq!(rules(&f), vec![Rule::TemplateMismatch]);
        assert_eq!(
            f[0].field,
            vec!["spec", "template", "metadata"]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        );
        assert!(f[0].message.starts_with(
            "SealedSecret \"prod/prod-db-creds\" has template metadata \"prod/db-creds\": a strict"
        ));
    }

    #[test]
    fn scope_contradiction() {
        let mut doc = sealed(b"prod");
        doc["spec"]["template"]["metadata"]["annotations"] =
            serde_json::json!({NAMESPACE_WIDE_ANNOTATION: "true"});
        let f = lint(&doc);
        assert_eq!(rules(&f), vec![Rule::ScopeContradiction]);
        assert!(
            f[0].message
                .contains("is strict by its annotations but its template says namespace-wide")
        );
        doc["metadata"]["annotations"] = serde_json::json!({NAMESPACE_WIDE_ANNOTATION: "true"});
        assert_eq!(lint(&doc), vec![]);
    }

    #[test]
    fn missing_name_or_namespace() {
        let mut doc = sealed(b"/db-creds");
        doc["metadata"].as_object_mut().unwrap().remove("namespace");
        doc["spec"]["template"]["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
        let f = lint(&doc);
        assert_eq!(rules(&f), vec![Rule::MissingTarget]);
        assert!(
            f[0].message
                .starts_with("strict SealedSecret \"/db-creds\" has no namespace")
        );
        let mut cluster = doc.clone();
        cluster["metadata"]["annotations"] = serde_json::json!({CLUSTER_WIDE_ANNOTATION: "true"});
        assert_eq!(lint(&cluster), vec![]);
    }

    #[test]
    fn malformed_ciphertexts() {
        let check = |value: &str, cert: Option<&PublicKey>| {
            let mut doc = sealed(b"prod/db-creds");
            doc["spec"]["encryptedData"]["password"] = value.into();
            let f = lint_document(&doc, &[], Context { cert, keys: None });
            assert_eq!(rules(&f), vec![Rule::MalformedCiphertext], "{value}");
            assert_eq!(f[0].field.last().map(String::as_str), Some("password"));
            f[0].message.clone()
        };
        assert_eq!(
            check("not base64!", None),
            "item \"password\": not base64 (illegal base64 data at input byte 3)"
        );
        assert!(check("AA==", None).contains("too short"));
        // Declares 512 RSA bytes, holds 3.
        let short = go_semantics::base64::encode(&[2, 0, 1, 2, 3]);
        assert!(check(&short, None).contains("declares a 512-byte RSA part but holds 3 bytes"));
        // Framed right, but a 256-byte RSA part is not for a 4096-bit certificate.
        let mut ct = vec![1u8, 0];
        ct.extend([7u8; 256 + TAG_LEN + 4]);
        let framed = go_semantics::base64::encode(&ct);
        let key = cert();
        assert_eq!(
            lint_document(
                &{
                    let mut d = sealed(b"prod/db-creds");
                    d["spec"]["encryptedData"]["password"] = framed.clone().into();
                    d
                },
                &[],
                Context::default()
            ),
            vec![]
        );
        assert!(check(&framed, Some(&key)).contains(
            "its RSA part is 256 bytes but the certificate's modulus is 512 bytes (4096 bits)"
        ));
    }

    #[test]
    fn undecryptable_with_the_given_keys() {
        let keys = keys();
        let ctx = Context {
            cert: None,
            keys: Some(&keys),
        };
        let f = lint_document(&sealed(b"other/db-creds"), &[], ctx);
        assert_eq!(rules(&f), vec![Rule::Undecryptable]);
        assert_eq!(
            f[0].message,
            "item \"password\": no key could decrypt it under its label \"prod/db-creds\""
        );
        let other = other_keys();
        let f = lint_document(
            &sealed(b"prod/db-creds"),
            &[],
            Context {
                cert: None,
                keys: Some(&other),
            },
        );
        assert_eq!(rules(&f), vec![Rule::Undecryptable]);
    }

    #[test]
    fn an_unreadable_sealed_secret() {
        let doc = serde_json::json!({"kind": "SealedSecret", "spec": {"encryptedData": {"a": "secret-ish"}}, "metadata": 5});
        let f = lint(&doc);
        assert_eq!(rules(&f), vec![Rule::InvalidSealedSecret]);
        assert!(!f[0].message.contains("secret-ish"));
        let ids: std::collections::BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), Rule::ALL.len());
    }
}

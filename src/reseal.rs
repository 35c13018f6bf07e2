//! `/v1/rotate`: a SealedSecret re-encrypted with the latest key (upstream `pkg/controller/
//! controller.go`, `Rotate`), with two deliberate departures that close CVE-2026-22728:
//!
//! - the new scope is the one the object's own metadata gives, which is also the one its
//!   ciphertexts were just decrypted under; never a scope carried by the template or by the legacy
//!   `data` blob (both are under the caller's control);
//! - templates are never executed (their output would be sealed and handed back to the caller),
//!   as in upstream v0.40.0 (`UnsealWithoutTemplate`); but where upstream then drops
//!   `spec.template.data`, it is returned verbatim, `null` entries included (docs/compatibility.md),
//!   so that re-applying the result neither loses template keys nor exposes omitted ones.

use crate::keys::KeyRing;
use crate::seal::new_sealed_secret;
use crate::types::SealedSecret;
use crate::unseal::{UnsealOptions, unseal};
use goyaml::to_json_compact;

/// Why a re-seal failed, with upstream's texts. None carries plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResealError {
    #[error("error decrypting secret. {0}")]
    Decrypt(crate::Error),
    /// Upstream v0.40.0 `Rotate` (`pkg/controller/controller.go`) with an empty key registry
    /// (`keyregistry.go` `latestPrivateKey`).
    #[error("error getting latest private key. key registry has no keys")]
    NoKey,
    #[error("error creating new sealed secret. {0}")]
    Seal(crate::Error),
    #[error("error marshalling new secret to json. {0}")]
    Marshal(String),
}

/// Whether the template metadata differs from the object's; [`reseal`] then replaces it with the
/// object's (upstream warns "Sealed Secret metadata doesn't match").
pub fn template_metadata_differs(ss: &SealedSecret) -> bool {
    ss.metadata != ss.spec.template.metadata
}

/// Re-encrypts `ss` with the latest key of `keys`; every item must decrypt with one of `keys`. The
/// result has no apiVersion and kind, as upstream answers (kubeseal re-adds them).
pub fn reseal(
    mut ss: SealedSecret,
    keys: &KeyRing,
    accept_v1_data: bool,
) -> Result<SealedSecret, ResealError> {
    // Upstream: keep the scope by aligning the template metadata with the object's.
    if template_metadata_differs(&ss) {
        ss.spec.template.metadata = ss.metadata.clone();
    }
    let opts = UnsealOptions {
        accept_v1_data,
        render_templates: false,
    };
    let mut secret = unseal(&ss, keys, opts).map_err(ResealError::Decrypt)?;
    ss.scope().apply_to(&mut secret.metadata.annotations);
    let latest = keys.latest().ok_or(ResealError::NoKey)?;
    let mut resealed =
        new_sealed_secret(&secret, latest.private_key.public_key()).map_err(ResealError::Seal)?;
    // A legacy `data` object never used its templates, so neither does the re-sealed one.
    if ss.spec.data.is_none() {
        resealed.spec.template.data = std::mem::take(&mut ss.spec.template.data);
    }
    resealed.kind.clear();
    resealed.api_version.clear();
    Ok(resealed)
}

/// The `/v1/rotate` answer body for a re-sealed object: compact JSON.
pub fn to_response(resealed: &SealedSecret) -> Result<String, ResealError> {
    let value = serde_json::to_value(resealed).map_err(|e| ResealError::Marshal(e.to_string()))?;
    Ok(to_json_compact(&value))
}

/// kubeseal `--re-encrypt`'s output of a rotated object (upstream `ReEncryptSealedSecret` in
/// `pkg/kubeseal/kubeseal.go`): the creation and deletion timestamps and the generation are cleared,
/// apiVersion and kind are re-added; everything else is kept as the controller answered.
pub fn re_encrypt_output(mut rotated: SealedSecret) -> SealedSecret {
    rotated.metadata.creation_timestamp = None;
    rotated.metadata.deletion_timestamp = None;
    rotated.metadata.generation = 0;
    rotated.with_type_meta()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {

    use super::*;
    use crate::keys::Certificate;
    use crate::scope::{CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION, Scope};
    use crate::types::Secret;
    use go_semantics::base64::encode as base64_encode;

    use crate::test_keys::{CERT, KEY};

    fn ring() -> KeyRing {
        crate::test_keys::ring(&[(KEY, CERT)])
    }

    fn vector(name: &str) -> SealedSecret {
        let text = match name {
            "strict" => include_str!("../tests/fixtures/vectors/upstream-strict.json"),
            "cluster-wide" => include_str!("../tests/fixtures/vectors/upstream-cluster-wide.json"),
            "template" => include_str!("../tests/fixtures/vectors/upstream-strict-template.json"),
            other => panic!("no vector {other}"),
        };
        serde_json::from_str(text).unwrap()
    }

    /// Unseals a re-sealed object as the controller would (apiVersion/kind re-added).
    fn open(ss: &SealedSecret) -> Result<Secret, crate::Error> {
        unseal(
            &ss.clone().with_type_meta(),
            &ring(),
            UnsealOptions::default(),
        )
    }

    #[test]
    fn reseals_with_the_object_scope() {
        let keys = ring();
        for name in ["strict", "cluster-wide"] {
            let input = vector(name);
            let out = reseal(input.clone(), &keys, true).unwrap();
            let ss = &out;
            assert_eq!(ss.metadata, input.metadata, "{name}");
            assert_eq!(ss.scope(), input.scope(), "{name}");
            assert_ne!(
                ss.spec.encrypted_data["foo"],
                input.spec.encrypted_data["foo"]
            );
            assert!(ss.kind.is_empty() && ss.api_version.is_empty());
            assert_eq!(open(ss).unwrap().data["foo"].as_bytes(), b"bar");
        }
    }

    #[test]
    fn realigns_template_metadata() {
        let input = vector("strict");
        assert!(template_metadata_differs(&input));
        let out = reseal(input, &ring(), true).unwrap();
        assert!(!template_metadata_differs(&out));
        assert_eq!(out.spec.template.metadata.name, "mysecret");
        assert!(out.spec.template.metadata.labels.is_empty());
        assert_eq!(out.spec.template.type_, "Opaque");
    }

    /// CVE-2026-22728: scope annotations in the template must not widen a strict secret.
    #[test]
    fn template_annotations_do_not_widen_the_scope() {
        let mut input = vector("strict");
        for a in [CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION] {
            input
                .spec
                .template
                .metadata
                .annotations
                .insert(a.into(), "true".into());
        }
        let out = reseal(input, &ring(), true).unwrap();
        assert_eq!(out.scope(), Scope::Strict);
        assert!(out.spec.template.metadata.annotations.is_empty());
        let mut renamed = out.clone();
        renamed.metadata.name = "attacker".into();
        assert!(open(&renamed).is_err(), "the result must stay strict");
    }

    /// The same attack through the legacy `data` blob, whose metadata the caller chose.
    #[test]
    fn legacy_data_scope_is_ignored() {
        let inner = serde_json::json!({
            "metadata": {"name": "mysecret", "namespace": "myns",
                         "annotations": {CLUSTER_WIDE_ANNOTATION: "true"}},
            "data": {"foo": "YmFy"},
        });
        let key = Certificate::from_pem(CERT).unwrap().public_key;
        let ct = key
            .encrypt(to_json_compact(&inner).as_bytes(), b"myns/mysecret")
            .unwrap();
        let mut input = SealedSecret::default().with_type_meta();
        input.metadata.name = "mysecret".into();
        input.metadata.namespace = "myns".into();
        input.spec.data = Some(base64_encode(&ct));
        input
            .spec
            .template
            .data
            .insert("t".into(), Some("{{ .foo }}".into()));
        let out = reseal(input, &ring(), true).unwrap();
        assert_eq!(out.scope(), Scope::Strict);
        assert!(out.spec.data.is_none());
        assert!(
            out.spec.template.data.is_empty(),
            "legacy templates were never used"
        );
        assert_eq!(open(&out).unwrap().data["foo"].as_bytes(), b"bar");
    }

    #[test]
    fn templates_are_returned_unrendered() {
        let mut input = vector("template");
        input
            .spec
            .template
            .data
            .insert("x".into(), Some(r#"{{ fail (index . "foo") }}"#.into()));
        let out = reseal(input.clone(), &ring(), true).unwrap();
        assert_eq!(out.spec.template.data, input.spec.template.data);
        let keys: Vec<&String> = out.spec.encrypted_data.keys().collect();
        assert_eq!(
            keys,
            ["binary", "empty", "foo"],
            "no template output was sealed"
        );
    }

    /// U6 `TestRotateIgnoresTemplate`, and our decision to keep `spec.template.data` verbatim
    /// (`null` entries included) where upstream v0.40.0 drops it.
    #[test]
    fn template_data_is_kept_verbatim_and_never_executed() {
        let mut input = vector("strict");
        let probes = [
            ("foo", None),
            ("probe", Some(r#"{{ fail "attacker-controlled failure" }}"#)),
            (
                "guess",
                Some(r#"{{ if eq .foo "bar" }}{{ fail "guessed it" }}{{ end }}"#),
            ),
            ("unparsable", Some("{{ .foo")),
        ];
        for (k, v) in probes {
            input
                .spec
                .template
                .data
                .insert(k.into(), v.map(str::to_string));
        }
        let out = reseal(input.clone(), &ring(), true).unwrap();
        assert_eq!(out.spec.template.data, input.spec.template.data);
        let keys: Vec<&String> = out.spec.encrypted_data.keys().collect();
        assert_eq!(keys, ["binary", "empty", "foo"], "every item, no probe");
        let json = to_response(&out).unwrap();
        assert!(json.contains(r#""data":{"foo":null,"guess":"#), "{json}");
        // The omitted item is still sealed, and still omitted once unsealed.
        let mut sealed_foo = out.clone();
        sealed_foo.spec.template.data.clear();
        assert_eq!(open(&sealed_foo).unwrap().data["foo"].as_bytes(), b"bar");
        let mut kept_null = out;
        kept_null.spec.template.data.retain(|_, v| v.is_none());
        assert!(!open(&kept_null).unwrap().data.contains_key("foo"));
    }

    #[test]
    fn failures_carry_upstream_texts() {
        let mut moved = vector("strict");
        moved.metadata.namespace = "otherns".into();
        let e = reseal(moved, &ring(), true).unwrap_err();
        assert!(matches!(e, ResealError::Decrypt(_)));
        assert!(
            e.to_string()
                .starts_with("error decrypting secret. no key could decrypt secret"),
            "{e}"
        );
        // Upstream unseals first: with no key, items fail to decrypt...
        let e = reseal(vector("strict"), &KeyRing::new(), true).unwrap_err();
        assert!(matches!(e, ResealError::Decrypt(_)), "{e}");
        // ...and an object without items then finds no latest key.
        let mut empty = vector("strict");
        empty.spec.encrypted_data.clear();
        let e = reseal(empty, &KeyRing::new(), true).unwrap_err();
        assert_eq!(e, ResealError::NoKey);
        assert_eq!(
            e.to_string(),
            "error getting latest private key. key registry has no keys"
        );
        let out = reseal(vector("strict"), &ring(), true).unwrap();
        assert!(
            to_response(&out)
                .unwrap()
                .starts_with(r#"{"metadata":{"name":"mysecret""#)
        );
    }

    #[test]
    fn re_encrypt_output_clears_server_timestamps_and_generation() {
        let rotated: SealedSecret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "s", "namespace": "ns", "uid": "u", "resourceVersion": "7",
                         "generation": 3, "creationTimestamp": "2024-01-01T00:00:00Z",
                         "deletionTimestamp": "2024-01-02T00:00:00Z"},
            "spec": {"encryptedData": {"a": "AgA="}}
        }))
        .unwrap();
        let out = re_encrypt_output(rotated);
        assert_eq!(out.metadata.generation, 0);
        assert_eq!(out.metadata.creation_timestamp, None);
        assert_eq!(out.metadata.deletion_timestamp, None);
        assert_eq!(
            (
                out.metadata.uid.as_str(),
                out.metadata.resource_version.as_str()
            ),
            ("u", "7")
        );
        assert_eq!(
            (out.api_version.as_str(), out.kind.as_str()),
            (crate::types::API_VERSION, crate::types::KIND)
        );
        assert_eq!(out.spec.encrypted_data["a"], "AgA=");
    }
}

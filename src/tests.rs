//! Unit tests of the core across modules, with fixed vectors made by the real upstream kubeseal
//! (tests/fixtures/vectors) and checked-in fixture keys (tests/fixtures/keys).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::keys::{Certificate, KeyRing, PrivateKey, SealingKeyPair, generate_key};
use crate::output::OutputFormat;
use crate::seal::{SealOptions, merge_into, seal_secret};
use crate::types::{SealedSecret, Secret};
use crate::unseal::{UnsealOptions, unseal, verify};

const CERT: &[u8] = include_bytes!("../tests/fixtures/keys/cert.pem");
const KEY_PKCS1: &[u8] = include_bytes!("../tests/fixtures/keys/key-pkcs1.pem");
const KEY_PKCS8: &[u8] = include_bytes!("../tests/fixtures/keys/key-pkcs8.pem");
const OTHER_KEY: &[u8] = include_bytes!("../tests/fixtures/keys/other-key.pem");
const EXPIRED_CERT: &[u8] = include_bytes!("../tests/fixtures/keys/expired-cert.pem");
const EC_CERT: &[u8] = include_bytes!("../tests/fixtures/keys/ec-cert.pem");
const EC_KEY: &[u8] = include_bytes!("../tests/fixtures/keys/ec-key.pem");

fn vector(name: &str) -> SealedSecret {
    let text = match name {
        "strict" => include_str!("../tests/fixtures/vectors/upstream-strict.json"),
        "namespace-wide" => include_str!("../tests/fixtures/vectors/upstream-namespace-wide.json"),
        "cluster-wide" => include_str!("../tests/fixtures/vectors/upstream-cluster-wide.json"),
        "template" => include_str!("../tests/fixtures/vectors/upstream-strict-template.json"),
        _ => unreachable!(),
    };
    serde_json::from_str(text).unwrap()
}

fn keys() -> Vec<PrivateKey> {
    vec![PrivateKey::from_pem(KEY_PKCS1).unwrap()]
}

fn data_of(s: &Secret) -> BTreeMap<String, Vec<u8>> {
    s.data
        .iter()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect()
}

const RECOVERY: UnsealOptions = UnsealOptions {
    accept_v1_data: false,
    render_templates: true,
};

#[test]
fn unseals_upstream_vectors_in_every_scope() {
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let ss = vector(scope);
        let secret = unseal(&ss, &keys(), RECOVERY).unwrap();
        let data = data_of(&secret);
        assert_eq!(data["foo"], b"bar", "{scope}");
        assert_eq!(data["empty"], b"", "{scope}");
        assert_eq!(data["binary"], [0u8, 1, 2, 255], "{scope}");
        assert_eq!(secret.metadata.labels["app"], "web");
        assert_eq!(secret.type_, "Opaque");
        assert_eq!(secret.metadata.owner_references.len(), 1);
    }
}

#[test]
fn pkcs8_and_pkcs1_forms_are_the_same_key() {
    let a = PrivateKey::from_pem(KEY_PKCS1).unwrap();
    let b = PrivateKey::from_pem(KEY_PKCS8).unwrap();
    let cert = Certificate::from_pem(CERT).unwrap();
    assert_eq!(a.public_key().fingerprint(), b.public_key().fingerprint());
    assert_eq!(a.public_key().fingerprint(), cert.public_key.fingerprint());
    assert_eq!(a.public_key().bits(), 4096);
    // PKCS#1 re-encoding round-trips.
    let again = PrivateKey::from_pem(a.to_pkcs1_pem().unwrap().as_bytes()).unwrap();
    assert_eq!(
        again.public_key().fingerprint(),
        a.public_key().fingerprint()
    );
}

#[test]
fn scope_label_comes_from_the_object_not_the_template() {
    // Strict: renaming or moving fails; the template is irrelevant.
    let mut ss = vector("strict");
    ss.metadata.name = "other".into();
    let err = unseal(&ss, &keys(), RECOVERY).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no key could decrypt secret (binary, empty, foo)"
    );
    let mut ss = vector("strict");
    ss.spec.template.metadata.name = "other".into();
    ss.spec.template.metadata.namespace = "elsewhere".into();
    let secret = unseal(&ss, &keys(), RECOVERY).unwrap();
    assert_eq!(
        secret.metadata.name, "mysecret",
        "name is forced to the SealedSecret's"
    );

    // Namespace-wide: any name in the namespace, not another namespace.
    let mut ss = vector("namespace-wide");
    ss.metadata.name = "renamed".into();
    assert!(unseal(&ss, &keys(), RECOVERY).is_ok());
    ss.metadata.namespace = "otherns".into();
    assert!(unseal(&ss, &keys(), RECOVERY).is_err());
    // ... and only if the object itself carries the annotation.
    let mut ss = vector("namespace-wide");
    ss.metadata.annotations.clear();
    assert!(unseal(&ss, &keys(), RECOVERY).is_err());

    // Cluster-wide: anywhere.
    let mut ss = vector("cluster-wide");
    ss.metadata.name = "x".into();
    ss.metadata.namespace = "y".into();
    let secret = unseal(&ss, &keys(), RECOVERY).unwrap();
    assert_eq!(
        (
            secret.metadata.namespace.as_str(),
            secret.metadata.name.as_str()
        ),
        ("y", "x")
    );
}

#[test]
fn template_output_matches_upstream_byte_for_byte() {
    let secret = unseal(&vector("template"), &keys(), RECOVERY).unwrap();
    let ours = OutputFormat::Json.render(&secret).unwrap();
    let upstream = include_str!("../tests/fixtures/vectors/upstream-strict-template.unsealed.json");
    assert_eq!(ours, upstream);
}

#[test]
fn errors_are_grouped_by_message() {
    let mut ss = vector("strict");
    ss.spec
        .encrypted_data
        .insert("bad".into(), "not base64!".into());
    ss.spec
        .encrypted_data
        .insert("worse".into(), "AAAA!".into());
    ss.metadata.namespace = "moved".into();
    let err = unseal(&ss, &keys(), RECOVERY).unwrap_err().to_string();
    assert_eq!(
        err,
        "illegal base64 data at input byte 3 (bad)\nno key could decrypt secret (binary, empty, foo)\nillegal base64 data at input byte 4 (worse)"
    );
    let mut ss = vector("strict");
    ss.spec
        .template
        .data
        .insert("t".into(), Some("{{ env \"HOME\" }}".into()));
    let err = unseal(&ss, &keys(), RECOVERY).unwrap_err().to_string();
    assert!(
        err.contains("function \"env\" not defined") && err.ends_with("(t)"),
        "{err}"
    );
}

#[test]
fn verify_never_renders_templates() {
    let mut ss = vector("strict");
    // A template that would fail (or leak) for some plaintexts must not change the answer.
    ss.spec.template.data.insert(
        "t".into(),
        Some("{{ if eq .foo \"bar\" }}{{ fail }}{{ end }}".into()),
    );
    assert!(verify(&ss, &keys(), true));
    ss.metadata.name = "renamed".into();
    assert!(!verify(&ss, &keys(), true));
}

#[test]
fn wrong_key_fails_and_all_keys_are_tried() {
    let ss = vector("strict");
    let other = vec![PrivateKey::from_pem(OTHER_KEY).unwrap()];
    assert!(unseal(&ss, &other, RECOVERY).is_err());
    let both = vec![
        PrivateKey::from_pem(OTHER_KEY).unwrap(),
        PrivateKey::from_pem(KEY_PKCS8).unwrap(),
    ];
    assert!(unseal(&ss, &both, RECOVERY).is_ok());
}

fn input_secret(yaml: &str) -> Secret {
    let doc = goyaml::parse_documents(yaml.as_bytes()).unwrap().remove(0);
    serde_json::from_value(doc).unwrap()
}

#[test]
fn seal_then_unseal_round_trip_in_each_scope() {
    let cert = Certificate::from_pem(CERT).unwrap();
    let input = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: leak\nstringData:\n  password: s3cret\ndata:\n  password: aWdub3JlZA==\n  user: YWRtaW4=\n";
    for scope in [
        crate::scope::Scope::Strict,
        crate::scope::Scope::NamespaceWide,
        crate::scope::Scope::ClusterWide,
    ] {
        let opts = SealOptions {
            scope,
            namespace: "ctxns".into(),
            ..Default::default()
        };
        let ss = seal_secret(input_secret(input), &cert.public_key, &opts).unwrap();
        assert_eq!(
            ss.metadata.namespace,
            if scope == crate::scope::Scope::ClusterWide {
                ""
            } else {
                "ctxns"
            }
        );
        assert!(
            !ss.spec
                .template
                .metadata
                .annotations
                .contains_key("kubectl.kubernetes.io/last-applied-configuration")
        );
        assert!(
            ss.spec.encrypted_data["password"].starts_with("Ag"),
            "u16 prefix 0x0200 of a 4096-bit key"
        );
        let mut ss = ss;
        if scope == crate::scope::Scope::ClusterWide {
            ss.metadata.namespace = "anywhere".into();
        }
        let secret = unseal(&ss, &keys(), RECOVERY).unwrap();
        assert_eq!(data_of(&secret)["password"], b"s3cret", "stringData wins");
        assert_eq!(data_of(&secret)["user"], b"admin");
    }
}

#[test]
fn seal_errors_use_upstream_text() {
    let cert = Certificate::from_pem(CERT).unwrap();
    let opts = SealOptions {
        namespace: "flagns".into(),
        namespace_explicit: true,
        ..Default::default()
    };
    let err = |yaml: &str, opts: &SealOptions| {
        seal_secret(input_secret(yaml), &cert.public_key, opts)
            .unwrap_err()
            .to_string()
    };
    assert!(
        err("metadata:\n  name: a\n", &opts).starts_with("secret.data is empty in input Secret")
    );
    assert_eq!(
        err("metadata:\n  namespace: x\ndata:\n  k: dg==\n", &opts),
        "missing metadata.name in input Secret"
    );
    assert_eq!(
        err(
            "metadata:\n  name: a\n  namespace: other\ndata:\n  k: dg==\n",
            &opts
        ),
        "namespace mismatch: input secret is in namespace \"other\" but \"flagns\" was specified"
    );
    let expired = Certificate::from_pem(EXPIRED_CERT).unwrap();
    assert_eq!(
        expired
            .check_not_expired(SystemTime::now())
            .unwrap_err()
            .to_string(),
        "failed to encrypt using an expired certificate on January 1, 2021"
    );
    assert!(
        Certificate::from_pem(EC_CERT)
            .unwrap_err()
            .to_string()
            .starts_with("expected RSA public key but found ")
    );
    assert_eq!(
        Certificate::from_pem(b"nothing").unwrap_err().to_string(),
        "data does not contain any valid RSA or ECDSA certificates"
    );
    assert_eq!(
        PrivateKey::from_pem(EC_KEY).unwrap_err().to_string(),
        "private key is not an RSA key"
    );
}

#[test]
fn merge_into_adds_and_replaces() {
    let mut original = vector("strict");
    let mut update = vector("cluster-wide");
    update.spec.encrypted_data =
        BTreeMap::from([("foo".into(), "new".into()), ("added".into(), "x".into())]);
    update.spec.template.metadata.labels = BTreeMap::from([("l".into(), "v".into())]);
    merge_into(&mut original, update);
    assert_eq!(original.spec.encrypted_data["foo"], "new");
    assert_eq!(original.spec.encrypted_data["added"], "x");
    assert!(original.spec.encrypted_data.contains_key("binary"));
    assert_eq!(original.spec.template.metadata.labels["l"], "v");
    assert_eq!(original.spec.template.metadata.labels["app"], "web");
    assert_eq!(original.metadata.name, "mysecret");
}

#[test]
fn generated_key_has_upstream_shape_and_works() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let ttl = Duration::from_secs(87600 * 3600);
    let g = generate_key(2048, "", ttl, now).unwrap();
    assert!(
        g.private_key_pem
            .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
    );
    assert!(
        g.certificate_pem
            .starts_with("-----BEGIN CERTIFICATE-----\n")
            && g.certificate_pem.ends_with("-----END CERTIFICATE-----\n")
    );
    let cert = Certificate::from_pem(g.certificate_pem.as_bytes()).unwrap();
    assert_eq!(cert.not_before, now);
    assert_eq!(cert.not_after, now + ttl);
    let key = PrivateKey::from_pem(g.private_key_pem.as_bytes()).unwrap();
    assert_eq!(
        key.public_key().fingerprint(),
        cert.public_key.fingerprint()
    );
    let ct = cert.public_key.encrypt(b"hello", b"ns/name").unwrap();
    assert_eq!(&ct[..2], &[1, 0], "2048-bit key: 256-byte RSA part");
    assert_eq!(key.decrypt(&ct, b"ns/name").unwrap().as_bytes(), b"hello");
    assert!(key.decrypt(&ct, b"ns/other").is_err());
    assert!(generate_key(1000, "", ttl, now).is_err());
}

/// The epoch plus `ms` milliseconds.
fn at_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

/// A key pair of the fixtures ordered at [`at_ms`]`(ms)`.
fn pair_at(key: &[u8], cert: &[u8], ms: u64) -> SealingKeyPair {
    SealingKeyPair {
        private_key: PrivateKey::from_pem(key).unwrap(),
        certificate: Certificate::from_pem(cert).unwrap(),
        order_time: at_ms(ms),
    }
}

#[test]
fn key_ring_latest_is_newest_and_ties_keep_the_first() {
    let t = |s: u64| at_ms(s * 1000);
    let pair = |key: &[u8], cert: &[u8], s: u64| pair_at(key, cert, s * 1000);
    let mut ring = KeyRing::new();
    assert!(ring.add(pair(KEY_PKCS1, CERT, 100)));
    assert!(
        !ring.add(pair(KEY_PKCS8, CERT, 100)),
        "same public key counts once"
    );
    let other_cert = include_bytes!("../tests/fixtures/keys/other-cert.pem");
    assert!(ring.add(pair(OTHER_KEY, other_cert, 100)));
    assert_eq!(ring.latest().unwrap().order_time, t(100));
    assert_eq!(
        ring.latest().unwrap().certificate.public_key.bits(),
        4096,
        "tie keeps the earlier key"
    );
    assert_eq!(ring.len(), 2);
}

/// A key registered again with a later ordering time becomes the latest, as upstream's
/// `registerNewKey` (pkg/controller/keyregistry.go) does: the controller's key Secret watch may
/// register a renewed key first, by its certificate's NotBefore (whole seconds, so possibly before
/// the running key's in-memory time), and the renewal then registers it with the time it was made.
#[test]
fn key_ring_known_key_registered_later_becomes_the_latest() {
    let (t, pair) = (at_ms, pair_at);
    let other_cert = include_bytes!("../tests/fixtures/keys/other-cert.pem");
    let mut ring = KeyRing::new();
    assert!(ring.add(pair(KEY_PKCS1, CERT, 40_070)));
    // the watch: NotBefore 40.000 s, not after the running key
    assert!(ring.add(pair(OTHER_KEY, other_cert, 40_000)));
    assert_eq!(ring.latest().unwrap().order_time, t(40_070));
    // the renewal: 41.638 s
    assert!(!ring.add(pair(OTHER_KEY, other_cert, 41_638)), "known");
    assert_eq!(ring.len(), 2);
    // the renewed key (2048 bits) seals now, not the running one (4096)
    assert_eq!(ring.latest().unwrap().order_time, t(41_638));
    assert_eq!(ring.latest().unwrap().certificate.public_key.bits(), 2048);
    // an earlier time again changes nothing, nor does a tie
    assert!(!ring.add(pair(OTHER_KEY, other_cert, 1)));
    assert!(
        !ring.add(pair(KEY_PKCS1, CERT, 41_638)),
        "a tie keeps the latest"
    );
    assert_eq!(ring.latest().unwrap().order_time, t(41_638));
    assert_eq!(ring.latest().unwrap().certificate.public_key.bits(), 2048);
}

#[test]
fn secret_values_never_reach_debug_output() {
    let secret = unseal(&vector("strict"), &keys(), RECOVERY).unwrap();
    let dbg = format!("{secret:?} {:?}", keys());
    assert!(!dbg.contains("bar") && !dbg.contains("YmFy"), "{dbg}");
    assert!(!dbg.contains("PRIVATE"));
}

#[test]
fn yaml_output_starts_with_separator() {
    let out = OutputFormat::Yaml.render(&vector("strict")).unwrap();
    assert!(out.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"));
    assert!(!out.ends_with("---\n"));
    assert!(
        OutputFormat::parse("xml").unwrap_err().to_string() == "unsupported output format: xml"
    );
}

#[test]
fn recovery_key_errors_never_quote_the_file() {
    use crate::keys::parse_recovery_keys;
    let cert_as_key = parse_recovery_keys(CERT).unwrap_err().to_string();
    assert_eq!(
        cert_as_key,
        "data does not contain a valid RSA or ECDSA private key"
    );
    let bad = parse_recovery_keys(b"kind: Secret\ndata: not-a-map-SECRETVALUE\n")
        .unwrap_err()
        .to_string();
    assert!(!bad.contains("SECRETVALUE"), "{bad}");
    let missing = parse_recovery_keys(b"kind: Secret\ndata:\n  other: dg==\n")
        .unwrap_err()
        .to_string();
    assert_eq!(missing, "secret must contain a 'tls.data' key");
    assert_eq!(parse_recovery_keys(KEY_PKCS8).unwrap().len(), 1);
}

/// The typed errors print exactly the texts users saw when they were strings.
#[test]
fn error_texts_are_unchanged() {
    use crate::Error;
    let cases = [
        (Error::EmptyData, "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used".to_string()),
        (Error::MissingName, "missing metadata.name in input Secret".into()),
        (
            Error::NamespaceMismatch { input: "a".into(), specified: "b\"c".into() },
            r#"namespace mismatch: input secret is in namespace "a" but "b\"c" was specified"#.into(),
        ),
        (Error::MissingNamespace, "secret must declare a namespace".into()),
        (Error::DeprecatedDataRefused, "using deprecated 'data' field, use 'encryptedData' or flip the feature flag".into()),
        (Error::DataAndEncryptedData, "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time".into()),
        (Error::InvalidV1Secret("expected value at line 1 column 1".into()), "invalid secret in deprecated data field: expected value at line 1 column 1".into()),
        (Error::UnsupportedOutputFormat("xml".into()), "unsupported output format: xml".into()),
        (Error::Base64(go_semantics::base64::CorruptInputError(3)), "illegal base64 data at input byte 3".into()),
        (Error::Key(crate::keys::KeyError::NotASecretDocument), "private key file holds a document that is not a valid Secret".into()),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
    assert_eq!(
        OutputFormat::parse("XmL").unwrap_err(),
        Error::UnsupportedOutputFormat("XmL".into())
    );
}

//! `kubeseal --raw`: one value sealed on its own, printed as the base64 of its ciphertext (upstream
//! `pkg/kubeseal/kubeseal.go`, `EncryptSecretItem`, and the checks `runCLI` makes before it).
//! The shell reads the value; the rules about what a raw seal needs live here.

use crate::crypto::CryptoError;
use crate::keys::PublicKey;
use crate::scope::Scope;
use go_semantics::base64::encode as base64_encode;

/// A raw seal that cannot be made, with upstream's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawError {
    #[error("--from-file requires --raw")]
    FromFileWithoutRaw,
    #[error("must provide the --namespace flag with --raw and --scope {}", .0.as_str())]
    NoNamespace(Scope),
    #[error("must provide the --name flag with --raw and --scope {}", .0.as_str())]
    NoName(Scope),
    #[error("must provide only one --from-file when encrypting a single item with --raw")]
    SeveralFiles,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Where the value to seal comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawValue<'a> {
    Stdin,
    /// The path of the single `--from-file [key=]path` (the key means nothing for one value).
    File(&'a str),
}

/// `--from-file` is a raw-mode flag.
pub fn check_from_files(raw: bool, from_files: &[String]) -> Result<(), RawError> {
    if !from_files.is_empty() && !raw {
        return Err(RawError::FromFileWithoutRaw);
    }
    Ok(())
}

/// Whether a raw seal in `scope` needs a namespace (everything but cluster-wide).
pub fn needs_namespace(scope: Scope) -> bool {
    scope != Scope::ClusterWide
}

/// What a raw seal in `scope` must be told: a namespace unless cluster-wide, and also a name when
/// strict. `namespace` is the `-n` / kubeconfig namespace, `name` the `--name` flag.
pub fn check_target(scope: Scope, namespace: &str, name: &str) -> Result<(), RawError> {
    if !needs_namespace(scope) {
        return Ok(());
    }
    if namespace.is_empty() {
        return Err(RawError::NoNamespace(scope));
    }
    if name.is_empty() && scope == Scope::Strict {
        return Err(RawError::NoName(scope));
    }
    Ok(())
}

/// The value's source: stdin without `--from-file`, the one file's path with it.
pub fn value_source(from_files: &[String]) -> Result<RawValue<'_>, RawError> {
    match from_files {
        [] => Ok(RawValue::Stdin),
        [one] => Ok(RawValue::File(
            one.split_once('=').map(|(_, p)| p).unwrap_or(one),
        )),
        _ => Err(RawError::SeveralFiles),
    }
}

/// The base64 of `value` sealed for `scope`, `namespace` and `name` (only the parts the scope's
/// OAEP label uses count).
pub fn seal_raw(
    key: &PublicKey,
    value: &[u8],
    scope: Scope,
    namespace: &str,
    name: &str,
) -> Result<String, RawError> {
    let sealed = key.encrypt(value, &scope.label(namespace, name))?;
    Ok(base64_encode(&sealed))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn from_file_needs_raw() {
        let files = ["a".to_string()];
        assert_eq!(
            check_from_files(false, &files),
            Err(RawError::FromFileWithoutRaw)
        );
        assert_eq!(check_from_files(true, &files), Ok(()));
        assert_eq!(check_from_files(false, &[]), Ok(()));
    }

    #[test]
    fn what_each_scope_needs() {
        assert_eq!(
            check_target(Scope::Strict, "", "n")
                .unwrap_err()
                .to_string(),
            "must provide the --namespace flag with --raw and --scope strict"
        );
        assert_eq!(
            check_target(Scope::Strict, "ns", "")
                .unwrap_err()
                .to_string(),
            "must provide the --name flag with --raw and --scope strict"
        );
        assert_eq!(
            check_target(Scope::NamespaceWide, "", "")
                .unwrap_err()
                .to_string(),
            "must provide the --namespace flag with --raw and --scope namespace-wide"
        );
        assert_eq!(check_target(Scope::NamespaceWide, "ns", ""), Ok(()));
        assert_eq!(check_target(Scope::ClusterWide, "", ""), Ok(()));
        assert_eq!(check_target(Scope::Strict, "ns", "n"), Ok(()));
    }

    #[test]
    fn sealed_for_the_scope_label() {
        let cert =
            crate::keys::Certificate::from_pem(include_bytes!("../tests/fixtures/keys/cert.pem"))
                .unwrap();
        let key = crate::keys::PrivateKey::from_pem(include_bytes!(
            "../tests/fixtures/keys/key-pkcs1.pem"
        ))
        .unwrap();
        for (scope, label) in [
            (Scope::Strict, &b"ns/n"[..]),
            (Scope::NamespaceWide, b"ns"),
            (Scope::ClusterWide, b""),
        ] {
            let sealed = seal_raw(&cert.public_key, b"v\n", scope, "ns", "n").unwrap();
            let ciphertext = go_semantics::base64::decode(sealed.as_bytes()).unwrap();
            assert_eq!(key.decrypt(&ciphertext, label).unwrap().as_bytes(), b"v\n");
            assert!(key.decrypt(&ciphertext, b"other").is_err());
        }
    }

    #[test]
    fn one_value_source() {
        assert_eq!(value_source(&[]), Ok(RawValue::Stdin));
        assert_eq!(
            value_source(&["key=dir/v.txt".to_string()]),
            Ok(RawValue::File("dir/v.txt"))
        );
        assert_eq!(
            value_source(&["v.txt".to_string()]),
            Ok(RawValue::File("v.txt"))
        );
        assert_eq!(
            value_source(&["a".to_string(), "b".to_string()])
                .unwrap_err()
                .to_string(),
            "must provide only one --from-file when encrypting a single item with --raw"
        );
    }
}

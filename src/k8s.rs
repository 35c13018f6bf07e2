//! The core's Secret as the k8s-openapi `Secret` the Kubernetes client reads and writes, and back
//! (feature `k8s-openapi`). Pure type conversion, no client: the values go through a JSON buffer
//! that is zeroized, and the k8s-openapi copies can be scrubbed ([`Scrubbed`], [`zeroize_secret_data`]).

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::{Zeroize as _, Zeroizing};

use crate::secret::SecretBytes;
use crate::types::Secret;

/// A Secret that does not convert (serde's message: it names positions and types; the caller
/// decides whether to show it).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ConvertError(#[from] serde_json::Error);

impl ConvertError {
    /// serde's message with no quoted string in it (no value or key of the Secret): what kubeseal
    /// prints.
    pub fn without_values(&self) -> String {
        crate::secret::redact_serde_values(&self.0.to_string())
    }
}

/// Converts between serde types through a JSON buffer that is zeroized.
fn convert<T: Serialize + ?Sized, U: DeserializeOwned>(value: &T) -> Result<U, ConvertError> {
    let buf = Zeroizing::new(serde_json::to_vec(value)?);
    Ok(serde_json::from_slice(&buf)?)
}

/// The core Secret as the client sends it, scrubbed on drop. Go marshals a nil `[]byte` (an empty
/// decrypted value) as `null`, which the API server stores as empty: it is sent as `""` (k8s-openapi
/// reads a `null` value as empty too, so the result is the same for nil and empty values).
pub fn to_k8s(secret: &Secret) -> Result<Scrubbed, ConvertError> {
    let mut secret = secret.clone();
    for v in secret.data.values_mut() {
        if v.is_empty() {
            *v = SecretBytes::from(Vec::new());
        }
    }
    convert(&secret).map(Scrubbed)
}

/// The client's Secret in the core's tolerant, zeroizing types.
pub fn from_k8s(secret: &K8sSecret) -> Result<Secret, ConvertError> {
    convert(secret)
}

/// Overwrites the values of a k8s-openapi Secret in place.
pub fn zeroize_secret_data(secret: &mut K8sSecret) {
    if let Some(data) = secret.data.as_mut() {
        for v in data.values_mut() {
            v.0.zeroize();
        }
    }
    if let Some(data) = secret.string_data.as_mut() {
        for v in data.values_mut() {
            v.zeroize();
        }
    }
}

/// A k8s-openapi Secret whose values are zeroized on drop.
pub struct Scrubbed(pub K8sSecret);

impl Drop for Scrubbed {
    fn drop(&mut self) {
        zeroize_secret_data(&mut self.0);
    }
}

impl std::ops::Deref for Scrubbed {
    type Target = K8sSecret;
    fn deref(&self) -> &K8sSecret {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_scrubs() {
        let core: Secret = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s"}, "data": {"a": "YmFy"}, "stringData": {"b": "x"}
        }))
        .unwrap();
        let k = to_k8s(&core).unwrap();
        assert_eq!(k.data.as_ref().unwrap()["a"].0, b"bar");
        let back = from_k8s(&k).unwrap();
        assert_eq!(back, core);
        let mut k = k.0.clone();
        zeroize_secret_data(&mut k);
        // Zeroized, then cleared.
        assert!(k.data.unwrap()["a"].0.is_empty());
        assert!(k.string_data.unwrap()["b"].is_empty());
    }

    #[test]
    fn empty_values_are_sent_as_empty_strings() {
        let core: Secret = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "ns", "resourceVersion": "5",
                         "managedFields": [{"manager": "sealed-secrets-controller", "operation": "Update"}]},
            "data": {"a": "YmFy", "empty": null},
            "type": "Opaque"
        }))
        .unwrap();
        let k = to_k8s(&core).unwrap();
        let data = k.data.clone().unwrap();
        assert_eq!(data["a"].0, b"bar");
        assert!(data["empty"].0.is_empty());
        assert_eq!(k.metadata.resource_version.as_deref(), Some("5"));
        let back = from_k8s(&k).unwrap();
        assert_eq!(back.data["a"].as_bytes(), b"bar");
        assert!(crate::ownership::written_by_controller(&back));
    }

    #[test]
    fn nil_and_empty_values_are_the_same_on_the_wire() {
        let core: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "s"}, "data": {"nil": null, "empty": ""}
        }))
        .unwrap();
        // Without the normalisation of `to_k8s`: k8s-openapi reads `null` as an empty value.
        let plain: K8sSecret = convert(&core).unwrap();
        let normalised = to_k8s(&core).unwrap();
        assert_eq!(plain, normalised.0);
        let wire = serde_json::to_value(&*normalised).unwrap();
        assert_eq!(wire["data"], serde_json::json!({"empty": "", "nil": ""}));
    }

    #[test]
    fn conversion_errors_can_be_shown_without_values() {
        let e = convert::<_, Secret>(&serde_json::json!({"data": "c2VjcmV0"})).unwrap_err();
        assert!(e.to_string().contains("c2VjcmV0"), "{e}");
        assert!(
            e.without_values()
                .starts_with("invalid type: string, expected"),
            "{}",
            e.without_values()
        );
        assert!(!e.without_values().contains("c2VjcmV0"));
    }
}

//! Secret values outside the core's zeroizing types: k8s-openapi `Secret`s (what the client reads
//! and writes) are scrubbed when dropped, and conversions to and from the core's types go through a
//! zeroized buffer (serde, never by hand).

use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::{Zeroize as _, Zeroizing};

/// Converts between serde types (k8s-openapi ↔ core) through a JSON buffer that is zeroized.
pub fn convert<T: Serialize + ?Sized, U: DeserializeOwned>(
    value: &T,
) -> Result<U, serde_json::Error> {
    let buf = Zeroizing::new(serde_json::to_vec(value)?);
    serde_json::from_slice(&buf)
}

/// Overwrites the values of a Secret in place.
pub fn zeroize_secret_data(secret: &mut Secret) {
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
pub struct Scrubbed(pub Secret);

impl Drop for Scrubbed {
    fn drop(&mut self) {
        zeroize_secret_data(&mut self.0);
    }
}

impl std::ops::Deref for Scrubbed {
    type Target = Secret;
    fn deref(&self) -> &Secret {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_scrubs() {
        let core: sealed_secrets::types::Secret = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s"}, "data": {"a": "YmFy"}, "stringData": {"b": "x"}
        }))
        .unwrap();
        let mut k: Secret = convert(&core).unwrap();
        assert_eq!(k.data.as_ref().unwrap()["a"].0, b"bar");
        let back: sealed_secrets::types::Secret = convert(&k).unwrap();
        assert_eq!(back, core);
        zeroize_secret_data(&mut k);
        // Zeroized, then cleared.
        assert!(k.data.unwrap()["a"].0.is_empty());
        assert!(k.string_data.unwrap()["b"].is_empty());
    }
}

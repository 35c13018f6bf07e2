//! Values that must never be printed: plaintext secret bytes. `Debug` shows only the length, there is
//! no `Display`, and the bytes are zeroized on drop.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// Secret bytes, plus Go's nil-versus-empty distinction: a decrypted empty value is a nil `[]byte` in
/// Go and prints as JSON `null`, while an empty input value prints as `""`.
#[derive(Clone, Default)]
pub struct SecretBytes {
    bytes: Zeroizing<Vec<u8>>,
    nil: bool,
}

impl SecretBytes {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// The value as Go holds a freshly produced buffer: nil when empty.
    pub fn produced(bytes: Vec<u8>) -> Self {
        let nil = bytes.is_empty();
        SecretBytes {
            bytes: Zeroizing::new(bytes),
            nil,
        }
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for SecretBytes {}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        SecretBytes {
            bytes: Zeroizing::new(v),
            nil: false,
        }
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(v: &[u8]) -> Self {
        SecretBytes::from(v.to_vec())
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.bytes.len())
    }
}

/// JSON `[]byte`: standard base64 with padding, as Go encodes it; nil as `null`.
impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.nil && self.bytes.is_empty() {
            return s.serialize_none();
        }
        s.serialize_str(&go_semantics::base64::encode(&self.bytes))
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(s) = Option::<String>::deserialize(d)?.map(Zeroizing::new) else {
            return Ok(SecretBytes {
                bytes: Zeroizing::new(Vec::new()),
                nil: true,
            });
        };
        go_semantics::base64::decode(s.as_bytes())
            .map(SecretBytes::from)
            .map_err(serde::de::Error::custom)
    }
}

/// serde's message without the strings it quotes. serde quotes the offending string in type errors
/// (`invalid type: string "c2VjcmV0", expected a map`); in a Secret that string can be a secret value
/// or a key, so it is dropped.
pub fn redact_serde_values(message: &str) -> String {
    let mut out = message.to_string();
    for marker in ["invalid type: string \"", "invalid value: string \""] {
        while let Some(start) = out.find(marker) {
            let value_start = start + marker.len() - 1;
            let Some(len) = out
                .get(value_start..)
                .and_then(|rest| rest.find(", expected"))
            else {
                break;
            };
            out.replace_range(value_start - 1..value_start + len, "");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_values_are_redacted() {
        assert_eq!(
            redact_serde_values("invalid type: string \"c2VjcmV0\", expected a map at line 1"),
            "invalid type: string, expected a map at line 1"
        );
        assert_eq!(
            redact_serde_values("invalid type: map, expected a string"),
            "invalid type: map, expected a string"
        );
    }
}

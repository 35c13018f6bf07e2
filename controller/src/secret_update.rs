//! How the API server's answers to a Secret write are read (upstream `pkg/controller/controller.go`).
//! The ownership gate and the Secret merge are the core's ([`sealed_secrets::ownership`]).

/// The API server's error for changing an immutable Secret.
pub fn is_immutable_error(message: &str) -> bool {
    message.ends_with("field is immutable when `immutable` is set")
}

/// The event text for [`is_immutable_error`].
pub fn immutable_message(key: &str) -> String {
    format!(
        "Error updating {key}: the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret."
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn immutable_errors() {
        let api =
            "Secret \"s\" is invalid: data: Forbidden: field is immutable when `immutable` is set";
        assert!(is_immutable_error(api));
        assert!(!is_immutable_error(
            "Secret \"s\" is invalid: type: Invalid value: \"x\": field is immutable"
        ));
        assert!(immutable_message("ns/s").starts_with(
            "Error updating ns/s: the target Secret is immutable. Once a Secret is marked as immutable"
        ));
    }
}

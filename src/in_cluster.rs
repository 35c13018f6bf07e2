//! The namespace a process running in a Pod belongs to, as client-go's
//! `inClusterClientConfig.Namespace` (`tools/clientcmd/client_config.go`) and upstream's controller
//! `myNamespace` (`pkg/controller/main.go`) find it. The shells read the environment and the file;
//! the rule is here.

/// The service account directory Kubernetes mounts into a Pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The file in [`SERVICE_ACCOUNT_DIR`] that holds the Pod's namespace.
pub const SERVICE_ACCOUNT_NAMESPACE_FILE: &str =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
/// The namespace when neither source gives one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// `POD_NAMESPACE` when set and not empty, else the service account's namespace file (its content
/// trimmed) when it was read and is not blank, else `default`. `None` is an unset variable or an
/// unreadable file.
pub fn namespace(pod_namespace_env: Option<&str>, service_account_file: Option<&str>) -> String {
    if let Some(ns) = pod_namespace_env.filter(|ns| !ns.is_empty()) {
        return ns.to_string();
    }
    service_account_file
        .map(str::trim)
        .filter(|ns| !ns.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_namespace_then_file_then_default() {
        assert_eq!(namespace(Some("pod"), Some("file\n")), "pod");
        assert_eq!(namespace(Some(""), Some(" file\n")), "file");
        assert_eq!(namespace(None, Some("file")), "file");
        // The variable is not trimmed; the file is.
        assert_eq!(namespace(Some(" pod "), None), " pod ");
        assert_eq!(namespace(None, Some(" \n")), "default");
        assert_eq!(namespace(Some(""), None), "default");
        assert_eq!(namespace(None, None), "default");
    }

    #[test]
    fn the_file_is_in_the_service_account_directory() {
        assert_eq!(
            SERVICE_ACCOUNT_NAMESPACE_FILE,
            format!("{SERVICE_ACCOUNT_DIR}/namespace")
        );
    }
}

//! Error texts in the shape Go prints them, for messages users and scripts compare with upstream's.

/// Go's `%q` of a string (`strconv.Quote`).
pub fn quote(s: &str) -> String {
    go_semantics::strconv::quote(s.as_bytes())
}

/// The errno text Go prints: `no such file or directory`, `permission denied`, `is a directory`.
pub fn io_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Go's `*fs.PathError`: `open <path>: no such file or directory`.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {}", io_text(.source))]
pub struct PathError {
    pub op: &'static str,
    pub path: String,
    pub source: std::io::Error,
}

impl PathError {
    pub fn new(op: &'static str, path: impl Into<String>, source: std::io::Error) -> PathError {
        PathError {
            op,
            path: path.into(),
            source,
        }
    }

    /// `map_err` adapter: `.map_err(PathError::on("open", path))`.
    pub fn on(
        op: &'static str,
        path: impl Into<String>,
    ) -> impl FnOnce(std::io::Error) -> PathError {
        let path = path.into();
        move |source| PathError::new(op, path, source)
    }
}

/// serde quotes the offending string in type errors (`invalid type: string "c2VjcmV0", expected a
/// map`); in a Secret that string can be a secret value or a key, so it is dropped.
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
    fn go_path_errors() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(
            PathError::new("open", "/x", e).to_string(),
            "open /x: no such file or directory"
        );
        let e = std::io::Error::from_raw_os_error(21);
        assert_eq!(io_text(&e), "is a directory");
    }

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

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
}

//! Error texts in the shape Go prints them, for messages users and scripts compare with upstream's.

/// Go's `%q` of a string (close enough for paths, names and flag values: JSON string escaping).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
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
pub fn path_error(op: &str, path: &str, e: &std::io::Error) -> String {
    format!("{op} {path}: {}", io_text(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_errors() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(path_error("open", "/x", &e), "open /x: no such file or directory");
        let e = std::io::Error::from_raw_os_error(21);
        assert_eq!(io_text(&e), "is a directory");
    }
}

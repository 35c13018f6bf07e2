//! Helpers shared by the kubeseal CLI test binaries.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A file under `cli/tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `kubeseal` with a clean environment: no kubeconfig, no SEALED_SECRETS_* variables.
pub fn ks() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubeseal"));
    c.env_clear().env("HOME", "/nonexistent-home-for-tests");
    c
}

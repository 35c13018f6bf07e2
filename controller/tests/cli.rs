//! The controller binary's command line, without a cluster: version, flag and env errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn controller(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sealed-secrets-controller"));
    cmd.args(args)
        .env_clear()
        // No cluster: no in-cluster variables and a kubeconfig that does not exist.
        .env("HOME", "/nonexistent-home")
        .env("KUBECONFIG", "/nonexistent-home/kubeconfig");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn version() {
    let out = controller(&["--version"], &[]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout,
        format!("controller version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn invalid_key_prefix_from_env_is_a_clean_error() {
    let out = controller(&[], &[("SEALED_SECRETS_KEY_PREFIX", "Bad")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: name contains illegal character B"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn command_line_wins_over_env() {
    // The valid command-line prefix wins; startup then fails later, at the missing cluster.
    let out = controller(
        &["--key-prefix=good"],
        &[("SEALED_SECRETS_KEY_PREFIX", "Bad")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("illegal character"), "{stderr}");
    assert!(stderr.contains("error: "), "{stderr}");
}

#[test]
fn env_values_use_go_syntax() {
    let out = controller(
        &[],
        &[
            ("SEALED_SECRETS_KEY_CUTOFF_TIME", "yesterday"),
            ("SEALED_SECRETS_ALL_NAMESPACES", "F"),
            ("SEALED_SECRETS_KEY_RENEW_PERIOD", "1h30m"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: parsing time \"yesterday\" as \"Mon, 02 Jan 2006 15:04:05 -0700\""),
        "{stderr}"
    );
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let out = controller(&["--key-renew-period=30d"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown unit"));
    let out = controller(&[], &[("SEALED_SECRETS_UPDATE_STATUS", "yes")]);
    assert_eq!(out.status.code(), Some(2));
    let out = controller(&["--privatekey-labels=novalue"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("invalid item \"novalue\" in --privatekey-labels"));
}

#[test]
fn no_cluster_is_a_clean_error() {
    let out = controller(&[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: Kubernetes client configuration"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The startup line is on stdout (INFO), as upstream.
    assert!(text(&out.stdout).contains("msg=\"Starting sealed-secrets controller\""));
}

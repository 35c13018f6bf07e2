//! CLI tests of key backups that need no cluster: `--recovery-unseal` with plain and encrypted
//! backups, and the errors of `--backup-keys` / `--restore-keys` that come before any API call
//! (wrong passphrase or identity, damaged files, non-RSA keys, missing encryption). Backups with
//! a cluster are covered by the drill (tests/tests/e2e/drill.rs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{fixture, ks};
use std::path::Path;

use sealed_secrets::backup::{self, SecretString};
use sealed_secrets::types::Secret;

const PASSPHRASE: &str = "drill passphrase 42";

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.to_string_lossy().into_owned()
}

/// The plaintext of a backup of the fixture key (what `--backup-keys --backup-plaintext` writes).
fn plain_backup() -> String {
    let text = std::fs::read(fixture("key-secret.yaml")).unwrap();
    let secret: Secret =
        serde_json::from_value(goyaml::parse_documents(&text).unwrap().remove(0)).unwrap();
    let export = backup::export(vec![secret], "kube-system", std::time::SystemTime::now()).unwrap();
    export.plaintext.to_string()
}

fn sealed() -> Vec<u8> {
    let out = ks()
        .args(["--cert", &fixture("cert.pem").to_string_lossy(), "-n", "ns"])
        .write_stdin(std::fs::read(fixture("secret.yaml")).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn recovery(keyfile: &str, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = ks();
    c.args(["--recovery-unseal", "--recovery-private-key", keyfile])
        .args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    c.write_stdin(sealed()).output().unwrap()
}

fn assert_unsealed(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"foo\": \"YmFy\""), "{text}");
}

/// One `error: ...` line on stderr, exit 1, nothing on stdout, no secrets in the message.
fn one_line_error(out: &std::process::Output) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for secret in ["PRIVATE KEY", "AGE-SECRET-KEY", PASSPHRASE, "wrong one"] {
        assert!(!stderr.contains(secret), "{secret} leaked: {stderr}");
    }
    stderr.trim_start_matches("error: ").trim_end().to_string()
}

#[test]
fn recovery_unseal_with_plain_backup() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "backup.yaml", plain_backup().as_bytes());
    assert_unsealed(&recovery(&f, &[], &[]));
}

#[test]
fn recovery_unseal_with_identity_encrypted_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (identity, recipient) = backup::generate_identity();
    let (other_identity, _) = backup::generate_identity();
    let file = backup::encrypt_to_recipients(plain_backup().as_bytes(), &[recipient]).unwrap();
    let f = write(dir.path(), "backup.age", file.as_bytes());
    let id = write(dir.path(), "id.txt", identity.as_bytes());
    let other = write(dir.path(), "other.txt", other_identity.as_bytes());

    assert_unsealed(&recovery(&f, &["--backup-identity", &id], &[]));
    // The matching identity does not need to be the first one.
    assert_unsealed(&recovery(
        &f,
        &["--backup-identity", &format!("{other},{id}")],
        &[],
    ));

    let e = one_line_error(&recovery(&f, &["--backup-identity", &other], &[]));
    assert_eq!(
        e,
        format!(
            "{f}: cannot decrypt the backup: none of the given identities is a recipient of this file"
        )
    );
    let e = one_line_error(&recovery(&f, &[], &[]));
    assert_eq!(
        e,
        format!(
            "{f}: the backup is encrypted to age recipients: give the identity file with --backup-identity"
        )
    );
    let not_id = write(dir.path(), "not-id.txt", b"hello\n");
    let e = one_line_error(&recovery(&f, &["--backup-identity", &not_id], &[]));
    assert!(e.contains("invalid age identity file"), "{e}");
}

#[test]
fn recovery_unseal_with_passphrase_backup() {
    let dir = tempfile::tempdir().unwrap();
    let pass = SecretString::from(PASSPHRASE.to_string());
    let file = backup::encrypt_with_passphrase(plain_backup().as_bytes(), &pass, Some(10)).unwrap();
    let f = write(dir.path(), "backup.age", file.as_bytes());

    assert_unsealed(&recovery(
        &f,
        &[],
        &[("SEALED_SECRETS_BACKUP_PASSPHRASE", PASSPHRASE)],
    ));
    let e = one_line_error(&recovery(
        &f,
        &[],
        &[("SEALED_SECRETS_BACKUP_PASSPHRASE", "wrong one")],
    ));
    assert_eq!(
        e,
        format!("{f}: cannot decrypt the backup: wrong passphrase")
    );
    // No passphrase and no terminal (stdin is a pipe here).
    let e = one_line_error(&recovery(&f, &[], &[]));
    assert_eq!(
        e,
        "no passphrase: set SEALED_SECRETS_BACKUP_PASSPHRASE or run kubeseal on a terminal"
    );

    // Truncated: the first half of the file.
    let t = write(
        dir.path(),
        "truncated.age",
        &file.as_bytes()[..file.len() / 2],
    );
    let e = one_line_error(&recovery(
        &t,
        &[],
        &[("SEALED_SECRETS_BACKUP_PASSPHRASE", PASSPHRASE)],
    ));
    assert!(
        e.starts_with(&format!("{t}: the backup file is corrupted or truncated: ")),
        "{e}"
    );
    // Corrupted: one payload character changed.
    let mut bytes = file.clone().into_bytes();
    let pos = bytes.len() - 80;
    bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
    let c = write(dir.path(), "corrupted.age", &bytes);
    let e = one_line_error(&recovery(
        &c,
        &[],
        &[("SEALED_SECRETS_BACKUP_PASSPHRASE", PASSPHRASE)],
    ));
    assert!(
        e.starts_with(&format!("{c}: the backup file is corrupted or truncated: ")),
        "{e}"
    );
}

#[test]
fn restore_rejects_bad_files_before_contacting_the_cluster() {
    // The kubeconfig points at a closed port: every error below must come before any API call.
    let kubeconfig = fixture("kubeconfig.yaml").to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let restore = |file: &str, env: &[(&str, &str)]| {
        let mut c = ks();
        c.args(["--kubeconfig", &kubeconfig, "--restore-keys", file]);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let pass = SecretString::from(PASSPHRASE.to_string());
    let file = backup::encrypt_with_passphrase(plain_backup().as_bytes(), &pass, Some(10)).unwrap();
    let f = write(dir.path(), "backup.age", file.as_bytes());
    let e = one_line_error(&restore(
        &f,
        &[("SEALED_SECRETS_BACKUP_PASSPHRASE", "wrong one")],
    ));
    assert_eq!(
        e,
        format!("{f}: cannot decrypt the backup: wrong passphrase")
    );

    // A backup holding a non-RSA key.
    let ec_key = go_semantics::base64::encode(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys/ec-key.pem"),
        )
        .unwrap(),
    );
    let ec_cert = go_semantics::base64::encode(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys/ec-cert.pem"),
        )
        .unwrap(),
    );
    let ec = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: ec-key\n  type: kubernetes.io/tls\n  data:\n    tls.key: {ec_key}\n    tls.crt: {ec_cert}\n"
    );
    let f = write(dir.path(), "ec.yaml", ec.as_bytes());
    let e = one_line_error(&restore(&f, &[]));
    assert_eq!(
        e,
        format!("{f}: key Secret \"ec-key\": private key is not an RSA key")
    );

    // Not a backup at all.
    let f = write(
        dir.path(),
        "cm.yaml",
        b"kind: ConfigMap\nmetadata: {name: x}\n",
    );
    let e = one_line_error(&restore(&f, &[]));
    assert!(
        e.starts_with(&format!("{f}: not a backup of key Secrets")),
        "{e}"
    );

    // A valid file: now the cluster is contacted, and the error says so.
    let f = write(dir.path(), "ok.yaml", plain_backup().as_bytes());
    let e = one_line_error(&restore(&f, &[]));
    assert!(
        e.starts_with("cannot restore keys into namespace kube-system: "),
        "{e}"
    );
    assert!(e.ends_with("; nothing was written"), "{e}");
}

#[test]
fn backup_needs_encryption_or_an_explicit_plaintext_flag() {
    let kubeconfig = fixture("kubeconfig.yaml").to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.age");
    let out = ks()
        .args(["--kubeconfig", &kubeconfig, "--backup-keys", "-w"])
        .arg(&target)
        .output()
        .unwrap();
    let e = one_line_error(&out);
    assert_eq!(
        e,
        "no passphrase: set SEALED_SECRETS_BACKUP_PASSPHRASE or run kubeseal on a terminal; the backup is encrypted by default: give --backup-recipient age1..., or a passphrase, or --backup-plaintext"
    );
    let out = ks()
        .args([
            "--kubeconfig",
            &kubeconfig,
            "--backup-keys",
            "--backup-recipient",
            "age1notakey",
        ])
        .output()
        .unwrap();
    let e = one_line_error(&out);
    assert_eq!(
        e,
        "invalid age recipient \"age1notakey\": expected an X25519 public key (age1...)"
    );
    // With a passphrase, the cluster is reached (and here fails): no file is left behind.
    let out = ks()
        .args(["--kubeconfig", &kubeconfig, "--backup-keys", "-w"])
        .arg(&target)
        .env("SEALED_SECRETS_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    let e = one_line_error(&out);
    assert!(
        e.starts_with("cannot read the key Secrets in namespace kube-system: "),
        "{e}"
    );
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary file left"
    );
}

#[test]
fn help_lists_the_backup_flags() {
    let out = ks().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--backup-keys",
        "--backup-recipient strings",
        "--backup-plaintext",
        "--backup-identity strings",
        "--restore-keys string",
    ] {
        assert!(text.contains(flag), "{flag} missing from\n{text}");
    }
}

//! `--re-encrypt-path` offline (files and trees re-sealed in place with a minimal diff) and the
//! certificate expiry warning, on the built `kubeseal` binary. The controller path is covered by
//! the `reseal` e2e suite on a real control plane.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{fixture, ks};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use sealed_secrets::keys::{Certificate, Decrypter, PrivateKey};

/// Old key: cert.pem/key.pem; new key: cert2.pem/key2.pem.
fn seal(new: bool, label: &str, plain: &str) -> String {
    let cert = std::fs::read(fixture(if new { "cert2.pem" } else { "cert.pem" })).unwrap();
    let key = Certificate::from_pem(&cert).unwrap().public_key;
    go_semantics::base64::encode(&key.encrypt(plain.as_bytes(), label.as_bytes()).unwrap())
}

fn opens_with(new: bool, label: &str, value: &str) -> Option<Vec<u8>> {
    let pem = std::fs::read(fixture(if new { "key2.pem" } else { "key.pem" })).unwrap();
    let keys = vec![PrivateKey::from_pem(&pem).unwrap()];
    let ct = go_semantics::base64::decode(value.as_bytes()).unwrap();
    keys.decrypt(&ct, label.as_bytes())
        .ok()
        .map(|p| p.as_bytes().to_vec())
}

const SS: &str = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n";

/// A small repository: one file mixing old- and new-key items with comments, one already
/// current, one JSON, one file that is not YAML, one Secret-free manifest.
fn repo(dir: &Path) {
    let w = |rel: &str, text: String| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "apps/db.yaml",
        format!(
            "# db\n---\n{SS}metadata:\n  name: db\n  namespace: prod\nspec:\n  encryptedData:\n    password: {}  # old\n    user: \"{}\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n",
            seal(false, "prod/db", "hunter2"),
            seal(true, "prod/db", "admin")
        ),
    );
    w(
        "apps/current.yml",
        format!(
            "{SS}metadata: {{name: cur, namespace: prod}}\nspec:\n  encryptedData:\n    a: {}\n",
            seal(true, "prod/cur", "x")
        ),
    );
    w(
        "apps/api.json",
        format!(
            "{{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"bitnami.com/v1alpha1\",\n  \"metadata\": {{\"name\": \"api\", \"namespace\": \"prod\", \"annotations\": {{\"sealedsecrets.bitnami.com/cluster-wide\": \"true\"}}}},\n  \"spec\": {{\"encryptedData\": {{\"token\": \"{}\"}}}}\n}}\n",
            seal(false, "", "t0k3n")
        ),
    );
    w(
        "chart/templates/secret.yaml",
        "{{- if .Values.x }}\nkind: [\n{{- end }}\n".into(),
    );
    w(
        "apps/kustomization.yaml",
        "resources: [db.yaml, api.json]\n".into(),
    );
    w("README.md", format!("{SS}not scanned\n"));
}

fn temp_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    repo(tmp.path());
    tmp
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn offline(dir: &Path) -> Command {
    let mut c = ks();
    c.current_dir(dir).args([
        "--re-encrypt-path",
        ".",
        "--cert",
        fixture("cert2.pem").to_str().unwrap(),
        "--recovery-private-key",
        &format!(
            "{},{}",
            fixture("key.pem").display(),
            fixture("key2.pem").display()
        ),
    ]);
    c
}

#[test]
fn offline_tree_reseal_changes_only_old_key_items() {
    let tmp = temp_repo();
    let dir = tmp.path();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            dir.join("apps/db.yaml"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
    }
    let before = snapshot(dir);

    // Dry run: the list on stdout, nothing written.
    let out = offline(dir).arg("--re-encrypt-dry-run").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "./apps/api.json: prod/api (token)\n./apps/db.yaml: prod/db (password)\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("warning: skipping ./chart/templates/secret.yaml: "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("would re-encrypt 2 items in 2 files (2 items already current)\n"),
        "{stderr}"
    );
    assert_eq!(snapshot(dir), before);

    let out = offline(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("re-encrypted ./apps/db.yaml: prod/db (password)\n"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("re-encrypted 2 items in 2 files (2 items already current)\n"),
        "{stderr}"
    );
    let after = snapshot(dir);
    for ((path, old), (_, new)) in before.iter().zip(&after) {
        let name = path.strip_prefix(dir).unwrap().display().to_string();
        let changed = name == "apps/db.yaml" || name == "apps/api.json";
        assert_eq!(old != new, changed, "{name}");
        if !changed {
            continue;
        }
        // One line differs: the old-key item's.
        let (old, new) = (
            String::from_utf8(old.clone()).unwrap(),
            String::from_utf8(new.clone()).unwrap(),
        );
        let diff: Vec<(&str, &str)> = old
            .lines()
            .zip(new.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(old.lines().count(), new.lines().count(), "{name}");
        assert_eq!(diff.len(), 1, "{name}: {diff:?}");
        let (was, now) = diff[0];
        let value = |line: &str| {
            line.split([' ', '"'])
                .find(|w| w.len() > 100)
                .unwrap()
                .to_string()
        };
        let label = if name.ends_with(".json") {
            ""
        } else {
            "prod/db"
        };
        let plain = opens_with(false, label, &value(was)).unwrap();
        assert_eq!(opens_with(true, label, &value(now)), Some(plain), "{name}");
        assert_eq!(opens_with(false, label, &value(now)), None);
        // Everything around the value stayed: quoting, the trailing comment.
        assert_eq!(was.replace(&value(was), "V"), now.replace(&value(now), "V"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("apps/db.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640, "the file mode is kept");
    }
    // No temporary file left behind; a second run has nothing to do.
    assert_eq!(snapshot(dir).len(), before.len());
    let out = offline(dir).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        last_line(&out.stderr),
        "re-encrypted 0 items in 0 files (4 items already current)"
    );
    assert_eq!(snapshot(dir), after);
}

#[test]
fn a_failed_run_writes_nothing() {
    let tmp = temp_repo();
    let dir = tmp.path();
    // Sealed for another name: no key opens it.
    std::fs::write(
        dir.join("apps/zz-broken.yaml"),
        format!(
            "{SS}metadata: {{name: moved, namespace: prod}}\nspec:\n  encryptedData:\n    k: {}\n",
            seal(false, "prod/elsewhere", "x")
        ),
    )
    .unwrap();
    let before = snapshot(dir);
    let out = offline(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out.stderr),
        r#"error: ./apps/zz-broken.yaml: SealedSecret "moved": item "k": no key could decrypt secret"#
    );
    assert_eq!(snapshot(dir), before);

    // A named file that does not parse is an error, not a warning.
    let out = ks()
        .current_dir(dir)
        .args(["--re-encrypt-path", "chart/templates/secret.yaml", "--cert"])
        .arg(fixture("cert2.pem"))
        .arg("--recovery-private-key")
        .arg(fixture("key.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: chart/templates/secret.yaml: "),
        "{stderr}"
    );

    // Offline needs the certificate to seal for.
    let out = ks()
        .current_dir(dir)
        .args(["--re-encrypt-path", ".", "--recovery-private-key"])
        .arg(fixture("key.pem"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: --re-encrypt-path with --recovery-private-key needs --cert, the certificate to seal for\n"
    );
    assert_eq!(snapshot(dir), before);
}

/// The path list also comes from SEALED_SECRETS_RE_ENCRYPT_PATH, and a named file is re-sealed
/// whatever its extension.
#[test]
fn paths_from_the_environment() {
    let tmp = temp_repo();
    let dir = tmp.path();
    std::fs::rename(dir.join("apps/db.yaml"), dir.join("db.txt")).unwrap();
    let out = ks()
        .current_dir(dir)
        .env("SEALED_SECRETS_RE_ENCRYPT_PATH", "db.txt")
        .env("SEALED_SECRETS_CERT", fixture("cert2.pem"))
        .args(["--re-encrypt-dry-run", "--recovery-private-key"])
        .arg(fixture("key.pem"))
        .output()
        .unwrap();
    // key2 is not given: the item sealed for it cannot be opened, so the run fails.
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .ends_with("item \"user\": no key could decrypt secret\n")
    );
    let out = ks()
        .current_dir(dir)
        .env("SEALED_SECRETS_RE_ENCRYPT_PATH", "db.txt")
        .env("SEALED_SECRETS_CERT", fixture("cert2.pem"))
        .env(
            "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
            format!(
                "{},{}",
                fixture("key.pem").display(),
                fixture("key2.pem").display()
            ),
        )
        .arg("--re-encrypt-dry-run")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "db.txt: prod/db (password)\n"
    );
}

fn expiring_cert(dir: &Path, days: u64) -> PathBuf {
    let now = SystemTime::now();
    let generated = sealed_secrets::keys::generate_key(
        2048,
        "",
        Duration::from_secs(days * 86_400 + 3_600),
        now,
    )
    .unwrap();
    let path = dir.join(format!("cert-{days}.pem"));
    std::fs::write(&path, generated.certificate_pem).unwrap();
    path
}

/// A namespace for the Secret fixture (there is no kubeconfig).
fn ksn() -> Command {
    let mut c = ks();
    c.args(["-n", "default"]);
    c
}

#[test]
fn warns_when_the_certificate_expires_soon_and_still_seals() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = std::fs::read(fixture("secret.yaml")).unwrap();
    let soon = expiring_cert(tmp.path(), 12);
    let out = ksn()
        .arg("--cert")
        .arg(&soon)
        .write_stdin(secret.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("\"kind\": \"SealedSecret\"")
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("warning: the certificate expires in 12 days ("),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);

    // Configurable: a shorter window, or 0, is silent; so is a certificate far from expiry.
    for args in [
        ["--cert-expiry-warning", "240h"],
        ["--cert-expiry-warning", "0"],
    ] {
        let out = ksn()
            .arg("--cert")
            .arg(&soon)
            .args(args)
            .write_stdin(secret.clone())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = ksn()
        .arg("--cert")
        .arg(&soon)
        .env("SEALED_SECRETS_CERT_EXPIRY_WARNING", "2400h")
        .args(["--raw", "--scope", "cluster-wide", "--from-file"])
        .arg(fixture("secret.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("warning: the certificate expires in 12 days")
    );
    let out = ksn()
        .arg("--cert")
        .arg(fixture("cert.pem"))
        .write_stdin(secret.clone())
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty());

    let out = ksn()
        .args(["--cert-expiry-warning", "soon"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains(
            r#"invalid argument "soon" for "--cert-expiry-warning" flag: time: invalid duration "soon""#
        ),
        "{all}"
    );
    // An expired one is refused as before.
    let out = ksn()
        .arg("--cert")
        .arg(fixture("cert-expired.pem"))
        .write_stdin(secret)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

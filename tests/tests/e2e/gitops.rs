//! The GitOps flow of examples/gitops on a real control plane with our controller (installed from
//! deploy/): `kubectl apply -k` of an overlay, as Argo CD or Flux would apply it, gives the app's
//! Secret with the sealed values and a Deployment that references it; a later "commit" (the
//! secret re-sealed with a new value, the image tag bumped) rolls through.
//!
//! The checked-in SealedSecrets are sealed for the test key tests/fixtures/keys (cert.pem): the
//! case restores that key as upstream documents a restore (the key Secret applied, the controller
//! restarted), so the controller can open them.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::Test;
use crate::case::Case;
use crate::helm::{fetch_cert, kustomize};
use e2e::{Cluster, b64encode, fixture, ours, stderr, wait_for, workspace_root};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        ignored: without_the_component_the_secret_reference_is_not_renamed;
        cluster: overlays_apply_and_a_resealed_secret_rolls_through;
    ]
    .to_vec()
}

/// The values sealed in examples/gitops/apps/overlays/<env>/sealedsecret.yaml.
fn sealed_values(env: &str) -> [(&'static str, String); 2] {
    [
        (
            "database-url",
            format!("postgres://web@db.{env}.svc:5432/web"),
        ),
        ("api-token", format!("{env}-example-token-1")),
    ]
}

fn pairs<'a>(values: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    values.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The test key as the key Secret of a backup (`kubectl get secret -l
/// sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`), restored the way upstream documents.
fn restore_test_key(c: &Cluster) {
    let read = |name: &str| std::fs::read(fixture(&format!("keys/{name}"))).unwrap();
    let key = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": "sealed-secrets-key-gitops-example",
            "namespace": c.controller_namespace,
            "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"},
        },
        "data": {
            "tls.crt": b64encode(&read("cert.pem")),
            "tls.key": b64encode(&read("key-pkcs1.pem")),
        },
    });
    c.kubectl_ok(&["apply", "-f", "-"], key.to_string().as_bytes());
    c.script(&["restart-controller"]);
}

fn apply_overlay(c: &Cluster, dir: &Path) {
    c.kubectl_ok(&["apply", "-k", dir.to_str().unwrap()], b"");
}

/// The Deployment `<env>-web` asks for the Secret `<env>-web-secrets` (both references) and runs
/// `image`.
fn assert_deployment(c: &Cluster, env: &str, image: &str) {
    let d = c
        .get_json("deployment", env, &format!("{env}-web"))
        .unwrap_or_else(|| panic!("Deployment {env}/{env}-web"));
    let ctr = &d["spec"]["template"]["spec"]["containers"][0];
    let secret = format!("{env}-web-secrets");
    assert_eq!(ctr["envFrom"][0]["secretRef"]["name"], secret.as_str());
    assert_eq!(
        ctr["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        secret.as_str()
    );
    assert_eq!(ctr["image"], image);
}

/// A copy of examples/gitops in `dir`, as a later commit of the repository.
fn checkout(dir: &Path) -> PathBuf {
    let src = workspace_root().join("examples/gitops");
    let out = std::process::Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    dir.join("gitops")
}

fn overlays_apply_and_a_resealed_secret_rolls_through(c: &Cluster) {
    let mut case = Case::new(c, "gitops");
    for env in ["prod", "dev"] {
        for (_, v) in sealed_values(env) {
            case.remember(&v);
        }
    }
    case.remember("prod-example-token-2");
    restore_test_key(c);
    let examples = workspace_root().join("examples/gitops/apps/overlays");
    for env in ["prod", "dev"] {
        // The README's "by hand" steps: the namespace first (the overlays carry none), then -k.
        let out = c.kubectl(&["create", "namespace", env], b"");
        assert!(
            out.status.success() || stderr(&out).contains("AlreadyExists"),
            "{}",
            stderr(&out)
        );
        apply_overlay(c, &examples.join(env));
        let secret = case.wait_secret(
            env,
            &format!("{env}-web-secrets"),
            &pairs(&sealed_values(env)),
        );
        assert_eq!(
            secret["metadata"]["ownerReferences"][0]["name"],
            format!("{env}-web-secrets")
        );
        let tag = if env == "prod" { "1.4.2" } else { "1.5.0-rc.1" };
        assert_deployment(c, env, &format!("registry.example.com/team/web:{tag}"));
    }

    // The next commit: prod's api-token re-sealed (kubeseal --merge-into, with the certificate the
    // controller serves) and the image tag bumped, as a CI job would.
    let work = tempfile::tempdir().unwrap();
    let repo = checkout(work.path());
    let prod = repo.join("apps/overlays/prod");
    let sealed = prod.join("sealedsecret.yaml");
    let cert = work.path().join("cert.pem");
    std::fs::write(&cert, fetch_cert(c)).unwrap();
    let update = c.kubectl_ok(
        &[
            "create",
            "secret",
            "generic",
            "web-secrets",
            "-n",
            "prod",
            "--from-literal=api-token=prod-example-token-2",
            "--dry-run=client",
            "-o",
            "json",
        ],
        b"",
    );
    let out = c.run(
        &ours(),
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--scope",
            "namespace-wide",
            "--merge-into",
            sealed.to_str().unwrap(),
        ],
        update.as_bytes(),
        &[],
    );
    assert!(out.status.success(), "--merge-into: {}", stderr(&out));
    let kustomization = prod.join("kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization).unwrap();
    assert!(text.contains("newTag: 1.4.2"), "{text}");
    std::fs::write(
        &kustomization,
        text.replace("newTag: 1.4.2", "newTag: 1.4.3"),
    )
    .unwrap();

    apply_overlay(c, &prod);
    let second = [
        ("database-url", "postgres://web@db.prod.svc:5432/web"),
        ("api-token", "prod-example-token-2"),
    ];
    case.wait_secret("prod", "prod-web-secrets", &second);
    assert_deployment(c, "prod", "registry.example.com/team/web:1.4.3");
    let ss = wait_for(30, "the SealedSecret Synced for its generation", || {
        c.get_json("sealedsecret", "prod", "prod-web-secrets")
            .filter(|ss| {
                ss["status"]["observedGeneration"] == ss["metadata"]["generation"]
                    && ss["status"]["conditions"][0]["status"] == "True"
            })
    });
    assert_eq!(ss["status"]["conditions"][0]["type"], "Synced");
    // dev is untouched by prod's commit.
    case.wait_secret("dev", "dev-web-secrets", &pairs(&sealed_values("dev")));
    case.finish();
}

/// Why the overlays include components/sealed-secrets: without its nameReference, kustomize
/// renames the SealedSecret (`prod-web-secrets`) but leaves the Deployment asking for `web-secrets`.
fn without_the_component_the_secret_reference_is_not_renamed() {
    let work = tempfile::tempdir().unwrap();
    let repo = checkout(work.path());
    let kustomization = repo.join("apps/overlays/prod/kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization).unwrap();
    let without = text.replace("components:\n  - ../../../components/sealed-secrets\n", "");
    assert_ne!(without, text, "the overlay lists the component");
    std::fs::write(&kustomization, without).unwrap();
    let docs = kustomize(kustomization.parent().unwrap());
    let kinds = |kind: &str| -> Vec<&serde_json::Value> {
        docs.iter().filter(|d| d["kind"] == kind).collect()
    };
    let ss = kinds("SealedSecret");
    assert_eq!(ss.len(), 1);
    assert_eq!(ss[0]["metadata"]["name"], "prod-web-secrets");
    let d = kinds("Deployment");
    assert_eq!(d.len(), 1);
    let ctr = &d[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(ctr["envFrom"][0]["secretRef"]["name"], "web-secrets");
}

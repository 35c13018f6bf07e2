//! The failure the GitOps articles' own layout walks into (docs/operations.md "Diagnosis of a
//! renamed SealedSecret"), on a real control plane with our controller: a strict SealedSecret
//! sealed as `db-creds`, in a base that an overlay includes with `namePrefix: prod-`, applied with
//! `kubectl apply -k` (kubectl's built-in kustomize).
//!
//! - The controller refuses it as upstream does (no Secret under either name, every retry
//!   spent) and its condition and Event say what it was sealed for, what it is called now and
//!   the two ways out, after upstream's own message.
//! - `kubeseal --validate` of the rendered overlay gives the same hint (through `/v1/verify`,
//!   whose wire format stays upstream's); `kubeseal --lint` finds it offline.
//! - Following the hint (re-seal with `--scope namespace-wide`) makes the same layout unseal.
//! - A renamed SealedSecret whose items were not sealed for its template either gets upstream's
//!   message alone: the diagnosis claims only what a label that decrypts shows.
//!
//! Suite `diagnosis` of the e2e binary (main.rs).

use crate::Test;
use crate::case::*;
use e2e::{Cluster, ours, stderr, stdout};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster:
            a_name_prefix_is_diagnosed_in_condition_event_validate_and_lint,
            no_diagnosis_when_the_template_label_does_not_decrypt,
    ]
    .to_vec()
}

/// `apps/base` (the SealedSecret and its kustomization) and `apps/overlays/prod` with
/// `namePrefix: prod-`, as the articles lay them out.
fn layout(t: &Case, sealed_yaml: &str) -> std::path::PathBuf {
    let root = t.dir.path().join("repo");
    let base = root.join("apps/base");
    let overlay = root.join("apps/overlays/prod");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(base.join("db-creds.yaml"), sealed_yaml).unwrap();
    std::fs::write(
        base.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- db-creds.yaml\n",
    )
    .unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: prod-\nresources:\n- ../../base\n",
    )
    .unwrap();
    root
}

/// The Secret `ns/db-creds` (`password`) sealed by our kubeseal as YAML, with `args`.
fn seal_yaml(t: &Case, value: &str, args: &[&str]) -> String {
    let secret = t.secret(&t.ns, "db-creds", &[], &[("password", value)]);
    let cert = t.file("cert.pem", t.c.sealing_cert());
    let mut all = vec!["--cert", cert.to_str().unwrap(), "-o", "yaml"];
    all.extend_from_slice(args);
    let out =
        t.c.run(&ours(), &all, &serde_json::to_vec(&secret).unwrap(), &[]);
    assert!(out.status.success(), "kubeseal: {}", stderr(&out));
    stdout(&out)
}

fn a_name_prefix_is_diagnosed_in_condition_event_validate_and_lint(c: &Cluster) {
    let mut t = Case::new(c, "diag");
    let value = t.plaintext("password");
    let root = layout(&t, &seal_yaml(&t, &value, &[]));
    let overlay = root.join("apps/overlays/prod");
    let overlay = overlay.to_str().unwrap();
    t.c.kubectl_ok(&["apply", "-n", &t.ns, "-k", overlay], b"");

    let message = renamed_message("password", (&t.ns, "db-creds"), (&t.ns, "prod-db-creds"));
    t.assert_cannot_unseal_with(&t.ns, "prod-db-creds", &message);
    assert!(
        t.get("secret", &t.ns, "db-creds").is_none(),
        "nothing is unsealed under the sealed name either"
    );

    // `kubeseal --validate` of what the overlay renders: upstream's text, then the same hint.
    let rendered = t.c.kubectl_ok(&["kustomize", overlay], b"");
    assert!(rendered.contains("name: prod-db-creds\n"), "{rendered}");
    let out = t.c.run(
        &ours(),
        &["--validate", "-n", &t.ns],
        rendered.as_bytes(),
        &[],
    );
    assert!(!out.status.success());
    let hint = message
        .strip_prefix("no key could decrypt secret (password); ")
        .unwrap();
    assert_eq!(
        stderr(&out),
        format!("error: unable to decrypt sealed secret: prod-db-creds; {hint}\n")
    );

    // Offline, before any of this reached the cluster.
    let lint =
        t.c.run(&ours(), &["--lint", root.to_str().unwrap()], b"", &[]);
    assert_eq!(lint.status.code(), Some(1));
    assert!(
        stdout(&lint).contains(&format!(
            "apps/base/db-creds.yaml:5: strict SealedSecret \"{}/db-creds\" becomes \"{}/prod-db-creds\" through",
            t.ns, t.ns
        )),
        "{}",
        stdout(&lint)
    );

    // The first way out: re-sealed namespace-wide, the same layout unseals.
    let wide = seal_yaml(&t, &value, &["--scope", "namespace-wide"]);
    std::fs::write(root.join("apps/base/db-creds.yaml"), wide).unwrap();
    t.c.kubectl_ok(&["apply", "-n", &t.ns, "-k", overlay], b"");
    t.wait_secret(&t.ns, "prod-db-creds", &[("password", &value)]);
    t.wait_synced(&t.ns, "prod-db-creds", "True");
    let ok = t.c.run(
        &ours(),
        &["--validate"],
        t.c.kubectl_ok(&["kustomize", overlay], b"").as_bytes(),
        &[],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    t.finish();
}

fn no_diagnosis_when_the_template_label_does_not_decrypt(c: &Cluster) {
    let mut t = Case::new(c, "nodiag");
    let value = t.plaintext("password");
    // Sealed as `other`, then both the object and its template renamed by hand: no label the
    // controller can derive from the object decrypts, so nothing is claimed.
    let secret = t.secret(&t.ns, "other", &[], &[("foo", &value)]);
    let mut ss = t.seal(Sealer::Ours, &secret, &[]);
    ss["metadata"]["name"] = "prod-db-creds".into();
    ss["spec"]["template"]["metadata"]["name"] = "db-creds".into();
    t.create(&ss);
    t.assert_cannot_unseal(&t.ns, "prod-db-creds");
    let out = t.c.run(
        &ours(),
        &["--validate"],
        &serde_json::to_vec(&ss).unwrap(),
        &[],
    );
    assert_eq!(
        stderr(&out),
        "error: unable to decrypt sealed secret: prod-db-creds\n"
    );
    t.finish();
}

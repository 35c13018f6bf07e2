//! End to end on a real control plane (etcd + kube-apiserver, RBAC, service proxy) with the
//! controller running as a pod in its own network namespace: our kubeseal against it. Two suites of
//! the e2e binary (main.rs) run these tests, `cluster_upstream` against upstream's controller and
//! `cluster_ours` against ours, each on a control plane of its own.

use std::path::Path;
use std::process::Output;

use crate::Test;
use e2e::{Cluster, b64decode, ours, stderr, stdout, wait_for};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster:
            fetch_cert_prints_the_controller_certificate,
            sealed_pipe_applies_in_every_scope,
            namespace_comes_from_the_context_or_the_flag,
            validate_and_re_encrypt_through_the_service_proxy,
            missing_controller_says_what_to_do,
    ]
    .to_vec()
}

const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key=active";

fn create_secret_yaml(c: &Cluster, ns: Option<&str>, name: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "create",
        "secret",
        "generic",
        name,
        "--from-literal=password=s3cret",
        "--from-literal=user=admin",
        "--dry-run=client",
        "-o",
        "yaml",
    ];
    if let Some(ns) = ns {
        args.extend(["-n", ns]);
    }
    args.extend_from_slice(extra);
    c.kubectl_ok(&args, b"").into_bytes()
}

/// Our kubeseal with `args` on `input`, which must succeed.
fn kubeseal_ok(c: &Cluster, args: &[&str], input: &[u8], env: &[(&str, &Path)]) -> Output {
    let sealed = c.run(&ours(), args, input, env);
    assert!(sealed.status.success(), "{args:?}: {}", stderr(&sealed));
    sealed
}

/// Applies `sealed` and checks the Secret it unseals to (see [`assert_unsealed`]).
fn apply_and_check(c: &Cluster, sealed: &[u8], ns: &str, name: &str) -> serde_json::Value {
    c.kubectl_ok(&["apply", "-f", "-"], sealed);
    assert_unsealed(c, ns, name)
}

/// Waits for the unsealed Secret and checks its data (values compared in memory, never printed).
fn assert_unsealed(c: &Cluster, ns: &str, name: &str) -> serde_json::Value {
    let secret = wait_for(30, &format!("Secret {ns}/{name}"), || {
        c.get_json("secret", ns, name)
    });
    let data = &secret["data"];
    assert!(
        b64decode(data["password"].as_str().unwrap()) == b"s3cret",
        "password differs"
    );
    assert!(
        b64decode(data["user"].as_str().unwrap()) == b"admin",
        "user differs"
    );
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(
        secret["metadata"]["ownerReferences"][0]["kind"],
        "SealedSecret"
    );
    secret
}

fn fetch_cert_prints_the_controller_certificate(c: &Cluster) {
    let out = c.run(&ours(), &["--fetch-cert"], b"", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The newest active key Secret's certificate.
    let keys = c.key_secrets(KEY_LABEL);
    let newest = keys.last().expect("no key Secret");
    let crt = b64decode(newest["data"]["tls.crt"].as_str().unwrap());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(crt).unwrap()
    );
    // Upstream kubeseal prints the same bytes.
    let up = c.run(&c.upstream_kubeseal, &["--fetch-cert"], b"", &[]);
    assert_eq!(
        stdout(&up),
        stdout(&c.run(&ours(), &["--fetch-cert"], b"", &[]))
    );
}

fn sealed_pipe_applies_in_every_scope(c: &Cluster) {
    let ns = c.namespace("pipe");
    for (scope, name) in [
        ("strict", "s-strict"),
        ("namespace-wide", "s-nswide"),
        ("cluster-wide", "s-cwide"),
    ] {
        let input = create_secret_yaml(c, Some(&ns), name, &["--type=Opaque"]);
        let mut input = String::from_utf8(input).unwrap();
        input = input.replace("metadata:\n", "metadata:\n  labels:\n    app: e2e\n");
        let sealed = kubeseal_ok(c, &["-o", "yaml", "--scope", scope], input.as_bytes(), &[]);
        let secret = apply_and_check(c, &sealed.stdout, &ns, name);
        assert_eq!(
            secret["metadata"]["labels"]["app"], "e2e",
            "{scope}: labels"
        );
    }
    // A JSON pipe (the default output) works the same.
    let input = create_secret_yaml(c, Some(&ns), "s-json", &[]);
    let sealed = kubeseal_ok(c, &[], &input, &[]);
    apply_and_check(c, &sealed.stdout, &ns, "s-json");
}

fn namespace_comes_from_the_context_or_the_flag(c: &Cluster) {
    let ctx_ns = c.namespace("ctx");
    let arg_ns = c.namespace("arg");
    let dir = tempfile::tempdir().unwrap();
    let kc = c.kubeconfig_with_namespace(dir.path(), &ctx_ns);

    let input = create_secret_yaml(c, None, "from-context", &[]);
    let sealed = kubeseal_ok(c, &["-o", "yaml"], &input, &[("KUBECONFIG", &kc)]);
    assert!(stdout(&sealed).contains(&format!("namespace: {ctx_ns}")));
    apply_and_check(c, &sealed.stdout, &ctx_ns, "from-context");

    let input = create_secret_yaml(c, None, "from-flag", &[]);
    let sealed = kubeseal_ok(
        c,
        &["-o", "yaml", "-n", &arg_ns],
        &input,
        &[("KUBECONFIG", &kc)],
    );
    apply_and_check(c, &sealed.stdout, &arg_ns, "from-flag");
}

fn validate_and_re_encrypt_through_the_service_proxy(c: &Cluster) {
    let ns = c.namespace("validate");
    let input = create_secret_yaml(c, Some(&ns), "v", &[]);
    let sealed = kubeseal_ok(c, &["-o", "yaml"], &input, &[]);

    let ok = c.run(&ours(), &["--validate"], &sealed.stdout, &[]);
    assert!(
        ok.status.success(),
        "valid SealedSecret rejected: {}",
        stderr(&ok)
    );
    assert!(ok.stdout.is_empty());

    let renamed = stdout(&sealed).replace("name: v\n", "name: renamed\n");
    let bad = c.run(&ours(), &["--validate"], renamed.as_bytes(), &[]);
    assert!(!bad.status.success(), "renamed SealedSecret validated");
    assert!(
        stderr(&bad).starts_with("error: unable to decrypt sealed secret"),
        "{}",
        stderr(&bad)
    );

    let rotated = kubeseal_ok(c, &["--re-encrypt", "-o", "yaml"], &sealed.stdout, &[]);
    let text = stdout(&rotated);
    assert!(
        text.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
        "{text}"
    );
    assert_ne!(
        text,
        stdout(&sealed),
        "re-encrypted values are fresh ciphertexts"
    );
    apply_and_check(c, text.as_bytes(), &ns, "v");
}

fn missing_controller_says_what_to_do(c: &Cluster) {
    for args in [
        vec!["--fetch-cert", "--controller-name", "no-such-controller"],
        vec![
            "--fetch-cert",
            "--controller-namespace",
            "no-such-namespace",
        ],
    ] {
        let out = c.run(&ours(), &args, b"", &[]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.starts_with("error: cannot get sealed secret service: "),
            "{err}"
        );
        assert!(
            err.contains("Please, use the flag --controller-name and --controller-namespace to set up the name and namespace of the sealed secrets controller"),
            "{err}"
        );
        // Upstream says the same thing.
        let up = c.run(&c.upstream_kubeseal, &args, b"", &[]);
        assert_eq!(stderr(&up).lines().last(), err.lines().last());
    }
}

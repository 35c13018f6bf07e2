//! End to end on a real control plane (etcd + kube-apiserver, RBAC, service proxy) with the
//! controller running as a pod in its own network namespace: our kubeseal against it. Run by
//! `make test`, which starts the cluster with `scripts/cluster.sh up` and sources its env file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::{Cluster, b64decode, ours, stderr, stdout};

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

/// Waits for the unsealed Secret and checks its data (values compared in memory, never printed).
fn assert_unsealed(c: &Cluster, ns: &str, name: &str) -> serde_json::Value {
    let secret = c.wait_for(30, &format!("Secret {ns}/{name}"), || {
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

#[test]
#[ignore]
fn fetch_cert_prints_the_controller_certificate() {
    let c = Cluster::from_env();
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

#[test]
#[ignore]
fn sealed_pipe_applies_in_every_scope() {
    let c = Cluster::from_env();
    let ns = c.namespace("pipe");
    for (scope, name) in [
        ("strict", "s-strict"),
        ("namespace-wide", "s-nswide"),
        ("cluster-wide", "s-cwide"),
    ] {
        let input = create_secret_yaml(&c, Some(&ns), name, &["--type=Opaque"]);
        let mut input = String::from_utf8(input).unwrap();
        input = input.replace("metadata:\n", "metadata:\n  labels:\n    app: e2e\n");
        let sealed = c.run(
            &ours(),
            &["-o", "yaml", "--scope", scope],
            input.as_bytes(),
            &[],
        );
        assert!(sealed.status.success(), "{scope}: {}", stderr(&sealed));
        c.kubectl_ok(&["apply", "-f", "-"], &sealed.stdout);
        let secret = assert_unsealed(&c, &ns, name);
        assert_eq!(
            secret["metadata"]["labels"]["app"], "e2e",
            "{scope}: labels"
        );
    }
    // A JSON pipe (the default output) works the same.
    let input = create_secret_yaml(&c, Some(&ns), "s-json", &[]);
    let sealed = c.run(&ours(), &[], &input, &[]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    c.kubectl_ok(&["apply", "-f", "-"], &sealed.stdout);
    assert_unsealed(&c, &ns, "s-json");
}

#[test]
#[ignore]
fn namespace_comes_from_the_context_or_the_flag() {
    let c = Cluster::from_env();
    let ctx_ns = c.namespace("ctx");
    let arg_ns = c.namespace("arg");
    let dir = tempfile::tempdir().unwrap();
    let kc = c.kubeconfig_with_namespace(dir.path(), &ctx_ns);

    let input = create_secret_yaml(&c, None, "from-context", &[]);
    let sealed = c.run(&ours(), &["-o", "yaml"], &input, &[("KUBECONFIG", &kc)]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(stdout(&sealed).contains(&format!("namespace: {ctx_ns}")));
    c.kubectl_ok(&["apply", "-f", "-"], &sealed.stdout);
    assert_unsealed(&c, &ctx_ns, "from-context");

    let input = create_secret_yaml(&c, None, "from-flag", &[]);
    let sealed = c.run(
        &ours(),
        &["-o", "yaml", "-n", &arg_ns],
        &input,
        &[("KUBECONFIG", &kc)],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    c.kubectl_ok(&["apply", "-f", "-"], &sealed.stdout);
    assert_unsealed(&c, &arg_ns, "from-flag");
}

#[test]
#[ignore]
fn validate_and_re_encrypt_through_the_service_proxy() {
    let c = Cluster::from_env();
    let ns = c.namespace("validate");
    let input = create_secret_yaml(&c, Some(&ns), "v", &[]);
    let sealed = c.run(&ours(), &["-o", "yaml"], &input, &[]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));

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

    let rotated = c.run(
        &ours(),
        &["--re-encrypt", "-o", "yaml"],
        &sealed.stdout,
        &[],
    );
    assert!(rotated.status.success(), "{}", stderr(&rotated));
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
    c.kubectl_ok(&["apply", "-f", "-"], text.as_bytes());
    assert_unsealed(&c, &ns, "v");
}

#[test]
#[ignore]
fn missing_controller_says_what_to_do() {
    let c = Cluster::from_env();
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

//! `spec.template.data` as upstream v0.40.0 renders it (docs/templates.md), on a real API server:
//! with our CRD and our controller, a `null` entry is stored and omits its key from the Secret
//! while another template still reads the value; an `encryptedData` key wins over a template entry
//! of the same name; plain template values are in the template data; `kubeseal --re-encrypt`
//! (through our controller's `/v1/rotate`) keeps `spec.template.data` verbatim. With upstream's
//! v0.40.0 CRD, the API server prunes the `null` entry. And offline: our `--recovery-unseal` gives
//! the same Secret as upstream v0.40.0's kubeseal for upstream's unit-test inputs.
//!
//! Suites `templates` (our controller) and `templates_upstream_crd` (no controller; the case
//! installs upstream v0.40.0's CRD) of the e2e binary (main.rs).

use std::path::PathBuf;
use std::process::Command;

use crate::Test;
use crate::case::*;
use e2e::{Cluster, Sandbox, fixture, mask_ciphertexts, ours, stderr, stdout, upstream};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster:
            null_entry_survives_our_crd_and_omits_the_key,
            encrypted_data_wins_and_plain_values_are_in_the_context,
            re_encrypt_keeps_template_data_verbatim;
        ignored: recovery_unseal_matches_upstream_v0_40_0, merge_into_keeps_null_entries_as_upstream_v0_40_0;
    ]
    .to_vec()
}

pub fn upstream_crd_tests() -> Vec<Test> {
    e2e_tests![cluster: upstream_v0_40_0_crd_prunes_null_entries].to_vec()
}

/// `ss` (a sealed SealedSecret as JSON) with `spec.template.data` set to `data`.
fn with_template_data(mut ss: Value, data: Value) -> Value {
    ss["spec"]["template"]["data"] = data;
    ss
}

/// Our kubeseal seals `data` (Secret `NAME` in the case namespace) with the controller's cert.
fn sealed(t: &Case, data: &[(&str, &str)]) -> Value {
    t.seal(Sealer::Ours, &t.secret(&t.ns, NAME, &[], data), &[])
}

fn null_entry_survives_our_crd_and_omits_the_key(c: &Cluster) {
    let mut t = Case::new(c, "tnull");
    let (foo, baz) = (t.plaintext("foo"), t.plaintext("baz"));
    let ss = with_template_data(
        sealed(&t, &[("foo", &foo), ("baz", &baz)]),
        json!({"foo": null, "bar": "qux {{ .foo }} qux"}),
    );
    let stored = t.create(&ss);
    assert_eq!(
        stored["spec"]["template"]["data"],
        json!({"bar": "qux {{ .foo }} qux", "foo": null}),
        "our CRD keeps the null entry"
    );
    let bar = format!("qux {foo} qux");
    t.remember(&bar);
    // Exactly these keys: `foo` is omitted, its value still rendered into `bar`.
    t.wait_secret(&t.ns, NAME, &[("bar", &bar), ("baz", &baz)]);
    t.wait_synced(&t.ns, NAME, "True");
    t.finish();
}

/// Upstream's U2 and U3 (`sealedsecret_test.go`) in one object.
fn encrypted_data_wins_and_plain_values_are_in_the_context(c: &Cluster) {
    let mut t = Case::new(c, "tprec");
    let (password, shared) = (t.plaintext("password"), t.plaintext("shared"));
    let ss = with_template_data(
        sealed(&t, &[("password", &password), ("shared", &shared)]),
        json!({
            "username": "myUsername",
            "settings.xml": "<server><username>{{ .username }}</username><password>{{ .password }}</password></server>",
            "shared": "from-plaintext-should-be-ignored",
            "out.txt": "{{ .shared }}",
        }),
    );
    t.create(&ss);
    let settings =
        format!("<server><username>myUsername</username><password>{password}</password></server>");
    t.remember(&settings);
    t.wait_secret(
        &t.ns,
        NAME,
        &[
            ("out.txt", &shared),
            ("password", &password),
            ("settings.xml", &settings),
            ("shared", &shared),
            ("username", "myUsername"),
        ],
    );
    t.finish();
}

fn re_encrypt_keeps_template_data_verbatim(c: &Cluster) {
    let mut t = Case::new(c, "treenc");
    let (foo, baz) = (t.plaintext("foo"), t.plaintext("baz"));
    let template = json!({
        "foo": null,
        "greeting": "hi {{ .foo }}",
        "probe": format!(r#"{{{{ if eq .foo "{foo}" }}}}{{{{ fail "guessed it" }}}}{{{{ end }}}}"#),
    });
    let ss = with_template_data(
        sealed(&t, &[("foo", &foo), ("baz", &baz)]),
        template.clone(),
    );
    // The probe would fail the unseal: drop it from what is applied, keep it for --re-encrypt.
    let mut applied = ss.clone();
    applied["spec"]["template"]["data"]
        .as_object_mut()
        .unwrap()
        .remove("probe");
    t.create(&applied);
    let greeting = format!("hi {foo}");
    t.remember(&greeting);
    t.wait_secret(&t.ns, NAME, &[("baz", &baz), ("greeting", &greeting)]);

    let input = serde_json::to_vec(&ss).unwrap();
    let out = c.run(&ours(), &["--re-encrypt", "-o", "json"], &input, &[]);
    assert!(out.status.success(), "--re-encrypt: {}", stderr(&out));
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rotated["spec"]["template"]["data"], template,
        "template data verbatim, null and probe included"
    );
    assert!(
        stdout(&out).contains("\"foo\": null"),
        "printed as Go does: {}",
        stdout(&out)
    );
    let items = rotated["spec"]["encryptedData"].as_object().unwrap();
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        ["baz", "foo"],
        "every item re-sealed, nothing rendered"
    );
    for k in ["baz", "foo"] {
        assert_ne!(items[k], ss["spec"]["encryptedData"][k], "fresh ciphertext");
    }

    // Applied again (without the probe), the re-encrypted object gives the same Secret.
    let mut rotated = rotated;
    rotated["spec"]["template"]["data"]
        .as_object_mut()
        .unwrap()
        .remove("probe");
    t.replace(rotated);
    t.wait_observed_generation(&t.ns, NAME, 2);
    let synced_ss = t.wait_synced(&t.ns, NAME, "True");
    assert_eq!(synced_ss["status"]["observedGeneration"], 2);
    assert_eq!(
        decoded_data(&t.get("secret", &t.ns, NAME).unwrap()),
        expected(&[("baz", &baz), ("greeting", &greeting)])
    );
    t.finish();
}

/// The text upstream v0.40.0's CRD gives `spec.template.data`.
const V0_40_0_DESCRIPTION: &str = "Keys that should be templated using decrypted data.\nSet a key with the same name as in `encryptedData`\nto `null` to omit the unsealed data from the final secret.";

/// upstream v0.40.0's CRD in the Go module cache (as scripts/cluster.sh finds it).
fn upstream_v0_40_0_crd() -> PathBuf {
    let out = Command::new("go")
        .args([
            "mod",
            "download",
            "-json",
            "github.com/bitnami-labs/sealed-secrets@v0.40.0",
        ])
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "go mod download: {}", stderr(&out));
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    PathBuf::from(info["Dir"].as_str().unwrap())
        .join("helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml")
}

fn upstream_v0_40_0_crd_prunes_null_entries(c: &Cluster) {
    let crd = upstream_v0_40_0_crd();
    c.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()], b"");
    c.kubectl_ok(
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/sealedsecrets.bitnami.com",
        ],
        b"",
    );
    let installed: Value = serde_json::from_str(&c.kubectl_ok(
        &["get", "crd", "sealedsecrets.bitnami.com", "-o", "json"],
        b"",
    ))
    .unwrap();
    let data_schema = &installed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
        ["spec"]["properties"]["template"]["properties"]["data"];
    assert_eq!(data_schema["description"], V0_40_0_DESCRIPTION);
    assert_eq!(
        data_schema["additionalProperties"],
        json!({"type": "string"}),
        "upstream's values are not nullable"
    );

    let ns = c.namespace("tprune");
    let ss = json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": NAME, "namespace": ns},
        "spec": {
            "encryptedData": {"foo": "AgA="},
            "template": {"data": {"foo": null, "bar": "qux {{ .foo }} qux"}},
        },
    });
    c.kubectl_ok(&["create", "-f", "-"], &serde_json::to_vec(&ss).unwrap());
    let stored = c.get_json(SS, &ns, NAME).expect("the stored SealedSecret");
    assert_eq!(
        stored["spec"]["template"]["data"],
        json!({"bar": "qux {{ .foo }} qux"}),
        "the API server prunes the null entry"
    );
}

/// `upstream()`, checked to be v0.40.x (`UPSTREAM_KUBESEAL`).
fn upstream_v0_40() -> PathBuf {
    let upstream = upstream();
    let version = Command::new(&upstream).arg("--version").output().unwrap();
    assert!(
        stdout(&version).contains("v0.40."),
        "{} is not upstream v0.40.x (set UPSTREAM_KUBESEAL): {}",
        upstream.display(),
        stdout(&version)
    );
    upstream
}

/// `--merge-into` keeps the target's `null` template entries and prints them as upstream does.
fn merge_into_keeps_null_entries_as_upstream_v0_40_0() {
    let upstream = upstream_v0_40();
    let sb = Sandbox::new();
    let cert = fixture("keys/cert.pem").display().to_string();
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {foo: bar}\n";
    let out = sb.run(&ours(), &["--cert", &cert, "-o", "yaml"], secret.as_bytes());
    assert!(out.status.success(), "seal: {}", stderr(&out));
    let target = stdout(&out).replace(
        "  template:\n",
        "  template:\n    data:\n      foo: null\n      bar: qux {{ .foo }} qux\n",
    );
    let update =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {new: v}\n";
    for format in ["yaml", "json"] {
        let mut merged = Vec::new();
        for bin in [&upstream, &ours()] {
            let file = sb.write("target.yaml", target.as_bytes());
            let path = file.display().to_string();
            let out = sb.run(
                bin,
                &["--cert", &cert, "-o", format, "--merge-into", &path],
                update.as_bytes(),
            );
            assert!(out.status.success(), "{}: {}", bin.display(), stderr(&out));
            merged.push(mask_ciphertexts(&std::fs::read_to_string(&file).unwrap()));
        }
        assert_eq!(merged[1], merged[0], "-o {format}");
        assert!(merged[0].contains("null"), "{}", merged[0]);
    }
}

/// Upstream's U1-U4 (`sealedsecret_test.go`), plus scalars bound for a `*string`: our
/// `--recovery-unseal` prints the same Secret as upstream v0.40.0's.
fn recovery_unseal_matches_upstream_v0_40_0() {
    let upstream = upstream_v0_40();
    let sb = Sandbox::new();
    let cert = fixture("keys/cert.pem").display().to_string();
    let key = fixture("keys/key-pkcs1.pem").display().to_string();
    let seal = |data: &[(&str, &str)]| -> String {
        let string_data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": "s", "namespace": "ns"},
                            "stringData": string_data});
        let out = sb.run(
            &ours(),
            &["--cert", &cert, "-o", "yaml", "--allow-empty-data"],
            &serde_json::to_vec(&secret).unwrap(),
        );
        assert!(out.status.success(), "seal: {}", stderr(&out));
        stdout(&out)
    };
    let with_template = |sealed: String, yaml: &str| -> String {
        let out = sealed.replace("  template:\n", &format!("  template:\n    data:\n{yaml}"));
        assert_ne!(out, sealed);
        out
    };
    let cases = [
        // U1 TestTemplateDataPlaintextReference
        with_template(
            seal(&[]),
            "      username: myUsername\n      settings.xml: <server><username>{{ .username }}</username></server>\n",
        ),
        // U2 TestTemplateDataMixedEncryptedAndPlaintext
        with_template(
            seal(&[("password", "hunter2")]),
            "      username: myUsername\n      settings.xml: <server><username>{{ .username }}</username><password>{{ .password }}</password></server>\n",
        ),
        // U3 TestTemplateDataEncryptedTakesPrecedenceOverPlaintext
        with_template(
            seal(&[("shared", "from-encrypted")]),
            "      shared: from-plaintext-should-be-ignored\n      out.txt: \"{{ .shared }}\"\n",
        ),
        // U4 TestTemplateOmitEncryptedData
        with_template(
            seal(&[("foo", "bar"), ("baz", "qux")]),
            "      foo: null\n      bar: qux {{ .foo }} qux\n",
        ),
        // A null entry without an item, an empty template, a template reading itself.
        with_template(
            seal(&[("k", "v")]),
            "      none: ~\n      empty: \"\"\n      reads: \"[{{ .none }}] [{{ .empty }}] {{ .reads }}\"\n",
        ),
    ];
    for input in &cases {
        let mut outputs = Vec::new();
        for (who, bin) in [("upstream", &upstream), ("ours", &ours())] {
            let out = sb.run(
                bin,
                &["--recovery-unseal", "--recovery-private-key", &key],
                input.as_bytes(),
            );
            assert!(out.status.success(), "{who}: {}\n{input}", stderr(&out));
            outputs.push(stdout(&out));
        }
        assert_eq!(
            outputs[1], outputs[0],
            "ours differs from upstream for\n{input}"
        );
        assert!(
            outputs[0].contains("\"kind\": \"Secret\""),
            "{}",
            outputs[0]
        );
    }
    // A number or boolean is not a `*string`: both refuse it (the wording differs, see
    // tests/fixtures/scalars/known-differences.txt).
    for scalar in ["1", "1.0", "yes"] {
        let input = with_template(seal(&[("k", "v")]), &format!("      n: {scalar}\n"));
        for bin in [&upstream, &ours()] {
            let out = sb.run(
                bin,
                &["--recovery-unseal", "--recovery-private-key", &key],
                input.as_bytes(),
            );
            assert_eq!(out.status.code(), Some(1), "{}: {scalar}", bin.display());
        }
    }
}

//! The controller half of the bad-input catalogue (docs/reliability.md): objects the API server
//! accepts but that are huge, malformed, hostile or tricky, and hostile HTTP clients. Each case
//! proves its outcome (unsealed exactly, or a clear status and no Secret), that nothing else was
//! written, and that the controller kept running and serving; the template cases and the large
//! bodies also measure the controller's time and memory (printed, and in docs/reliability.md).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::Test;
use e2e::{Cluster, b64decode, http_request, ours, random_hex, stderr, stdout, wait_for};
use serde_json::{Value, json};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        cluster:
            a_1_mib_value_unseals,
            ten_thousand_items_are_refused_by_the_api_server_a_thousand_unseal,
            undecryptable_items_fail_with_a_status_and_no_secret,
            item_names_differing_only_in_case_or_unicode_form,
            templates_that_loop_recurse_or_emit_gigabytes_stay_bounded,
            bodies_of_100_mb_to_verify_and_rotate_are_refused,
            slow_loris_clients_do_not_starve_the_others,
    ]
    .to_vec()
}

fn cert_file(c: &Cluster, dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("cert.pem");
    std::fs::write(&p, c.sealing_cert()).unwrap();
    p
}

/// `kubeseal --raw` for item `item` of `ns/name` (strict scope).
fn raw(c: &Cluster, cert: &std::path::Path, ns: &str, name: &str, value: &[u8]) -> String {
    let out = c.run(
        &ours(),
        &[
            "--raw",
            "--cert",
            cert.to_str().unwrap(),
            "--namespace",
            ns,
            "--name",
            name,
        ],
        value,
        &[],
    );
    assert!(out.status.success(), "kubeseal --raw: {}", stderr(&out));
    stdout(&out)
}

fn sealed_secret(ns: &str, name: &str, items: Value, template: Value) -> Value {
    json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"encryptedData": items, "template": template},
    })
}

/// `kubectl create` (no last-applied annotation doubling the object's size).
fn create(c: &Cluster, obj: &Value) -> std::process::Output {
    c.kubectl(&["create", "-f", "-"], obj.to_string().as_bytes())
}

/// The Synced condition of `ns/name` once it has one for the current generation.
fn synced(c: &Cluster, ns: &str, name: &str) -> Value {
    wait_for(120, &format!("status of {ns}/{name}"), || {
        let ss = c.get_json("sealedsecret", ns, name)?;
        let cond = ss["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Synced")?
            .clone();
        (ss["status"]["observedGeneration"] == ss["metadata"]["generation"]).then_some(cond)
    })
}

/// `ns/name` failed: Synced False with a message containing `message`, and no Secret.
fn assert_failed(c: &Cluster, ns: &str, name: &str, message: &str) {
    let cond = synced(c, ns, name);
    assert_eq!(cond["status"], "False", "{ns}/{name}: {cond}");
    let text = cond["message"].as_str().unwrap_or_default();
    assert!(text.contains(message), "{ns}/{name}: {text}");
    assert!(
        c.get_json("secret", ns, name).is_none(),
        "{ns}/{name}: a Secret was written"
    );
}

/// The namespace holds exactly `names` as Secrets.
fn assert_secrets(c: &Cluster, ns: &str, names: &[&str]) {
    let list: Value =
        serde_json::from_str(&c.kubectl_ok(&["get", "secrets", "-n", ns, "-o", "json"], b""))
            .unwrap();
    let mut have: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    have.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(have, want, "Secrets in {ns}");
}

fn healthy(c: &Cluster) {
    let r = http_request(c.var("SSRS_CONTROLLER_URL"), "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(r.status, 200, "/healthz");
}

/// The controller's peak resident memory so far (VmHWM, KiB).
fn controller_peak_kib(c: &Cluster) -> u64 {
    let env = Cluster::from_env_file(&c.dir);
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", env.var("SSRS_CONTROLLER_PID")))
            .unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn a_1_mib_value_unseals(c: &Cluster) {
    let ns = c.namespace("big");
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(c, dir.path());
    let value: Vec<u8> = (0..1 << 20)
        .map(|i: u32| b'a' + (i.wrapping_mul(2654435761) >> 28) as u8)
        .collect();
    let ss = sealed_secret(
        &ns,
        "big",
        json!({"v": raw(c, &cert, &ns, "big", &value)}),
        json!({"metadata": {"labels": {"app": "big"}}}),
    );
    let out = create(c, &ss);
    assert!(out.status.success(), "create: {}", stderr(&out));
    let secret = wait_for(120, "the 1 MiB Secret", || c.get_json("secret", &ns, "big"));
    assert!(
        b64decode(secret["data"]["v"].as_str().unwrap()) == value,
        "the 1 MiB value differs"
    );
    assert_eq!(secret["metadata"]["labels"]["app"], "big");
    assert_eq!(synced(c, &ns, "big")["status"], "True");
    assert_secrets(c, &ns, &["big"]);
    healthy(c);
}

fn ten_thousand_items_are_refused_by_the_api_server_a_thousand_unseal(c: &Cluster) {
    let ns = c.namespace("items");
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(c, dir.path());
    for (n, accepted) in [(10_000, false), (1_000, true)] {
        let name = format!("items-{n}");
        let items: String = (0..n).map(|i| format!("  k{i}: v{i}\n")).collect();
        let secret = format!(
            "kind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData:\n{items}"
        );
        let out = c.run(
            &ours(),
            &["--cert", cert.to_str().unwrap()],
            secret.as_bytes(),
            &[],
        );
        assert!(out.status.success(), "kubeseal: {}", stderr(&out));
        let created = c.kubectl(&["create", "-f", "-"], &out.stdout);
        assert_eq!(
            created.status.success(),
            accepted,
            "{n} items ({} bytes): {}",
            out.stdout.len(),
            stderr(&created)
        );
        if accepted {
            let s = wait_for(120, "the 1000-item Secret", || {
                c.get_json("secret", &ns, &name)
            });
            let data = s["data"].as_object().unwrap();
            assert_eq!(data.len(), n);
            assert!(b64decode(data["k999"].as_str().unwrap()) == b"v999");
        } else {
            println!(
                "bad input: {n} items ({} bytes): {}",
                out.stdout.len(),
                stderr(&created).trim()
            );
            assert!(c.get_json("sealedsecret", &ns, &name).is_none());
        }
    }
    assert_secrets(c, &ns, &["items-1000"]);
    healthy(c);
}

fn undecryptable_items_fail_with_a_status_and_no_secret(c: &Cluster) {
    let ns = c.namespace("undecryptable");
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(c, dir.path());
    let good = |name: &str| raw(c, &cert, &ns, name, b"plaintext-undecryptable");
    c.register_plaintext("plaintext-undecryptable");
    let ct = |name: &str| b64decode(&good(name));
    let b64 = e2e::b64encode;
    let mut flipped = ct("flipped");
    let at = flipped.len() - 7;
    flipped[at] ^= 1;
    let truncated = ct("truncated");
    let foreign = {
        let other = e2e::workspace_root().join("cli/tests/fixtures/cert2.pem");
        raw(c, &other, &ns, "foreign", b"plaintext-undecryptable")
    };
    let no_key = |item: &str| format!("no key could decrypt secret ({item})");
    for (name, item, message) in [
        (
            "bad-base64",
            "!!!not base64".to_string(),
            "illegal base64 data at input byte 0".to_string(),
        ),
        (
            "truncated",
            b64(&truncated[..truncated.len() / 2]),
            no_key("v"),
        ),
        ("flipped", b64(&flipped), no_key("v")),
        ("empty", String::new(), no_key("v")),
        ("foreign", foreign, no_key("v")),
    ] {
        let ss = sealed_secret(&ns, name, json!({"v": item}), json!({}));
        let out = create(c, &ss);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_failed(c, &ns, name, &message);
    }
    assert_secrets(c, &ns, &[]);
    healthy(c);
}

fn item_names_differing_only_in_case_or_unicode_form(c: &Cluster) {
    let ns = c.namespace("names");
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(c, dir.path());
    // case: two items of one Secret
    let ss = sealed_secret(
        &ns,
        "case",
        json!({
            "password": raw(c, &cert, &ns, "case", b"lower"),
            "Password": raw(c, &cert, &ns, "case", b"upper"),
        }),
        json!({}),
    );
    assert!(create(c, &ss).status.success());
    let s = wait_for(120, "the Secret with two cases", || {
        c.get_json("secret", &ns, "case")
    });
    assert!(b64decode(s["data"]["password"].as_str().unwrap()) == b"lower");
    assert!(b64decode(s["data"]["Password"].as_str().unwrap()) == b"upper");
    // Unicode: "café" composed (NFC) and decomposed (NFD) are two keys the SealedSecret accepts
    // and a Secret does not ([-._a-zA-Z0-9]+): the API server refuses the Secret, the status says so
    let ss = sealed_secret(
        &ns,
        "unicode",
        json!({
            "caf\u{e9}": raw(c, &cert, &ns, "unicode", b"nfc"),
            "cafe\u{301}": raw(c, &cert, &ns, "unicode", b"nfd"),
        }),
        json!({}),
    );
    assert!(create(c, &ss).status.success());
    let cond = synced(c, &ns, "unicode");
    assert_eq!(cond["status"], "False", "{cond}");
    println!("bad input: Unicode item names: {}", cond["message"]);
    assert!(c.get_json("secret", &ns, "unicode").is_none());
    // and a SealedSecret named in another case is refused by the API server itself
    let upper = sealed_secret(&ns, "Case", json!({"v": "AgA="}), json!({}));
    assert!(!create(c, &upper).status.success());
    assert_secrets(c, &ns, &["case"]);
    healthy(c);
}

fn templates_that_loop_recurse_or_emit_gigabytes_stay_bounded(c: &Cluster) {
    let ns = c.namespace("templates");
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(c, dir.path());
    let peak_before = controller_peak_kib(c);
    let mut worst = (String::new(), Duration::ZERO);
    for (name, template, message) in [
        (
            "recurse",
            r#"{{define "t"}}{{template "t" .}}{{end}}{{template "t" .}}"#,
            "exceeded maximum template depth",
        ),
        (
            "loop",
            r#"{{range $i := until 1000000}}{{range $j := until 1000000}}{{end}}{{end}}"#,
            "",
        ),
        ("gigabytes", r#"{{repeat 1000000000 "x"}}"#, ""),
        (
            "output",
            r#"{{range $i := until 1000000}}{{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}{{end}}"#,
            "template output exceeds the limit",
        ),
        (
            "strings",
            r#"{{$s := "x"}}{{range $i := until 40}}{{$s = print $s $s}}{{end}}{{len $s}}"#,
            "",
        ),
    ] {
        let ss = sealed_secret(
            &ns,
            name,
            json!({"v": raw(c, &cert, &ns, name, b"plaintext-template")}),
            json!({"data": {"out": template}}),
        );
        let t0 = Instant::now();
        assert!(create(c, &ss).status.success());
        let cond = synced(c, &ns, name);
        let took = t0.elapsed();
        assert_eq!(cond["status"], "False", "{name}: {cond}");
        let text = cond["message"].as_str().unwrap_or_default().to_string();
        assert!(text.contains(message), "{name}: {text}");
        assert!(c.get_json("secret", &ns, name).is_none());
        println!(
            "bad input: template {name}: `{text}` after {:.2}s",
            took.as_secs_f64()
        );
        if took > worst.1 {
            worst = (name.to_string(), took);
        }
    }
    c.register_plaintext("plaintext-template");
    let peak_after = controller_peak_kib(c);
    println!(
        "bad input: templates: worst {} in {:.2}s (apply to status); controller peak memory {} -> \
         {} KiB",
        worst.0,
        worst.1.as_secs_f64(),
        peak_before,
        peak_after
    );
    assert!(worst.1 < Duration::from_secs(30), "{worst:?}");
    assert!(
        peak_after < peak_before + 256 * 1024,
        "peak memory grew by {} KiB",
        peak_after - peak_before
    );
    assert_secrets(c, &ns, &[]);
    healthy(c);
}

fn bodies_of_100_mb_to_verify_and_rotate_are_refused(c: &Cluster) {
    let url = c.var("SSRS_CONTROLLER_URL").to_string();
    let body = vec![b'{'; 100 << 20];
    let peak_before = controller_peak_kib(c);
    for path in ["/v1/verify", "/v1/rotate"] {
        let t0 = Instant::now();
        let reply = http_request(
            &url,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            &body,
        );
        let took = t0.elapsed();
        // the answer is 413, or the connection closed while the client still sends
        match &reply {
            Ok(r) => assert_eq!(r.status, 413, "{path}: {}", r.text()),
            Err(e) => println!("bad input: 100 MB to {path}: connection closed ({e})"),
        }
        println!(
            "bad input: 100 MB to {path}: {:?} after {:.2}s",
            reply.as_ref().map(|r| r.status),
            took.as_secs_f64()
        );
        assert!(took < Duration::from_secs(30), "{path}: {took:?}");
    }
    let peak_after = controller_peak_kib(c);
    println!("bad input: 100 MB bodies: controller peak memory {peak_before} -> {peak_after} KiB");
    assert!(
        peak_after < peak_before + 32 * 1024,
        "peak memory grew by {} KiB",
        peak_after - peak_before
    );
    healthy(c);
}

fn slow_loris_clients_do_not_starve_the_others(c: &Cluster) {
    let url = c.var("SSRS_CONTROLLER_URL").to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let mut slow: Vec<TcpStream> = (0..200)
        .filter_map(|_| {
            let mut s = TcpStream::connect(&addr).ok()?;
            s.write_all(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n")
                .ok()?;
            Some(s)
        })
        .collect();
    assert!(slow.len() >= 100, "only {} slow connections", slow.len());
    let t0 = Instant::now();
    let mut worst = Duration::ZERO;
    while t0.elapsed() < Duration::from_secs(10) {
        for s in &mut slow {
            let _ = s.write_all(format!("X-{}: y\r\n", random_hex(4)).as_bytes());
        }
        let t = Instant::now();
        let r = http_request(&url, "GET", "/v1/cert.pem", &[], b"").unwrap();
        assert_eq!(r.status, 200);
        worst = worst.max(t.elapsed());
        std::thread::sleep(Duration::from_secs(1));
    }
    println!(
        "bad input: {} slow-loris connections: /v1/cert.pem answered within {:.3}s at worst",
        slow.len(),
        worst.as_secs_f64()
    );
    assert!(worst < Duration::from_secs(2), "{worst:?}");
    // none of them got an answer
    for s in &mut slow {
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 16];
        assert!(
            !matches!(s.read(&mut buf), Ok(n) if n > 0),
            "a slow client got an answer"
        );
    }
    healthy(c);
}

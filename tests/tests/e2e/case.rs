//! What a controller test case is made of, shared by the `controller` and `takeover` suites:
//! polling, JSON views of the objects, sealing with either kubeseal, and [`Case`], one case with
//! its own namespace and plaintexts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use e2e::{
    Cluster, assert_log_clean, b64decode, b64encode, ours, private_key_material, random_hex,
    stderr, stdout,
};
use serde_json::{Value, json};

/// Upstream's integration suite polls for 15 s; this suite allows 30 s (parallel cases on 2
/// cores), every 100 ms.
pub const TIMEOUT: Duration = Duration::from_secs(30);
pub const INTERVAL: Duration = Duration::from_millis(100);
/// How long "stays absent" is watched after the controller has demonstrably acted.
pub const QUIET: Duration = Duration::from_secs(2);

pub const SS: &str = "sealedsecrets.bitnami.com";
pub const NAME: &str = "testsecret";
pub const MANAGED: &str = "sealedsecrets.bitnami.com/managed";
pub const PATCH: &str = "sealedsecrets.bitnami.com/patch";
pub const CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";
pub const NAMESPACE_WIDE: &str = "sealedsecrets.bitnami.com/namespace-wide";
pub const NO_KEY: &str = "no key could decrypt secret (foo)";

/// The rename diagnosis our controller appends to [`NO_KEY`] for a strict SealedSecret sealed as
/// `sealed` (`ns/name`) that is now called `now` (src/diagnosis.rs).
pub fn renamed_message(items: &str, sealed: (&str, &str), now: (&str, &str)) -> String {
    let (fix, what) = if sealed.0 != now.0 {
        ("--scope cluster-wide", "namespace")
    } else {
        ("--scope namespace-wide", "name prefix/suffix")
    };
    format!(
        "no key could decrypt secret ({items}); the items were sealed (strict scope) for \"{}/{}\" but this SealedSecret is \"{}/{}\" (renamed, e.g. by a Kustomize namePrefix, nameSuffix or namespace); re-seal it with {fix}, or keep it out of the {what} (and refer to it as \"{}\")",
        sealed.0, sealed.1, now.0, now.1, sealed.1
    )
}
pub const UNSEALED_MESSAGE: &str = "SealedSecret unsealed successfully";
pub const MAX_UNSEAL_RETRIES: i64 = 5;

// ---------------------------------------------------------------------------------------------
// polling

/// Polls `f` until it returns `Ok`; on timeout panics with the last `Err` (the state seen).
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= deadline => {
                panic!("timed out after {TIMEOUT:?} waiting for {what}; last seen: {e}")
            }
            Err(_) => std::thread::sleep(INTERVAL),
        }
    }
}

/// Checks `f` every 100 ms for `period`; panics on the first `Err`.
pub fn throughout(what: &str, period: Duration, mut f: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + period;
    while Instant::now() < deadline {
        if let Err(e) = f() {
            panic!("{what}: {e}");
        }
        std::thread::sleep(INTERVAL);
    }
}

// ---------------------------------------------------------------------------------------------
// JSON views

pub fn str_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn decoded_data(secret: &Value) -> BTreeMap<String, String> {
    str_map(&secret["data"])
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(b64decode(&v)).unwrap()))
        .collect()
}

pub fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn synced(ss: &Value) -> Option<&Value> {
    ss["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Synced")
}

pub fn owner_refs(secret: &Value) -> Vec<Value> {
    secret["metadata"]["ownerReferences"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The Secret is controlled by exactly this SealedSecret, with the ownerReference upstream's
/// `(*SealedSecret).Unseal` sets.
pub fn assert_owned_by(secret: &Value, ss: &Value) {
    assert_eq!(
        owner_refs(secret),
        vec![json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "name": ss["metadata"]["name"],
            "uid": ss["metadata"]["uid"],
            "controller": true,
        })],
        "ownerReferences of {}",
        secret["metadata"]["name"]
    );
}

// ---------------------------------------------------------------------------------------------
// one test case

#[derive(Clone, Copy, Debug)]
pub enum Sealer {
    /// Our kubeseal with `--cert` (the controller's certificate, fetched once by our kubeseal).
    Ours,
    /// Upstream's kubeseal, fetching the certificate from the running controller through the
    /// service proxy.
    Upstream,
}

pub struct Case<'a> {
    pub c: &'a Cluster,
    pub ns: String,
    pub dir: tempfile::TempDir,
    pub plaintexts: Vec<String>,
    pub log: PathBuf,
    pub log_start: u64,
}

impl<'a> Case<'a> {
    pub fn new(c: &'a Cluster, prefix: &str) -> Case<'a> {
        let log = PathBuf::from(c.var("SSRS_CONTROLLER_LOG"));
        let log_start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let ns = c.namespace(prefix);
        Case {
            c,
            ns,
            dir: tempfile::tempdir().unwrap(),
            plaintexts: Vec::new(),
            log,
            log_start,
        }
    }

    /// A distinctive plaintext (`plaintext-<random>-<what>`), remembered for the log scan.
    pub fn plaintext(&mut self, what: &str) -> String {
        let v = format!("plaintext-{}-{what}", random_hex(12));
        self.c.register_plaintext(&v);
        self.plaintexts.push(v.clone());
        v
    }

    /// Remembers a composite plaintext (e.g. a JSON document around a marker) for the log scan.
    pub fn remember(&mut self, v: &str) {
        self.c.register_plaintext(v);
        self.plaintexts.push(v.to_string());
    }

    pub fn other_namespace(&self, prefix: &str) -> String {
        self.c.namespace(prefix)
    }

    /// A self-signed certificate (`wrong.crt`) of a random 1024-bit key the controller does not
    /// hold (upstream kubeseal accepts 1024 bits): what it seals cannot be unsealed.
    pub fn foreign_cert(&self) -> PathBuf {
        let key = self.dir.path().join("wrong.key");
        let cert = self.dir.path().join("wrong.crt");
        let out = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:1024",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=wrong",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl: {}", stderr(&out));
        cert
    }

    pub fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// The input of upstream's integration cases (docs/upstream-scenarios.md): Secret `name` in
    /// `ns`, label `mylabel=myvalue`, `annotations`, `data`.
    pub fn secret(
        &self,
        ns: &str,
        name: &str,
        annotations: &[(&str, &str)],
        data: &[(&str, &str)],
    ) -> Value {
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.to_string(), json!(b64encode(v.as_bytes()))))
            .collect();
        let mut s = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns, "labels": {"mylabel": "myvalue"}},
            "data": data,
        });
        if !annotations.is_empty() {
            s["metadata"]["annotations"] = annotations
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        s
    }

    pub fn seal(&self, sealer: Sealer, secret: &Value, args: &[&str]) -> Value {
        let input = serde_json::to_vec(secret).unwrap();
        let out = match sealer {
            Sealer::Ours => {
                let cert = self.file("cert.pem", self.c.sealing_cert());
                let cert = cert.to_str().unwrap();
                let mut all = vec!["--cert", cert, "-o", "json"];
                all.extend_from_slice(args);
                self.c.run(&ours(), &all, &input, &[])
            }
            Sealer::Upstream => {
                let mut all = vec!["-o", "json"];
                all.extend_from_slice(args);
                self.c.run(&self.c.upstream_kubeseal, &all, &input, &[])
            }
        };
        assert!(
            out.status.success(),
            "{sealer:?} kubeseal {args:?}: {}",
            stderr(&out)
        );
        let ss: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ss["kind"], "SealedSecret");
        ss
    }

    /// Upstream's standard case SealedSecret: `testsecret` in the case namespace, `foo=<value>`.
    pub fn standard(&self, sealer: Sealer, value: &str) -> Value {
        self.seal(
            sealer,
            &self.secret(&self.ns, NAME, &[], &[("foo", value)]),
            &[],
        )
    }

    /// One value sealed by upstream's `kubeseal --raw` (strict scope unless `scope` says otherwise).
    pub fn seal_raw(&self, ns: &str, name: &str, scope: &str, value: &str) -> String {
        let file = self.file("raw-value", value.as_bytes());
        let out = self.c.run(
            &self.c.upstream_kubeseal,
            &[
                "--raw",
                "--scope",
                scope,
                "--namespace",
                ns,
                "--name",
                name,
                "--from-file",
                file.to_str().unwrap(),
            ],
            b"",
            &[],
        );
        assert!(out.status.success(), "kubeseal --raw: {}", stderr(&out));
        stdout(&out)
    }

    /// `kubectl create`; returns the object as stored (uid, resourceVersion, ...).
    pub fn create(&self, obj: &Value) -> Value {
        serde_json::from_str(&self.c.kubectl_ok(
            &["create", "-o", "json", "-f", "-"],
            &serde_json::to_vec(obj).unwrap(),
        ))
        .unwrap()
    }

    /// `kubectl replace` of a SealedSecret at its current resourceVersion (a spec update). The
    /// controller may write the status between the read and the replace: a Conflict is retried at
    /// the new resourceVersion, as a client doing a read-modify-write would.
    pub fn replace(&self, mut obj: Value) -> Value {
        let ns = obj["metadata"]["namespace"].as_str().unwrap().to_string();
        let name = obj["metadata"]["name"].as_str().unwrap().to_string();
        let mut attempts = 0;
        loop {
            let current = self.get(SS, &ns, &name).expect("SealedSecret to replace");
            obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            let out = self.c.kubectl(
                &["replace", "-o", "json", "-f", "-"],
                &serde_json::to_vec(&obj).unwrap(),
            );
            if out.status.success() {
                return serde_json::from_slice(&out.stdout).unwrap();
            }
            attempts += 1;
            let err = stderr(&out);
            assert!(
                err.contains("(Conflict)") && attempts < 5,
                "kubectl replace failed (attempt {attempts}): {err}"
            );
        }
    }

    pub fn delete(&self, kind: &str, ns: &str, name: &str) {
        self.c
            .kubectl_ok(&["delete", kind, "-n", ns, name, "--wait=false"], b"");
    }

    pub fn get(&self, kind: &str, ns: &str, name: &str) -> Option<Value> {
        self.c.get_json(kind, ns, name)
    }

    /// Waits for Secret `ns/name` with exactly this (decoded) data.
    pub fn wait_secret(&self, ns: &str, name: &str, data: &[(&str, &str)]) -> Value {
        let want = expected(data);
        eventually(
            &format!("Secret {ns}/{name} with data keys {:?}", want.keys()),
            || {
                let s = self.get("secret", ns, name).ok_or("no Secret")?;
                let got = decoded_data(&s);
                if got == want {
                    Ok(s)
                } else {
                    Err(format!("data {got:?}"))
                }
            },
        )
    }

    /// Waits for the SealedSecret's `Synced` condition to have `status`; returns the SealedSecret.
    pub fn wait_synced(&self, ns: &str, name: &str, status: &str) -> Value {
        eventually(&format!("SealedSecret {ns}/{name} Synced={status}"), || {
            let ss = self.get(SS, ns, name).ok_or("no SealedSecret")?;
            match synced(&ss) {
                Some(c) if c["status"] == status => Ok(ss.clone()),
                _ => Err(format!("status {}", ss["status"])),
            }
        })
    }

    /// Waits for SealedSecret `ns/name` to have observed `generation`; returns it.
    pub fn wait_observed_generation(&self, ns: &str, name: &str, generation: i64) -> Value {
        eventually(&format!("observedGeneration {generation}"), || {
            let ss = self.get(SS, ns, name).unwrap();
            if ss["status"]["observedGeneration"] == generation {
                Ok(ss)
            } else {
                Err(ss["status"].to_string())
            }
        })
    }

    /// The Events recorded for SealedSecret `ns/name`.
    pub fn events(&self, ns: &str, name: &str) -> Vec<Value> {
        let list: Value = serde_json::from_str(&self.c.kubectl_ok(
            &[
                "get",
                "events",
                "-n",
                ns,
                "--field-selector",
                &format!("involvedObject.name={name}"),
                "-o",
                "json",
            ],
            b"",
        ))
        .unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["involvedObject"]["kind"] == "SealedSecret")
            .cloned()
            .collect()
    }

    /// How often an event `reason` was recorded for `ns/name` (sum of the aggregated counts).
    pub fn event_count(&self, ns: &str, name: &str, reason: &str) -> i64 {
        self.events(ns, name)
            .iter()
            .filter(|e| e["reason"] == reason)
            .map(|e| e["count"].as_i64().unwrap_or(1))
            .sum()
    }

    /// Waits for an event `reason` on `ns/name`; returns it.
    pub fn wait_event(&self, ns: &str, name: &str, reason: &str) -> Value {
        eventually(&format!("event {reason} on {ns}/{name}"), || {
            let events = self.events(ns, name);
            events
                .iter()
                .find(|e| e["reason"] == reason)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "events {:?}",
                        events
                            .iter()
                            .map(|e| (e["reason"].clone(), e["message"].clone()))
                            .collect::<Vec<_>>()
                    )
                })
        })
    }

    /// Waits until the event `reason` was counted `n` times, and checks it stays at `n` a moment.
    pub fn wait_event_count(&self, ns: &str, name: &str, reason: &str, n: i64) {
        eventually(&format!("{n} {reason} events on {ns}/{name}"), || {
            let got = self.event_count(ns, name, reason);
            if got >= n {
                Ok(())
            } else {
                Err(format!("{got}"))
            }
        });
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            self.event_count(ns, name, reason),
            n,
            "{reason} events on {ns}/{name}"
        );
    }

    pub fn assert_absent_for(&self, kind: &str, ns: &str, name: &str, period: Duration) {
        throughout(
            &format!("{kind} {ns}/{name} must not exist"),
            period,
            || match self.get(kind, ns, name) {
                None => Ok(()),
                Some(_) => Err("it exists".into()),
            },
        );
    }

    /// The failure path of a SealedSecret that cannot be opened (C13, C17, C18, C22): error
    /// event and status, every retry spent (upstream `processNextItem`), and no Secret.
    pub fn assert_cannot_unseal(&self, ns: &str, name: &str) {
        self.assert_cannot_unseal_with(ns, name, NO_KEY);
    }

    /// [`Self::assert_cannot_unseal`] with this condition message (upstream's, then our rename
    /// diagnosis when the template names another place; docs/operations.md).
    pub fn assert_cannot_unseal_with(&self, ns: &str, name: &str, message: &str) {
        let event = self.wait_event(ns, name, "ErrUnsealFailed");
        assert_eq!(event["type"], "Warning");
        assert_eq!(event["message"], format!("Failed to unseal: {message}"));
        assert_eq!(event["source"]["component"], "sealed-secrets");
        let ss = self.wait_synced(ns, name, "False");
        assert_eq!(synced(&ss).unwrap()["message"], message);
        assert_eq!(ss["status"]["observedGeneration"], 1);
        self.wait_event_count(ns, name, "ErrUnsealFailed", 1 + MAX_UNSEAL_RETRIES);
        assert!(
            self.get("secret", ns, name).is_none(),
            "Secret {ns}/{name} was created"
        );
    }

    /// Ends the case: the controller log from the start of the case holds no plaintext of it and
    /// no private key.
    pub fn finish(self) {
        let keys = private_key_material(self.c);
        assert_log_clean(&self.log, self.log_start, &self.plaintexts, &keys);
    }
}

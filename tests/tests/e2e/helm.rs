//! The Helm chart (deploy/helm/sealed-secrets-rs) and the kustomize overlays, with the real helm
//! (scripts/tools.sh helm, v3.22.0) and kubectl.
//!
//! Offline: `helm lint`, `helm template` against golden outputs (tests/fixtures/helm; rewrite them
//! with `UPDATE_GOLDEN=1`), the chart against deploy/base (same objects, same rights), every
//! overlay rendered by `kubectl kustomize`.
//!
//! On the suite's control plane (started without a controller): `helm install`, `helm upgrade`,
//! `helm uninstall`, `helm upgrade` from a release of upstream's chart, and `kubectl apply -k` of each overlay. The harness has no kubelet, so a
//! Deployment never gets pods of its own: each case reads the Deployment the API server holds and
//! runs our controller in the harness pod with exactly that Deployment's arguments, environment,
//! user and ServiceAccount (the install's RBAC is what the controller runs under; the harness only
//! mints the ServiceAccount token, as a kubelet would). The cases share kube-system, so the
//! suite runs them one at a time, each starting from a kube-system with no installation in it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

use crate::Test;
use crate::case::{Case, throughout};
use e2e::{
    Cluster, K8S_PRIMARY, cache_dir, ours, output_ok, random_hex, stderr, stdout, wait_for,
    workspace_root,
};

pub fn tests() -> Vec<Test> {
    e2e_tests![
        unit: chart_ships_the_generated_crd, chart_ships_the_prometheus_rules;
        ignored:
            helm_lint_passes,
            helm_template_matches_the_golden_outputs,
            chart_binds_only_roles_it_renders,
            chart_refuses_leader_election_without_its_role,
            chart_renders_the_objects_of_the_kustomize_base,
            chart_ha_values_render_the_ha_overlay,
            overlays_render;
        cluster:
            helm_install_upgrade_uninstall,
            helm_upgrade_from_upstreams_chart,
            namespace_restricted_overlay_unseals_only_its_namespaces,
            helm_namespaced_roles_unseal_only_their_namespaces,
            ha_overlay_elects_a_leader,
    ]
    .to_vec()
}

/// The Helm release every case installs (`helm install sealed-secrets ... -n kube-system`).
const RELEASE: &str = "sealed-secrets";
const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

/// The helm of scripts/tools.sh (`HELM_BIN` overrides it).
pub fn helm_bin() -> PathBuf {
    let path = std::env::var_os("HELM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("helm-v3.22.0/bin/helm"));
    assert!(
        path.exists(),
        "{} not found (set HELM_BIN; `scripts/tools.sh helm` builds it)",
        path.display()
    );
    path
}

/// kubectl for the offline tests (a cluster's own is [`Cluster::kubectl`]).
fn kubectl_bin() -> PathBuf {
    let path = cache_dir().join(format!("kubernetes-{K8S_PRIMARY}/bin/kubectl"));
    assert!(
        path.exists(),
        "{} not found (`scripts/tools.sh all` builds it)",
        path.display()
    );
    path
}

pub fn chart_dir() -> PathBuf {
    workspace_root().join("deploy/helm/sealed-secrets-rs")
}

fn helm_fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/helm").join(name)
}

/// Runs helm with its cache, config and data in `home` (never the user's), against `kubeconfig`
/// when given.
fn helm(home: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(helm_bin());
    cmd.args(args)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("HELM_NAMESPACE")
        .env_remove("HELM_KUBECONTEXT");
    match kubeconfig {
        Some(k) => cmd.env("KUBECONFIG", k),
        None => cmd.env("KUBECONFIG", home.join("no-cluster")),
    };
    cmd.output()
        .unwrap_or_else(|e| panic!("run helm {args:?}: {e}"))
}

fn helm_ok(home: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> String {
    let out = helm(home, kubeconfig, args);
    assert!(
        out.status.success(),
        "helm {args:?} failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The arguments naming the release: fullnameOverride=sealed-secrets-controller.
const FULLNAME: [&str; 2] = ["--set-string", "fullnameOverride=sealed-secrets-controller"];

/// `<verb> sealed-secrets <chart> --namespace kube-system <extra>` (helm install, upgrade).
fn release_cmd<'a>(verb: &'a str, chart: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        verb,
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        "kube-system",
    ];
    args.extend_from_slice(extra);
    args
}

/// `helm template sealed-secrets <chart> -n kube-system [-f values] [extra]`.
fn template(home: &Path, values: Option<&Path>, extra: &[&str]) -> String {
    let chart = chart_dir();
    let mut args = vec![
        "template",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        "kube-system",
    ];
    let values_text;
    if let Some(v) = values {
        values_text = v.to_str().unwrap().to_string();
        args.extend(["--values", values_text.as_str()]);
    }
    args.extend_from_slice(extra);
    helm_ok(home, None, &args)
}

fn documents(yaml: &str) -> Vec<Value> {
    goyaml::parse_documents(yaml.as_bytes()).unwrap_or_else(|e| panic!("rendered YAML: {e}"))
}

/// `kubectl kustomize <dir>`, parsed.
pub fn kustomize(dir: &Path) -> Vec<Value> {
    let out = output_ok(Command::new(kubectl_bin()).arg("kustomize").arg(dir));
    documents(&stdout(&out))
}

/// (kind, namespace, name) of every object.
fn identities(docs: &[Value]) -> BTreeSet<(String, String, String)> {
    docs.iter()
        .map(|d| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&d["kind"]),
                s(&d["metadata"]["namespace"]),
                s(&d["metadata"]["name"]),
            )
        })
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, ns: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| {
            d["kind"] == kind
                && d["metadata"]["name"] == name
                && d["metadata"]["namespace"].as_str().unwrap_or_default() == ns
        })
        .unwrap_or_else(|| panic!("no {kind} {ns}/{name} rendered"))
}

/// The value sets with golden outputs: tests/fixtures/helm/values/<name>.yaml.
const VALUE_SETS: &[&str] = &[
    "default",
    "fullname",
    "ha",
    "namespace-restricted",
    "namespaced-roles-only",
    "metrics",
    "pdb-max-unavailable",
];

fn chart_ships_the_generated_crd() {
    let generated = std::fs::read(workspace_root().join("crds/sealedsecret.yaml")).unwrap();
    let shipped = std::fs::read(chart_dir().join("crds/sealedsecret.yaml")).unwrap_or_default();
    assert!(
        generated == shipped,
        "deploy/helm/sealed-secrets-rs/crds/sealedsecret.yaml differs from crds/sealedsecret.yaml \
         (after `make crds`: cp crds/sealedsecret.yaml deploy/helm/sealed-secrets-rs/crds/)"
    );
}

/// The chart's `metrics.prometheusRule` renders deploy/prometheus/rules.yaml, the file promtool
/// checks and tests (suite observe), from its own copy (Helm reads files inside the chart only).
fn chart_ships_the_prometheus_rules() {
    let rules = std::fs::read(workspace_root().join("deploy/prometheus/rules.yaml")).unwrap();
    let shipped =
        std::fs::read(chart_dir().join("files/prometheus-rules.yaml")).unwrap_or_default();
    assert!(
        rules == shipped,
        "deploy/helm/sealed-secrets-rs/files/prometheus-rules.yaml differs from \
         deploy/prometheus/rules.yaml (cp deploy/prometheus/rules.yaml \
         deploy/helm/sealed-secrets-rs/files/prometheus-rules.yaml)"
    );
}

fn helm_lint_passes() {
    let home = tempfile::tempdir().unwrap();
    let chart = chart_dir();
    let out = helm_ok(
        home.path(),
        None,
        &["lint", "--strict", chart.to_str().unwrap()],
    );
    assert!(
        out.contains("1 chart(s) linted, 0 chart(s) failed"),
        "{out}"
    );
    for set in VALUE_SETS {
        let values = helm_fixture(&format!("values/{set}.yaml"));
        let out = helm_ok(
            home.path(),
            None,
            &[
                "lint",
                "--strict",
                chart.to_str().unwrap(),
                "--values",
                values.to_str().unwrap(),
            ],
        );
        assert!(out.contains("0 chart(s) failed"), "{set}: {out}");
    }
}

fn helm_template_matches_the_golden_outputs() {
    let home = tempfile::tempdir().unwrap();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for set in VALUE_SETS {
        let values = helm_fixture(&format!("values/{set}.yaml"));
        let rendered = template(home.path(), Some(&values), &[]);
        // Every document parses (helm would also print YAML a cluster rejects).
        let docs = documents(&rendered);
        assert!(!docs.is_empty(), "{set}: nothing rendered");
        // The API server rejects a PodDisruptionBudget with both.
        for pdb in docs.iter().filter(|d| d["kind"] == "PodDisruptionBudget") {
            assert!(
                pdb["spec"].get("minAvailable").is_none()
                    || pdb["spec"].get("maxUnavailable").is_none(),
                "{set}: PodDisruptionBudget with minAvailable and maxUnavailable"
            );
        }
        let golden = helm_fixture(&format!("golden/{set}.yaml"));
        if update {
            std::fs::write(&golden, &rendered).unwrap();
        }
        if std::fs::read_to_string(&golden).unwrap_or_default() != rendered {
            stale.push(*set);
        }
    }
    assert!(
        stale.is_empty(),
        "helm template differs from tests/fixtures/helm/golden/ for {stale:?} (UPDATE_GOLDEN=1 \
         rewrites them; review the diff)"
    );
}

/// Every RoleBinding and ClusterRoleBinding the chart renders points at a role the same release
/// renders, and exactly one kind of role (the ClusterRole or the namespaced Roles) grants the
/// unsealer's rights: for each value set and the RBAC switches users flip by hand
/// (rbac.clusterRole=false alone renders neither: the user brings the unsealer's rights).
fn chart_binds_only_roles_it_renders() {
    let home = tempfile::tempdir().unwrap();
    let mut renders = Vec::new();
    for set in VALUE_SETS {
        let values = helm_fixture(&format!("values/{set}.yaml"));
        renders.push((
            set.to_string(),
            template(home.path(), Some(&values), &[]),
            true,
        ));
    }
    for (extra, unsealer) in [
        (&["--set", "rbac.clusterRole=false"][..], false),
        (&["--set", "rbac.namespacedRoles=true"][..], true),
        (
            &["--set", "rbac.clusterRole=false,rbac.namespacedRoles=true"][..],
            true,
        ),
    ] {
        renders.push((
            format!("{extra:?}"),
            template(home.path(), None, extra),
            unsealer,
        ));
    }
    for (name, rendered, unsealer) in renders {
        let docs = documents(&rendered);
        let of_kind = |kind: &str| {
            docs.iter()
                .filter(|d| d["kind"] == kind)
                .collect::<Vec<_>>()
        };
        for binding in of_kind("RoleBinding")
            .into_iter()
            .chain(of_kind("ClusterRoleBinding"))
        {
            let kind = binding["roleRef"]["kind"].as_str().unwrap();
            let role = binding["roleRef"]["name"].as_str().unwrap();
            let ns = binding["metadata"]["namespace"].as_str().unwrap_or("");
            let ns = if kind == "ClusterRole" { "" } else { ns };
            assert!(
                docs.iter().any(|d| d["kind"] == kind
                    && d["metadata"]["name"] == role
                    && d["metadata"]["namespace"].as_str().unwrap_or("") == ns),
                "{name}: {} {} binds {kind} {ns}/{role}, which the chart does not render",
                binding["kind"],
                binding["metadata"]["name"]
            );
        }
        let unseals = |d: &Value| {
            d["rules"].as_array().is_some_and(|rules| {
                rules.iter().any(|r| {
                    r["resources"] == json!(["sealedsecrets"])
                        && r["verbs"].as_array().unwrap().contains(&json!("list"))
                })
            })
        };
        let cluster_wide = of_kind("ClusterRole").into_iter().any(&unseals);
        let namespaced = of_kind("Role").into_iter().filter(|d| unseals(d)).count();
        assert_eq!(
            cluster_wide || namespaced > 0,
            unsealer,
            "{name}: the unsealer's rights rendered (ClusterRole {cluster_wide}, Roles {namespaced})"
        );
        assert!(
            !(cluster_wide && namespaced > 0),
            "{name}: both the ClusterRole and namespaced Roles rendered"
        );
    }
}

/// More than one replica (or leader election asked for) without the Lease Role is refused: every
/// replica would act as the leader.
fn chart_refuses_leader_election_without_its_role() {
    let home = tempfile::tempdir().unwrap();
    let chart = chart_dir();
    for set in ["replicas=2", "leaderElection.enabled=true"] {
        let values = format!("{set},rbac.leaderElection=false");
        let out = helm(
            home.path(),
            None,
            &[
                "template",
                RELEASE,
                chart.to_str().unwrap(),
                "--set",
                &values,
            ],
        );
        assert!(!out.status.success(), "{values}: rendered");
        assert!(
            stderr(&out).contains("rbac.leaderElection=false renders no Lease Role"),
            "{values}: {}",
            stderr(&out)
        );
    }
    // Bring-your-own RBAC (rbac.create=false) is the user's business.
    template(
        home.path(),
        None,
        &[
            "--set",
            "replicas=2,rbac.leaderElection=false,rbac.create=false",
        ],
    );
}

/// The chart rendered with value set `values` (CRD included) and the kustomization `dir`, which
/// must hold the same objects.
fn chart_and_kustomization(values: &str, dir: &str) -> (Vec<Value>, Vec<Value>) {
    let home = tempfile::tempdir().unwrap();
    let chart = documents(&template(
        home.path(),
        Some(&helm_fixture(&format!("values/{values}.yaml"))),
        &["--include-crds"],
    ));
    let kustomized = kustomize(&workspace_root().join(dir));
    assert_eq!(
        identities(&chart),
        identities(&kustomized),
        "{values} vs {dir}"
    );
    (chart, kustomized)
}

/// With fullnameOverride=sealed-secrets-controller in kube-system the chart renders exactly the
/// objects of `kubectl kustomize deploy/base`, with the same RBAC rules, bindings, Service ports
/// and pod security settings.
fn chart_renders_the_objects_of_the_kustomize_base() {
    let (chart, base) = chart_and_kustomization("fullname", "deploy/base");
    for b in &base {
        let kind = b["kind"].as_str().unwrap();
        let ns = b["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = b["metadata"]["name"].as_str().unwrap();
        let c = find(&chart, kind, ns, name);
        let what = format!("{kind} {ns}/{name}");
        match kind {
            "ClusterRole" | "Role" => assert_eq!(c["rules"], b["rules"], "{what}: rules"),
            "ClusterRoleBinding" | "RoleBinding" => {
                assert_eq!(c["roleRef"], b["roleRef"], "{what}: roleRef");
                assert_eq!(c["subjects"], b["subjects"], "{what}: subjects");
            }
            "Service" => {
                assert_eq!(c["spec"]["ports"], b["spec"]["ports"], "{what}: ports");
                assert_eq!(c["spec"]["type"], b["spec"]["type"], "{what}: type");
            }
            "CustomResourceDefinition" => assert_eq!(c, b, "{what}"),
            "Deployment" => {
                let (cs, bs) = (
                    &c["spec"]["template"]["spec"],
                    &b["spec"]["template"]["spec"],
                );
                for field in ["securityContext", "serviceAccountName", "volumes"] {
                    assert_eq!(cs[field], bs[field], "{what}: {field}");
                }
                assert_eq!(
                    c["spec"]["replicas"], b["spec"]["replicas"],
                    "{what}: replicas"
                );
                let (cc, bc) = (&cs["containers"][0], &bs["containers"][0]);
                for field in [
                    "command",
                    "securityContext",
                    "livenessProbe",
                    "readinessProbe",
                    "volumeMounts",
                    "env",
                ] {
                    assert_eq!(cc[field], bc[field], "{what}: container {field}");
                }
                let ports = |c: &Value| {
                    c["ports"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| (p["name"].clone(), p["containerPort"].clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(ports(cc), ports(bc), "{what}: container ports");
            }
            "ServiceAccount" => {}
            other => panic!("{what}: the comparison does not know kind {other}"),
        }
    }
}

/// tests/fixtures/helm/values/ha.yaml renders what deploy/overlays/ha does: the same objects, and
/// the same replicas, rollout, arguments, environment, readiness, spread and disruption budget
/// (the spread's label selector is each install's own pod labels).
fn chart_ha_values_render_the_ha_overlay() {
    let (chart, overlay) = chart_and_kustomization("ha", "deploy/overlays/ha");
    let name = "sealed-secrets-controller";
    let (c, o) = (
        find(&chart, "Deployment", "kube-system", name),
        find(&overlay, "Deployment", "kube-system", name),
    );
    for field in ["replicas", "strategy"] {
        assert_eq!(c["spec"][field], o["spec"][field], "{field}");
    }
    let (cs, os) = (
        &c["spec"]["template"]["spec"],
        &o["spec"]["template"]["spec"],
    );
    assert_eq!(
        cs["terminationGracePeriodSeconds"],
        os["terminationGracePeriodSeconds"]
    );
    let spread = |s: &Value| {
        s["topologySpreadConstraints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                assert!(t["labelSelector"]["matchLabels"].is_object(), "{t}");
                let mut t = t.clone();
                t.as_object_mut().unwrap().remove("labelSelector");
                t
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(spread(cs), spread(os), "topologySpreadConstraints");
    let (cc, oc) = (&cs["containers"][0], &os["containers"][0]);
    // (a strategic merge patch puts the overlay's variable first; the order does not matter)
    let env = |c: &Value| {
        let mut e = c["env"].as_array().unwrap().clone();
        e.sort_by_key(|v| v["name"].as_str().unwrap().to_string());
        e
    };
    assert_eq!(env(cc), env(oc), "env");
    assert_eq!(cc["readinessProbe"], oc["readinessProbe"], "readinessProbe");
    let args = cc["args"].as_array().unwrap();
    for a in oc["args"].as_array().unwrap() {
        assert!(args.contains(a), "{a} not in the chart's {args:?}");
    }
    assert_eq!(
        find(&chart, "PodDisruptionBudget", "kube-system", name)["spec"]["minAvailable"],
        find(&overlay, "PodDisruptionBudget", "kube-system", name)["spec"]["minAvailable"],
    );
}

/// Every overlay renders, and says what it is for.
fn overlays_render() {
    let root = workspace_root();
    let base = kustomize(&root.join("deploy/base"));
    let unsealer = &find(&base, "ClusterRole", "", "secrets-unsealer")["rules"];

    let top = kustomize(&root.join("deploy"));
    assert_eq!(identities(&top), identities(&base), "deploy/ is the base");

    let ha = kustomize(&root.join("deploy/overlays/ha"));
    let d = find(
        &ha,
        "Deployment",
        "kube-system",
        "sealed-secrets-controller",
    );
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["--leader-elect"])
    );
    assert_eq!(
        find(
            &ha,
            "PodDisruptionBudget",
            "kube-system",
            "sealed-secrets-controller"
        )["spec"]["minAvailable"],
        2
    );

    let restricted = kustomize(&root.join("deploy/overlays/namespace-restricted"));
    for d in &restricted {
        assert!(
            !["ClusterRole", "ClusterRoleBinding"].contains(&d["kind"].as_str().unwrap()),
            "namespace-restricted renders a {}",
            d["kind"]
        );
    }
    for ns in ["kube-system", "team-a"] {
        let rules = find(&restricted, "Role", ns, "secrets-unsealer")["rules"]
            .as_array()
            .unwrap()
            .clone();
        // The ClusterRole's rules, `get` on namespaces limited to this one.
        let mut want = unsealer.as_array().unwrap().clone();
        let last = want.last_mut().unwrap();
        assert_eq!(last["resources"], json!(["namespaces"]));
        last["resourceNames"] = json!([ns]);
        let canon = |rules: &[Value]| {
            rules
                .iter()
                .map(|r| {
                    let mut m: BTreeMap<String, Value> = BTreeMap::new();
                    for (k, v) in r.as_object().unwrap() {
                        m.insert(k.clone(), v.clone());
                    }
                    serde_json::to_string(&m).unwrap()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(canon(&rules), canon(&want), "Role {ns}/secrets-unsealer");
        let b = find(&restricted, "RoleBinding", ns, "secrets-unsealer");
        assert_eq!(
            b["subjects"],
            json!([{"kind": "ServiceAccount", "name": "sealed-secrets-controller", "namespace": "kube-system"}])
        );
    }
    let d = find(
        &restricted,
        "Deployment",
        "kube-system",
        "sealed-secrets-controller",
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["--additional-namespaces=team-a"])
    );

    for env in ["dev", "prod"] {
        let docs = kustomize(&root.join(format!("examples/gitops/apps/overlays/{env}")));
        let secret = format!("{env}-web-secrets");
        let ss = find(&docs, "SealedSecret", env, &secret);
        assert_eq!(
            ss["metadata"]["annotations"]["sealedsecrets.bitnami.com/namespace-wide"],
            "true"
        );
        let d = find(&docs, "Deployment", env, &format!("{env}-web"));
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["envFrom"][0]["secretRef"]["name"], secret.as_str());
        assert_eq!(
            c["env"][0]["valueFrom"]["secretKeyRef"]["name"],
            secret.as_str()
        );
        assert!(
            c["image"]
                .as_str()
                .unwrap()
                .starts_with("registry.example.com/team/web:"),
            "{}",
            c["image"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// On the control plane

/// A scratch dir: helm's home and the files of a case.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn user_kubeconfig(c: &Cluster) -> PathBuf {
    PathBuf::from(c.var("SSRS_USER_KUBECONFIG"))
}

/// kube-system without any installation: the harness's (upstream's manifests, installed by `up`),
/// a Helm release or an overlay of an earlier case are removed, CRD included, and no controller
/// runs. Key Secrets stay (a reinstall keeps its keys).
fn clean_install(c: &Cluster, scratch: &Scratch) {
    c.script(&["stop-controller"]);
    let kubeconfig = c.kubeconfig.clone();
    if helm(
        scratch.path(),
        Some(&kubeconfig),
        &["status", RELEASE, "-n", "kube-system"],
    )
    .status
    .success()
    {
        helm_ok(
            scratch.path(),
            Some(&kubeconfig),
            &["uninstall", RELEASE, "-n", "kube-system", "--wait"],
        );
    }
    let root = workspace_root();
    for dir in [
        "scripts/cluster/manifests",
        "deploy/overlays/ha",
        "deploy/overlays/namespace-restricted",
    ] {
        let out = c.kubectl(
            &[
                "delete",
                "-k",
                root.join(dir).to_str().unwrap(),
                "--ignore-not-found",
                "--wait",
            ],
            b"",
        );
        // team-a may not exist: the Role in it is then gone anyway.
        assert!(
            out.status.success() || stderr(&out).contains("namespaces \"team-a\" not found"),
            "kubectl delete -k {dir}: {}",
            stderr(&out)
        );
    }
    c.kubectl_ok(
        &[
            "delete",
            "crd",
            "sealedsecrets.bitnami.com",
            "--ignore-not-found",
            "--wait",
        ],
        b"",
    );
}

/// Runs our controller in the harness pod as the kubelet would run the installed Deployment
/// `sealed-secrets-controller`'s pod: its arguments, its environment (field references resolved
/// for the harness pod), its user and group, its ServiceAccount. `start` is `start-controller` or
/// `restart-controller`.
/// Returns the arguments.
fn run_as_deployed(c: &Cluster, start: &str) -> Vec<String> {
    run_as_deployed_by(c, start, "ours")
}

/// As [`run_as_deployed`], with `controller` (`ours` or `upstream`, scripts/cluster.sh's
/// `--controller`) as the container's binary.
fn run_as_deployed_by(c: &Cluster, start: &str, controller: &str) -> Vec<String> {
    let d = c
        .get_json("deployment", &c.controller_namespace, &c.controller_name)
        .expect("the installed Deployment");
    let spec = &d["spec"]["template"]["spec"];
    assert_eq!(
        spec["serviceAccountName"], c.controller_name,
        "the harness mints tokens for ServiceAccount {}",
        c.controller_name
    );
    let containers = spec["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "one container");
    let ctr = &containers[0];
    assert_eq!(ctr["command"], json!(["controller"]), "the image's binary");
    let args: Vec<String> = ctr["args"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    let mut env = Vec::new();
    for e in ctr["env"].as_array().cloned().unwrap_or_default() {
        let name = e["name"].as_str().unwrap();
        if let Some(v) = e["value"].as_str() {
            assert!(!v.contains(char::is_whitespace), "env {name}: {v:?}");
            env.push(format!("{name}={v}"));
            continue;
        }
        match e["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
            // The harness sets POD_NAMESPACE to the pod's namespace, the Deployment's.
            Some("metadata.namespace") => assert_eq!(name, "POD_NAMESPACE"),
            Some("metadata.name") => env.push(format!("{name}={}", c.var("SSRS_POD_NAME"))),
            _ => panic!("env {name}: {e} is not something the harness can resolve"),
        }
    }
    let user = format!(
        "{}:{}",
        ctr["securityContext"]["runAsUser"], spec["securityContext"]["fsGroup"]
    );
    assert_eq!(user, "1001:65534", "the pod's user and group");
    let mut script = vec![start, "--controller", controller, "--"];
    script.extend(args.iter().map(String::as_str));
    c.script_with(
        &script,
        &[("CONTROLLER_ENV", &env.join(" ")), ("POD_USER", &user)],
    );
    args
}

/// A Secret (two keys) sealed by `kubeseal` through the service proxy as an ordinary user, applied.
fn seal_and_apply(
    c: &Cluster,
    kubeseal: &Path,
    ns: &str,
    name: &str,
    pairs: &[(&str, &str)],
) -> Value {
    let mut args = vec![
        "create".to_string(),
        "secret".into(),
        "generic".into(),
        name.into(),
        "-n".into(),
        ns.into(),
        "--dry-run=client".into(),
        "-o".into(),
        "json".into(),
    ];
    for (k, v) in pairs {
        args.push(format!("--from-literal={k}={v}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let secret = c.kubectl_ok(&args, b"");
    let user = user_kubeconfig(c);
    let out = c.run(
        kubeseal,
        &["-o", "json"],
        secret.as_bytes(),
        &[("KUBECONFIG", user.as_path())],
    );
    assert!(
        out.status.success(),
        "{} sealing {ns}/{name}: {}",
        kubeseal.display(),
        stderr(&out)
    );
    c.kubectl_ok(&["apply", "-f", "-"], &out.stdout);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn key_secret_names(c: &Cluster) -> Vec<String> {
    c.key_secrets(KEY_LABEL)
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// The controller's certificate, fetched now by our kubeseal as an ordinary user (the service-proxier
/// Role lets every authenticated user).
pub fn fetch_cert(c: &Cluster) -> Vec<u8> {
    let user = user_kubeconfig(c);
    let out = c.run(
        &ours(),
        &["--fetch-cert"],
        b"",
        &[("KUBECONFIG", user.as_path())],
    );
    assert!(out.status.success(), "--fetch-cert: {}", stderr(&out));
    out.stdout
}

/// `helm install` with fullnameOverride=sealed-secrets-controller, then our kubeseal and
/// upstream's seal through it; `helm upgrade` changes a value and the keys survive;
/// `helm uninstall` removes the release and leaves the keys, the CRD and the SealedSecrets, as with
/// upstream's chart (the controller creates the keys; Helm 3 never deletes a chart's crds/).
fn helm_install_upgrade_uninstall(c: &Cluster) {
    let scratch = Scratch::new();
    clean_install(c, &scratch);
    let kubeconfig = c.kubeconfig.clone();
    let chart = chart_dir();
    let h = |args: &[&str]| helm_ok(scratch.path(), Some(&kubeconfig), args);
    let installed = h(&release_cmd("install", &chart, &FULLNAME));
    // NOTES.txt: kubeseal needs no --controller-* flags for this install; back the keys up.
    assert!(
        installed.contains("kubeseal's defaults already name this controller")
            && installed.contains(
                "kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml"
            ),
        "{installed}"
    );
    assert!(!installed.contains("WARNING"), "{installed}");
    // The PrometheusRule without the ServiceMonitor: NOTES.txt warns that the controller-down
    // alert fires unless something else scrapes the controller. A client-side dry run whose
    // post-renderer drops the PrometheusRule document: this control plane has no Prometheus
    // Operator CRDs, and helm maps every rendered object to an API resource even then.
    let drop_rule = scratch.path().join("drop-prometheusrule");
    std::fs::write(
        &drop_rule,
        "#!/bin/sh\nexec awk 'BEGIN { RS = \"\\n---\\n\"; ORS = \"\\n---\\n\" } \
         !/\\nkind: PrometheusRule\\n/'\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &drop_rule,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let notes = h(&release_cmd(
        "upgrade",
        &chart,
        &[
            "--reuse-values",
            "--dry-run=client",
            "--post-renderer",
            drop_rule.to_str().unwrap(),
            "--set",
            "metrics.prometheusRule.enabled=true",
        ],
    ));
    assert!(
        notes.contains(
            "WARNING: metrics.prometheusRule.enabled without metrics.serviceMonitor.enabled"
        ) && notes.contains("SealedSecretsControllerDown"),
        "{notes}"
    );

    // What the API server holds: the chart's CRD and objects, named as deploy/base names them.
    let crd = c
        .get_json("crd", "", "sealedsecrets.bitnami.com")
        .expect("the CRD from the chart's crds/");
    let generated = documents(
        &std::fs::read_to_string(workspace_root().join("crds/sealedsecret.yaml")).unwrap(),
    );
    assert_eq!(crd["spec"]["versions"], generated[0]["spec"]["versions"]);
    for (kind, ns, name) in [
        ("deployment", "kube-system", "sealed-secrets-controller"),
        ("service", "kube-system", "sealed-secrets-controller"),
        (
            "service",
            "kube-system",
            "sealed-secrets-controller-metrics",
        ),
        ("serviceaccount", "kube-system", "sealed-secrets-controller"),
        ("clusterrole", "", "secrets-unsealer"),
        ("clusterrolebinding", "", "sealed-secrets-controller"),
        ("role", "kube-system", "sealed-secrets-key-admin"),
        ("role", "kube-system", "sealed-secrets-service-proxier"),
        ("role", "kube-system", "sealed-secrets-leader-election"),
    ] {
        let obj = c
            .get_json(kind, ns, name)
            .unwrap_or_else(|| panic!("{kind} {ns}/{name} not installed"));
        assert_eq!(
            obj["metadata"]["annotations"]["meta.helm.sh/release-name"], RELEASE,
            "{kind} {ns}/{name}"
        );
    }

    let args = run_as_deployed(c, "start-controller");
    assert!(args.contains(&"--update-status".to_string()), "{args:?}");
    let keys = key_secret_names(c);
    assert_eq!(keys.len(), 1, "one key made at the first start: {keys:?}");
    let cert = fetch_cert(c);

    let mut case = Case::new(c, "helm");
    let ns = case.ns.clone();
    let p = [
        case.plaintext("ours"),
        case.plaintext("upstream"),
        case.plaintext("after"),
    ];
    let ours_pairs = [("user", "helm-ours"), ("password", p[0].as_str())];
    seal_and_apply(c, &ours(), &ns, "by-ours", &ours_pairs);
    case.wait_secret(&ns, "by-ours", &ours_pairs);
    let upstream_pairs = [("user", "helm-upstream"), ("password", p[1].as_str())];
    seal_and_apply(c, &c.upstream_kubeseal, &ns, "by-upstream", &upstream_pairs);
    case.wait_secret(&ns, "by-upstream", &upstream_pairs);

    // helm upgrade: a changed value reaches the Deployment; the controller restarted with it keeps
    // the key (no new one: renewal is off now) and still unseals.
    h(&release_cmd(
        "upgrade",
        &chart,
        &[
            "--reuse-values",
            "--set-string",
            "keyrenewperiod=0",
            "--set-string",
            "rateLimit=5",
        ],
    ));
    let history = h(&["history", RELEASE, "-n", "kube-system", "-o", "json"]);
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    let args = run_as_deployed(c, "restart-controller");
    let pos = args
        .iter()
        .position(|a| a == "--key-renew-period")
        .unwrap_or_else(|| panic!("no --key-renew-period in {args:?}"));
    assert_eq!(args[pos + 1], "0");
    assert!(
        args.windows(2).any(|w| w == ["--rate-limit", "5"]),
        "{args:?}"
    );
    assert_eq!(key_secret_names(c), keys, "the keys after the upgrade");
    assert!(fetch_cert(c) == cert, "the same sealing certificate");
    let after = [("user", "after-upgrade"), ("password", p[2].as_str())];
    seal_and_apply(c, &ours(), &ns, "after-upgrade", &after);
    case.wait_secret(&ns, "after-upgrade", &after);

    // helm uninstall: the release's objects go; keys, CRD, SealedSecrets and Secrets stay.
    h(&["uninstall", RELEASE, "--namespace", "kube-system", "--wait"]);
    c.script(&["stop-controller"]);
    for (kind, ns, name) in [
        ("deployment", "kube-system", "sealed-secrets-controller"),
        ("service", "kube-system", "sealed-secrets-controller"),
        ("clusterrole", "", "secrets-unsealer"),
        ("role", "kube-system", "sealed-secrets-key-admin"),
    ] {
        assert!(
            c.get_json(kind, ns, name).is_none(),
            "{kind} {ns}/{name} left after helm uninstall"
        );
    }
    assert_eq!(key_secret_names(c), keys, "the keys after helm uninstall");
    assert!(c.get_json("crd", "", "sealedsecrets.bitnami.com").is_some());
    for name in ["by-ours", "by-upstream", "after-upgrade"] {
        assert!(c.get_json("sealedsecret", &ns, name).is_some(), "{name}");
        assert!(c.get_json("secret", &ns, name).is_some(), "{name}");
    }
    case.finish();
}

/// `kubectl apply -k <dir>` (a kustomization of this repository), until its CRD is Established.
/// Upstream's chart (helm/sealed-secrets of the module of the cluster's upstream release).
fn upstream_chart(version: &str) -> PathBuf {
    let out = Command::new("go")
        .args([
            "mod",
            "download",
            "-json",
            &format!("github.com/bitnami-labs/sealed-secrets@{version}"),
        ])
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "go mod download: {}", stderr(&out));
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    PathBuf::from(info["Dir"].as_str().unwrap()).join("helm/sealed-secrets")
}

/// docs/install.md's migration: a release of upstream's chart (fullnameOverride
/// sealed-secrets-controller, upstream's controller run as its Deployment says) is upgraded in
/// place to this chart; our controller, run with the upgraded Deployment's arguments under the
/// upgraded RBAC, keeps the keys and the certificate, still unseals what upstream's unsealed and
/// unseals new SealedSecrets; upstream's Role names are gone, ours are there.
fn helm_upgrade_from_upstreams_chart(c: &Cluster) {
    let scratch = Scratch::new();
    clean_install(c, &scratch);
    let kubeconfig = c.kubeconfig.clone();
    let h = |args: &[&str]| helm_ok(scratch.path(), Some(&kubeconfig), args);
    let theirs = upstream_chart(&c.upstream_version);
    h(&release_cmd("install", &theirs, &FULLNAME));
    assert!(
        c.get_json("role", "kube-system", "sealed-secrets-controller-key-admin")
            .is_some(),
        "upstream's chart names its Role <fullname>-key-admin"
    );
    run_as_deployed_by(c, "start-controller", "upstream");
    let keys = key_secret_names(c);
    assert!(!keys.is_empty(), "upstream's controller has a key");
    let cert = fetch_cert(c);
    let mut case = Case::new(c, "helm-from-upstream");
    let ns = case.ns.clone();
    let p = [case.plaintext("before"), case.plaintext("after")];
    let before = [("user", "before-upgrade"), ("password", p[0].as_str())];
    seal_and_apply(c, &c.upstream_kubeseal, &ns, "before-upgrade", &before);
    case.wait_secret(&ns, "before-upgrade", &before);

    // helm upgrade to this chart: the values are this chart's defaults plus the same override.
    let chart = chart_dir();
    h(&release_cmd("upgrade", &chart, &FULLNAME));
    for (kind, name, present) in [
        ("role", "sealed-secrets-controller-key-admin", false),
        ("role", "sealed-secrets-controller-service-proxier", false),
        ("role", "sealed-secrets-key-admin", true),
        ("role", "sealed-secrets-service-proxier", true),
        ("role", "sealed-secrets-leader-election", true),
    ] {
        assert_eq!(
            c.get_json(kind, "kube-system", name).is_some(),
            present,
            "{kind} kube-system/{name} after the upgrade"
        );
    }
    let args = run_as_deployed(c, "restart-controller");
    assert!(args.contains(&"--update-status".to_string()), "{args:?}");
    assert_eq!(key_secret_names(c), keys, "the keys after the upgrade");
    assert!(fetch_cert(c) == cert, "the same sealing certificate");
    case.wait_secret(&ns, "before-upgrade", &before);
    let after = [("user", "after-upgrade"), ("password", p[1].as_str())];
    seal_and_apply(c, &ours(), &ns, "after-upgrade", &after);
    case.wait_secret(&ns, "after-upgrade", &after);
    h(&["uninstall", RELEASE, "--namespace", "kube-system", "--wait"]);
    c.script(&["stop-controller"]);
    case.finish();
}

fn apply_kustomization(c: &Cluster, dir: &str) {
    let dir = workspace_root().join(dir);
    c.kubectl_ok(&["apply", "-k", dir.to_str().unwrap()], b"");
    c.kubectl_ok(
        &[
            "wait",
            "--for=condition=Established",
            "crd/sealedsecrets.bitnami.com",
        ],
        b"",
    );
}

/// deploy/overlays/namespace-restricted: Roles only; the controller unseals in kube-system and
/// team-a, and nowhere else.
fn namespace_restricted_overlay_unseals_only_its_namespaces(c: &Cluster) {
    restricted_install_unseals_only_its_namespaces(c, |_| {
        apply_kustomization(c, "deploy/overlays/namespace-restricted");
        let args = run_as_deployed(c, "start-controller");
        assert_eq!(args, ["--additional-namespaces=team-a"]);
    });
}

/// The chart with `rbac.namespacedRoles=true` alone (tests/fixtures/helm/values/namespaced-roles-only.yaml,
/// `rbac.clusterRole` left at its default): Roles, no ClusterRole, and the controller unseals
/// in its namespaces with them.
fn helm_namespaced_roles_unseal_only_their_namespaces(c: &Cluster) {
    restricted_install_unseals_only_its_namespaces(c, |scratch| {
        let values = helm_fixture("values/namespaced-roles-only.yaml");
        helm_ok(
            scratch.path(),
            Some(&c.kubeconfig),
            &release_cmd(
                "install",
                &chart_dir(),
                &[&["--values", values.to_str().unwrap()][..], &FULLNAME].concat(),
            ),
        );
        assert!(c.get_json("role", "team-a", "secrets-unsealer").is_some());
        let args = run_as_deployed(c, "start-controller");
        assert!(
            args.windows(2)
                .any(|w| w == ["--additional-namespaces", "team-a"]),
            "{args:?}"
        );
    });
}

/// `install` (given the case's scratch dir) installs a controller restricted to kube-system and
/// team-a and starts it; it then unseals in both and nowhere else.
fn restricted_install_unseals_only_its_namespaces(c: &Cluster, install: impl Fn(&Scratch)) {
    let scratch = Scratch::new();
    clean_install(c, &scratch);
    // An earlier case deletes team-a without waiting: let that finish (no Role in a terminating
    // namespace).
    wait_for(120, "team-a active or gone", || {
        match c.get_json("namespace", "", "team-a") {
            Some(ns) if ns["status"]["phase"] != "Active" => None,
            _ => Some(()),
        }
    });
    let out = c.kubectl(&["create", "namespace", "team-a"], b"");
    assert!(
        out.status.success() || stderr(&out).contains("AlreadyExists"),
        "{}",
        stderr(&out)
    );
    install(&scratch);
    assert!(c.get_json("clusterrole", "", "secrets-unsealer").is_none());
    // Ready only once the controller of team-a runs (it checks the namespace with its Role).
    let url = format!("{}/readyz", c.var("SSRS_CONTROLLER_URL"));
    wait_for(60, "/readyz", || {
        ureq::get(&url).call().ok().filter(|r| r.status() == 200)
    });

    let tag = random_hex(4);
    let mut case = Case::new(c, "outside");
    let password = case.plaintext("restricted");
    let pairs = [("user", "restricted"), ("password", password.as_str())];
    let in_team = format!("in-team-{tag}");
    seal_and_apply(c, &ours(), "team-a", &in_team, &pairs);
    case.wait_secret("team-a", &in_team, &pairs);
    let in_own = format!("in-own-{tag}");
    seal_and_apply(c, &ours(), "kube-system", &in_own, &pairs);
    case.wait_secret("kube-system", &in_own, &pairs);

    let outside = case.ns.clone();
    seal_and_apply(c, &ours(), &outside, "not-here", &pairs);
    throughout(
        "no Secret outside the allowed namespaces",
        Duration::from_secs(5),
        || match c.get_json("secret", &outside, "not-here") {
            None => Ok(()),
            Some(_) => Err("the controller unsealed outside its namespaces".into()),
        },
    );
    let ss = c.get_json("sealedsecret", &outside, "not-here").unwrap();
    assert!(
        ss.get("status").is_none(),
        "status written: {}",
        ss["status"]
    );
    c.script(&["stop-controller"]);
    c.kubectl_ok(&["delete", "namespace", "team-a", "--wait=false"], b"");
    case.finish();
}

/// deploy/overlays/ha applied: one replica here (the ha suite runs three) runs with the overlay's
/// --leader-elect and POD_NAME, takes the Lease under the base's leader-election Role and unseals.
fn ha_overlay_elects_a_leader(c: &Cluster) {
    let scratch = Scratch::new();
    clean_install(c, &scratch);
    apply_kustomization(c, "deploy/overlays/ha");
    assert!(
        c.get_json("pdb", "kube-system", "sealed-secrets-controller")
            .is_some()
    );
    let args = run_as_deployed(c, "start-controller");
    assert_eq!(args, ["--leader-elect"]);
    let pod = c.var("SSRS_POD_NAME").to_string();
    let lease = wait_for(60, "the Lease held by the harness pod", || {
        c.get_json("lease", "kube-system", "sealed-secrets-controller")
            .filter(|l| {
                l["spec"]["holderIdentity"]
                    .as_str()
                    .is_some_and(|h| h.starts_with(&pod))
            })
    });
    assert!(lease["spec"]["leaseDurationSeconds"].as_i64().is_some());
    let mut case = Case::new(c, "ha-overlay");
    let ns = case.ns.clone();
    let password = case.plaintext("ha");
    let pairs = [("user", "ha"), ("password", password.as_str())];
    seal_and_apply(c, &ours(), &ns, "leader", &pairs);
    case.wait_secret(&ns, "leader", &pairs);
    c.script(&["stop-controller"]);
    case.finish();
}

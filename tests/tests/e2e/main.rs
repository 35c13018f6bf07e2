//! Every end-to-end and interoperability suite, in one test binary:
//! `cargo test --workspace --test e2e -- --ignored` (as root: the control planes use network namespaces).
//!
//! A suite that needs a control plane gets one of its own ([`e2e::OwnCluster`]: `scripts/cluster.sh
//! up` in a private state dir), brought up before its first case and torn down after its last,
//! whatever happened; the suites run at the same time, at most `SSRS_E2E_CLUSTERS` control planes
//! at once (default 2), and the cases of a suite on a few threads of their own (each case has its
//! own namespaces). A control plane runs Kubernetes v1.37.2 and upstream v0.40.0
//! ([`e2e::Versions::PRIMARY`]) unless the suite's name says otherwise: `controller@k8s-v1.35.4`
//! is the `controller` suite on Kubernetes v1.35.4, `takeover@upstream-v0.36.6` the takeover of
//! an upstream v0.36.6 installation. libtest can neither share a fixture between tests nor tear
//! one down at the end, hence this small harness (`harness = false`). It takes libtest's arguments: `FILTER...`
//! (a test runs when its `suite::case` name contains one), `--exact`, `--skip FILTER`,
//! `--ignored`, `--include-ignored`, `--list`, `--test-threads N` (at most N cases of a suite at
//! once; 1 also runs the suites one after the other). Output is not captured (`--nocapture`,
//! `--show-output`, `-q`, `--color`, `--format` are accepted and change nothing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The tests are plain functions here, not `#[test]` ones (which clippy exempts): `foo` is the item
// name of upstream's integration scenarios.
#![allow(clippy::disallowed_names)]

/// Tests of a suite: `e2e_tests![cluster: f, g; ignored: h; unit: i]` lists `f` and `g`, which
/// take the suite's [`Cluster`], `h`, which needs none but runs only with `--ignored` (as
/// `#[ignore]`: it needs root or the upstream binaries), and `i`, a plain unit test.
macro_rules! e2e_tests {
    (@cluster $f:ident) => {
        $crate::Test { name: stringify!($f), ignored: true, body: $crate::Body::OnCluster($f) }
    };
    (@ignored $f:ident) => {
        $crate::Test { name: stringify!($f), ignored: true, body: $crate::Body::Plain($f) }
    };
    (@unit $f:ident) => {
        $crate::Test { name: stringify!($f), ignored: false, body: $crate::Body::Plain($f) }
    };
    ($($kind:ident: $($f:ident),+ $(,)?);+ $(;)?) => {
        [$($(e2e_tests!(@$kind $f)),+),+]
    };
}

mod bad_input;
mod case;
mod cluster;
mod controller;
mod diagnosis;
mod drill;
mod endpoints;
mod faults;
mod gc;
mod gitops;
mod ha;
mod helm;
mod interop;
mod keys;
mod observe;
mod reseal;
mod scalars;
mod scale;
mod takeover;
mod templates;

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use e2e::{
    Cluster, K8S_OLDEST, K8S_PRIMARY, OwnCluster, UPSTREAM_PRIMARY, UPSTREAM_SECOND, Versions,
};

/// One test: a function, with the cluster of its suite if it needs one.
#[derive(Clone, Copy)]
pub enum Body {
    Plain(fn()),
    OnCluster(fn(&Cluster)),
    /// Row `n` of a table-driven test: `f(cluster, n)`.
    Row(fn(&Cluster, usize), usize),
}

#[derive(Clone, Copy)]
pub struct Test {
    pub name: &'static str,
    /// Runs only with `--ignored` or `--include-ignored` (as `#[ignore]`).
    pub ignored: bool,
    pub body: Body,
}

pub struct Suite {
    /// `suite[@k8s-<version>][@upstream-<version>]` (see [`suite_versions`]).
    pub name: &'static str,
    /// The controller its control plane starts with (`scripts/cluster.sh up --controller`).
    pub controller: &'static str,
    /// How many of its cases run at once.
    pub threads: usize,
    /// Controller pods (`REPLICAS` of `scripts/cluster.sh up`).
    pub replicas: usize,
    pub tests: fn() -> Vec<Test>,
}

/// Longest first: the control planes are given out in this order.
const SUITES: &[Suite] = &[
    Suite {
        name: "faults",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: faults::tests,
    },
    Suite {
        name: "controller",
        controller: "ours",
        threads: 3,
        replicas: 1,
        tests: controller::tests,
    },
    Suite {
        name: "controller@k8s-v1.35.4",
        controller: "ours",
        threads: 3,
        replicas: 1,
        tests: controller::tests,
    },
    Suite {
        name: "diagnosis",
        controller: "ours",
        threads: 2,
        replicas: 1,
        tests: diagnosis::tests,
    },
    Suite {
        name: "reseal",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: reseal::tests,
    },
    Suite {
        name: "drill",
        controller: "none",
        threads: 2,
        replicas: 1,
        tests: drill::tests,
    },
    Suite {
        name: "scale",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: scale::tests,
    },
    Suite {
        name: "endpoints",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: endpoints::tests,
    },
    Suite {
        name: "bad_input",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: bad_input::tests,
    },
    Suite {
        name: "keys",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: keys::tests,
    },
    Suite {
        name: "ha",
        controller: "none",
        threads: 1,
        replicas: 3,
        tests: ha::tests,
    },
    // One case at a time: each installs into kube-system (helm, then each overlay).
    Suite {
        name: "helm",
        controller: "none",
        threads: 1,
        replicas: 1,
        tests: helm::tests,
    },
    Suite {
        name: "gitops",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: gitops::tests,
    },
    Suite {
        name: "observe",
        controller: "ours",
        threads: 2,
        replicas: 1,
        tests: observe::tests,
    },
    Suite {
        name: "observe_upstream",
        controller: "upstream",
        threads: 1,
        replicas: 1,
        tests: observe::upstream_tests,
    },
    Suite {
        name: "takeover",
        controller: "upstream",
        threads: 1,
        replicas: 1,
        tests: takeover::tests,
    },
    Suite {
        name: "takeover@upstream-v0.36.6",
        controller: "upstream",
        threads: 1,
        replicas: 1,
        tests: takeover::tests,
    },
    Suite {
        name: "gc_upstream",
        controller: "upstream",
        threads: 1,
        replicas: 1,
        tests: gc::tests,
    },
    Suite {
        name: "gc_ours",
        controller: "ours",
        threads: 1,
        replicas: 1,
        tests: gc::tests,
    },
    Suite {
        name: "cluster_upstream",
        controller: "upstream",
        threads: 2,
        replicas: 1,
        tests: cluster::tests,
    },
    Suite {
        name: "cluster_ours",
        controller: "ours",
        threads: 2,
        replicas: 1,
        tests: cluster::tests,
    },
    Suite {
        name: "cluster_upstream@k8s-v1.35.4",
        controller: "upstream",
        threads: 2,
        replicas: 1,
        tests: cluster::tests,
    },
    Suite {
        name: "cluster_ours@k8s-v1.35.4",
        controller: "ours",
        threads: 2,
        replicas: 1,
        tests: cluster::tests,
    },
    Suite {
        name: "interop",
        controller: "none",
        threads: 2,
        replicas: 1,
        tests: interop::tests,
    },
    Suite {
        name: "interop_scalars",
        controller: "none",
        threads: 1,
        replicas: 1,
        tests: scalars::tests,
    },
    Suite {
        name: "templates",
        controller: "ours",
        threads: 2,
        replicas: 1,
        tests: templates::tests,
    },
    Suite {
        name: "templates_upstream_crd",
        controller: "none",
        threads: 1,
        replicas: 1,
        tests: templates::upstream_crd_tests,
    },
];

/// The versions the control plane of suite `name` runs: [`Versions::PRIMARY`], changed by each
/// `@k8s-<version>` or `@upstream-<version>` suffix of the name; only versions that
/// `scripts/tools.sh all` builds.
fn suite_versions(name: &'static str) -> Result<Versions, String> {
    let mut versions = Versions::PRIMARY;
    for part in name.split('@').skip(1) {
        if let Some(v) = part.strip_prefix("k8s-") {
            if ![K8S_PRIMARY, K8S_OLDEST].contains(&v) {
                return Err(format!(
                    "suite {name}: Kubernetes {v} is not a tested version"
                ));
            }
            versions.k8s = v;
        } else if let Some(v) = part.strip_prefix("upstream-") {
            if ![UPSTREAM_PRIMARY, UPSTREAM_SECOND].contains(&v) {
                return Err(format!(
                    "suite {name}: upstream {v} is not a tested version"
                ));
            }
            versions.upstream = v;
        } else {
            return Err(format!(
                "suite {name}: `@{part}` is neither `@k8s-<version>` nor `@upstream-<version>`"
            ));
        }
    }
    Ok(versions)
}

#[derive(Default)]
struct Args {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    ignored: bool,
    include_ignored: bool,
    list: bool,
    test_threads: Option<usize>,
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args::default();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match flag.as_str() {
                "--ignored" => a.ignored = true,
                "--include-ignored" => a.include_ignored = true,
                "--exact" => a.exact = true,
                "--list" => a.list = true,
                "--nocapture" | "--show-output" | "-q" | "--quiet" => {}
                "--color" | "--format" | "-Z" => {
                    value(&flag)?;
                }
                "--skip" => a.skip.push(value("--skip")?),
                "--test-threads" => {
                    let v = value("--test-threads")?;
                    a.test_threads = Some(
                        v.parse()
                            .ok()
                            .filter(|n| *n > 0)
                            .ok_or(format!("--test-threads {v}: not a positive number"))?,
                    );
                }
                f if f.starts_with('-') => return Err(format!("unknown option {f}")),
                _ => a.filters.push(arg),
            }
        }
        Ok(a)
    }

    fn matches(&self, pattern: &str, name: &str) -> bool {
        if self.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    }

    fn selects(&self, name: &str) -> bool {
        (self.filters.is_empty() || self.filters.iter().any(|f| self.matches(f, name)))
            && !self.skip.iter().any(|s| self.matches(s, name))
    }
}

enum Outcome {
    Passed,
    Failed(String),
}

#[derive(Default)]
struct Report {
    passed: usize,
    failed: Vec<(String, String)>,
}

impl Report {
    /// Records and prints the outcome of test `name`; whether it failed.
    fn record(report: &Mutex<Report>, name: &str, outcome: Outcome) -> bool {
        let mut r = report.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Outcome::Passed => {
                println!("test {name} ... ok");
                r.passed += 1;
                false
            }
            Outcome::Failed(message) => {
                println!("test {name} ... FAILED");
                r.failed.push((name.to_string(), message));
                true
            }
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(a panic without a message)".into())
}

/// Runs `f` on a thread named `name` (so that its panic message names the test); its panic, if any.
fn run_named(name: &str, f: impl FnOnce() + Send) -> Outcome {
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name(name.to_string())
            .spawn_scoped(s, f)
        {
            Ok(handle) => match handle.join() {
                Ok(()) => Outcome::Passed,
                Err(payload) => Outcome::Failed(panic_message(payload.as_ref())),
            },
            Err(e) => Outcome::Failed(format!("could not start a thread: {e}")),
        }
    })
}

/// Brings up the suite's control plane if a selected test needs it, runs the tests, tears it down.
fn run_suite(suite: &Suite, tests: &[Test], threads: usize, report: &Mutex<Report>) {
    let started = Instant::now();
    let mut own: Option<OwnCluster> = None;
    if tests.iter().any(|t| !matches!(t.body, Body::Plain(_))) {
        let mut up = None;
        let outcome = run_named(&format!("{}::(control plane up)", suite.name), || {
            let versions = suite_versions(suite.name).unwrap();
            up = Some(OwnCluster::up_replicas(
                versions,
                suite.name,
                suite.controller,
                suite.replicas,
            ));
        });
        if let Outcome::Failed(message) = outcome {
            for t in tests {
                let message = format!("the control plane did not come up: {message}");
                Report::record(
                    report,
                    &format!("{}::{}", suite.name, t.name),
                    Outcome::Failed(message),
                );
            }
            return;
        }
        own = up;
        let (versions, waited) = own
            .as_ref()
            .map_or((Versions::PRIMARY, Duration::ZERO), |o| {
                (o.versions, o.waited)
            });
        eprintln!(
            "[e2e] {}: control plane ({} controller, Kubernetes {}, upstream {}) up after {:.1}s \
             ({:.1}s waiting for a free slot)",
            suite.name,
            suite.controller,
            versions.k8s,
            versions.upstream,
            started.elapsed().as_secs_f64(),
            waited.as_secs_f64()
        );
    }
    let queue = Mutex::new(tests.iter());
    let failed = AtomicBool::new(false);
    let cluster = own.as_ref().map(OwnCluster::cluster);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, tests.len().max(1)) {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some(test) = next else { break };
                    let name = format!("{}::{}", suite.name, test.name);
                    let outcome = match (&test.body, cluster) {
                        (Body::Plain(f), _) => run_named(&name, f),
                        (Body::OnCluster(f), Some(c)) => run_named(&name, || f(c)),
                        (Body::Row(f, n), Some(c)) => run_named(&name, || f(c, *n)),
                        (_, None) => Outcome::Failed("no control plane".into()),
                    };
                    if Report::record(report, &name, outcome) {
                        failed.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    if let Some(mut own) = own {
        let tests_done = started.elapsed();
        let waited = own.waited;
        if failed.load(Ordering::Relaxed) {
            own.print_controller_log_tail();
        }
        let outcome = run_named(&format!("{}::(control plane down)", suite.name), || {
            own.down()
        });
        if let Outcome::Failed(message) = outcome {
            Report::record(
                report,
                &format!("{}::(control plane down)", suite.name),
                Outcome::Failed(message),
            );
        }
        eprintln!(
            "[e2e] {}: {} tests done after {:.1}s, control plane down after {:.1}s \
             (wall time without the wait for a slot: {:.1}s)",
            suite.name,
            tests.len(),
            tests_done.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            (started.elapsed().saturating_sub(waited)).as_secs_f64()
        );
    } else {
        eprintln!(
            "[e2e] {}: {} tests done after {:.1}s",
            suite.name,
            tests.len(),
            started.elapsed().as_secs_f64()
        );
    }
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(e) = SUITES.iter().find_map(|s| suite_versions(s.name).err()) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let (mut ignored, mut filtered_out) = (Vec::new(), 0);
    let mut plan: Vec<(&Suite, Vec<Test>)> = Vec::new();
    for suite in SUITES {
        let mut selected = Vec::new();
        for test in (suite.tests)() {
            let name = format!("{}::{}", suite.name, test.name);
            if !args.selects(&name) || (args.ignored && !test.ignored) {
                filtered_out += 1;
            } else if test.ignored && !args.ignored && !args.include_ignored {
                ignored.push(name);
            } else {
                selected.push(test);
            }
        }
        if !selected.is_empty() {
            plan.push((suite, selected));
        }
    }
    if args.list {
        let mut n = 0;
        for (suite, tests) in &plan {
            for t in tests {
                println!("{}::{}: test", suite.name, t.name);
                n += 1;
            }
        }
        for name in &ignored {
            println!("{name}: test");
        }
        println!("\n{} tests, 0 benchmarks", n + ignored.len());
        return ExitCode::SUCCESS;
    }

    let total: usize = plan.iter().map(|(_, t)| t.len()).sum::<usize>() + ignored.len();
    println!("\nrunning {total} tests");
    for name in &ignored {
        println!("test {name} ... ignored");
    }
    let started = Instant::now();
    let report = Mutex::new(Report::default());
    let threads = |suite: &Suite| {
        args.test_threads
            .map_or(suite.threads, |n| n.min(suite.threads))
    };
    if args.test_threads == Some(1) {
        for (suite, tests) in &plan {
            run_suite(suite, tests, 1, &report);
        }
    } else {
        std::thread::scope(|s| {
            for (suite, tests) in &plan {
                let report = &report;
                let threads = threads(suite);
                s.spawn(move || run_suite(suite, tests, threads, report));
            }
        });
    }
    let report = report.into_inner().unwrap_or_else(|p| p.into_inner());
    if !report.failed.is_empty() {
        println!("\nfailures:\n");
        for (name, message) in &report.failed {
            println!("---- {name} ----\n{message}\n");
        }
        println!("failures:");
        for (name, _) in &report.failed {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; {} ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if report.failed.is_empty() {
            "ok"
        } else {
            "FAILED"
        },
        report.passed,
        report.failed.len(),
        ignored.len(),
        filtered_out,
        started.elapsed().as_secs_f64()
    );
    if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}

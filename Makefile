# sealed-secrets-rs. `make test` is what CI runs; `make demo` shows the whole thing on a real control plane.
SHELL := /bin/bash
CARGO ?= cargo
export SSRS_CACHE ?= $(HOME)/.cache/sealed-secrets-rs
## The primary upstream peer's kubeseal (the interop suites; every cluster has its own, of the
## version its suite names).
export UPSTREAM_KUBESEAL ?= $(SSRS_CACHE)/upstream-v0.40.0/bin/kubeseal
## Kubernetes release of `make cluster-up`/`demo`/`bench-controller` (scripts/cluster.sh; default
## v1.37.2, tested down to v1.35.4). The e2e suites pick theirs by name and ignore it:
## `controller` runs on v1.37.2, `controller@k8s-v1.35.4` on v1.35.4.
K8S_VERSION ?= v1.37.2
export K8S_VERSION
export KUBESEAL_BIN ?= $(CURDIR)/target/debug/kubeseal
# The suites test the debug build just made (cluster.sh would otherwise prefer a release build).
export CONTROLLER_BIN ?= $(CURDIR)/target/debug/sealed-secrets-controller

.PHONY: all build release kubeseal-static tools test test-unit test-interop test-e2e test-faults lint lint-test deny fuzz fuzz-smoke fmt crds bench-cli bench-controller bench-scale cluster-up cluster-down demo clean

all: build

build:
	$(CARGO) build --workspace --bins

release:
	$(CARGO) build --release --workspace --bins

## kubeseal as a static-pie executable (glibc's static libc, still position-independent): no dynamic
## loader at start, which is a good part of a one-Secret run (docs/benchmarks.md). `--target` keeps
## its own build of every dependency in target/$(HOST)/ and leaves build scripts dynamic.
HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_KUBESEAL := $(CURDIR)/target/$(HOST)/release/kubeseal
kubeseal-static:
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release -p kubeseal --target $(HOST)

## Real upstream binaries (v0.40.0 and v0.36.6), kube-apiserver, kube-controller-manager and kubectl
## (v1.37.2 and v1.35.4), etcd, helm v3.22.0, promtool and Argo CD's SealedSecret health script with
## its runner, built once from Go modules and cached in $(SSRS_CACHE).
tools:
	scripts/tools.sh all

## Everything: unit and CLI tests, then every interoperability and end-to-end suite at once (the
## e2e test binary, tests/tests/e2e/; SSRS_E2E_CLUSTERS control planes at a time, default 2):
## upstream v0.40.0 and v0.36.6, Kubernetes v1.37.2 and v1.35.4.
## `--workspace --test e2e`, not `-p e2e`: the same feature resolution as the unit tests, so nothing
## is compiled twice.
test: tools build test-unit fuzz-smoke
	$(CARGO) test --workspace --test e2e -- --ignored

test-unit:
	$(CARGO) test --workspace

## Offline interoperability with the upstream kubeseal binary (no control plane).
test-interop: tools build
	$(CARGO) test --workspace --test e2e -- --ignored interop:: interop_scalars::

## End to end on real control planes, each suite on a fresh one of its own (always torn down), the
## suites in parallel; one suite by hand: `cargo test --workspace --test e2e -- --ignored controller::`,
## the same on Kubernetes v1.35.4: `... -- --ignored controller@k8s-v1.35.4::`.
##  - our kubeseal against the real upstream controller (cluster_upstream) and against ours
##    (cluster_ours), also on Kubernetes v1.35.4 (cluster_upstream@k8s-v1.35.4, cluster_ours@k8s-v1.35.4);
##  - our controller: every upstream integration scenario, the security checks, upstream kubeseal
##    v0.40.0 and v0.36.6 against it (controller, controller@k8s-v1.35.4);
##  - garbage collection and namespace deletion with ours and upstream's controller (gc_ours, gc_upstream);
##  - takeover of an upstream v0.40.0 and of a v0.36.6 installation by our controller
##    (takeover, takeover@upstream-v0.36.6);
##  - the key backup/restore drill, which runs its own two clusters in sequence (drill);
##  - the Helm chart (lint, golden `helm template`, install/upgrade/uninstall) and each kustomize
##    overlay installed (helm), the GitOps example's overlays applied (gitops);
##  - Prometheus rules (promtool check/test rules on deploy/prometheus/), the metrics the rules and
##    deploy/grafana/ use are exported, Argo CD's SealedSecret health script on the live objects
##    of ours and upstream's controller (observe, observe_upstream).
test-e2e: tools build
	$(CARGO) test --workspace --test e2e -- --ignored --skip interop:: --skip interop_scalars::

## Fault injection on a real control plane (tests/tests/e2e/faults.rs, docs/reliability.md): the
## controller SIGKILLed at random points during 500 SealedSecrets with FAULT_RUNS seeds (default
## here 10; `make test` runs the suite with 2), kube-apiserver and etcd killed, the pod's network
## cut, 429s, SIGKILL during key generation and renewal, key Secrets edited by hand, kubeseal's
## deadlines. `SEED=<seed>` replays one printed seed.
test-faults: tools build
	FAULT_RUNS=$${FAULT_RUNS:-10} $(CARGO) test --workspace --test e2e -- --ignored faults::

lint: deny
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The dependency policy of deny.toml (licenses, banned and duplicate crates, sources), offline:
## the advisory database is not fetched (docs/reliability.md "Supply chain").
deny:
	"$$(scripts/tools.sh cargo-deny)/cargo-deny" --offline check licenses bans sources
	"$$(scripts/tools.sh cargo-deny)/cargo-deny" --offline --manifest-path fuzz/Cargo.toml check licenses bans sources

## Every fuzz target for FUZZ_SECONDS (default 10) each, at nice 19; the CPU time of each run is
## appended to fuzz/ledger.tsv (docs/reliability.md "Fuzzing"). `make fuzz FUZZ_TARGETS="unseal keys"`.
fuzz:
	scripts/fuzz.sh run $(FUZZ_TARGETS)

## What `make test` runs: every checked-in corpus replayed, and each target fuzzed a few seconds.
fuzz-smoke:
	scripts/fuzz.sh smoke

## What CI runs (.ci/run): `make lint` and `make test` in one compile. `cargo clippy` builds every
## dependency a second time, check-only; here clippy-driver compiles our crates for the tests
## themselves (cargo's RUSTC_WORKSPACE_WRAPPER, as `cargo clippy` sets it, with its `-D warnings`),
## so a lint fails the build and the dependencies are compiled once. The same targets as
## `clippy --all-targets`: libraries, binaries, unit and integration tests (there are no benches or
## examples).
lint-test: export RUSTC_WORKSPACE_WRAPPER = clippy-driver
lint-test: export CLIPPY_ARGS = -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
## `deny` runs beside the build (it waits for cargo-deny, which scripts/tools.sh builds in the background).
lint-test:
	$(CARGO) fmt --all -- --check
	$(MAKE) -j2 test deny

fmt:
	$(CARGO) fmt --all

## Rewrites crds/sealedsecret.yaml from the hand-written schema in src/crd.rs: the test that fails
## when the checked-in file is stale writes it instead. The Helm chart ships the same file
## (e2e test helm::chart_ships_the_generated_crd).
crds:
	UPDATE_CRDS=1 $(CARGO) test -p sealed-secrets crd::tests::checked_in_crd_is_current
	cp crds/sealedsecret.yaml deploy/helm/sealed-secrets-rs/crds/sealedsecret.yaml

## Side-by-side benchmark of our kubeseal (the static one) and upstream's; prints ratios.
bench-cli: tools kubeseal-static
	OURS=$(STATIC_KUBESEAL) scripts/bench-cli.sh

## Brings up a control plane, seals and applies a Secret with our kubeseal, shows it, backs up the
## key, restores it into a second control plane where the same SealedSecret unseals, tears down.
demo:
	scripts/demo.sh

## Side-by-side benchmark of our controller and upstream's on one control plane; prints ratios.
bench-controller: tools release
	scripts/bench-controller.sh

## Scale benchmark: 1,000 / 3,000 / 10,000 SealedSecrets, restarts, memory, ours vs upstream, with a
## plot (docs/bench-scale.svg); about 20 minutes.
bench-scale: tools release
	scripts/bench-scale.sh

cluster-up: tools build
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

clean:
	$(CARGO) clean

# sealed-secrets-rs. `make test` is what CI runs; `make demo` shows the whole thing on a real control plane.
SHELL := /bin/bash
CARGO ?= cargo
export SSRS_CACHE ?= $(HOME)/.cache/sealed-secrets-rs
export UPSTREAM_KUBESEAL ?= $(SSRS_CACHE)/upstream-v0.36.6/bin/kubeseal
export KUBESEAL_BIN ?= $(CURDIR)/target/debug/kubeseal
# The suites test the debug build just made (cluster.sh would otherwise prefer a release build).
export CONTROLLER_BIN ?= $(CURDIR)/target/debug/sealed-secrets-controller

.PHONY: all build release tools test test-unit test-interop test-e2e lint fmt crds bench-cli bench-controller cluster-up cluster-down demo clean

all: build

build:
	$(CARGO) build --workspace --bins

release:
	$(CARGO) build --release --workspace --bins

## Real upstream binaries, kube-apiserver, kubectl and etcd, built once from Go modules and cached in $(SSRS_CACHE).
tools:
	scripts/tools.sh all

## Everything: unit and CLI tests, then every interoperability and end-to-end suite at once (the
## e2e test binary, tests/tests/e2e/; SSRS_E2E_CLUSTERS control planes at a time, default 2).
test: tools build test-unit
	$(CARGO) test -p e2e -- --ignored

test-unit:
	$(CARGO) test --workspace

## Offline interoperability with the upstream kubeseal binary (no control plane).
test-interop: tools build
	$(CARGO) test -p e2e --test e2e -- --ignored interop:: interop_scalars::

## End to end on real control planes, each suite on a fresh one of its own (always torn down), the
## suites in parallel; one suite by hand: `cargo test -p e2e --test e2e -- --ignored controller::`.
##  - our kubeseal against the real upstream controller (cluster_upstream) and against ours (cluster_ours);
##  - our controller: every upstream integration scenario, the security checks, upstream kubeseal
##    against it (controller);
##  - takeover of an upstream installation's keys and SealedSecrets by our controller (takeover);
##  - the key backup/restore drill, which runs its own two clusters in sequence (drill).
test-e2e: tools build
	$(CARGO) test -p e2e --test e2e -- --ignored --skip interop:: --skip interop_scalars::

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Rewrites crds/sealedsecret.yaml from the hand-written schema in src/crd.rs: the test that fails
## when the checked-in file is stale writes it instead.
crds:
	UPDATE_CRDS=1 $(CARGO) test -p sealed-secrets crd::tests::checked_in_crd_is_current

## Side-by-side benchmark of our kubeseal and upstream's; prints ratios.
bench-cli: tools release
	scripts/bench-cli.sh

## Brings up a control plane, seals and applies a Secret with our kubeseal, shows it, tears down.
demo:
	scripts/demo.sh

## Side-by-side benchmark of our controller and upstream's on one control plane; prints ratios.
bench-controller: tools release
	scripts/bench-controller.sh

cluster-up: tools build
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

clean:
	$(CARGO) clean

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

## Everything: unit and CLI tests, then the interoperability and end-to-end suites against real binaries.
test: tools build test-unit test-interop test-e2e

test-unit:
	$(CARGO) test --workspace

test-interop: tools build
	$(CARGO) test -p e2e --test interop -- --ignored

## End to end on real control planes (a fresh one per suite, always torn down):
##  - our kubeseal against the real upstream controller, then against ours;
##  - our controller: every scenario of spec §10, §12 security checks, upstream kubeseal against it;
##  - takeover of an upstream installation's keys and SealedSecrets by our controller;
##  - the key backup/restore drill, which runs its own two clusters in sequence (tests/tests/drill.rs).
test-e2e: tools build
	scripts/e2e.sh --controller upstream cluster
	scripts/e2e.sh --controller ours cluster
	scripts/e2e.sh --controller ours controller
	scripts/e2e.sh --controller upstream takeover
	$(CARGO) test -p e2e --test drill -- --ignored

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

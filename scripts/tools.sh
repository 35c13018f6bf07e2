#!/usr/bin/env bash
# Builds and caches the real external components the tests use, outside the repo:
#   upstream kubeseal + controller (bitnami-labs/sealed-secrets), kube-apiserver,
#   kube-controller-manager, kubectl, etcd; the cargo subcommands cargo-fuzz and cargo-deny
#   (`make fuzz`, `make lint`) and the Go reference programs of the differential fuzz targets.
# Everything is keyed by version under $SSRS_CACHE (default ~/.cache/sealed-secrets-rs), so a
# second run is instant. Usage: scripts/tools.sh [upstream|k8s|etcd|cargo-fuzz|cargo-deny|go-references|all] ;
# prints the bin dir (a single component: the one version UPSTREAM_VERSION / K8S_VERSION / ETCD_VERSION names; all:
# every version the tests use, listed below, and prints nothing).
set -euo pipefail

# The primary versions (what `scripts/cluster.sh up` runs by default)...
UPSTREAM_VERSION=${UPSTREAM_VERSION:-v0.40.0}
K8S_VERSION=${K8S_VERSION:-v1.37.2}
# ...and every version the e2e suites use (tests/src/lib.rs; docs/control-plane.md "Versions"):
# upstream v0.36.6 stays a second peer, Kubernetes v1.35.4 the oldest release we test on.
ALL_UPSTREAM_VERSIONS=${ALL_UPSTREAM_VERSIONS:-"v0.40.0 v0.36.6"}
ALL_K8S_VERSIONS=${ALL_K8S_VERSIONS:-"v1.37.2 v1.35.4"}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CARGO_FUZZ_VERSION=${CARGO_FUZZ_VERSION:-0.13.2}
CARGO_DENY_VERSION=${CARGO_DENY_VERSION:-0.20.2}
CACHE=${SSRS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealed-secrets-rs}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export CGO_ENABLED=0

log() { echo "[tools] $*" >&2; }

# build_once DIR DESCRIPTION COMMAND...: runs COMMAND unless DIR/.done exists; atomic via a temp dir.
build_once() {
  local dir=$1 what=$2; shift 2
  if [[ -f $dir/.done ]]; then return 0; fi
  # Serialise concurrent builds of the same component (e.g. parallel test runs on a cold cache):
  # without this, two builds race on the final rm+mv. The lock is released when this process exits.
  mkdir -p "$(dirname "$dir")"
  local lockfd; exec {lockfd}>"$dir.lock"
  if ! flock -n "$lockfd"; then log "waiting for a concurrent build of $what to finish ($dir.lock)"; flock "$lockfd"; fi
  if [[ -f $dir/.done ]]; then return 0; fi
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  log "building $what (first run only; cached in $dir)"
  local start=$SECONDS
  (cd "$tmp" && "$@") >"$tmp.log" 2>&1 {lockfd}>&- &
  local pid=$! rc=0
  # Progress for the slow first build: elapsed time and how many Go packages are compiled so far
  # (the builds run with -v, which prints one line per package).
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( (SECONDS - start) % 20 == 0 )); then
      log "  ... $what: $((SECONDS - start))s, $(grep -c '' "$tmp.log" 2>/dev/null || echo 0) packages/steps done"
    fi
  done
  wait "$pid" || rc=$?
  if (( rc != 0 )); then
    log "FAILED building $what; last lines of $tmp.log:"; tail -20 "$tmp.log" >&2
    rm -rf "$tmp"; return 1
  fi
  touch "$tmp/.done"; rm -rf "$dir"; mv "$tmp" "$dir"; rm -f "$tmp.log"
  log "built $what in $((SECONDS - start))s"
}

upstream_build() {
  local mod=github.com/bitnami-labs/sealed-secrets
  # From v0.38 upstream's go.mod declares `github.com/bitnami/sealed-secrets` while the module proxy
  # serves it under the old path, so `go install pkg@version` refuses it ("module declares its path
  # as ..."). Build inside a writable copy of the downloaded module source instead, setting the
  # version the way upstream's Makefile does (GO_LD_FLAGS = -X main.VERSION=...). Older versions
  # build the same way, so there is one path for every version.
  local dir; dir=$(cd / && go mod download -json "$mod@$UPSTREAM_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -n $dir && -d $dir ]] || { echo "go mod download $mod@$UPSTREAM_VERSION gave no source directory" >&2; return 1; }
  cp -r "$dir" src && chmod -R u+w src
  mkdir -p bin
  (cd src && go build -v -trimpath -ldflags "-s -w -X main.VERSION=$UPSTREAM_VERSION" -o ../bin/ ./cmd/kubeseal ./cmd/controller)
  rm -rf src
}

k8s_build() {
  # A tools module of our own requiring k8s.io/kubernetes; the main module's replace directives
  # (staging modules => ./staging/...) are not inherited, so map each staging module to v0.<minor>.<patch>.
  local staging_ver="v0${K8S_VERSION#v1}"
  go mod init ssrs-k8s-tools >/dev/null
  go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
  local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  { echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "replace ("
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v v="$staging_ver" '{print "\t" $1 " => " $1 " " v}'
    echo ")"; } >>go.mod
  cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
  ld+=" -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitTreeState=clean"
  mkdir -p bin
  go build -v -trimpath -ldflags "$ld" -o bin/ k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
  rm -f go.sum tools.go
}

etcd_build() {
  go mod init ssrs-etcd-tools >/dev/null
  cat >tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy
  mkdir -p bin
  go build -v -trimpath -ldflags "-s -w" -o bin/etcd go.etcd.io/etcd/server/v3
  rm -f go.sum tools.go
}

# cargo_tool_build CRATE VERSION: `cargo install --locked` into the build directory (the crate's own
# Cargo.lock, so the same dependency versions every time); the binary lands in bin/.
cargo_tool_build() {
  cargo install --locked --root . "$1@$2"
  rm -f .crates.toml .crates2.json
}

# The Go reference programs of crates/gotemplate and crates/goyaml (their `serve` mode is the oracle
# of the differential fuzz targets), keyed by a hash of their sources so an edit rebuilds them.
REPO=$(cd "$(dirname "$0")/.." && pwd)
go_references_hash() {
  (cd "$REPO" && cat crates/gotemplate/reference/{*.go,go.mod,go.sum} crates/goyaml/reference/{*.go,go.mod,go.sum}) | sha256sum | cut -c1-16
}
go_references_build() {
  mkdir -p bin
  (cd "$REPO/crates/gotemplate/reference" && go build -v -trimpath -o "$OLDPWD/bin/gotemplate-ref" .)
  (cd "$REPO/crates/goyaml/reference" && go build -v -trimpath -o "$OLDPWD/bin/goyaml-ref" .)
}

what=${1:-all}
case $what in
  upstream) build_once "$CACHE/upstream-$UPSTREAM_VERSION" "upstream kubeseal+controller $UPSTREAM_VERSION" upstream_build
            echo "$CACHE/upstream-$UPSTREAM_VERSION/bin" ;;
  k8s)      build_once "$CACHE/kubernetes-$K8S_VERSION" "kube-apiserver+kube-controller-manager+kubectl $K8S_VERSION (several minutes)" k8s_build
            echo "$CACHE/kubernetes-$K8S_VERSION/bin" ;;
  etcd)     build_once "$CACHE/etcd-$ETCD_VERSION" "etcd $ETCD_VERSION" etcd_build
            echo "$CACHE/etcd-$ETCD_VERSION/bin" ;;
  cargo-fuzz) build_once "$CACHE/cargo-fuzz-$CARGO_FUZZ_VERSION" "cargo-fuzz $CARGO_FUZZ_VERSION" cargo_tool_build cargo-fuzz "$CARGO_FUZZ_VERSION"
            echo "$CACHE/cargo-fuzz-$CARGO_FUZZ_VERSION/bin" ;;
  cargo-deny) build_once "$CACHE/cargo-deny-$CARGO_DENY_VERSION" "cargo-deny $CARGO_DENY_VERSION" cargo_tool_build cargo-deny "$CARGO_DENY_VERSION"
            echo "$CACHE/cargo-deny-$CARGO_DENY_VERSION/bin" ;;
  go-references) dir="$CACHE/go-references-$(go_references_hash)"
            build_once "$dir" "the Go reference programs of crates/gotemplate and crates/goyaml" go_references_build
            echo "$dir/bin" ;;
  all)      for v in $ALL_UPSTREAM_VERSIONS; do UPSTREAM_VERSION=$v "$0" upstream >/dev/null; done
            "$0" etcd >/dev/null
            for v in $ALL_K8S_VERSIONS; do K8S_VERSION=$v "$0" k8s >/dev/null; done
            "$0" cargo-deny >/dev/null
            "$0" cargo-fuzz >/dev/null
            "$0" go-references >/dev/null ;;
  *) echo "usage: $0 [upstream|k8s|etcd|cargo-fuzz|cargo-deny|go-references|all]" >&2; exit 2 ;;
esac

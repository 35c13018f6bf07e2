#!/usr/bin/env bash
# Builds and caches the real external components the tests use, outside the repo:
#   upstream kubeseal + controller (bitnami-labs/sealed-secrets), kube-apiserver,
#   kube-controller-manager, kubectl, etcd, helm, Prometheus's promtool, Argo CD's SealedSecret
#   health script with the runner that executes it as Argo CD does (tests/argocd-health), the cargo
#   subcommands cargo-fuzz and cargo-deny (`make fuzz`, `make lint`) and the Go reference programs of
#   the differential fuzz targets.
# Everything is keyed by version under $SSRS_CACHE (default ~/.cache/sealed-secrets-rs), so a
# second run is instant. Usage: scripts/tools.sh
# [upstream|k8s|etcd|helm|promtool|argocd-health|cargo-fuzz|cargo-deny|go-references|all] ; prints
# the bin dir (a single component: the one version UPSTREAM_VERSION / K8S_VERSION / ETCD_VERSION /
# HELM_VERSION / PROMETHEUS_VERSION / ARGOCD_VERSION / CARGO_*_VERSION names; all:
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
# Helm 3, not 4: Argo CD and Flux render charts with the Helm 3 library, and most users' pipelines
# still run helm 3 (docs/install.md "Helm").
HELM_VERSION=${HELM_VERSION:-v3.22.0}
# Prometheus's promtool (`promtool check rules` / `test rules` on deploy/prometheus/, make test).
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
# Argo CD, whose resource_customizations/bitnami.com/SealedSecret/health.lua the e2e suite
# `observe` runs (its module needs Go 1.27: GOTOOLCHAIN below fetches it through the module proxy).
ARGOCD_VERSION=${ARGOCD_VERSION:-v3.6.1}
ARGOCD_GOTOOLCHAIN=${ARGOCD_GOTOOLCHAIN:-go1.27.3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
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

helm_build() {
  # Built inside a copy of the module source with the ldflags of helm's own Makefile (version, and
  # the Kubernetes version `helm template`/`helm lint` assume, from the client-go it requires).
  local mod=helm.sh/helm/v3
  local dir; dir=$(cd / && go mod download -json "$mod@$HELM_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -n $dir && -d $dir ]] || { echo "go mod download $mod@$HELM_VERSION gave no source directory" >&2; return 1; }
  cp -r "$dir" src && chmod -R u+w src
  mkdir -p bin
  (cd src
   local kv; kv=$(go list -f '{{.Version}}' -m k8s.io/client-go); kv=${kv#v}
   local major=$(( ${kv%%.*} + 1 )) minor; minor=$(echo "$kv" | cut -d. -f2)
   local ld="-s -w -X $mod/internal/version.version=$HELM_VERSION -X $mod/internal/version.metadata="
   ld+=" -X $mod/internal/version.gitTreeState=clean"
   ld+=" -X $mod/pkg/lint/rules.k8sVersionMajor=$major -X $mod/pkg/lint/rules.k8sVersionMinor=$minor"
   ld+=" -X $mod/pkg/chartutil.k8sVersionMajor=$major -X $mod/pkg/chartutil.k8sVersionMinor=$minor"
   go build -v -trimpath -ldflags "$ld" -o ../bin/helm ./cmd/helm)
  rm -rf src
}

promtool_build() {
  # Prometheus's Go module has no replace directives, so `go install pkg@version` builds it as
  # released. `remove_all_sd` is Prometheus's own build tag (plugins/) that leaves out the service
  # discovery plugins (AWS, Azure, GCE, ... SDKs: 1117 instead of 1364 packages); rule checking and
  # rule unit tests do not use them. Module v0.MNN.P is Prometheus M.NN.P (`promtool --version`).
  mkdir -p bin
  local v=${PROMETHEUS_VERSION#v0.}
  local ld="-s -w -X github.com/prometheus/common/version.Version=${v:0:1}.${v:1}"
  GOBIN=$PWD/bin go install -v -trimpath -tags remove_all_sd -ldflags "$ld" "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
}

# The runner's sources (tests/argocd-health) are part of the cache key: a change rebuilds it.
argocd_health_dir() {
  local sum; sum=$(cat "$ROOT"/tests/argocd-health/{go.mod,go.sum,main.go} | sha256sum | cut -c1-12)
  echo "$CACHE/argocd-health-$ARGOCD_VERSION-$sum"
}

argocd_health_build() {
  local mod=github.com/argoproj/argo-cd/v3 out=$PWD
  local dir; dir=$(cd / && GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN go mod download -json "$mod@$ARGOCD_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -n $dir && -d $dir ]] || { echo "go mod download $mod@$ARGOCD_VERSION gave no source directory" >&2; return 1; }
  # The script and its own test fixtures, as Argo CD ships them.
  cp -r "$dir/resource_customizations/bitnami.com/SealedSecret" SealedSecret && chmod -R u+w SealedSecret
  # The runner must use the Lua interpreter and JSON encoder versions argo-cd requires.
  local m want have
  for m in github.com/yuin/gopher-lua layeh.com/gopher-json; do
    want=$(awk -v m="$m" '$1 == m {print $2}' "$dir/go.mod")
    have=$(awk -v m="$m" '$1 == m {print $2}' "$ROOT/tests/argocd-health/go.mod")
    if [[ -z $want || $want != "$have" ]]; then
      echo "tests/argocd-health/go.mod requires $m ${have:-(none)}, argo-cd $ARGOCD_VERSION ${want:-(none)}" >&2; return 1
    fi
  done
  mkdir -p bin
  (cd "$ROOT/tests/argocd-health" && go build -v -trimpath -ldflags "-s -w" -o "$out/bin/argocd-health" .)
  # The runner is faithful: the script passes its own fixtures (argo-cd's TestLuaHealthScript).
  bin/argocd-health -test SealedSecret
}

# cargo_tool_build CRATE VERSION: `cargo install --locked` into the build directory (the crate's own
# Cargo.lock, so the same dependency versions every time); the binary lands in bin/.
cargo_tool_build() {
  cargo install --locked --root . "$1@$2"
  rm -f .crates.toml .crates2.json
}

# The Go reference programs of crates/gotemplate and crates/goyaml (their `serve` mode is the oracle
# of the differential fuzz targets), keyed by a hash of their sources so an edit rebuilds them.
go_references_hash() {
  (cd "$ROOT" && cat crates/gotemplate/reference/{*.go,go.mod,go.sum} crates/goyaml/reference/{*.go,go.mod,go.sum}) | sha256sum | cut -c1-16
}
go_references_build() {
  mkdir -p bin
  (cd "$ROOT/crates/gotemplate/reference" && go build -v -trimpath -o "$OLDPWD/bin/gotemplate-ref" .)
  (cd "$ROOT/crates/goyaml/reference" && go build -v -trimpath -o "$OLDPWD/bin/goyaml-ref" .)
}

what=${1:-all}
case $what in
  upstream) build_once "$CACHE/upstream-$UPSTREAM_VERSION" "upstream kubeseal+controller $UPSTREAM_VERSION" upstream_build
            echo "$CACHE/upstream-$UPSTREAM_VERSION/bin" ;;
  k8s)      build_once "$CACHE/kubernetes-$K8S_VERSION" "kube-apiserver+kube-controller-manager+kubectl $K8S_VERSION (several minutes)" k8s_build
            echo "$CACHE/kubernetes-$K8S_VERSION/bin" ;;
  etcd)     build_once "$CACHE/etcd-$ETCD_VERSION" "etcd $ETCD_VERSION" etcd_build
            echo "$CACHE/etcd-$ETCD_VERSION/bin" ;;
  helm)     build_once "$CACHE/helm-$HELM_VERSION" "helm $HELM_VERSION" helm_build
            echo "$CACHE/helm-$HELM_VERSION/bin" ;;
  promtool) build_once "$CACHE/promtool-$PROMETHEUS_VERSION" "promtool (Prometheus $PROMETHEUS_VERSION)" promtool_build
            echo "$CACHE/promtool-$PROMETHEUS_VERSION/bin" ;;
  argocd-health) d=$(argocd_health_dir)
            build_once "$d" "Argo CD $ARGOCD_VERSION SealedSecret health script + runner" argocd_health_build
            echo "$d/bin" ;;
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
            "$0" helm >/dev/null
            "$0" promtool >/dev/null
            "$0" argocd-health >/dev/null
            "$0" go-references >/dev/null
            "$0" cargo-deny >/dev/null
            "$0" cargo-fuzz >/dev/null ;;
  *) echo "usage: $0 [upstream|k8s|etcd|helm|promtool|argocd-health|cargo-fuzz|cargo-deny|go-references|all]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The whole product in one command, on a real control plane built on this machine:
#   1. build the tools (first run: Go builds of kube-apiserver, kubectl, etcd and upstream, several minutes);
#   2. start etcd + kube-apiserver and the controller as a pod (ours; CONTROLLER=upstream for upstream's);
#   3. seal a Secret with our kubeseal from a `kubectl create secret --dry-run` pipe and apply it;
#   4. show that the Secret appeared (key names only, never values), then tear everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
export SSRS_CLUSTER_DIR=${SSRS_CLUSTER_DIR:-/tmp/ssrs-demo-$$}
controller=${CONTROLLER:-ours}

step "1/5 tools: upstream kubeseal+controller, etcd, kube-apiserver+kubectl (cached in ~/.cache/sealed-secrets-rs)"
scripts/tools.sh upstream >/dev/null
scripts/tools.sh etcd >/dev/null
scripts/tools.sh k8s >/dev/null
step "2/5 building our kubeseal and controller (cargo)"
cargo build --workspace --bins -q
trap 'step "5/5 tearing down"; scripts/cluster.sh down' EXIT
step "3/5 control plane + $controller controller in kube-system"
scripts/cluster.sh up --controller "$controller" >/dev/null
# shellcheck disable=SC1091
source "$SSRS_CLUSTER_DIR/env"
k() { "$KUBECTL" "$@"; }
kubeseal=target/debug/kubeseal

step "4/5 kubectl create secret --dry-run | kubeseal -o yaml | kubectl apply"
k create namespace demo >/dev/null
echo "\$ kubectl create secret generic db -n demo --from-literal=username=app --from-literal=password=... --dry-run=client -o yaml | kubeseal -o yaml > db-sealed.yaml" >&2
sealed=$SSRS_CLUSTER_DIR/db-sealed.yaml
k create secret generic db -n demo --from-literal=username=app --from-literal="password=$(head -c 12 /dev/urandom | base64)" \
  --dry-run=client -o yaml | "$kubeseal" -o yaml >"$sealed"
echo "--- db-sealed.yaml (safe to commit; values are ciphertexts, shown shortened):" >&2
sed -E 's/(: Ag[A-Za-z0-9+\/=]{20})[A-Za-z0-9+\/=]+/\1.../' "$sealed" >&2
echo "\$ kubectl apply -f db-sealed.yaml" >&2
k apply -f "$sealed" >&2
for _ in $(seq 1 100); do
  if k get secret db -n demo >/dev/null 2>&1; then break; fi
  sleep 0.1
done
echo "\$ kubectl get secret db -n demo   (key names and sizes only)" >&2
k get secret db -n demo -o go-template='{{range $k, $v := .data}}  {{$k}}: {{len $v}} base64 chars{{"\n"}}{{end}}' >&2
echo "\$ kubectl get sealedsecret db -n demo" >&2
k get sealedsecret db -n demo >&2
echo "demo: the Secret was unsealed by the $controller controller" >&2

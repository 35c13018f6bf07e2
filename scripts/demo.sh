#!/usr/bin/env bash
# The whole product in one command, on real control planes built on this machine:
#   1. build the tools (first run: Go builds of kube-apiserver, kubectl, etcd and upstream, several minutes);
#   2. build our kubeseal and controller (first run: a few minutes of cargo, with progress);
#   3. start etcd + kube-apiserver and the controller as a pod (ours; CONTROLLER=upstream for upstream's);
#   4. seal a Secret with our kubeseal from a `kubectl create secret --dry-run` pipe and apply it;
#      show that the Secret appeared (key names only, never values);
#   5. disaster recovery: back up the controller's key (kubeseal --backup-keys, passphrase-encrypted),
#      destroy the cluster (etcd included), bring up a second one, restore the key
#      (kubeseal --restore-keys) before its controller starts, apply the same SealedSecret file:
#      the same Secret comes back; then tear everything down.
# Once built, steps 3-5 take well under a minute (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
base=${SSRS_CLUSTER_DIR:-/tmp/ssrs-demo-$$}
export SSRS_CLUSTER_DIR=$base/cluster-1
controller=${CONTROLLER:-ours}
work=$base/work
mkdir -p "$work"

step "1/6 tools: upstream kubeseal+controller, etcd, kube-apiserver+kubectl (cached in ~/.cache/sealed-secrets-rs)"
scripts/tools.sh upstream >/dev/null
scripts/tools.sh etcd >/dev/null
scripts/tools.sh k8s >/dev/null

step "2/6 building our kubeseal and controller (cargo build --workspace --bins)"
# cargo shows its own progress bar on a terminal; elsewhere (a pipe, CI) one line per 25 crates.
build_start=$SECONDS
if [[ -t 2 ]]; then
  cargo build --workspace --bins
else
  cargo build --workspace --bins --color never 2>&1 | awk -v start="$build_start" '
    /^ *Compiling / { n++; if (n % 25 == 0) { printf "[demo]   cargo: %d crates compiled\n", n > "/dev/stderr"; fflush("/dev/stderr") } next }
    { print > "/dev/stderr" }'
fi
echo "[demo] built in $((SECONDS - build_start))s" >&2

demo_start=$SECONDS
cleanup() {
  step "6/6 tearing down"
  [[ -n ${cluster2_pid:-} ]] && { wait "$cluster2_pid" 2>/dev/null || true; }
  for d in "$base"/cluster-*; do
    [[ -d $d ]] && SSRS_CLUSTER_DIR=$d scripts/cluster.sh down || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
kubeseal=target/debug/kubeseal
k() { "$KUBECTL" "$@"; }
wait_secret() {
  for _ in $(seq 1 300); do
    if k get secret db -n demo >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "demo: the Secret db did not appear" >&2; return 1
}
# What identifies the Secret's content without showing it: the SHA-256 of its data.
data_digest() { k get secret db -n demo -o go-template='{{range $k, $v := .data}}{{$k}}={{$v}};{{end}}' | sha256sum | cut -c1-16; }

step "3/6 control plane + $controller controller in kube-system"
# The second cluster of step 5 comes up meanwhile (empty, no controller yet), installed like the
# first one: ours from deploy/ with crds/.
(
  if [[ $controller == ours ]]; then
    export MANIFESTS_DIR=$PWD/deploy CRD_FILE=$PWD/crds/sealedsecret.yaml
  fi
  SSRS_CLUSTER_DIR=$base/cluster-2 exec scripts/cluster.sh up --controller none
) >"$work/cluster-2.log" 2>&1 &
cluster2_pid=$!
scripts/cluster.sh up --controller "$controller" >/dev/null
# shellcheck disable=SC1091
source "$SSRS_CLUSTER_DIR/env"

step "4/6 kubectl create secret --dry-run | kubeseal -o yaml | kubectl apply"
k create namespace demo >/dev/null
echo "\$ kubectl create secret generic db -n demo --from-literal=username=app --from-literal=password=... --dry-run=client -o yaml | kubeseal -o yaml > db-sealed.yaml" >&2
sealed=$work/db-sealed.yaml
k create secret generic db -n demo --from-literal=username=app --from-literal="password=$(head -c 12 /dev/urandom | base64)" \
  --dry-run=client -o yaml | "$kubeseal" -o yaml >"$sealed"
echo "--- db-sealed.yaml (safe to commit; values are ciphertexts, shown shortened):" >&2
sed -E 's/(: Ag[A-Za-z0-9+\/=]{20})[A-Za-z0-9+\/=]+/\1.../' "$sealed" >&2
echo "\$ kubectl apply -f db-sealed.yaml" >&2
k apply -f "$sealed" >&2
wait_secret
echo "\$ kubectl get secret db -n demo   (key names and sizes only)" >&2
k get secret db -n demo -o go-template='{{range $k, $v := .data}}  {{$k}}: {{len $v}} base64 chars{{"\n"}}{{end}}' >&2
echo "\$ kubectl get sealedsecret db -n demo" >&2
k get sealedsecret db -n demo >&2
before=$(data_digest)
echo "demo: the Secret was unsealed by the $controller controller (data digest $before)" >&2

step "5/6 disaster recovery: back up the key, lose the cluster, restore the key into a new one"
# A demo passphrase; in real life a recipient (--backup-recipient age1...) or a passphrase from a vault.
export SEALED_SECRETS_BACKUP_PASSPHRASE="demo passphrase $(head -c 9 /dev/urandom | base64)"
echo "\$ kubeseal --backup-keys -w keys.age   (passphrase from SEALED_SECRETS_BACKUP_PASSPHRASE)" >&2
"$kubeseal" --backup-keys -w "$work/keys.age"
head -c 80 "$work/keys.age" | head -1 >&2
echo "\$ scripts/cluster.sh down   (cluster 1 is gone, etcd data included)" >&2
scripts/cluster.sh down
export SSRS_CLUSTER_DIR=$base/cluster-2
echo "\$ scripts/cluster.sh up --controller none   (a new, empty cluster; started in the background at step 3)" >&2
if ! wait "$cluster2_pid"; then cat "$work/cluster-2.log" >&2; exit 1; fi
# shellcheck disable=SC1091
source "$SSRS_CLUSTER_DIR/env"
echo "\$ kubeseal --restore-keys keys.age" >&2
"$kubeseal" --restore-keys "$work/keys.age"
unset SEALED_SECRETS_BACKUP_PASSPHRASE
echo "\$ start the controller (kubectl apply -k deploy/ in a real cluster)" >&2
scripts/cluster.sh start-controller --controller "$controller" >/dev/null
echo "\$ kubectl create namespace demo && kubectl apply -f db-sealed.yaml   (the file from Git, unchanged)" >&2
k create namespace demo >/dev/null
k apply -f "$sealed" >&2
wait_secret
after=$(data_digest)
k get sealedsecret db -n demo >&2
if [[ $after != "$before" ]]; then
  echo "demo: FAILED: the restored cluster's Secret differs (data digest $after, was $before)" >&2
  exit 1
fi
echo "demo: the same SealedSecret unsealed in the new cluster to the same Secret (data digest $after)" >&2
echo "demo: steps 3-5 took $((SECONDS - demo_start))s" >&2

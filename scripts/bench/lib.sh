#!/usr/bin/env bash
# Helpers of the controller benchmarks (scripts/bench-controller.sh, scripts/bench-scale.sh), sourced
# by them. They use the caller's globals: WORK, BENCH, T0, KUBECTL (from the cluster env),
# OURS_CONTROLLER, KUBESEAL, ITEMS, CREATE_PARALLEL, SSRS_CLUSTER_DIR, UNRELATED, UNRELATED_NS.
# shellcheck shell=bash disable=SC2034

log() { printf '[bench %4ds] %s\n' "$((SECONDS - T0))" "$*" >&2; }

cluster() { scripts/cluster.sh "$@" >>"$WORK/cluster.log" 2>&1 || { tail -n 30 "$WORK/cluster.log" >&2; return 1; }; }
# shellcheck disable=SC1091 # written by cluster.sh up
load_env() { source "$SSRS_CLUSTER_DIR/env"; }
# cluster_up KIND FLAGS...: a fresh cluster with KIND's controller (which creates the first key);
# $REPLICAS pods of it (default 1).
cluster_up() {
  local kind=$1; shift
  cluster down
  if [[ $kind == ours ]]; then
    REPLICAS=${REPLICAS:-1} CONTROLLER_BIN=$OURS_CONTROLLER cluster up --controller ours -- "$@"
  else
    REPLICAS=${REPLICAS:-1} cluster up --controller upstream -- "$@"
  fi
  load_env
}
restart() { # KIND FLAGS...
  local kind=$1; shift
  if [[ $kind == ours ]]; then
    CONTROLLER_BIN=$OURS_CONTROLLER cluster restart-controller --controller ours -- "$@"
  else
    cluster restart-controller --controller upstream -- "$@"
  fi
  load_env
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, in clock ticks
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # PID FIELD -> kB
TICK=$(getconf CLK_TCK)
secs() { awk -v t="$1" -v h="$TICK" 'BEGIN {printf "%.1f", t / h}'; }
# wait_idle PID: until the process used at most 2 clock ticks in 2 s (max 120 s).
wait_idle() {
  local pid=$1 a b i
  a=$(cpu_ticks "$pid")
  for ((i = 0; i < 60; i++)); do
    sleep 2
    b=$(cpu_ticks "$pid")
    if ((b - a <= 2)); then return 0; fi
    a=$b
  done
  log "warning: pid $pid still busy after 120 s"
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
set_result() { printf '%s=%s\n' "$1" "$2" >>"$WORK/results"; }
get_result() { awk -F= -v k="$1" '$1 == k {v = $2} END {print v}' "$WORK/results"; }

# split_chunks FILE PREFIX: FILE's YAML documents dealt round-robin into CREATE_PARALLEL files
# $WORK/PREFIX-<i>.yaml (whole documents each).
split_chunks() {
  rm -f "$WORK/$2"-*.yaml
  awk -v n="$CREATE_PARALLEL" -v out="$WORK/$2" '/^---$/ {d++} {print > (out "-" (d % n) ".yaml")}' "$1"
}
# create_chunks PREFIX: the chunks of split_chunks, created by as many kubectl processes at once;
# fails if one of them failed.
create_chunks() {
  local pids=() p f rc=0
  for f in "$WORK/$1"-*.yaml; do "$KUBECTL" create -f "$f" >/dev/null & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}
# create_unrelated: UNRELATED plain ~1 KiB Secrets over UNRELATED_NS namespaces bench-unrelated-<i>.
create_unrelated() {
  local nss=() i t=$SECONDS
  for ((i = 0; i < UNRELATED_NS; i++)); do nss+=("bench-unrelated-$i"); done
  python3 "$BENCH/gen.py" namespaces "${nss[@]}" | "$KUBECTL" create -f - >/dev/null
  python3 "$BENCH/gen.py" unrelated bench-unrelated "$UNRELATED_NS" "$UNRELATED" >"$WORK/unrelated.yaml"
  split_chunks "$WORK/unrelated.yaml" uchunk
  create_chunks uchunk
  rm -f "$WORK"/uchunk-*.yaml "$WORK/unrelated.yaml"
  log "$UNRELATED unrelated Secrets created in $((SECONDS - t))s"
}

fetch_cert() {
  "$KUBECTL" get --raw "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem" >"$WORK/cert.pem"
}

# throughput KIND LABEL NAMESPACE COUNT: SealedSecrets -> Secrets; results under LABEL.
throughput() {
  local kind=$1 label=$2 ns=$3 count=$4 i
  fetch_cert
  "$KUBECTL" create namespace "$ns" >/dev/null
  python3 "$BENCH/gen.py" secrets "$ns" "$count" "$ITEMS" | "$KUBESEAL" --cert "$WORK/cert.pem" -o yaml >"$WORK/sealed.yaml"
  [[ $(grep -c '^kind: SealedSecret' "$WORK/sealed.yaml") == "$count" ]] || { log "sealing failed"; return 1; }
  # CREATE_PARALLEL chunks of whole documents, created by that many kubectl processes at once
  # (in a shell of unseal_timer.py's, which starts its clock first).
  split_chunks "$WORK/sealed.yaml" chunk
  local create
  create="source $(printf %q "$BENCH/lib.sh"); WORK=$(printf %q "$WORK") KUBECTL=$(printf %q "$KUBECTL"); create_chunks chunk"
  sleep 2
  local c0 a0 w0 w1 out
  c0=$(cpu_ticks "$SSRS_CONTROLLER_PID"); a0=$(cpu_ticks "$SSRS_APISERVER_PID"); w0=$EPOCHREALTIME
  out=$(python3 "$BENCH/unseal_timer.py" "$KUBECTL" "$ns" "$count" 1500 -- bash -c "$create") ||
    { log "$kind: not all Secrets appeared: $out"; tail -n 20 "$SSRS_CONTROLLER_LOG" >&2; return 1; }
  w1=$EPOCHREALTIME
  local c1 a1
  c1=$(cpu_ticks "$SSRS_CONTROLLER_PID"); a1=$(cpu_ticks "$SSRS_APISERVER_PID")
  i=$("$KUBECTL" get secrets -n "$ns" --no-headers | wc -l)
  [[ $i == "$count" ]] || { log "$kind: $i Secrets in $ns, expected $count"; return 1; }
  local done_s created_s p50 p90
  done_s=$(jq -r .done_s <<<"$out"); created_s=$(jq -r .created_s <<<"$out")
  p50=$(jq -r .p50_s <<<"$out"); p90=$(jq -r .p90_s <<<"$out")
  set_result "$label.$kind.done_s" "$done_s"
  set_result "$label.$kind.rate" "$(awk -v n="$count" -v t="$done_s" 'BEGIN {printf "%.1f", n / t}')"
  {
    local fl="${*:5}"
    echo "== $label / $kind: $count SealedSecrets x $ITEMS items, flags: ${fl:-(defaults)}"
    echo "   created by kubectl in ${created_s}s; 50% of the Secrets at ${p50}s, 90% at ${p90}s, all at ${done_s}s"
    echo "   CPU during the run: controller $(secs $((c1 - c0)))s, kube-apiserver $(secs $((a1 - a0)))s"
    echo "   controller API requests until the last Secret existed:"
    python3 "$BENCH/audit_summary.py" "$SSRS_AUDIT_LOG" "${w0/,/.}" "${w1/,/.}" | sed 's/^/     /'
  } >>"$WORK/details"
  log "$label $kind: $count in ${done_s}s ($(get_result "$label.$kind.rate")/s; kubectl create took ${created_s}s)"
}

r() { get_result "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }

# check_prerequisites: the three binaries exist and we are root; exits otherwise.
check_prerequisites() {
  for b in "$OURS_CONTROLLER" "$UPSTREAM_CONTROLLER" "$KUBESEAL"; do
    [[ -x $b ]] || { echo "missing binary: $b (cargo build --release -p sealed-secrets-controller -p kubeseal)" >&2; exit 1; }
  done
  [[ $(id -u) == 0 ]] || { echo "must run as root (scripts/cluster.sh needs network namespaces)" >&2; exit 1; }
}
# print_machine: the machine and its load (LOAD_START: the load average when the run began).
print_machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) (kube-apiserver and etcd share these cores); $(date -u +%F)"
  echo "load average (1/5/15 min) at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

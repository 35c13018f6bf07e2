#!/usr/bin/env bash
# Scale benchmark (issue 11; docs/benchmarks.md "## Scale"): our controller and upstream's on the
# real control plane (scripts/cluster.sh), side by side with the same flags, on a fresh cluster
# each; prints ratios and writes a plot (SVG) of restart time and memory against N.
#
# Per controller:
#   1. N_LIMITED SealedSecrets (ITEMS items each) at the default client limits (qps 5, burst 10):
#      time until all Secrets exist;
#   2. then with the limits lifted (--kubeclient-qps=-1), UNRELATED plain ~1 KiB Secrets in
#      UNRELATED_NS namespaces, and SealedSecrets added in bulk up to each N of NS (1,000 / 3,000 /
#      10,000 by default: +1,000, +2,000, +7,000 in namespaces bench-n<N>): creation rate;
#   3. at each N, a restart with everything unchanged: time from the restart until the controller
#      is idle again (CPU: at most 2 clock ticks in 2 s; the 2 s of that window not counted), RSA
#      private-key operations (ours: sealed_secrets_controller_rsa_private_key_operations_total;
#      upstream has no counter: ITEMS x the SealedSecrets it logs "Updating" for, as it decrypts
#      each of their items once), the controller's API requests (audit log), CPU seconds of the
#      controller, kube-apiserver and etcd, then VmRSS after SETTLE s.
# Needs root and the release binaries (make bench-scale builds them). Absolute figures move with
# the machine; the ratios count.
#
# Environment: NS ("1000 3000 10000"), N_LIMITED (200), ITEMS (3), UNRELATED (50000),
#   UNRELATED_NS (5), CREATE_PARALLEL (4), SETTLE (5), SSRS_CLUSTER_DIR (/tmp/ssrs-bench-scale),
#   OURS_CONTROLLER, UPSTREAM_CONTROLLER, KUBESEAL, PLOT (docs/bench-scale.svg), KEEP_WORK=1.
# Helpers: scripts/bench/lib.sh (shared with bench-controller.sh), gen.py, unseal_timer.py,
# audit_summary.py, plot_scale.py.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

read -r -a NS <<<"${NS:-1000 3000 10000}"
N_LIMITED=${N_LIMITED:-200}
ITEMS=${ITEMS:-3}
UNRELATED=${UNRELATED:-50000}
UNRELATED_NS=${UNRELATED_NS:-5}
CREATE_PARALLEL=${CREATE_PARALLEL:-4}
SETTLE=${SETTLE:-5}
PLOT=${PLOT:-$REPO/docs/bench-scale.svg}
export SSRS_CLUSTER_DIR=${SSRS_CLUSTER_DIR:-/tmp/ssrs-bench-scale}
OURS_CONTROLLER=${OURS_CONTROLLER:-$REPO/target/release/sealed-secrets-controller}
UPSTREAM_CONTROLLER=${UPSTREAM_CONTROLLER:-$(scripts/tools.sh upstream)/controller}
KUBESEAL=${KUBESEAL:-$REPO/target/release/kubeseal}
LIFTED_FLAGS=(--kubeclient-qps=-1)
BENCH=$REPO/scripts/bench
T0=$SECONDS
# shellcheck source=scripts/bench/lib.sh
source "$BENCH/lib.sh"

check_prerequisites
WORK=$(mktemp -d /tmp/ssrs-bench-scale-work.XXXXXX)
cleanup() {
  local rc=$?
  scripts/cluster.sh down >/dev/null 2>>"$WORK/cluster.log" || true
  if [[ ${KEEP_WORK:-} == 1 || $rc != 0 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# restart_case KIND N: restart with everything unchanged; results under restart.KIND.N.
restart_case() {
  local kind=$1 n=$2 a0 e0 w0 w1 log0 pid updating rsa idle
  a0=$(cpu_ticks "$SSRS_APISERVER_PID"); e0=$(cpu_ticks "$SSRS_ETCD_PID")
  log0=$(stat -c %s "$SSRS_CONTROLLER_LOG" 2>/dev/null || echo 0)
  w0=$EPOCHREALTIME
  restart "$kind" "${LIFTED_FLAGS[@]}"
  pid=$SSRS_CONTROLLER_PID
  wait_idle "$pid"
  w1=$EPOCHREALTIME
  idle=$(awk -v a="${w0/,/.}" -v b="${w1/,/.}" 'BEGIN {printf "%.1f", b - a - 2}')
  # The log is rewritten by a (re)start or appended to: count from the start of this run's part.
  if (($(stat -c %s "$SSRS_CONTROLLER_LOG") < log0)); then log0=0; fi
  updating=$(tail -c +"$((log0 + 1))" "$SSRS_CONTROLLER_LOG" | grep -c 'Updating' || true)
  if [[ $kind == ours ]]; then
    rsa=$(curl -s "$SSRS_METRICS_URL/metrics" | awk '$1 == "sealed_secrets_controller_rsa_private_key_operations_total" {print $2}')
  else
    rsa=$((updating * ITEMS))
  fi
  local requests
  requests=$(python3 "$BENCH/audit_summary.py" "$SSRS_AUDIT_LOG" "${w0/,/.}" "${w1/,/.}")
  set_result "restart.$kind.$n.idle_s" "$idle"
  set_result "restart.$kind.$n.rsa" "$rsa"
  set_result "restart.$kind.$n.requests" "$(tail -n1 <<<"$requests" | awk '{print $2}')"
  set_result "restart.$kind.$n.cpu_s" "$(secs "$(cpu_ticks "$pid")")"
  set_result "restart.$kind.$n.apiserver_cpu_s" "$(secs $(($(cpu_ticks "$SSRS_APISERVER_PID") - a0)))"
  set_result "restart.$kind.$n.etcd_cpu_s" "$(secs $(($(cpu_ticks "$SSRS_ETCD_PID") - e0)))"
  sleep "$SETTLE"
  set_result "restart.$kind.$n.rss_kb" "$(status_kb "$pid" VmRSS)"
  {
    echo "== restart / $kind, $n SealedSecrets + $UNRELATED unrelated Secrets: idle after ${idle}s, RSA ops $rsa ('Updating' lines: $updating), CPU controller $(r "restart.$kind.$n.cpu_s")s, kube-apiserver $(r "restart.$kind.$n.apiserver_cpu_s")s, etcd $(r "restart.$kind.$n.etcd_cpu_s")s; VmRSS $(r "restart.$kind.$n.rss_kb") kB after ${SETTLE}s"
    echo "   controller API requests until idle:"
    sed 's/^/     /' <<<"$requests"
  } >>"$WORK/details"
  log "restart $kind N=$n: idle ${idle}s, RSA $rsa, requests $(r "restart.$kind.$n.requests"), RSS $(r "restart.$kind.$n.rss_kb") kB"
}

for kind in ours upstream; do
  cluster_up "$kind"
  throughput "$kind" limited bench-limited "$N_LIMITED"
  restart "$kind" "${LIFTED_FLAGS[@]}"
  create_unrelated
  prev=0
  for n in "${NS[@]}"; do
    throughput "$kind" "bulk$n" "bench-n$n" $((n - prev)) "${LIFTED_FLAGS[@]}"
    prev=$n
    wait_idle "$SSRS_CONTROLLER_PID"
    restart_case "$kind" "$n"
  done
  cluster down
done

python3 "$BENCH/plot_scale.py" "$WORK/results" "$PLOT" "${NS[@]}"

echo
print_machine
echo "ours: $("$OURS_CONTROLLER" --version 2>&1) (git $(git rev-parse --short HEAD 2>/dev/null || echo '?')); upstream: $("$UPSTREAM_CONTROLLER" --version 2>&1)"
echo
cat "$WORK/details"
echo
last=${NS[-1]}
bulk_rate() { # KIND: SealedSecrets per second over all bulk steps
  local kind=$1 n t=0
  for n in "${NS[@]}"; do t=$(awk -v a="$t" -v b="$(r "bulk$n.$kind.done_s")" 'BEGIN {print a + b}'); done
  awk -v n="$last" -v t="$t" 'BEGIN {printf "%.1f", n / t}'
}
set_result bulk.ours.rate "$(bulk_rate ours)"
set_result bulk.upstream.rate "$(bulk_rate upstream)"
row() { printf '%-58s %14s %14s %7s %s\n' "$@"; }
row case ours upstream ratio goal
row "1. $last SS in bulk, --kubeclient-qps=-1 (SS/s)" "$(r bulk.ours.rate)/s" "$(r bulk.upstream.rate)/s" \
  "$(ratio "$(r bulk.ours.rate)" "$(r bulk.upstream.rate)")" ">= 4 (ours/upstream)"
row "1. $N_LIMITED SS, default qps 5/burst 10 (SS/s)" "$(r limited.ours.rate)/s" "$(r limited.upstream.rate)/s" \
  "$(ratio "$(r limited.ours.rate)" "$(r limited.upstream.rate)")" ">= 1.5"
for n in "${NS[@]}"; do
  row "2. restart, $n unchanged: time to idle (s)" "$(r "restart.ours.$n.idle_s")" "$(r "restart.upstream.$n.idle_s")" \
    "$(ratio "$(r "restart.ours.$n.idle_s")" "$(r "restart.upstream.$n.idle_s")")" "<= 0.1 at 10,000"
  row "2. restart, $n unchanged: RSA private-key operations" "$(r "restart.ours.$n.rsa")" "$(r "restart.upstream.$n.rsa")" "-" "ours 0"
  row "2. restart, $n unchanged: API requests" "$(r "restart.ours.$n.requests")" "$(r "restart.upstream.$n.requests")" \
    "$(ratio "$(r "restart.ours.$n.requests")" "$(r "restart.upstream.$n.requests")")" "-"
  row "2. restart, $n unchanged: controller CPU (s)" "$(r "restart.ours.$n.cpu_s")" "$(r "restart.upstream.$n.cpu_s")" \
    "$(ratio "$(r "restart.ours.$n.cpu_s")" "$(r "restart.upstream.$n.cpu_s")")" "-"
  row "3. VmRSS, $n SS + $UNRELATED Secrets (MiB)" "$(mib "$(r "restart.ours.$n.rss_kb")")" "$(mib "$(r "restart.upstream.$n.rss_kb")")" \
    "$(ratio "$(r "restart.ours.$n.rss_kb")" "$(r "restart.upstream.$n.rss_kb")")" "<= 0.3"
done
echo "plot: $PLOT"
log "done in $((SECONDS - T0))s"

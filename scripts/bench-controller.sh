#!/usr/bin/env bash
# Side-by-side benchmark of our controller and upstream's on the same real control plane
# (scripts/cluster.sh: etcd + kube-apiserver on this machine, controller in its "pod"); prints
# ratios. See docs/benchmarks.md "## Controller" for the method and the last figures.
#
#   1. throughput: create N SealedSecrets (ITEMS encrypted items each, pre-sealed with the
#      controller's certificate) in one namespace, time until all N Secrets exist. Twice: with
#      both controllers at their default client limits (--kubeclient-qps 5 / --kubeclient-burst 10,
#      N_LIMITED SealedSecrets, because at 5 qps N=1,000 takes 10+ minutes per controller) and with
#      the limit lifted on both (--kubeclient-qps=-1, N SealedSecrets);
#   2. resident memory (VmRSS) at steady state after a restart, with the N SealedSecrets and
#      UNRELATED plain Secrets (~1 KiB each, over UNRELATED_NS namespaces) in the cluster;
#   3. process start to the first 200 from /healthz with an existing key (REPS starts of each,
#      alternating, in one cluster; median);
#   4. high availability (ours only has it): 3 of our pods with --leader-elect (default timings:
#      lease 15 s, renew deadline 10 s, retry 2 s) behind the Service (REPLICAS=3 cluster.sh);
#      handover after a SIGTERM to the leader and failover after a SIGKILL, each measured as the
#      time from the signal until a SealedSecret created at that instant is unsealed (REPS_HA of
#      each, median); and the `kubeseal --fetch-cert` error rate (our kubeseal, through the API
#      server's service proxy, back to back) during a rolling restart: ours, each of the 3 pods
#      stopped (not ready, SIGTERM), started and ready in turn; upstream's one pod the same way.
#
# The throughput and memory cases run on a fresh cluster per controller and run (no leftover work
# from the other one); the lifted-limit throughput is CPU-bound (the API server, etcd and kubectl
# share the cores), so it runs R_LIFTED times per controller, alternating, and the best run counts.
# Both controllers get exactly the same flags. Absolute figures move with the machine; the ratios
# are what counts. Needs root (like cluster.sh) and the release binaries:
#   cargo build --release -p sealed-secrets-controller -p kubeseal   (or: make bench-controller)
#
# Environment: CASES (all | ha: only case 4), REPS_HA (3),
#   N (1000), N_LIMITED (200), ITEMS (3), UNRELATED (5000), UNRELATED_NS (5), REPS (7),
#   R_LIFTED (2), SETTLE (10 s), CREATE_PARALLEL (4 kubectl processes creating the SealedSecrets),
#   SSRS_CLUSTER_DIR (/tmp/ssrs-bench; owned by this script: an old cluster there is torn down),
#   OURS_CONTROLLER, UPSTREAM_CONTROLLER, KUBESEAL (binaries), KEEP_WORK=1 (keep the work dir).
# Helpers: scripts/bench/{gen,unseal_timer,healthz_poll,audit_summary}.py.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

N=${N:-1000}
N_LIMITED=${N_LIMITED:-200}
ITEMS=${ITEMS:-3}
UNRELATED=${UNRELATED:-5000}
UNRELATED_NS=${UNRELATED_NS:-5}
REPS=${REPS:-7}
R_LIFTED=${R_LIFTED:-2}
SETTLE=${SETTLE:-10}
CREATE_PARALLEL=${CREATE_PARALLEL:-4}
CASES=${CASES:-all}
REPS_HA=${REPS_HA:-3}
[[ $CASES == all || $CASES == ha ]] || { echo "CASES=$CASES: all or ha" >&2; exit 1; }
export SSRS_CLUSTER_DIR=${SSRS_CLUSTER_DIR:-/tmp/ssrs-bench}
OURS_CONTROLLER=${OURS_CONTROLLER:-$REPO/target/release/sealed-secrets-controller}
UPSTREAM_CONTROLLER=${UPSTREAM_CONTROLLER:-$(scripts/tools.sh upstream)/controller}
KUBESEAL=${KUBESEAL:-$REPO/target/release/kubeseal}
DEFAULT_FLAGS=()                    # both controllers' defaults: --kubeclient-qps=5 --kubeclient-burst=10
LIFTED_FLAGS=(--kubeclient-qps=-1)  # negative disables client-side rate limiting (client-go and ours)
BENCH=$REPO/scripts/bench
T0=$SECONDS
# shellcheck source=scripts/bench/lib.sh
source "$BENCH/lib.sh"

check_prerequisites


WORK=$(mktemp -d /tmp/ssrs-bench-work.XXXXXX)
# The /healthz case runs each binary through a wrapper that prints the time right before it execs
# the controller. Both live where the pod user (uid 1001) can read them: the pod has private
# /tmp and /run, and upstream's binary sits under /root (mode 0700).
PODBIN=$(mktemp -d /var/tmp/ssrs-bench-bin.XXXXXX)
chmod 0755 "$PODBIN"
BG_PIDS=()
cleanup() {
  local rc=$? p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/cluster.sh down >/dev/null 2>>"$WORK/cluster.log" || scripts/cluster.sh down || true
  rm -rf "$PODBIN"
  if [[ ${KEEP_WORK:-} == 1 || $rc != 0 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for kind in ours upstream; do
  if [[ $kind == ours ]]; then src=$OURS_CONTROLLER; else src=$UPSTREAM_CONTROLLER; fi
  cp "$src" "$PODBIN/controller-$kind"
  # shellcheck disable=SC2016 # expanded by the wrapper, not here
  printf '#!/bin/bash\necho "ssrs-bench-exec ${EPOCHREALTIME/[.,]/}"\nexec %q "$@"\n' \
    "$PODBIN/controller-$kind" >"$PODBIN/wrapper-$kind"
  chmod 0755 "$PODBIN/controller-$kind" "$PODBIN/wrapper-$kind"
done

# ---------------------------------------------------------------------------------------------
# helpers

# (in scripts/bench/lib.sh, sourced above)
# create_floor: how long the same kubectl processes take to create the N SealedSecrets with no
# controller running (sealed with a test key; nothing unseals them). No controller can beat this.
create_floor() {
  cluster down
  cluster up --controller none
  load_env
  "$KUBECTL" create namespace bench-ss >/dev/null
  python3 "$BENCH/gen.py" secrets bench-ss "$N" "$ITEMS" | "$KUBESEAL" --cert tests/fixtures/keys/cert.pem -o yaml >"$WORK/sealed.yaml"
  split_chunks "$WORK/sealed.yaml" chunk
  sleep 2
  local w0=$EPOCHREALTIME
  create_chunks chunk
  local s
  s=$(awk -v a="${w0/,/.}" -v b="${EPOCHREALTIME/,/.}" 'BEGIN {printf "%.2f", b - a}')
  set_result floor.create_s "$s"
  echo "== floor: $CREATE_PARALLEL kubectl processes create the $N SealedSecrets in ${s}s with no controller running" >>"$WORK/details"
  log "floor: creating $N SealedSecrets takes ${s}s without a controller"
}

# memory KIND FLAGS...: plain Secrets into the cluster, restart, settle, VmRSS.
memory() {
  local kind=$1; shift
  create_unrelated
  restart "$kind" "$@"
  local pid=$SSRS_CONTROLLER_PID t1=$SECONDS
  wait_idle "$pid"
  local busy=$((SECONDS - t1))
  sleep "$SETTLE"
  local rss hwm anon
  rss=$(status_kb "$pid" VmRSS); hwm=$(status_kb "$pid" VmHWM); anon=$(status_kb "$pid" RssAnon)
  set_result "mem.$kind.rss_kb" "$rss"
  set_result "mem.$kind.hwm_kb" "$hwm"
  echo "== memory / $kind (flags: $*): VmRSS ${rss} kB (RssAnon ${anon} kB), peak VmHWM ${hwm} kB; idle ${busy}s after the restart, then ${SETTLE}s; CPU since start $(secs "$(cpu_ticks "$pid")")s" >>"$WORK/details"
  log "memory $kind: VmRSS ${rss} kB, VmHWM ${hwm} kB"
}

# healthz_once KIND: with the cluster's controller stopped, start KIND (default flags) in the pod
# through its wrapper and print the ms from its exec to the first 200 from /healthz.
# The pod is entered with scripts/cluster/pod-init.sh directly (same netns, service-account mount,
# uid and environment as `cluster.sh start-controller`), not through cluster.sh: that one runs
# kubectl (token, Service lookup, proxy health polls) while the controller starts, and those Go
# processes compete for the two cores inside the measured window.
healthz_once() {
  local kind=$1 ready=$WORK/poller-ready poller pid t200 texec
  rm -f "$ready"
  python3 "$BENCH/healthz_poll.py" "$SSRS_POD_IP" 8080 60 "$ready" >"$WORK/t200" &
  poller=$!
  BG_PIDS+=("$poller")
  while [[ ! -e $ready ]]; do sleep 0.01; done
  sleep 0.2
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ HOSTNAME="$SSRS_POD_NAME" \
    KUBERNETES_SERVICE_HOST="$SSRS_HOST_IP" KUBERNETES_SERVICE_PORT="$SSRS_APISERVER_PORT" \
    KUBERNETES_SERVICE_PORT_HTTPS="$SSRS_APISERVER_PORT" KUBERNETES_PORT="tcp://$SSRS_HOST_IP:$SSRS_APISERVER_PORT" \
    POD_NAMESPACE="$SSRS_CONTROLLER_NAMESPACE" \
    ip netns exec "$SSRS_NETNS" unshare --mount --propagation private -- \
    /bin/sh "$REPO/scripts/cluster/pod-init.sh" "$SSRS_CLUSTER_DIR/pod/serviceaccount" "$PODBIN/wrapper-$kind" 1001 65534 \
    "${DEFAULT_FLAGS[@]}" </dev/null >>"$WORK/healthz-$kind.log" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  wait "$poller" || { log "healthz $kind: no 200 within 60 s"; tail -n 20 "$WORK/healthz-$kind.log" >&2; return 1; }
  # Not at once: our controller, SIGTERMed in the first few ms after /healthz answers (before its
  # SealedSecret informer has synced), hangs for its whole 10 s shutdown grace period.
  sleep 0.3
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  t200=$(<"$WORK/t200")
  texec=$(grep -a '^ssrs-bench-exec ' "$WORK/healthz-$kind.log" | tail -n 1 | awk '{print $2}')
  awk -v a="$t200" -v b="$texec" 'BEGIN {printf "%.1f\n", (a / 1000 - b) / 1000}'
}
# healthz: REPS starts of each controller in the same cluster (same key Secret), alternating.
healthz() {
  local r kind ms
  declare -A times=()
  cluster stop-controller
  for kind in upstream ours; do healthz_once "$kind" >/dev/null; done # warm-up, not counted
  for ((r = 0; r < REPS; r++)); do
    for kind in upstream ours; do
      ms=$(healthz_once "$kind")
      times[$kind]+="$ms "
    done
  done
  for kind in upstream ours; do
    # shellcheck disable=SC2086 # a space-separated list
    set_result "healthz.$kind.ms" "$(printf '%s\n' ${times[$kind]} | median)"
    echo "== /healthz / $kind: ms from exec to the first 200, $REPS starts (after one warm-up): ${times[$kind]}" >>"$WORK/details"
    log "healthz $kind: ${times[$kind]}ms"
  done
}

# ---------------------------------------------------------------------------------------------
# case 4: high availability

# leading_pod: the index of the pod whose metrics say it leads (exactly one), waiting up to 60 s.
leading_pod() {
  local i t n found
  for ((t = 0; t < 600; t++)); do
    n=0
    for ((i = 0; i < SSRS_REPLICAS; i++)); do
      local url="SSRS_METRICS_URL_$i"
      if curl -s --max-time 1 "${!url}/metrics" | grep -qx 'sealed_secrets_controller_leader 1'; then n=$((n + 1)); found=$i; fi
    done
    if ((n == 1)); then echo "$found"; return 0; fi
    sleep 0.1
  done
  log "no single leader after 60 s"; return 1
}

# signal_to_unsealed SIG NAME: signals the leading pod's controller and at the same instant creates
# SealedSecret NAME (pre-sealed); the seconds until its Secret exists go to result ha.NAME. Then
# brings the pod back (marked not ready as its exit is noticed, started, ready again).
signal_to_unsealed() {
  local sig=$1 name=$2 leader pid out
  leader=$(leading_pod)
  pid="SSRS_CONTROLLER_PID_$leader"
  pid=${!pid}
  # a namespace of its own: the timer counts every Secret it sees there
  "$KUBECTL" create namespace "bench-$name" >/dev/null
  printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"%s","namespace":"bench-%s"},"stringData":{"v":"x"}}' "$name" "$name" |
    "$KUBESEAL" --cert "$WORK/cert.pem" -o yaml >"$WORK/ha-$name.yaml"
  out=$(python3 "$BENCH/unseal_timer.py" "$KUBECTL" "bench-$name" 1 120 -- \
    bash -c "kill -$sig $pid; exec '$KUBECTL' create -f '$WORK/ha-$name.yaml'" 2>/dev/null) ||
    { log "ha: $name not unsealed: $out"; return 1; }
  # the pod's exit (SIGTERM: it exits on its own) is noticed, then it starts again
  local i
  for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if [[ $sig == TERM ]]; then cluster stop-replica "$leader"; else cluster kill-replica "$leader"; fi
  CONTROLLER_BIN=$OURS_CONTROLLER cluster start-replica "$leader"
  load_env
  set_result "ha.$name" "$(jq -r .done_s <<<"$out")"
}

# fetch_cert_during_roll KIND: our kubeseal --fetch-cert back to back while every pod is stopped,
# started and ready in turn; sets ha.KIND.{calls,failed}.
fetch_cert_during_roll() {
  local kind=$1 stopf=$WORK/roll-stop i loop
  rm -f "$stopf"
  (
    calls=0 failed=0
    while [[ ! -e $stopf ]]; do
      calls=$((calls + 1))
      "$KUBESEAL" --fetch-cert >/dev/null 2>>"$WORK/roll-$kind.err" || failed=$((failed + 1))
    done
    echo "$calls $failed" >"$WORK/roll-$kind.count"
  ) &
  loop=$!
  BG_PIDS+=("$loop")
  sleep 1
  for ((i = 0; i < SSRS_REPLICAS; i++)); do
    cluster stop-replica "$i"
    if [[ $kind == ours ]]; then CONTROLLER_BIN=$OURS_CONTROLLER cluster start-replica "$i"; else cluster start-replica "$i"; fi
    sleep 1
  done
  touch "$stopf"
  wait "$loop"
  load_env
  local calls failed
  read -r calls failed <"$WORK/roll-$kind.count"
  set_result "ha.$kind.calls" "$calls"
  set_result "ha.$kind.failed" "$failed"
  echo "== rolling restart / $kind ($SSRS_REPLICAS pod(s)): $failed of $calls kubeseal --fetch-cert calls failed$( [[ -s $WORK/roll-$kind.err ]] && echo "; first error: $(head -n 1 "$WORK/roll-$kind.err")")" >>"$WORK/details"
  log "roll $kind: $failed of $calls --fetch-cert calls failed"
}

ha_cases() {
  local r t hand=() fail=()
  log "== high availability: 3 of our pods, --leader-elect (default timings)"
  REPLICAS=3 cluster_up ours --leader-elect
  leading_pod >/dev/null
  fetch_cert
  for ((r = 0; r < REPS_HA; r++)); do
    signal_to_unsealed TERM "handover-$r"
    t=$(get_result "ha.handover-$r"); hand+=("$t"); log "handover (SIGTERM) $((r + 1))/$REPS_HA: ${t}s"
    signal_to_unsealed KILL "failover-$r"
    t=$(get_result "ha.failover-$r"); fail+=("$t"); log "failover (SIGKILL) $((r + 1))/$REPS_HA: ${t}s"
  done
  set_result ha.handover_s "$(printf '%s\n' "${hand[@]}" | median)"
  set_result ha.failover_s "$(printf '%s\n' "${fail[@]}" | median)"
  echo "== high availability / ours, 3 pods, lease 15 s: signal -> SealedSecret created at that instant unsealed: SIGTERM ${hand[*]} s, SIGKILL ${fail[*]} s" >>"$WORK/details"
  fetch_cert_during_roll ours
  log "== rolling restart of upstream's single pod"
  REPLICAS=1 cluster_up upstream
  fetch_cert_during_roll upstream
}

# ---------------------------------------------------------------------------------------------
log "work dir $WORK, cluster dir $SSRS_CLUSTER_DIR"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ $CASES == all ]]; then
log "== /healthz, both controllers alternately, in a cluster whose key upstream generated"
cluster_up upstream "${DEFAULT_FLAGS[@]}"
healthz
for kind in upstream ours; do
  log "== $kind: default client limits (qps 5, burst 10)"
  cluster_up "$kind" "${DEFAULT_FLAGS[@]}"
  throughput "$kind" limited bench-ss "$N_LIMITED" "${DEFAULT_FLAGS[@]}"
done
create_floor
# CPU-bound: R_LIFTED runs each (alternating, fresh cluster each), the best counts; memory after
# the last one.
for ((rep = 1; rep <= R_LIFTED; rep++)); do
  for kind in upstream ours; do
    log "== $kind: client rate limit lifted (${LIFTED_FLAGS[*]}), run $rep/$R_LIFTED"
    cluster_up "$kind" "${LIFTED_FLAGS[@]}"
    throughput "$kind" "lifted$rep" bench-ss "$N" "${LIFTED_FLAGS[@]}"
    best=$(get_result "lifted.$kind.done_s")
    if [[ -z $best ]] || awk -v a="$(get_result "lifted$rep.$kind.done_s")" -v b="$best" 'BEGIN {exit !(a < b)}'; then
      set_result "lifted.$kind.done_s" "$(get_result "lifted$rep.$kind.done_s")"
      set_result "lifted.$kind.rate" "$(get_result "lifted$rep.$kind.rate")"
    fi
    if ((rep == R_LIFTED)); then
      wait_idle "$SSRS_CONTROLLER_PID"
      echo "   after the run (idle, no restart): VmRSS $(status_kb "$SSRS_CONTROLLER_PID" VmRSS) kB, VmHWM $(status_kb "$SSRS_CONTROLLER_PID" VmHWM) kB, controller CPU since start $(secs "$(cpu_ticks "$SSRS_CONTROLLER_PID")")s" >>"$WORK/details"
      memory "$kind" "${LIFTED_FLAGS[@]}"
    fi
  done
done
fi
ha_cases
cluster down

# ---------------------------------------------------------------------------------------------
echo
print_machine
echo "ours: $("$OURS_CONTROLLER" --version 2>&1) ($OURS_CONTROLLER, git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- 2>/dev/null || echo '+local changes')); upstream: $("$UPSTREAM_CONTROLLER" --version 2>&1) ($UPSTREAM_CONTROLLER)"
echo
cat "$WORK/details"
echo
printf '%-52s %14s %14s %7s %s\n' case ours upstream ratio goal
if [[ $CASES == all ]]; then
printf '%-52s %14s %14s %7s %s\n' "1. $N_LIMITED SS -> Secrets, default qps 5/burst 10 (SS/s)" \
  "$(r limited.ours.rate)/s" "$(r limited.upstream.rate)/s" "$(ratio "$(r limited.ours.rate)" "$(r limited.upstream.rate)")" ">= 3 (ours/upstream)"
printf '%-52s %14s %14s %7s %s\n' "1. $N SS -> Secrets, --kubeclient-qps=-1 (best of $R_LIFTED)" \
  "$(r lifted.ours.rate)/s" "$(r lifted.upstream.rate)/s" "$(ratio "$(r lifted.ours.rate)" "$(r lifted.upstream.rate)")" ">= 3 (ours/upstream)"
echo "   (the same kubectl create alone, no controller: $(r floor.create_s)s = $(awk -v n="$N" -v t="$(r floor.create_s)" 'BEGIN {printf "%.0f", n / t}')/s)"
printf '%-52s %14s %14s %7s %s\n' "2. VmRSS, $N SS + $UNRELATED Secrets, steady state" \
  "$(mib "$(r mem.ours.rss_kb)")" "$(mib "$(r mem.upstream.rss_kb)")" "$(ratio "$(r mem.ours.rss_kb)" "$(r mem.upstream.rss_kb)")" "<= 0.5"
printf '%-52s %14s %14s %7s %s\n' "3. start -> /healthz 200, existing key (median of $REPS)" \
  "$(r healthz.ours.ms) ms" "$(r healthz.upstream.ms) ms" "$(ratio "$(r healthz.ours.ms)" "$(r healthz.upstream.ms)")" "ours < 100 ms"
fi
printf '%-52s %14s %14s %7s %s\n' "4. SIGTERM to the leader -> new SS unsealed (median)" "$(r ha.handover_s) s" "-" "-" "< 2 s"
printf '%-52s %14s %14s %7s %s\n' "4. SIGKILL to the leader -> new SS unsealed (median)" "$(r ha.failover_s) s" "-" "-" "< 15 + 2 s"
printf '%-52s %14s %14s %7s %s\n' "4. --fetch-cert failed during a rolling restart" \
  "$(r ha.ours.failed)/$(r ha.ours.calls)" "$(r ha.upstream.failed)/$(r ha.upstream.calls)" "-" "ours 0"
log "done in $((SECONDS - T0))s"

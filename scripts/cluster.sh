#!/usr/bin/env bash
# A real, single-machine Kubernetes control plane for tests and humans (see docs/control-plane.md):
# etcd + kube-apiserver (TLS, RBAC, service accounts) on the host, and the Sealed Secrets controller
# running as a "pod" in its own network namespace, reached by kubeseal through the API server's
# service proxy exactly as in a real cluster. kube-controller-manager runs the garbage collector and
# the namespace controller (ownerReferences cascade, namespaces finish deleting); no scheduler or kubelet.
#
#   scripts/cluster.sh up [--controller upstream|ours|none] [-- CONTROLLER_ARGS...]
#   scripts/cluster.sh down
#   scripts/cluster.sh restart-controller [--controller upstream|ours] [-- CONTROLLER_ARGS...]
#   scripts/cluster.sh stop-controller
#   scripts/cluster.sh start-controller [--controller upstream|ours] [-- CONTROLLER_ARGS...]
#   scripts/cluster.sh status
#   scripts/cluster.sh stop-replica I | kill-replica I       (REPLICAS > 1; I counts from 0)
#   scripts/cluster.sh start-replica I [--controller upstream|ours] [-- CONTROLLER_ARGS...]
#   scripts/cluster.sh kill-apiserver | start-apiserver | kill-etcd | start-etcd
#   scripts/cluster.sh cut-network I | restore-network I    (replica I's pod link down / up again)
#
# Faults (tests/tests/e2e/faults.rs): kill-* SIGKILLs the daemon, start-* brings it back on the
# same port (etcd on the same data dir); cut-network sets the pod's eth0 down in its network
# namespace (its default route goes with it), restore-network sets it up and re-adds the route.
#
# With REPLICAS=N the controller runs N times, each replica in a pod of its own (network namespace,
# Pod object sealed-secrets-controller-ssrs[-I], log controller[-I].log), all listed in the
# controller Services' Endpoints/EndpointSlices. Replica 0 is the one the *-controller commands
# act on. The harness plays the kubelet's and the endpoints controller's part: a replica is listed
# ready once its /readyz answers, stop-replica marks it not ready before its SIGTERM (as after a
# pod deletion), kill-replica SIGKILLs it and marks it not ready once its exit is noticed.
# start-replica runs the flags given (`-- ARGS`, else $CONTROLLER_ARGS, else those it ran with last).
#
# (re)start-controller runs a controller in the same pod (same netns, Pod object, endpoints); its
# kind is --controller, else $CONTROLLER, else the kind that ran last; its flags are `-- ARGS`,
# else $CONTROLLER_ARGS (never inherited from the previous run).
#
# `up` prints `export KUBECONFIG=...` on stdout (everything else goes to stderr) and writes
# $SSRS_CLUSTER_DIR/env for test suites to source.
#
# Environment:
#   SSRS_CLUSTER_DIR  state dir (default /tmp/ssrs-cluster); one cluster per dir
#   CONTROLLER        ours (default) | upstream | none        (--controller wins)
#   CONTROLLER_BIN    binary for --controller ours (default: target/{release,debug}/sealed-secrets-controller)
#   REPLICAS          controller replicas (pods) started by `up` (default 1)
#   CONTROLLER_ARGS   extra controller flags, whitespace-separated (`-- ARGS` on the command line wins)
#   CONTROLLER_ENV    extra pod env, whitespace-separated NAME=VALUE pairs; SEALED_SECRETS_*,
#                     RUST_LOG and RUST_BACKTRACE from the caller's environment are passed through
#   POD_USER          uid:gid the controller runs as (default 1001:65534, like upstream; 0:0 = root)
#   CRD_FILE          CRD manifest to install (default: crds/sealedsecret.yaml for ours, upstream's from
#                     the Go module cache for upstream)
#   MANIFESTS_DIR     controller SA/RBAC/Service manifests (default deploy/ for ours, scripts/cluster/manifests
#                     for upstream);
#                     `kubectl apply -k` if it holds a kustomization.yaml, else `kubectl apply -f`
#   SSRS_TIMEOUT      seconds to wait for each component to become ready (default 120)
#   K8S_VERSION       Kubernetes release of kube-apiserver, kube-controller-manager and kubectl
#                     (default v1.37.2, as tools.sh; the tests also use v1.35.4)
#   UPSTREAM_VERSION  upstream release of --controller upstream, of $KUBESEAL_UPSTREAM and of the
#                     default CRD for upstream (default v0.40.0, as tools.sh; the tests also use v0.36.6)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
DIR=$(realpath -m "${SSRS_CLUSTER_DIR:-/tmp/ssrs-cluster}")
# Exported: scripts/tools.sh builds (or finds in its cache) exactly these versions.
export UPSTREAM_VERSION=${UPSTREAM_VERSION:-v0.40.0}
export K8S_VERSION=${K8S_VERSION:-v1.37.2}
TIMEOUT=${SSRS_TIMEOUT:-120}
POD_USER=${POD_USER:-1001:65534}
CTRL_NS=kube-system
CTRL_NAME=sealed-secrets-controller
POD_NAME=sealed-secrets-controller-ssrs
SERVICE_CIDR=10.96.0.0/16
NET_LOCK=/run/lock/ssrs-cluster-net.lock
MARKER=.ssrs-cluster
T0=${EPOCHREALTIME/[.,]/}

# ---------------------------------------------------------------------------------------------
# helpers

log() {
  local now=${EPOCHREALTIME/[.,]/}
  printf '[cluster %6.1fs] %s\n' "$(( (now - T0) / 100000 ))e-1" "$*" >&2
}
die() { log "ERROR: $*"; exit 1; }
tail_log() { # FILE [LINES]
  [[ -f $1 ]] || return 0
  echo "----- last ${2:-30} lines of $1 -----" >&2
  tail -n "${2:-30}" "$1" >&2 || true
  echo "----- end of $1 -----" >&2
}

need_cmds() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
  ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (apt-get install iproute2 util-linux openssl jq curl)"
  [[ $(id -u) == 0 ]] || die "must run as root (network namespaces, mounts)"
}

# State: $DIR/state holds KEY=value lines (shell-quoted), appended as resources are created so
# that `down` can clean up after an interrupted `up`. Later lines override earlier ones.
state_set() { # KEY VALUE
  printf -v "$1" '%s' "$2"
  printf '%s=%q\n' "$1" "$2" >>"$DIR/state"
}
# shellcheck disable=SC1091
load_state() { if [[ -f $DIR/state ]]; then source "$DIR/state"; fi; }

# Zombies count as gone: our daemons are orphans once `up` exits, and the reaper (pid 1) may take
# a while to collect them.
proc_start() { # PID -> start time in clock ticks (field 22 of /proc/PID/stat), empty if gone
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  s=${s##*) }
  awk '$1 != "Z" && $1 != "X" {print $20}' <<<"$s"
}
proc_alive() { # PID START
  [[ -n ${1:-} && -n ${2:-} ]] || return 1
  [[ $(proc_start "$1") == "$2" ]]
}
group_alive() { # PGID: any live (non-zombie) member?
  [[ -n ${1:-} ]] || return 1
  ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^[ZX]/ {f = 1} END {exit !f}'
}
# ours_running PID START: our daemon (session leader) is alive, or it is gone but members of its
# process group remain. A live process with that pid but another start time means the pid was
# reused, so the group is not ours (a pgid is never reallocated while its group has members).
ours_running() {
  [[ -n ${1:-} ]] || return 1
  local cur
  cur=$(proc_start "$1")
  if [[ -n $cur ]]; then [[ $cur == "${2:-}" ]]; return; fi
  group_alive "$1"
}

# stop_proc NAME PID START [GRACE]: SIGTERM to the process group (each daemon is a session
# leader), SIGKILL after GRACE seconds (default 15; 0 = SIGKILL at once); see ours_running.
stop_proc() {
  local name=$1 pid=${2:-} start=${3:-} grace=${4:-15} i
  [[ -n $pid ]] || return 0
  if ! ours_running "$pid" "$start"; then return 0; fi
  if ((grace > 0)); then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      if ! ours_running "$pid" "$start"; then return 0; fi
      sleep 0.1
    done
    log "$name did not exit ${grace}s after SIGTERM; sending SIGKILL"
  else
    log "killing $name (pid $pid)"
  fi
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    if ! ours_running "$pid" "$start"; then return 0; fi
    sleep 0.1
  done
  log "WARNING: $name (pid $pid) still alive after SIGKILL"
}

# start_daemon VAR LOGFILE CMD...: runs CMD in a new session (setsid execs in place, so the pid is
# the daemon's pid and its process group id), stdin from /dev/null, output appended to LOGFILE.
# Started from a subshell, so it is not our child (no job-status noise; it outlives this script).
start_daemon() {
  local var=$1 logf=$2 pid; shift 2
  pid=$(setsid "$@" </dev/null >>"$logf" 2>&1 & echo $!)
  state_set "${var}_PID" "$pid"
  state_set "${var}_START" "$(proc_start "$pid")"
}

# wait_until DESC TIMEOUT LOGFILE PID START CMD...: polls CMD every 0.25 s; fails early (with the log
# tail) if the process dies, or after TIMEOUT seconds.
wait_until() {
  local desc=$1 timeout=$2 logf=$3 pid=$4 start=$5; shift 5
  local deadline=$((SECONDS + timeout)) next_note=$((SECONDS + 15))
  until "$@" >/dev/null 2>&1; do
    if [[ -n $pid ]] && ! proc_alive "$pid" "$start"; then
      tail_log "$logf" 40
      die "$desc: process $pid exited (log: $logf)"
    fi
    if ((SECONDS >= deadline)); then
      tail_log "$logf" 40
      die "timed out after ${timeout}s waiting for $desc (log: $logf)"
    fi
    if ((SECONDS >= next_note)); then log "... still waiting for $desc"; next_note=$((SECONDS + 15)); fi
    sleep 0.25
  done
}

free_port() { # VAR: sets VAR to a random free TCP port on this host, not in USED_PORTS
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    [[ " ${USED_PORTS:-} " == *" $p "* ]] && continue
    if [[ -z $(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null) ]]; then
      USED_PORTS="${USED_PORTS:-} $p"
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  die "could not find a free TCP port"
}

# ensure_tool WHAT VAR: scripts/tools.sh WHAT (builds on first use; minutes), printing progress.
ensure_tool() {
  local what=$1 var=$2 out pid next started=$SECONDS
  local cache=${SSRS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealed-secrets-rs}
  out=$(mktemp)
  # own session, so that an interrupted `up` can stop the whole build (go and its children)
  setsid "$REPO/scripts/tools.sh" "$what" >"$out" </dev/null &
  pid=$!
  TOOLS_PID=$pid
  next=$((SECONDS + 2))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= next)); then
      local buildlog last=""
      buildlog=$(compgen -G "$cache/*.tmp.$pid.log" | head -1 || true)
      [[ -n $buildlog ]] && last=$(tail -n 1 "$buildlog" 2>/dev/null | cut -c1-120)
      log "... scripts/tools.sh $what still running ($((SECONDS - started))s)${last:+; last build output: $last}"
      next=$((SECONDS + 20))
    fi
    if ((SECONDS - started < 3)); then sleep 0.05; else sleep 0.5; fi
  done
  if ! wait "$pid"; then TOOLS_PID=""; rm -f "$out"; die "scripts/tools.sh $what failed (see above)"; fi
  TOOLS_PID=""
  printf -v "$var" '%s' "$(tail -n 1 "$out")"
  rm -f "$out"
}

kc() { "$K8S_BIN/kubectl" --kubeconfig "$DIR/kubeconfig" "$@"; }

# Replica I's state variable for NAME: NAME itself for replica 0 (the single-replica layout), else
# R<I>_NAME. rvn VAR NAME I sets VAR to that name; rget NAME I prints its value.
rvn() { if (($3 == 0)); then printf -v "$1" '%s' "$2"; else printf -v "$1" 'R%s_%s' "$3" "$2"; fi; }
rget() { local n; rvn n "$1" "$2"; printf '%s' "${!n:-}"; }
rset() { local n; rvn n "$1" "$2"; state_set "$n" "$3"; }
pod_name() { if (($1 == 0)); then echo "$POD_NAME"; else echo "$POD_NAME-$1"; fi; }
ctrl_log() { if (($1 == 0)); then echo "$DIR/controller.log"; else echo "$DIR/controller-$1.log"; fi; }
export KUBECACHEDIR=$DIR/kube-cache

# ---------------------------------------------------------------------------------------------
# teardown

# teardown [keep]: stop everything recorded in $DIR/state; remove netns/veth; remove $DIR unless
# "keep" (used after a failed `up`, so its logs can be read; the next `up` cleans it).
teardown() {
  local keep=${1:-}
  load_state
  local i
  for ((i = 0; i < ${REPLICAS:-1}; i++)); do
    stop_proc "controller $i" "$(rget CONTROLLER_PID "$i")" "$(rget CONTROLLER_START "$i")"
  done
  # Their state is thrown away: no point in a graceful shutdown (which takes seconds).
  stop_proc kube-controller-manager "${KCM_PID:-}" "${KCM_START:-}" 0
  stop_proc kube-apiserver "${APISERVER_PID:-}" "${APISERVER_START:-}" 0
  stop_proc etcd "${ETCD_PID:-}" "${ETCD_START:-}" 0
  for ((i = 0; i < ${REPLICAS:-1}; i++)); do del_netns "$(rget NETNS "$i")" "$(rget VETH_HOST "$i")"; done
  if [[ -z $keep && -d $DIR ]]; then
    if [[ -f $DIR/$MARKER ]]; then
      rm -rf "$DIR"
    else
      log "WARNING: $DIR has no $MARKER marker; not removing it"
    fi
  fi
}

del_netns() { # NETNS VETH_HOST
  local NETNS=$1 VETH_HOST=$2
  if [[ -n ${NETNS:-} ]] && ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF -- "$NETNS"; then
    local p leftover
    leftover=$(ip netns pids "$NETNS" 2>/dev/null || true)
    if [[ -n $leftover ]]; then
      log "killing leftover processes in netns $NETNS: ${leftover//$'\n'/ }"
      for p in $leftover; do kill -KILL "$p" 2>/dev/null || true; done
      sleep 0.2
    fi
    log "deleting netns $NETNS"
    ip netns del "$NETNS" || log "WARNING: ip netns del $NETNS failed"
  fi
  if [[ -n ${VETH_HOST:-} ]] && ip link show "$VETH_HOST" >/dev/null 2>&1; then
    ip link del "$VETH_HOST" || log "WARNING: ip link del $VETH_HOST failed"
  fi
}

# Is anything recorded in $DIR/state still running?
cluster_running() {
  (
    load_state
    proc_alive "${ETCD_PID:-}" "${ETCD_START:-}" || proc_alive "${APISERVER_PID:-}" "${APISERVER_START:-}" ||
      proc_alive "${KCM_PID:-}" "${KCM_START:-}" || proc_alive "${CONTROLLER_PID:-}" "${CONTROLLER_START:-}" && exit 0
    local i
    for ((i = 1; i < ${REPLICAS:-1}; i++)); do
      proc_alive "$(rget CONTROLLER_PID "$i")" "$(rget CONTROLLER_START "$i")" && exit 0
    done
    exit 1
  )
}

cmd_down() {
  need_cmds ip pgrep
  if [[ ! -e $DIR ]]; then log "no cluster state at $DIR; nothing to do"; return 0; fi
  [[ -f $DIR/$MARKER || ! -f $DIR/state ]] || die "$DIR is not a cluster.sh state dir"
  log "tearing down cluster in $DIR"
  teardown
  log "down"
}

# ---------------------------------------------------------------------------------------------
# pieces of `up`

gen_pki() {
  local p=$DIR/pki
  mkdir -p "$p"
  (
    cd "$p"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=ssrs-cluster-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
    sign() { # NAME SUBJECT EXTENSIONS
      openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
      printf '%b\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
        -days 365 -out "$1.crt" -extfile "$1.ext"
      rm -f "$1.csr" "$1.ext"
    }
    local common='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment'
    sign apiserver "/CN=kube-apiserver" "$common\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:$HOST_IP,IP:${SERVICE_CIDR%.0/*}.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    sign admin "/O=system:masters/CN=admin" "$common\nextendedKeyUsage=clientAuth"
    sign user "/O=ssrs-users/CN=ssrs-user" "$common\nextendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    chmod 644 ca.crt
  ) >"$DIR/pki.log" 2>&1 || { tail_log "$DIR/pki.log"; die "certificate generation failed"; }
}

write_kubeconfig() ( # FILE USER CERT KEY
  b64="base64 -w0"
  umask 077
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ssrs
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $($b64 <"$DIR/pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $($b64 <"$3")
    client-key-data: $($b64 <"$4")
contexts:
- name: ssrs-$2
  context:
    cluster: ssrs
    user: $2
    namespace: default
current-context: ssrs-$2
EOF
)

# setup_network: pick a free 10.213.N.0/30 (under a host-wide lock, so parallel `up`s don't clash),
# create netns ssrs-N-PID with a veth pair: host ssrs-hN = .1, pod eth0 = .2, default route via .1.
setup_network() {
  mkdir -p "$(dirname "$NET_LOCK")"
  exec {netlock}>"$NET_LOCK"
  flock -w 60 "$netlock" || die "could not lock $NET_LOCK"
  local r
  for ((r = 0; r < REPLICAS; r++)); do setup_pod_network "$r"; done
  exec {netlock}>&-
}

# setup_pod_network I: the netns and veth pair of replica I (see setup_network; lock held).
setup_pod_network() {
  local n start=$((($$ + $1) % 254 + 1)) i used
  used=$(ip -o -4 addr show 2>/dev/null; ip -o link show 2>/dev/null; ip -4 route show table all 2>/dev/null)
  for ((i = 0; i < 254; i++)); do
    n=$(((start + i - 1) % 254 + 1))
    if ! grep -qE "10\.213\.$n\.|ssrs-[hp]${n}[@: ]" <<<"$used" && ! ip netns list | grep -q "^ssrs-$n-"; then break; fi
    n=""
  done
  [[ -n $n ]] || die "no free 10.213.N.0/30 subnet (too many clusters?)"
  local tmp_pod="ssrs-p$n" ns="ssrs-$n-$$" veth="ssrs-h$n" hip="10.213.$n.1" pip="10.213.$n.2"
  rset NETNS "$1" "$ns"
  rset VETH_HOST "$1" "$veth"
  rset HOST_IP "$1" "$hip"
  rset POD_IP "$1" "$pip"
  ip netns add "$ns"
  ip link add "$veth" type veth peer name "$tmp_pod"
  ip link set "$tmp_pod" netns "$ns"
  ip addr add "$hip/30" dev "$veth"
  ip link set "$veth" up
  ip -n "$ns" link set "$tmp_pod" name eth0
  ip -n "$ns" addr add "$pip/30" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$hip"
}

# start_etcd: also after kill-etcd (same ports and data dir: the restart of a crashed member).
start_etcd() {
  local port=${ETCD_PORT:-} peer=${ETCD_PEER_PORT:-}
  [[ -n $port ]] || free_port port
  [[ -n $peer ]] || free_port peer
  state_set ETCD_PORT "$port"
  state_set ETCD_PEER_PORT "$peer"
  state_set ETCD_URL "http://127.0.0.1:$ETCD_PORT"
  mkdir -p "$DIR/etcd" && chmod 700 "$DIR/etcd"
  start_daemon ETCD "$DIR/etcd.log" "$ETCD_BIN/etcd" --name ssrs --data-dir "$DIR/etcd" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "ssrs=http://127.0.0.1:$peer" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn
  log "etcd starting on $ETCD_URL (pid $ETCD_PID)"
  wait_until "etcd health" "$TIMEOUT" "$DIR/etcd.log" "$ETCD_PID" "$ETCD_START" \
    bash -c "curl -sf --max-time 2 '$ETCD_URL/health' | grep -q '\"health\":\"true\"'"
}

# start_apiserver: also after kill-apiserver (same port, so kubeconfigs and the pods' in-cluster
# address stay valid).
start_apiserver() {
  local port=${APISERVER_PORT:-}
  [[ -n $port ]] || free_port port
  state_set APISERVER_PORT "$port"
  state_set APISERVER_URL "https://127.0.0.1:$APISERVER_PORT"
  state_set APISERVER_POD_URL "https://$HOST_IP:$APISERVER_PORT"
  local p=$DIR/pki
  start_daemon APISERVER "$DIR/apiserver.log" "$K8S_BIN/kube-apiserver" \
    --etcd-servers="$ETCD_URL" \
    --bind-address=0.0.0.0 --secure-port="$APISERVER_PORT" --advertise-address="$HOST_IP" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" --anonymous-auth=false \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --cert-dir="$DIR/apiserver-certs" \
    --audit-policy-file="$HERE/cluster/audit-policy.yaml" --audit-log-path="$DIR/audit.log" \
    --audit-log-format=json --audit-log-maxsize=200 --audit-log-maxbackup=2 \
    --profiling=false --v=1
  log "kube-apiserver starting on $APISERVER_URL (pod-side $APISERVER_POD_URL, pid $APISERVER_PID)"
  wait_until "kube-apiserver /readyz" "$TIMEOUT" "$DIR/apiserver.log" "$APISERVER_PID" "$APISERVER_START" \
    bash -c "[[ \$(curl -s --max-time 5 --cacert '$p/ca.crt' --cert '$p/admin.crt' --key '$p/admin.key' '$APISERVER_URL/readyz') == ok ]]"
}

# The two controllers whose absence a user of a real cluster would notice: the garbage collector
# (a deleted SealedSecret takes its Secret with it) and the namespace controller (`kubectl delete
# namespace` completes). Admin credentials; it serves nothing (--secure-port=0).
start_kcm() {
  start_daemon KCM "$DIR/kcm.log" "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$DIR/kubeconfig" --controllers=garbage-collector-controller,namespace-controller \
    --leader-elect=false --secure-port=0 --use-service-account-credentials=false --v=1
  log "kube-controller-manager starting (garbage collector, namespace controller; pid $KCM_PID)"
  wait_until "kube-controller-manager garbage collector" "$TIMEOUT" "$DIR/kcm.log" "$KCM_PID" "$KCM_START" \
    grep -q 'Garbage collector: all resource monitors have synced' "$DIR/kcm.log"
}

crd_file() {
  if [[ -n ${CRD_FILE:-} ]]; then
    [[ -f $CRD_FILE ]] || die "CRD_FILE=$CRD_FILE does not exist"
    echo "$CRD_FILE"
    return
  fi
  local mod=${GOMODCACHE:-${GOPATH:-$HOME/go}/pkg/mod}/github.com/bitnami-labs/sealed-secrets@$UPSTREAM_VERSION
  if command -v go >/dev/null; then
    mod=$(cd / && go mod download -json "github.com/bitnami-labs/sealed-secrets@$UPSTREAM_VERSION" | jq -r .Dir) ||
      die "go mod download github.com/bitnami-labs/sealed-secrets@$UPSTREAM_VERSION failed"
  fi
  local f=$mod/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml
  [[ -f $f ]] || die "upstream CRD not found at $f"
  echo "$f"
}

install_objects() {
  local out=$DIR/setup.log
  wait_until "namespaces default and $CTRL_NS" "$TIMEOUT" "$DIR/apiserver.log" "$APISERVER_PID" "$APISERVER_START" \
    kc get namespace default "$CTRL_NS"
  log "installing CRD $CRD"
  kc apply -f "$CRD" >>"$out" 2>&1 || { tail_log "$out"; die "applying CRD $CRD failed"; }
  kc wait --for=condition=Established --timeout="${TIMEOUT}s" crd/sealedsecrets.bitnami.com >>"$out" 2>&1 ||
    { tail_log "$out"; die "CRD sealedsecrets.bitnami.com not Established"; }

  local mdir=${MANIFESTS_DIR:-$HERE/cluster/manifests}
  [[ -d $mdir ]] || die "MANIFESTS_DIR=$mdir is not a directory"
  log "installing controller ServiceAccount/RBAC/Services from $mdir"
  if [[ -f $mdir/kustomization.yaml || -f $mdir/kustomization.yml || -f $mdir/Kustomization ]]; then
    kc apply -k "$mdir" >>"$out" 2>&1 || { tail_log "$out"; die "kubectl apply -k $mdir failed"; }
  else
    kc apply -f "$mdir" >>"$out" 2>&1 || { tail_log "$out"; die "kubectl apply -f $mdir failed"; }
  fi
  kc get serviceaccount -n "$CTRL_NS" "$CTRL_NAME" >/dev/null 2>&1 ||
    die "manifests in $mdir did not create ServiceAccount $CTRL_NS/$CTRL_NAME"
  kc get service -n "$CTRL_NS" "$CTRL_NAME" >/dev/null 2>&1 ||
    die "manifests in $mdir did not create Service $CTRL_NS/$CTRL_NAME"

  local r
  for ((r = 0; r < REPLICAS; r++)); do create_pod "$r"; done
  write_endpoints
}

# create_pod I: the "pod" of replica I: a Pod object standing for its netns (the service proxy only
# proxies to Endpoints addresses whose targetRef is a Pod that has that IP), with status written by
# us (no kubelet).
create_pod() {
  local out=$DIR/setup.log pn ns pip hip
  pn=$(pod_name "$1") ns=$(rget NETNS "$1") pip=$(rget POD_IP "$1") hip=$(rget HOST_IP "$1")
  local POD_NAME=$pn NETNS=$ns POD_IP=$pip HOST_IP=$hip
  log "creating Pod $CTRL_NS/$POD_NAME (ip $POD_IP)"
  kc apply -f - >>"$out" 2>&1 <<EOF || { tail_log "$out"; die "creating the controller Pod object failed"; }
apiVersion: v1
kind: Pod
metadata:
  name: $POD_NAME
  namespace: $CTRL_NS
  labels:
    name: $CTRL_NAME
  annotations:
    ssrs.dev/harness: scripts/cluster.sh
    ssrs.dev/netns: $NETNS
spec:
  nodeName: ssrs-node
  serviceAccountName: $CTRL_NAME
  securityContext:
    fsGroup: 65534
    runAsNonRoot: true
    runAsUser: 1001
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: $CTRL_NAME
    image: ssrs.invalid/sealed-secrets-controller:harness
    command: [controller]
    ports:
    - name: http
      containerPort: 8080
    - name: metrics
      containerPort: 8081
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
      readOnlyRootFilesystem: true
EOF
  local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local cond='"status":"True","lastTransitionTime":"'$now'"'
  kc patch pod -n "$CTRL_NS" "$POD_NAME" --subresource=status --type=merge -p "{\"status\":{
      \"phase\":\"Running\",\"podIP\":\"$POD_IP\",\"podIPs\":[{\"ip\":\"$POD_IP\"}],
      \"hostIP\":\"$HOST_IP\",\"hostIPs\":[{\"ip\":\"$HOST_IP\"}],\"startTime\":\"$now\",
      \"conditions\":[{\"type\":\"PodScheduled\",$cond},{\"type\":\"Initialized\",$cond},
        {\"type\":\"ContainersReady\",$cond},{\"type\":\"Ready\",$cond}]}}" >>"$out" 2>&1 ||
    { tail_log "$out"; die "setting the controller Pod status failed"; }
  rset POD_UID "$1" "$(kc get pod -n "$CTRL_NS" "$POD_NAME" -o jsonpath='{.metadata.uid}')"
}

# write_endpoints: Endpoints + EndpointSlices for the controller Services (whatever ports the
# manifests declare; named targetPorts resolve to the container ports http=8080, metrics=8081)
# listing every replica, ready or not as recorded (READY; replica 0 is ready unless marked
# otherwise, the others once started), as the endpoints controller would from the pods' readiness.
# Under a lock: the replica commands may run at once.
write_endpoints() {
  local out=$DIR/setup.log r ready reps="[]" lock
  exec {lock}>"$DIR/endpoints.lock"
  flock -w 30 "$lock" || die "could not lock $DIR/endpoints.lock"
  load_state
  for ((r = 0; r < REPLICAS; r++)); do
    ready=$(rget READY "$r")
    if ((r == 0)); then ready=${ready:-1}; fi
    reps=$(jq -c --arg ip "$(rget POD_IP "$r")" --arg pod "$(pod_name "$r")" --arg uid "$(rget POD_UID "$r")" \
      --argjson ready "$([[ $ready == 1 ]] && echo true || echo false)" \
      '. + [{ip: $ip, pod: $pod, uid: $uid, ready: $ready}]' <<<"$reps")
  done
  kc get service -n "$CTRL_NS" -o json 2>>"$out" |
    jq --argjson reps "$reps" --arg ns "$CTRL_NS" --arg name "$CTRL_NAME" '
      def tport: if (.targetPort|type) == "number" then .targetPort
                 elif .targetPort == "http" then 8080 elif .targetPort == "metrics" then 8081
                 else .port end;
      def ref: {kind: "Pod", namespace: $ns, name: .pod, uid: .uid};
      def addr: {ip: .ip, nodeName: "ssrs-node", targetRef: ref};
      {apiVersion: "v1", kind: "List", items: [ .items[]
        | select(.metadata.name == $name or .metadata.name == ($name + "-metrics")) | . as $svc |
        ([$svc.spec.ports[] | {name: (.name // ""), port: tport, protocol: (.protocol // "TCP")}]) as $ports |
        {apiVersion: "v1", kind: "Endpoints",
         metadata: {name: $svc.metadata.name, namespace: $ns, labels: {"ssrs.dev/harness": "true"}},
         subsets: [{addresses: [$reps[] | select(.ready) | addr],
                    notReadyAddresses: [$reps[] | select(.ready | not) | addr], ports: $ports}
                   | with_entries(select(.value != []))]},
        {apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
         metadata: {name: ($svc.metadata.name + "-ssrs"), namespace: $ns,
                    labels: {"kubernetes.io/service-name": $svc.metadata.name,
                             "endpointslice.kubernetes.io/managed-by": "ssrs.dev-cluster-sh"}},
         addressType: "IPv4",
         endpoints: [$reps[] | {addresses: [.ip], conditions: {ready: .ready, serving: .ready, terminating: false},
                      nodeName: "ssrs-node", targetRef: ref}],
         ports: $ports}
      ]}' >"$DIR/endpoints.json" || { tail_log "$out"; die "could not read the controller Services"; }
  # (subsets and endpoints are atomic lists: an address moved to notReadyAddresses leaves addresses)
  kc apply -f "$DIR/endpoints.json" >>"$out" 2>&1 || { tail_log "$out"; die "writing Endpoints/EndpointSlices failed"; }
  exec {lock}>&-
}

# set_ready I 0|1: records replica I's readiness and rewrites the endpoints.
set_ready() {
  rset READY "$1" "$2"
  write_endpoints
  log "replica $1 ($(pod_name "$1")) marked $([[ $2 == 1 ]] && echo ready || echo "not ready") in the endpoints"
}


# resolve_controller KIND -> sets CTRL_BIN
resolve_controller() {
  CTRL_BIN=""
  case $1 in
    upstream) CTRL_BIN=$UPSTREAM_BIN/controller ;;
    ours)
      # CONTROLLER_BIN, else (restart) the binary that ran last, else target/{release,debug}
      if [[ -n ${CONTROLLER_BIN:-} ]]; then
        CTRL_BIN=$CONTROLLER_BIN
      elif [[ ${LAST_CTRL_KIND:-} == ours && -n ${CONTROLLER_BIN_PATH:-} ]]; then
        CTRL_BIN=$CONTROLLER_BIN_PATH # restart-controller: same binary as last time
      else
        local c
        for c in "$REPO/target/release/sealed-secrets-controller" "$REPO/target/debug/sealed-secrets-controller"; do
          if [[ -x $c ]]; then CTRL_BIN=$c; break; fi
        done
        [[ -n ${CTRL_BIN:-} ]] ||
          die "--controller ours: set CONTROLLER_BIN=/path/to/sealed-secrets-controller (none in $REPO/target/{release,debug})"
      fi
      ;;
    none) CTRL_BIN="" ; return 0 ;;
    *) die "unknown controller '$1' (upstream|ours|none)" ;;
  esac
  CTRL_BIN=$(realpath "$CTRL_BIN" 2>/dev/null) || die "controller binary not found: $CTRL_BIN"
  [[ -f $CTRL_BIN && -x $CTRL_BIN ]] || die "controller binary not executable: $CTRL_BIN"
}

# start_controller KIND ARGS...: replica 0 (see start_replica_proc).
start_controller() { start_replica_proc 0 "$@"; }

# start_replica_proc I KIND ARGS...: fresh TokenRequest token, then the controller in the netns of
# replica I's pod; waits for its /healthz (replica 0: through the API server's service proxy).
start_replica_proc() {
  local r=$1 kind=$2; shift 2
  resolve_controller "$kind"
  local uid=${POD_USER%%:*} gid=${POD_USER#*:}
  local pn logf netns pip puid pv sa=$DIR/pod/serviceaccount
  pn=$(pod_name "$r") logf=$(ctrl_log "$r") netns=$(rget NETNS "$r") pip=$(rget POD_IP "$r") puid=$(rget POD_UID "$r")
  rvn pv CONTROLLER "$r"
  ((r == 0)) || sa=$DIR/pod-$r/serviceaccount
  mkdir -p "$sa"
  # A bound service-account token from the TokenRequest API, as the kubelet would project it.
  kc create token "$CTRL_NAME" -n "$CTRL_NS" --duration=24h \
    --bound-object-kind=Pod --bound-object-name="$pn" --bound-object-uid="$puid" >"$sa/token.new" 2>>"$DIR/setup.log" ||
    { tail_log "$DIR/setup.log"; die "kubectl create token $CTRL_NAME failed"; }
  # every token ever handed to a controller, for the log scan at teardown (tests/src/lib.rs)
  (umask 077 && { cat "$sa/token.new"; echo; } >>"$DIR/issued-tokens")
  mv "$sa/token.new" "$sa/token"
  cp "$DIR/pki/ca.crt" "$sa/ca.crt"
  printf '%s' "$CTRL_NS" >"$sa/namespace"
  chown "0:$gid" "$sa"/* && chmod 0640 "$sa"/* && chmod 0755 "$sa"

  # Every replica reaches the API server at replica 0's host address (the one its certificate
  # names), through its own veth and the host.
  local envv=(
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ HOSTNAME="$pn"
    KUBERNETES_SERVICE_HOST="$HOST_IP" KUBERNETES_SERVICE_PORT="$APISERVER_PORT"
    KUBERNETES_SERVICE_PORT_HTTPS="$APISERVER_PORT" KUBERNETES_PORT="tcp://$HOST_IP:$APISERVER_PORT"
    POD_NAMESPACE="$CTRL_NS"
  )
  local v
  for v in $(compgen -e); do
    case $v in SEALED_SECRETS_* | RUST_LOG | RUST_BACKTRACE) envv+=("$v=${!v}") ;; esac
  done
  for v in ${CONTROLLER_ENV:-}; do envv+=("$v"); done

  echo "===== $(date -u +%FT%TZ) cluster.sh: starting $kind controller: $CTRL_BIN${*:+ $*} (uid $uid, gid $gid, netns $netns) =====" \
    >>"$logf"
  start_daemon "$pv" "$logf" env -i "${envv[@]}" \
    ip netns exec "$netns" unshare --mount --propagation private -- \
    /bin/sh "$HERE/cluster/pod-init.sh" "$sa" "$CTRL_BIN" "$uid" "$gid" "$@"
  rset CTRL_KIND "$r" "$kind"
  state_set CONTROLLER_BIN_PATH "$CTRL_BIN"
  rset CONTROLLER_ARGV "$r" "$*"
  local pid start
  pid=$(rget CONTROLLER_PID "$r") start=$(rget CONTROLLER_START "$r")
  # replica 0 through the service proxy, as always, unless it is marked not ready (stop-replica)
  if ((r == 0)) && [[ $(rget READY 0) != 0 ]]; then
    log "$kind controller starting in netns $netns at $pip (pid $pid, log $logf)"
    # the same proxy name kubeseal uses: http:<name>:<first port name>
    local proxy svcport
    svcport=$(kc get service -n "$CTRL_NS" "$CTRL_NAME" -o jsonpath='{.spec.ports[0].name}' 2>/dev/null || true)
    proxy="/api/v1/namespaces/$CTRL_NS/services/http:$CTRL_NAME:$svcport/proxy/healthz"
    wait_until "controller /healthz through the API server service proxy ($proxy)" "$TIMEOUT" \
      "$logf" "$pid" "$start" \
      bash -c "[[ \$('$K8S_BIN/kubectl' --kubeconfig '$DIR/kubeconfig' get --raw '$proxy' --request-timeout=5s 2>/dev/null) == ok ]]"
    log "controller healthy via the service proxy"
  else
    log "$kind controller replica $r starting in netns $netns at $pip (pid $pid, log $logf)"
    wait_until "replica $r /healthz at $pip" "$TIMEOUT" "$logf" "$pid" "$start" \
      bash -c "[[ \$(curl -s --max-time 2 'http://$pip:8080/healthz') == ok ]]"
  fi
}

# wait_replica_ready I: until replica I's /readyz answers ok (the readiness probe).
wait_replica_ready() {
  local pip
  pip=$(rget POD_IP "$1")
  wait_until "replica $1 /readyz at $pip" "$TIMEOUT" "$(ctrl_log "$1")" "$(rget CONTROLLER_PID "$1")" \
    "$(rget CONTROLLER_START "$1")" bash -c "[[ \$(curl -s --max-time 2 'http://$pip:8080/readyz') == ok ]]"
}

stop_controller() { stop_replica_proc 0; }

# stop_replica_proc I [GRACE]: see stop_proc.
stop_replica_proc() {
  local r=$1 kind what=controller
  ((r == 0)) || what="controller replica $r"
  load_state
  stop_proc "$what" "$(rget CONTROLLER_PID "$r")" "$(rget CONTROLLER_START "$r")" "${2:-15}"
  rset CONTROLLER_PID "$r" ""
  rset CONTROLLER_START "$r" ""
  kind=$(rget CTRL_KIND "$r")
  [[ ${kind:-none} == none ]] || rset LAST_CTRL_KIND "$r" "$kind"
  rset CTRL_KIND "$r" none
}

write_env() {
  local f=$DIR/env.tmp
  {
    echo "# Generated by scripts/cluster.sh; source this file. Rewritten on (re)start-controller."
    printf 'export %s=%q\n' \
      SSRS_CLUSTER_DIR "$DIR" \
      KUBECONFIG "$DIR/kubeconfig" \
      KUBECACHEDIR "$DIR/kube-cache" \
      KUBECTL "$K8S_BIN/kubectl" \
      KUBESEAL_UPSTREAM "$UPSTREAM_BIN/kubeseal" \
      SSRS_USER_KUBECONFIG "$DIR/kubeconfig-user" \
      SSRS_K8S_BIN_DIR "$K8S_BIN" \
      SSRS_UPSTREAM_BIN_DIR "$UPSTREAM_BIN" \
      SSRS_ETCD_BIN_DIR "$ETCD_BIN" \
      SSRS_K8S_VERSION "$CLUSTER_K8S_VERSION" \
      SSRS_UPSTREAM_VERSION "$CLUSTER_UPSTREAM_VERSION" \
      SSRS_CA_CERT "$DIR/pki/ca.crt" \
      SSRS_APISERVER_URL "$APISERVER_URL" \
      SSRS_APISERVER_POD_URL "$APISERVER_POD_URL" \
      SSRS_APISERVER_PORT "$APISERVER_PORT" \
      SSRS_APISERVER_PID "$APISERVER_PID" \
      SSRS_APISERVER_LOG "$DIR/apiserver.log" \
      SSRS_AUDIT_LOG "$DIR/audit.log" \
      SSRS_ETCD_URL "$ETCD_URL" \
      SSRS_ETCD_PID "$ETCD_PID" \
      SSRS_NETNS "$NETNS" \
      SSRS_HOST_IP "$HOST_IP" \
      SSRS_POD_IP "$POD_IP" \
      SSRS_POD_NAME "$POD_NAME" \
      SSRS_CONTROLLER_NAMESPACE "$CTRL_NS" \
      SSRS_CONTROLLER_NAME "$CTRL_NAME" \
      SSRS_CONTROLLER "${CTRL_KIND:-none}" \
      SSRS_CONTROLLER_BIN "${CONTROLLER_BIN_PATH:-}" \
      SSRS_CONTROLLER_PID "${CONTROLLER_PID:-}" \
      SSRS_CONTROLLER_LOG "$DIR/controller.log" \
      SSRS_CONTROLLER_URL "http://$POD_IP:8080" \
      SSRS_METRICS_URL "http://$POD_IP:8081" \
      SSRS_REPLICAS "$REPLICAS"
    local r pip
    for ((r = 0; r < REPLICAS; r++)); do
      pip=$(rget POD_IP "$r")
      printf 'export %s=%q\n' \
        "SSRS_POD_NAME_$r" "$(pod_name "$r")" \
        "SSRS_POD_IP_$r" "$pip" \
        "SSRS_NETNS_$r" "$(rget NETNS "$r")" \
        "SSRS_CONTROLLER_PID_$r" "$(rget CONTROLLER_PID "$r")" \
        "SSRS_CONTROLLER_LOG_$r" "$(ctrl_log "$r")" \
        "SSRS_CONTROLLER_URL_$r" "http://$pip:8080" \
        "SSRS_METRICS_URL_$r" "http://$pip:8081"
    done
  } >"$f"
  mv "$f" "$DIR/env"
}

# parse_controller_opts "$@": --controller X / --controller=X, then optional `-- ARGS...`
parse_controller_opts() {
  OPT_CONTROLLER=""
  OPT_ARGS_SET=""
  OPT_ARGS=()
  while (($#)); do
    case $1 in
      --controller) (($# >= 2)) || die "--controller needs a value"; OPT_CONTROLLER=$2; shift 2 ;;
      --controller=*) OPT_CONTROLLER=${1#*=}; shift ;;
      --) shift; OPT_ARGS_SET=1; OPT_ARGS=("$@"); break ;;
      -h | --help) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
      *) die "unknown argument '$1' (controller flags go after --)" ;;
    esac
  done
  if [[ -z $OPT_ARGS_SET ]]; then read -ra OPT_ARGS <<<"${CONTROLLER_ARGS:-}"; fi
}

load_tools() { # bin dirs, building them on first use; recorded in the state for later commands
  log "Kubernetes $K8S_VERSION, upstream sealed-secrets $UPSTREAM_VERSION"
  ensure_tool etcd ETCD_BIN
  ensure_tool k8s K8S_BIN
  ensure_tool upstream UPSTREAM_BIN
  state_set ETCD_BIN "$ETCD_BIN"
  state_set K8S_BIN "$K8S_BIN"
  state_set UPSTREAM_BIN "$UPSTREAM_BIN"
  state_set CLUSTER_K8S_VERSION "$K8S_VERSION"
  state_set CLUSTER_UPSTREAM_VERSION "$UPSTREAM_VERSION"
}

# ---------------------------------------------------------------------------------------------
# commands

UP_OK=""
on_up_exit() {
  local rc=$?
  [[ -n $UP_OK ]] && return 0
  trap - ERR INT TERM HUP EXIT
  set +e
  log "up failed (exit $rc); stopping everything it started (logs kept in $DIR; 'down' removes them)"
  if [[ -n ${TOOLS_PID:-} ]]; then
    log "stopping scripts/tools.sh build (pid $TOOLS_PID)"
    kill -TERM -- "-$TOOLS_PID" 2>/dev/null
    wait "$TOOLS_PID" 2>/dev/null
  fi
  teardown keep
  exit "$rc"
}

cmd_up() {
  need_cmds openssl ip unshare setpriv setsid flock jq curl ss pgrep
  parse_controller_opts "$@"
  local kind=${OPT_CONTROLLER:-${ENV_CONTROLLER:-ours}}
  case $kind in upstream | ours | none) ;; *) die "unknown controller '$kind' (upstream|ours|none)" ;; esac
  # Installed as a user would install each: ours from deploy/ (kustomize, with our CRD from crds/),
  # upstream with its own RBAC/Services (scripts/cluster/manifests) and its CRD.
  if [[ $kind == ours ]]; then
    : "${MANIFESTS_DIR:=$REPO/deploy}"
    : "${CRD_FILE:=$REPO/crds/sealedsecret.yaml}"
  fi

  if [[ -e $DIR ]]; then
    if [[ -f $DIR/$MARKER ]]; then
      if cluster_running; then
        die "a cluster is already running in $DIR (scripts/cluster.sh down first, or set SSRS_CLUSTER_DIR)"
      fi
      log "removing stale state dir $DIR (nothing of it is running)"
      (teardown)
    elif [[ -n $(ls -A "$DIR" 2>/dev/null) ]]; then
      die "$DIR exists, is not empty and is not a cluster.sh state dir; refusing to use it"
    fi
  fi
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  touch "$DIR/$MARKER"
  : >"$DIR/state"
  [[ ${REPLICAS:=1} =~ ^[1-9][0-9]?$ ]] || die "REPLICAS=$REPLICAS: want 1 to 99"
  state_set REPLICAS "$REPLICAS"
  trap on_up_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  log "cluster state dir $DIR"
  load_tools
  [[ $kind == none ]] || resolve_controller "$kind"
  CRD=$(crd_file)

  setup_network
  log "netns $NETNS: pod $POD_IP (eth0) <-> host $HOST_IP ($VETH_HOST)"
  log "generating CA and certificates"
  gen_pki
  start_etcd
  start_apiserver
  write_kubeconfig "$DIR/kubeconfig" admin "$DIR/pki/admin.crt" "$DIR/pki/admin.key"
  write_kubeconfig "$DIR/kubeconfig-user" ssrs-user "$DIR/pki/user.crt" "$DIR/pki/user.key"
  # After the CRD, so that the garbage collector monitors SealedSecrets from its first sync.
  install_objects
  start_kcm
  state_set CTRL_KIND none
  if [[ $kind != none ]]; then
    start_controller "$kind" "${OPT_ARGS[@]}"
    local r
    for ((r = 1; r < REPLICAS; r++)); do
      start_replica_proc "$r" "$kind" "${OPT_ARGS[@]}"
      wait_replica_ready "$r"
      set_ready "$r" 1
    done
  else
    log "--controller none: not starting a controller (use: scripts/cluster.sh start-controller)"
  fi
  write_env
  UP_OK=1
  log "cluster up; env for tests: source $DIR/env"
  echo "export KUBECONFIG=$DIR/kubeconfig"
}

require_cluster() {
  [[ -f $DIR/$MARKER && -f $DIR/state ]] || die "no cluster in $DIR (scripts/cluster.sh up)"
  load_state
  proc_alive "${APISERVER_PID:-}" "${APISERVER_START:-}" || die "the kube-apiserver of $DIR is not running"
}

# (re)start-controller: --controller, else $CONTROLLER, else the kind that ran last, else upstream.
# The binary is resolved before anything is stopped, so a bad --controller/CONTROLLER_BIN leaves
# the running controller alone.
cmd_start_controller() { # restart|start ARGS...
  local mode=$1; shift
  need_cmds ip unshare setpriv setsid jq pgrep
  require_cluster
  parse_controller_opts "$@"
  [[ ${CTRL_KIND:-none} == none ]] || LAST_CTRL_KIND=$CTRL_KIND
  local last=${LAST_CTRL_KIND:-upstream}
  local kind=${OPT_CONTROLLER:-${ENV_CONTROLLER:-$last}}
  [[ $kind == none ]] && die "$mode-controller: --controller none makes no sense (use stop-controller)"
  resolve_controller "$kind"
  if [[ $mode == restart ]]; then
    stop_controller
  elif proc_alive "${CONTROLLER_PID:-}" "${CONTROLLER_START:-}"; then
    die "a controller is already running (pid $CONTROLLER_PID); use restart-controller"
  fi
  start_controller "$kind" "${OPT_ARGS[@]}"
  write_env
}

cmd_stop_controller() {
  need_cmds pgrep
  require_cluster
  stop_controller
  write_env
}

# replica ACTION I [ARGS...]: stop (not ready, then SIGTERM), kill (SIGKILL, then not ready once
# it is gone) or start (then ready once its /readyz answers) replica I.
cmd_replica() {
  local action=$1 r=${2:-}
  need_cmds ip unshare setpriv setsid jq pgrep curl
  require_cluster
  [[ $r =~ ^[0-9]+$ ]] && ((r < ${REPLICAS:-1})) || die "$action-replica: want a replica from 0 to $((${REPLICAS:-1} - 1)), not '$r'"
  shift 2
  case $action in
    stop)
      set_ready "$r" 0
      stop_replica_proc "$r"
      ;;
    kill)
      stop_replica_proc "$r" 0
      set_ready "$r" 0
      ;;
    start)
      local had_args=${CONTROLLER_ARGS+x}
      parse_controller_opts "$@"
      if [[ -z $OPT_ARGS_SET && -z $had_args ]]; then read -ra OPT_ARGS <<<"$(rget CONTROLLER_ARGV "$r")"; fi
      local kind
      kind=$(rget CTRL_KIND "$r")
      [[ ${kind:-none} == none ]] || die "replica $r is running (pid $(rget CONTROLLER_PID "$r")); stop-replica $r first"
      kind=${OPT_CONTROLLER:-${ENV_CONTROLLER:-$(rget LAST_CTRL_KIND "$r")}}
      kind=${kind:-${LAST_CTRL_KIND:-upstream}}
      [[ $kind == none ]] && die "start-replica: --controller none makes no sense (use stop-replica)"
      start_replica_proc "$r" "$kind" "${OPT_ARGS[@]}"
      wait_replica_ready "$r"
      set_ready "$r" 1
      ;;
  esac
  write_env
}

cmd_status() {
  if [[ ! -f $DIR/state ]]; then echo "no cluster in $DIR"; return 1; fi
  load_state
  local name pid start
  for name in ETCD APISERVER CONTROLLER; do
    pid=${name}_PID start=${name}_START
    if proc_alive "${!pid:-}" "${!start:-}"; then echo "$name: running (pid ${!pid})"; else echo "$name: not running"; fi
  done
  echo "controller kind: ${CTRL_KIND:-none}  bin: ${CONTROLLER_BIN_PATH:-}"
  local r
  for ((r = 1; r < ${REPLICAS:-1}; r++)); do
    if proc_alive "$(rget CONTROLLER_PID "$r")" "$(rget CONTROLLER_START "$r")"; then
      echo "CONTROLLER replica $r: running (pid $(rget CONTROLLER_PID "$r"), pod $(rget POD_IP "$r"))"
    else
      echo "CONTROLLER replica $r: not running"
    fi
  done
  echo "netns: ${NETNS:-} pod ${POD_IP:-} host ${HOST_IP:-}"
  echo "apiserver: ${APISERVER_URL:-} (pod side ${APISERVER_POD_URL:-})"
  [[ -f $DIR/env ]] && echo "env file: $DIR/env"
  return 0
}

# fault ACTION: kill-/start- of the API server or etcd (see the usage at the top).
cmd_fault() {
  need_cmds ip pgrep setsid curl
  [[ -f $DIR/$MARKER && -f $DIR/state ]] || die "no cluster in $DIR (scripts/cluster.sh up)"
  load_state
  case $1 in
    kill-apiserver) stop_proc kube-apiserver "${APISERVER_PID:-}" "${APISERVER_START:-}" 0 ;;
    kill-etcd) stop_proc etcd "${ETCD_PID:-}" "${ETCD_START:-}" 0 ;;
    start-apiserver)
      ! proc_alive "${APISERVER_PID:-}" "${APISERVER_START:-}" || die "kube-apiserver is running (pid $APISERVER_PID)"
      start_apiserver
      ;;
    start-etcd)
      ! proc_alive "${ETCD_PID:-}" "${ETCD_START:-}" || die "etcd is running (pid $ETCD_PID)"
      start_etcd
      ;;
  esac
  write_env
}

# network cut|restore I: replica I's pod loses (or gets back) its only link.
cmd_network() {
  local action=$1 r=${2:-} ns hip
  need_cmds ip
  [[ -f $DIR/$MARKER && -f $DIR/state ]] || die "no cluster in $DIR (scripts/cluster.sh up)"
  load_state
  [[ $r =~ ^[0-9]+$ ]] && ((r < ${REPLICAS:-1})) || die "$action-network: want a replica from 0 to $((${REPLICAS:-1} - 1)), not '$r'"
  ns=$(rget NETNS "$r") hip=$(rget HOST_IP "$r")
  case $action in
    cut) ip -n "$ns" link set eth0 down; log "pod $r ($ns): eth0 down" ;;
    restore)
      ip -n "$ns" link set eth0 up
      ip -n "$ns" route replace default via "$hip"
      log "pod $r ($ns): eth0 up, default route via $hip"
      ;;
  esac
}

ENV_CONTROLLER=${CONTROLLER:-}
cmd=${1:-}
shift || true
case $cmd in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  restart-controller) cmd_start_controller restart "$@" ;;
  start-controller) cmd_start_controller start "$@" ;;
  stop-controller) cmd_stop_controller ;;
  status) cmd_status ;;
  stop-replica | kill-replica | start-replica) cmd_replica "${cmd%-replica}" "$@" ;;
  kill-apiserver | start-apiserver | kill-etcd | start-etcd) cmd_fault "$cmd" ;;
  cut-network | restore-network) cmd_network "${cmd%-network}" "$@" ;;
  *) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac

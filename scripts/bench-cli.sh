#!/usr/bin/env bash
# Seals the same inputs with our kubeseal and upstream's, in one run, and prints the ratios.
#  1. one small Secret per process (the everyday `kubectl create secret ... | kubeseal` pipe), N runs;
#  2. one multi-document file of 1,000 Secrets with 5 keys each, R runs (median).
# Absolute times drift on shared machines; the ratio (ours / upstream) is the figure that counts.
set -euo pipefail
cd "$(dirname "$0")/.."
OURS=${OURS:-target/release/kubeseal}
UPSTREAM=${UPSTREAM_KUBESEAL:-$(scripts/tools.sh upstream)/kubeseal}
N=${N:-200}
R=${R:-5}
CERT=tests/fixtures/keys/cert.pem
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# An offline kubeconfig so that neither binary touches the network.
printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: bench\ncurrent-context: x\nusers:\n- name: u\n  user: {}\n' >"$work/kubeconfig"
export KUBECONFIG=$work/kubeconfig

printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: bench\ndata:\n  password: czNjcmV0\n' >"$work/one.yaml"
python3 - "$work/batch.yaml" <<'PY'
import base64, sys
with open(sys.argv[1], "w") as f:
    for i in range(1000):
        f.write("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: bench\ndata:\n" % i)
        for k in range(5):
            f.write("  key%d: %s\n" % (k, base64.b64encode(b"value-%d-%d-0123456789abcdef" % (i, k)).decode()))
PY

# The clock is bash's own $EPOCHREALTIME (microseconds): a `$(date +%s%N)` per reading forked and
# exec'd a process inside the timed interval, about 1 ms added to every run of both sides.
# time_runs BIN INPUT COUNT: prints the median wall time of one run in microseconds.
time_runs() {
  local bin=$1 input=$2 count=$3 i t0 t1
  local -a times=()
  for ((i = 0; i < count; i++)); do
    t0=${EPOCHREALTIME/[.,]/}
    "$bin" --cert "$CERT" -o yaml <"$input" >/dev/null
    t1=${EPOCHREALTIME/[.,]/}
    times+=($((10#$t1 - 10#$t0)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# Warm-up (page cache), then interleave so drift hits both sides alike.
time_runs "$OURS" "$work/one.yaml" 3 >/dev/null; time_runs "$UPSTREAM" "$work/one.yaml" 3 >/dev/null
single_up=$(time_runs "$UPSTREAM" "$work/one.yaml" "$N")
single_ours=$(time_runs "$OURS" "$work/one.yaml" "$N")
batch_up=$(time_runs "$UPSTREAM" "$work/batch.yaml" "$R")
batch_ours=$(time_runs "$OURS" "$work/batch.yaml" "$R")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-38s %12s %12s %8s %8s\n' "case (median wall time)" "ours" "upstream" "ratio" "goal"
printf '%-38s %10sus %10sus %8s %8s\n' "one Secret per process (N=$N)" "$single_ours" "$single_up" "$(ratio "$single_ours" "$single_up")" "<=0.20"
printf '%-38s %10sus %10sus %8s %8s\n' "1,000 Secrets x 5 keys (R=$R)" "$batch_ours" "$batch_up" "$(ratio "$batch_ours" "$batch_up")" "<=0.15"

#!/usr/bin/env bash
# Runs one end-to-end suite against a fresh control plane and always tears it down, even when the
# suite fails or the run is interrupted.
#   scripts/e2e.sh [--controller upstream|ours] TEST_NAME [cargo test args...]
set -euo pipefail
cd "$(dirname "$0")/.."
controller=${CONTROLLER:-upstream}
if [[ ${1:-} == --controller ]]; then controller=$2; shift 2; fi
suite=${1:?usage: scripts/e2e.sh [--controller upstream|ours] TEST_NAME [cargo args]}; shift
export SSRS_CLUSTER_DIR=${SSRS_CLUSTER_DIR:-/tmp/ssrs-e2e-$suite-$$}
cleanup() { scripts/cluster.sh down >/dev/null 2>&1 || scripts/cluster.sh down; }
trap cleanup EXIT
trap 'exit 130' INT TERM
scripts/cluster.sh up --controller "$controller" >/dev/null
# shellcheck disable=SC1091
source "$SSRS_CLUSTER_DIR/env"
status=0
cargo test -p e2e --test "$suite" -- --ignored "$@" || status=$?
if [[ $status -ne 0 && -f $SSRS_CONTROLLER_LOG ]]; then
  echo "--- last lines of the controller log ($SSRS_CONTROLLER_LOG)" >&2
  tail -n 30 "$SSRS_CONTROLLER_LOG" >&2
fi
exit $status

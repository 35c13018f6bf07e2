#!/bin/sh
# Runs as root inside the controller "pod": already in its network namespace (ip netns exec) and in
# a private mount namespace (unshare -m --propagation private), started by scripts/cluster.sh.
# Gives the pod its own /run and /tmp, mounts the service-account dir where client-go/kube-rs
# in-cluster config looks for it, then drops to the pod user and execs the controller (same pid).
# Usage: pod-init.sh SA_DIR CONTROLLER_BIN UID GID [controller args...]
set -eu
sa=$1 bin=$2 uid=$3 gid=$4
shift 4
run=$(readlink -f /var/run)
mount -t tmpfs -o mode=0755,size=16m ssrs-pod-run "$run"
mkdir -p "$run/secrets/kubernetes.io/serviceaccount" "$run/ssrs"
mount --bind "$sa" "$run/secrets/kubernetes.io/serviceaccount"
mount -o remount,bind,ro "$run/secrets/kubernetes.io/serviceaccount"
# Bind the binary itself (not its directory): it may live under a path the pod user cannot traverse.
: >"$run/ssrs/controller"
mount --bind "$bin" "$run/ssrs/controller"
mount -t tmpfs -o mode=1777,size=64m ssrs-pod-tmp /tmp
cd /
if [ "$uid" = 0 ]; then
  exec "$run/ssrs/controller" "$@"
fi
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all \
  --no-new-privs "$run/ssrs/controller" "$@"

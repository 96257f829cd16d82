#!/usr/bin/env bash
# Deletes the local e2e cluster and its kubeconfig; kwokctl stops every process it started.
#   usage: bash e2e/cluster/stop.sh                 KIP_CLUSTER=name picks the cluster (default kip-e2e)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/versions.sh"
CLUSTER=${KIP_CLUSTER:-kip-e2e}
STATE_DIR=$(cd "$HERE/.." && pwd)/.e2e
export PATH="$BIN_DIR:$PATH"
mkdir -p "$STATE_DIR"

# grep reads the whole list: with -q it could exit first and, under pipefail, the SIGPIPE kwokctl
# gets would make a listed cluster look absent.
if kwokctl get clusters 2>/dev/null | grep -x "$CLUSTER" >/dev/null; then
  kwokctl --name "$CLUSTER" delete cluster >/dev/null 2>"$STATE_DIR/$CLUSTER.delete.log" || {
    cat "$STATE_DIR/$CLUSTER.delete.log" >&2; exit 1; }
  printf '[cluster %s] deleted cluster %s\n' "$(date +%H:%M:%S)" "$CLUSTER"
else
  printf '[cluster %s] no cluster named %s\n' "$(date +%H:%M:%S)" "$CLUSTER"
fi
rm -f "$STATE_DIR/$CLUSTER".{kubeconfig,create.log,scale.log,delete.log}

# kwokctl tracks its processes by pid file; say so if any outlived the delete.
left=$(pgrep -f "/.kwok/clusters/$CLUSTER/" || true)
if [ -n "$left" ]; then
  echo "stop.sh: processes of $CLUSTER still running: $(echo $left)" >&2
  exit 1
fi

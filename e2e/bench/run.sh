#!/usr/bin/env bash
# The release benchmark (npm run bench). On a cold machine it builds the control plane (cached by
# version), bundles the program, starts its own kwok cluster (KIP_CLUSTER, default kip-bench, so it
# never touches the e2e suite's kip-e2e), runs e2e/bench/bench.ts and deletes the cluster on exit.
# The table goes to stdout and to /tmp/bench-result.txt; progress goes to stderr.
#   env: KIP_BENCH_RUNS (runs per figure, default 10), KIP_BENCH_NODES (default 10,100,1000)
# Takes 10-20 minutes with 1,000 nodes on 2 cores.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
source e2e/cluster/versions.sh
source .ci/prepare   # a Node >= 22.19 on PATH and node_modules from package-lock.json, as npm test does
kip_prepare
export BIN_DIR K8S_VERSION KWOK_VERSION
export KIP_CLUSTER=${KIP_CLUSTER:-kip-bench}
RESULT=${KIP_BENCH_RESULT:-/tmp/bench-result.txt}
NODES=${KIP_BENCH_NODES:-10,100,1000}
export KIP_BENCH_NODES=$NODES

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
t0=$(date +%s)

if [ "$KIP_CLUSTER" = kip-e2e ]; then
  echo "run.sh: KIP_CLUSTER=kip-e2e is the e2e suite's cluster; the benchmark deletes its cluster on exit, pick another name" >&2
  exit 2
fi

log "control-plane binaries (cached after the first build, which takes ~20 min)"
bash e2e/cluster/build-binaries.sh kubernetes etcd kwok registry crane >&2
log "bundling dist/main.mjs"
npm run --silent build >&2
export PATH="$BIN_DIR:$PATH"
command -v /usr/bin/time >/dev/null || { echo "run.sh: /usr/bin/time is needed for peak RSS (apt-get install time)" >&2; exit 1; }

cleanup() { bash e2e/cluster/stop.sh >&2 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
log "starting cluster $KIP_CLUSTER with ${NODES%%,*} nodes"
bash e2e/cluster/start.sh "${NODES%%,*}" >&2
export KUBECONFIG="$ROOT/e2e/.e2e/$KIP_CLUSTER.kubeconfig"

set +e
node e2e/bench/bench.ts | tee "$RESULT"
code=${PIPESTATUS[0]}
if [ "$code" -eq 0 ]; then
  log "refresh benchmark: a real registry, ${NODES} nodes"
  node e2e/bench/refresh.ts | tee -a "$RESULT"
  code=${PIPESTATUS[0]}
fi
set -e
log "finished with exit $code in $(( $(date +%s) - t0 ))s; table saved to $RESULT"
exit "$code"

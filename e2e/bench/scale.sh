#!/usr/bin/env bash
# The scale benchmark (npm run bench:scale): starts its own kwok cluster (KIP_CLUSTER, default
# kip-bench-scale) with the first of KIP_BENCH_NODES nodes (default 1000,5000), runs
# e2e/bench/scale.ts, which grows it to each size in turn, and deletes the cluster on exit.
# The table goes to stdout and to /tmp/bench-scale-result.txt; progress to stderr.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
source e2e/cluster/versions.sh
source .ci/prepare
kip_prepare
export BIN_DIR K8S_VERSION KWOK_VERSION
export KIP_CLUSTER=${KIP_CLUSTER:-kip-bench-scale}
RESULT=${KIP_BENCH_RESULT:-/tmp/bench-scale-result.txt}
export KIP_BENCH_NODES=${KIP_BENCH_NODES:-1000,5000}

if [ "$KIP_CLUSTER" = kip-e2e ]; then
  echo "scale.sh: KIP_CLUSTER=kip-e2e is the e2e suite's cluster; the benchmark deletes its cluster on exit, pick another name" >&2
  exit 2
fi
bash e2e/cluster/build-binaries.sh kubernetes etcd kwok >&2
npm run --silent build >&2
export PATH="$BIN_DIR:$PATH"
command -v /usr/bin/time >/dev/null || { echo "scale.sh: /usr/bin/time is needed for peak RSS (apt-get install time)" >&2; exit 1; }

trap 'bash e2e/cluster/stop.sh >&2 || true' EXIT
trap 'exit 130' INT TERM
KIP_NODE_WAIT_SECONDS=${KIP_NODE_WAIT_SECONDS:-900} bash e2e/cluster/start.sh "${KIP_BENCH_NODES%%,*}" >&2
export KUBECONFIG="$ROOT/e2e/.e2e/$KIP_CLUSTER.kubeconfig"
node e2e/bench/scale.ts | tee "$RESULT"
exit "${PIPESTATUS[0]}"

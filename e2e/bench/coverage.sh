#!/usr/bin/env bash
# The coverage benchmark (npm run bench:coverage): starts its own kwok cluster (KIP_CLUSTER, default
# kip-bench-coverage) of 3 nodes, runs e2e/bench/coverage.ts against it and deletes it on exit.
# The table goes to stdout and to /tmp/bench-coverage-result.txt; progress to stderr.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
source e2e/cluster/versions.sh
source .ci/prepare
kip_prepare
export BIN_DIR K8S_VERSION KWOK_VERSION
export KIP_CLUSTER=${KIP_CLUSTER:-kip-bench-coverage}
RESULT=${KIP_BENCH_RESULT:-/tmp/bench-coverage-result.txt}

if [ "$KIP_CLUSTER" = kip-e2e ]; then
  echo "coverage.sh: KIP_CLUSTER=kip-e2e is the e2e suite's cluster; the benchmark deletes its cluster on exit, pick another name" >&2
  exit 2
fi
bash e2e/cluster/build-binaries.sh kubernetes etcd kwok >&2
npm run --silent build >&2
export PATH="$BIN_DIR:$PATH"
command -v /usr/bin/time >/dev/null || { echo "coverage.sh: /usr/bin/time is needed for peak RSS (apt-get install time)" >&2; exit 1; }

trap 'bash e2e/cluster/stop.sh >&2 || true' EXIT
trap 'exit 130' INT TERM
bash e2e/cluster/start.sh 3 >&2
export KUBECONFIG="$ROOT/e2e/.e2e/$KIP_CLUSTER.kubeconfig"
node --expose-gc e2e/bench/coverage.ts | tee "$RESULT"
exit "${PIPESTATUS[0]}"

#!/usr/bin/env bash
# The end-to-end suite (npm run test:e2e). Expects dist/main.mjs from `npm run build`.
#   - builds the control-plane binaries once (cached by version; see cluster/build-binaries.sh);
#   - uses the cluster in $KUBECONFIG when the caller gives one (set KIP_CLUSTER to its kwok name to
#     keep the audit-log checks), else starts the local kwok cluster and deletes it on exit;
#   - runs every e2e/**/*.test.ts, one file at a time, and exits with the tests' exit code.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source e2e/cluster/versions.sh
source .ci/prepare   # a Node >= 22.19 on PATH and node_modules from package-lock.json, as npm test does
kip_prepare
export BIN_DIR

log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(now_ms)

bash e2e/cluster/build-binaries.sh
if [ ! -f dist/main.mjs ]; then
  echo "run.sh: dist/main.mjs is missing; run npm run build first" >&2
  exit 1
fi
export PATH="$BIN_DIR:$PATH"

if [ -n "${KUBECONFIG:-}" ]; then
  log "using the cluster in KUBECONFIG=$KUBECONFIG"
else
  export KIP_CLUSTER=${KIP_CLUSTER:-kip-e2e}
  trap 'bash e2e/cluster/stop.sh || true' EXIT
  trap 'exit 130' INT TERM
  bash e2e/cluster/start.sh "${KIP_E2E_NODES:-3}"
  export KUBECONFIG="$ROOT/e2e/.e2e/$KIP_CLUSTER.kubeconfig"
fi

t1=$(now_ms)
set +e
node --test --test-concurrency=1 --test-reporter=spec 'e2e/**/*.test.ts'
code=$?
set -e
log "tests finished with exit $code in $(( ($(now_ms) - t1) / 1000 ))s (whole run $(( ($(now_ms) - t0) / 1000 ))s)"
exit "$code"

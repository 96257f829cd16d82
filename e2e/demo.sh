#!/usr/bin/env bash
# npm run demo: a real pass of the puller against a local 3-node cluster (kwok fake nodes, real
# kube-apiserver, controller-manager and scheduler). Builds what is missing, starts the cluster
# "kip-demo", caches three images, shows the DaemonSet and its pod on each node, and leaves the
# cluster running for you to explore, with the commands to try the Helm chart on it.
# `npm run demo -- --real` runs what users install instead: the image on a real node (demo-real.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ "${1:-}" = --real ]; then exec bash e2e/demo-real.sh; fi
source e2e/cluster/versions.sh
path_before=$PATH
source .ci/prepare   # a Node >= 22.19 on PATH and node_modules from package-lock.json, as npm test does
kip_prepare
# The directories to put on the user's PATH afterwards: the binaries, and the Node it fetched if any.
user_path=$BIN_DIR
if [ "$PATH" != "$path_before" ]; then user_path="$BIN_DIR:$(dirname "$(command -v node)")"; fi
export KIP_CLUSTER=${KIP_DEMO_CLUSTER:-kip-demo}   # the quick-start check (e2e/quickstart.test.ts) uses its own
NAMESPACE=kip-demo
IMAGES='alpine=docker.io/library/alpine:3.22;busybox=docker.io/library/busybox:1.37;pause=registry.k8s.io/pause:3.10'

step() { printf '\n==> %s\n' "$*"; }

step "Building the control-plane binaries and helm (first time only: about 20 minutes; then cached in $BIN_DIR)"
bash e2e/cluster/build-binaries.sh kubernetes etcd kwok helm
step "Building the puller (npm run build)"
npm run --silent build
export PATH="$BIN_DIR:$PATH"

step "Starting the local cluster $KIP_CLUSTER with 3 nodes"
bash e2e/cluster/start.sh 3
export KUBECONFIG="$ROOT/e2e/.e2e/$KIP_CLUSTER.kubeconfig"
kubectl get nodes

step "Creating namespace $NAMESPACE (Pod Security: restricted)"
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl label namespace "$NAMESPACE" --overwrite pod-security.kubernetes.io/enforce=restricted >/dev/null
until kubectl -n "$NAMESPACE" get serviceaccount default >/dev/null 2>&1; do sleep 0.5; done

step "Running one pass: IMAGES=$IMAGES"
set +e
env -i PATH="$PATH" HOME="$HOME" KUBECONFIG="$KUBECONFIG" \
  NAMESPACE="$NAMESPACE" IMAGES="$IMAGES" ROLLOUT_TIMEOUT_SECONDS=60 LOG_FORMAT=text \
  node dist/main.mjs
code=$?
set -e
echo "exit code: $code (0 = every node caches every image)"

step "The DaemonSet"
kubectl -n "$NAMESPACE" get daemonset -o wide
step "One pod per node; each image is an init container that pulled it"
kubectl -n "$NAMESPACE" get pods --sort-by=.spec.nodeName \
  -o custom-columns='NODE:.spec.nodeName,POD:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,IMAGES:.spec.initContainers[*].image'

cat <<MSG

The cluster keeps running. To look around:
  export KUBECONFIG=$KUBECONFIG PATH=$user_path:\$PATH
  kubectl -n $NAMESPACE get daemonset,pods -o wide

Then run it as a cluster does, from the Helm chart: install it (a CronJob that runs the pass every
hour), start a pass now from the CronJob, and read that pass's summary line:
  helm install kip charts/kubernetes-image-puller -n kip-chart --create-namespace \\
    --set configMap.images='$IMAGES'
  kubectl -n kip-chart create job --from=cronjob/kubernetes-image-puller pass-now
  node e2e/job-pass.ts kip-chart pass-now | tail -1
On a real cluster the last one is \`kubectl -n kip-chart logs job/pass-now | tail -1\`. kwok runs no
containers (it marks the Job's pod Completed), so job-pass.ts runs that Job's pass here instead, with
the Job's environment and its ServiceAccount's token. For the real thing, the image built from the
Dockerfile run by the CronJob on a real node (root, Linux): npm run demo -- --real

Stop and delete the cluster:
  KIP_CLUSTER=$KIP_CLUSTER bash e2e/cluster/stop.sh
MSG
exit "$code"

#!/usr/bin/env bash
# npm run demo -- --real: what users install, on a local cluster with one real node. Builds the
# image from the Dockerfile (npm run image), starts the cluster "kip-demo" with a real node (kubelet,
# containerd, kube-proxy) beside its simulated ones and a local registry, installs the chart with
# `helm install`, and waits for the CronJob controller's own Job: its pod runs the image on the real
# node, and the DaemonSet it makes pulls the images into containerd. Needs root on Linux (containerd,
# the kubelet, buildah) and Go; the first run builds the node's binaries as well (~5 more minutes).
# The cluster, the node and the registry keep running; the closing text shows how to stop them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source e2e/cluster/versions.sh
[ "$(id -u)" -eq 0 ] && [ "$(uname -s)" = Linux ] || { echo "demo --real: the real node needs root on Linux (containerd, the kubelet); run npm run demo without --real for the simulated one" >&2; exit 1; }
source .ci/prepare
kip_prepare
export KIP_CLUSTER=${KIP_DEMO_CLUSTER:-kip-demo}
NAMESPACE=kip-real
NODE=kip-real-0

step() { printf '\n==> %s\n' "$*"; }

step "Building the binaries: control plane, helm, registry, kubelet and kube-proxy (first time only; then cached)"
bash e2e/cluster/build-binaries.sh
step "Building the puller (npm run build)"
npm run --silent build
export PATH="$BIN_DIR:$PATH"

step "Starting the local cluster $KIP_CLUSTER (1 simulated node), its registry and the real node $NODE"
bash e2e/cluster/start.sh 1
export KUBECONFIG="$ROOT/e2e/.e2e/$KIP_CLUSTER.kubeconfig"
bash e2e/cluster/registry.sh start
bash e2e/cluster/real-node.sh start
REGISTRY=$(cat "e2e/.e2e/$KIP_CLUSTER.registry")
kubectl get nodes -o wide

step "Building the image from the Dockerfile and pushing it to $REGISTRY (npm run image)"
bash e2e/image/build.sh --push "$REGISTRY/kubernetes-image-puller:dev"

step "helm install: the CronJob runs every minute, its pod and the DaemonSet on the real node"
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl label namespace "$NAMESPACE" --overwrite pod-security.kubernetes.io/enforce=restricted >/dev/null
until kubectl -n "$NAMESPACE" get serviceaccount default >/dev/null 2>&1; do sleep 0.5; done
values=$(mktemp)
cat >"$values" <<EOF
image: {repository: $REGISTRY/kubernetes-image-puller, tag: dev}
schedule: "* * * * *"
firstPass: {enabled: false}
configMap:
  images: "one-file=$REGISTRY/kip/one-file:1;distroless=$REGISTRY/kip/distroless:1"
  nodeSelector: '{"kubernetes.io/hostname": "$NODE"}'
  tolerations: [{key: kip-e2e/real-node, operator: Exists, effect: NoSchedule}]
job:
  nodeSelector: {kubernetes.io/hostname: $NODE}
  tolerations: [{key: kip-e2e/real-node, operator: Exists, effect: NoSchedule}]
EOF
helm upgrade --install kip charts/kubernetes-image-puller -n "$NAMESPACE" --values "$values" >/dev/null
rm -f "$values"
kubectl -n "$NAMESPACE" get cronjob

step "Waiting for the CronJob controller to start a Job (at the next minute)"
job=
until [ -n "$job" ]; do
  job=$(kubectl -n "$NAMESPACE" get jobs -o jsonpath='{range .items[?(@.metadata.ownerReferences[0].kind=="CronJob")]}{.metadata.name}{"\n"}{end}' | head -1)
  [ -n "$job" ] || sleep 2
done
kubectl -n "$NAMESPACE" wait --for=condition=Complete "job/$job" --timeout=180s >/dev/null || true
kubectl -n "$NAMESPACE" get pods -o wide
step "kubectl -n $NAMESPACE logs job/$job | tail -1"
kubectl -n "$NAMESPACE" logs "job/$job" | tail -1
kubectl -n "$NAMESPACE" rollout status daemonset/kubernetes-image-puller --timeout=120s >/dev/null || true
step "containerd's image store on $NODE"
ctr --address "e2e/.e2e/$KIP_CLUSTER/node/containerd.sock" -n k8s.io images ls -q | grep -v -e '@sha256' -e '^sha256:' | sort

cat <<MSG

Everything keeps running. To look around:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN_DIR:\$PATH
  kubectl -n $NAMESPACE get cronjob,jobs,daemonset,pods -o wide
  kubectl -n $NAMESPACE create job --from=cronjob/kubernetes-image-puller pass-now
  kubectl -n $NAMESPACE logs job/pass-now | tail -1

Stop it all (the node first: it evicts its pods and removes its containers and network):
  KIP_CLUSTER=$KIP_CLUSTER bash e2e/cluster/real-node.sh stop
  KIP_CLUSTER=$KIP_CLUSTER bash e2e/cluster/registry.sh stop
  KIP_CLUSTER=$KIP_CLUSTER bash e2e/cluster/stop.sh
MSG

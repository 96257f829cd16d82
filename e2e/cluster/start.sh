#!/usr/bin/env bash
# Starts the local e2e cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kwok
# controller as plain processes (kwokctl's binary runtime), with NODES fake nodes (default 3).
#   usage: bash e2e/cluster/start.sh [nodes]        KIP_CLUSTER=name picks the cluster (default kip-e2e)
# Writes the kubeconfig to e2e/.e2e/<name>.kubeconfig and returns once every node is Ready and carries
# no node.kubernetes.io/not-ready taint, since DaemonSet pods do not tolerate that taint.
# A cluster of the same name left over from an earlier run is deleted first; a cluster that does not
# come up is deleted and created once more, and never left running.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/versions.sh"
NODES=${1:-3}
CLUSTER=${KIP_CLUSTER:-kip-e2e}
source "$HERE/network.sh"
STATE_DIR=$(cd "$HERE/.." && pwd)/.e2e
KUBECONFIG_OUT=$STATE_DIR/$CLUSTER.kubeconfig
KWOK_HOME=${KWOK_WORKDIR:-$HOME/.kwok}
export PATH="$BIN_DIR:$PATH"   # kwokctl waits for readiness with the kubectl it finds on PATH

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
elapsed() { echo "$(( $(date +%s%N) / 1000000 - $1 ))ms"; }

case $NODES in ''|*[!0-9]*) echo "start.sh: nodes must be a whole number, got '$NODES'" >&2; exit 2;; esac
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl; do
  if [ ! -x "$BIN_DIR/$b" ]; then
    echo "start.sh: $BIN_DIR/$b is missing; run: bash e2e/cluster/build-binaries.sh" >&2; exit 1
  fi
done
mkdir -p "$STATE_DIR" "$KWOK_HOME"

t0=$(( $(date +%s%N) / 1000000 ))
# grep reads the whole list: with -q it could exit first and, under pipefail, the SIGPIPE kwokctl
# gets would make a listed cluster look absent.
if kwokctl get clusters 2>/dev/null | grep -x "$CLUSTER" >/dev/null; then
  log "deleting the leftover cluster $CLUSTER"
  kwokctl --name "$CLUSTER" delete cluster >/dev/null 2>&1 || { echo "start.sh: could not delete the leftover cluster $CLUSTER" >&2; exit 1; }
fi

# Ready nodes whose not-ready taint is gone.
settled() {
  kubectl --kubeconfig="$KUBECONFIG_OUT" get nodes -o go-template='{{range .items}}{{$ready := false}}{{range .status.conditions}}{{if and (eq .type "Ready") (eq .status "True")}}{{$ready = true}}{{end}}{{end}}{{$tainted := false}}{{range .spec.taints}}{{if eq .key "node.kubernetes.io/not-ready"}}{{$tainted = true}}{{end}}{{end}}{{if and $ready (not $tainted)}}x{{end}}{{end}}' 2>/dev/null | wc -c
}

# One try at a working cluster; returns non-zero, with the cluster deleted, if it does not come up.
attempt() {
  local ta t1 deadline
  ta=$(( $(date +%s%N) / 1000000 ))
  log "creating cluster $CLUSTER (kwokctl, binary runtime)"
  # kwokctl picks each component's port when it writes the configuration and the component binds it
  # later, so two clusters created at the same moment can pick the same port (seen: the kwok
  # controller of one dying with "address already in use"). Creations through this script take turns
  # until the nodes are up, by which time every component has bound its port.
  exec 8>"$KWOK_HOME/.kip-create.lock"
  flock 8
  # A pod on the real node (cluster/real-node.sh) reaches the API server as pods do on a real cluster:
  # through the `kubernetes` Service, which kube-proxy sends to the advertise address, the real node's
  # bridge ($GATEWAY; it need not exist yet). The serving certificate must then name the ClusterIP,
  # and the API server must reach kubelets by InternalIP (for `kubectl logs`): kwokctl's defaults name
  # neither. The bind address stays 0.0.0.0, so the kubeconfig's 127.0.0.1 keeps working.
  { cat "$HERE/kwok.yaml"; printf -- '---\napiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\noptions:\n  kubeApiserverCertSANs: [%s]\n' "$API_CLUSTER_IP"; } >"$STATE_DIR/$CLUSTER.kwok.yaml"
  # The controller-manager's default client QPS (20) removes the not-ready taint from ~10 nodes/s;
  # a higher limit lets freshly added nodes take DaemonSet pods sooner.
  # kwok must leave the real node (cluster/real-node.sh) and its pods to their kubelet, so it manages
  # only the nodes `kwokctl scale node` makes, which carry kwok.x-k8s.io/node=fake. kwokctl's binary
  # runtime always passes --manage-all-nodes=true; the later flag wins. (A KwokConfiguration document
  # in kwok.yaml cannot do it: that flag overrides it, and a partial one zeroes the controller's
  # parallelism defaults.)
  # Keep each component's first --extra-args ahead of any component's second: kwokctl v0.8.0 indexes
  # its patches by argument position and panics ("index out of range") otherwise.
  if ! kwokctl --name "$CLUSTER" create cluster --runtime binary \
      --kube-apiserver-binary="$BIN_DIR/kube-apiserver" \
      --kube-controller-manager-binary="$BIN_DIR/kube-controller-manager" \
      --kube-scheduler-binary="$BIN_DIR/kube-scheduler" \
      --kwok-controller-binary="$BIN_DIR/kwok" \
      --etcd-binary="$BIN_DIR/etcd" \
      --config="$STATE_DIR/$CLUSTER.kwok.yaml" \
      --kube-audit-policy="$HERE/audit-policy.yaml" \
      --extra-args=kube-apiserver=advertise-address="$GATEWAY" \
      --extra-args=kube-controller-manager=kube-api-qps=200 \
      --extra-args=kwok-controller=manage-all-nodes=false \
      --extra-args=kube-apiserver=kubelet-preferred-address-types=InternalIP \
      --extra-args=kube-controller-manager=kube-api-burst=400 \
      --extra-args=kwok-controller=manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
      --wait=120s >"$STATE_DIR/$CLUSTER.create.log" 2>&1 8>&-; then
    flock -u 8
    echo "start.sh: kwokctl create cluster failed:" >&2
    tail -20 "$STATE_DIR/$CLUSTER.create.log" >&2
    kwokctl --name "$CLUSTER" delete cluster >/dev/null 2>&1 || true
    return 1
  fi
  kwokctl --name "$CLUSTER" get kubeconfig >"$KUBECONFIG_OUT"
  log "control plane up in $(elapsed "$ta")"

  t1=$(( $(date +%s%N) / 1000000 ))
  if ! kwokctl --name "$CLUSTER" scale node --replicas "$NODES" >/dev/null 2>"$STATE_DIR/$CLUSTER.scale.log"; then
    flock -u 8
    echo "start.sh: kwokctl scale node failed:" >&2
    tail -20 "$STATE_DIR/$CLUSTER.scale.log" >&2
    kwokctl --name "$CLUSTER" delete cluster >/dev/null 2>&1 || true
    return 1
  fi
  deadline=$(( $(date +%s) + ${KIP_NODE_WAIT_SECONDS:-60} ))
  until [ "$(settled)" -ge "$NODES" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      flock -u 8
      echo "start.sh: nodes not Ready and untainted after ${KIP_NODE_WAIT_SECONDS:-60}s:" >&2
      kubectl --kubeconfig="$KUBECONFIG_OUT" get nodes >&2 || true
      for component in kwok-controller kube-controller-manager; do
        echo "--- last lines of $component.log" >&2
        tail -3 "$KWOK_HOME/clusters/$CLUSTER/logs/$component.log" | cut -c1-400 >&2 || true
      done
      kwokctl --name "$CLUSTER" delete cluster >/dev/null 2>&1 || true
      return 1
    fi
    sleep 0.5
  done
  flock -u 8
  log "$NODES nodes Ready and untainted in $(elapsed "$t1")"
}

for try in 1 2; do
  if attempt; then
    log "cluster $CLUSTER ready in $(elapsed "$t0"); KUBECONFIG=$KUBECONFIG_OUT"
    exit 0
  fi
  if [ "$try" -eq 1 ]; then log "cluster $CLUSTER did not come up; deleted it, trying once more"; fi
done
rm -f "$KUBECONFIG_OUT"
echo "start.sh: cluster $CLUSTER did not come up twice; nothing is left running" >&2
exit 1

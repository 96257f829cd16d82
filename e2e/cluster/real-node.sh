#!/usr/bin/env bash
# One real node beside the kwok nodes: containerd, runc and the CNI plugins from Debian, and the
# kubelet joined to the kwok cluster. It pulls from the local registry (cluster/registry.sh, started
# first) and really runs the puller's pods, which kwok only pretends to do.
#   usage: bash e2e/cluster/real-node.sh start|stop     KIP_CLUSTER=name picks the cluster (default kip-e2e)
# start: installs containerd, runc and containernetworking-plugins with apt-get when they are missing
#   (so it needs root), starts containerd and the kubelet with everything under
#   e2e/.e2e/<cluster>/node, and returns once the node is Ready. A node already running with the same
#   registry is kept.
# stop: evicts the node's pods, stops the kubelet, every container and containerd, deletes the Node
#   and removes the directory; nothing of it is left running.
# The node is named kip-real-0 (KIP_REAL_NODE overrides) and tainted kip-e2e/real-node=true:NoSchedule,
# so only pods that tolerate the taint land on it. Its kubelet collects unused images after 1 minute
# (imageMaximumGCAge); the kubelet checks every 5 minutes from its start.
# Its pods use in-cluster config as on a real cluster: kube-proxy (built with the kubelet) sends the
# `kubernetes` Service to the node's bridge address, where start.sh advertises the API server, and
# pods get a route to the Service range and nothing else. Nothing is forwarded off the machine, and
# kube-proxy is told to leave the machine's sysctls alone. One real node per machine: two would share
# the host's kube-proxy rules and the ClusterIP.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/versions.sh"
CLUSTER=${KIP_CLUSTER:-kip-e2e}
NODE=${KIP_REAL_NODE:-kip-real-0}
STATE_DIR=$(cd "$HERE/.." && pwd)/.e2e
DIR=$STATE_DIR/$CLUSTER/node
KUBECONFIG_FILE=${KUBECONFIG:-$STATE_DIR/$CLUSTER.kubeconfig}
ADDRESS_FILE=$STATE_DIR/$CLUSTER.registry
SOCK=$DIR/containerd.sock
KUBELET=$KUBELET_BIN_DIR/kubelet
TAINT_KEY=kip-e2e/real-node
# Pods get addresses from a bridge of their own: another real node on this machine (another
# cluster) gets another name and subnet.
source "$HERE/network.sh"
KUBE_PROXY=$KUBELET_BIN_DIR/kube-proxy
FORWARD_GUARD=(FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment "$BRIDGE stays local" -j REJECT)

log() { printf '[real-node %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
kubectl() { "$BIN_DIR/kubectl" --kubeconfig="$KUBECONFIG_FILE" "$@"; }
ctr_() { ctr --address "$SOCK" --namespace k8s.io "$@"; }

# The pid in $1 if that process is still the one started with $2 in its command line.
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "$2" >/dev/null || return 1
  echo "$pid"
}

stop_pid() {
  local pid=$1 what=$2
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  log "$what (pid $pid) did not stop in 10s; killed it"
}

node_ready() {
  [ "$(kubectl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

install_packages() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "real-node.sh: ${missing[*]} missing; install them as root: apt-get install ${missing[*]}" >&2; exit 1
  fi
  log "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >"$STATE_DIR/$CLUSTER.apt.log" 2>&1; then
    # A fresh machine may not have the package lists yet.
    apt-get -o DPkg::Lock::Timeout=300 update >>"$STATE_DIR/$CLUSTER.apt.log" 2>&1 || true
    apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >>"$STATE_DIR/$CLUSTER.apt.log" 2>&1 || {
      tail -5 "$STATE_DIR/$CLUSTER.apt.log" >&2; echo "real-node.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
  fi
}

write_config() {
  local registry=$1 kubelet_port=$2 healthz_port=$3 proxy_healthz_port=$4 proxy_metrics_port=$5
  mkdir -p "$DIR/cni" "$DIR/kubelet" "$DIR/pki" "$DIR/pod-logs" "$DIR/volume-plugins"
  # restrict_oom_score_adj: these VMs refuse a negative oom_score_adj, and the kubelet asks -998 for
  # every sandbox ("can't get final child's PID from pipe: EOF" without it). The runc root and the
  # network namespaces live in $DIR so that stop can find and remove exactly this node's.
  cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$DIR/root"
state = "$DIR/state"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  sandbox_image = "$registry/kip/pause:1"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = "$DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$registry"]
    endpoint = ["http://$registry"]
EOF
  cat >"$DIR/cni/10-kip.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$BRIDGE",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$SUBNET", "gateway": "$GATEWAY"}]],
              "routes": [{"dst": "$SERVICE_RANGE"}], "dataDir": "$DIR/cni-ipam"}}
  ]
}
EOF
  # cgroup v1 and swap are what these machines have; cgroupsPerQOS and node allocatable need cgroup
  # controls the VM does not give; disk-usage eviction has no stats to work with here.
  cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$SOCK
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
address: $GATEWAY
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz_port
cgroupsPerQOS: false
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
evictionHard: {}
podLogsDir: $DIR/pod-logs
volumePluginDir: $DIR/volume-plugins
imageMinimumGCAge: 1s
imageMaximumGCAge: 1m
registerWithTaints:
- {key: $TAINT_KEY, value: "true", effect: NoSchedule}
EOF
  # Sysctls stay as the machine has them (the conntrack zeros, no localhost NodePorts), and so does
  # the OOM score, which these VMs refuse to lower.
  cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $KUBECONFIG_FILE}
hostnameOverride: $NODE
mode: iptables
clusterCIDR: $SUBNET
detectLocalMode: ClusterCIDR
nodePortAddresses: [primary]
healthzBindAddress: 127.0.0.1:$proxy_healthz_port
metricsBindAddress: 127.0.0.1:$proxy_metrics_port
iptables: {localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 1s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
oomScoreAdj: 0
EOF
}

# The pod bridge with the node's address, before the kubelet (which serves there) and the CNI
# plugin (which adopts it); and a guard so that no pod packet is forwarded off the machine.
start_network() {
  ip link add "$BRIDGE" type bridge 2>/dev/null || true
  ip addr replace "$GATEWAY/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  iptables -C "${FORWARD_GUARD[@]}" 2>/dev/null || iptables -I "${FORWARD_GUARD[@]}"
}

start_kube_proxy() {
  setsid "$KUBE_PROXY" --config="$DIR/kube-proxy.yaml" </dev/null >>"$DIR/kube-proxy.log" 2>&1 &
  echo $! >"$DIR/kube-proxy.pid"
  local deadline=$((SECONDS + 30)) port pid
  pid=$(cat "$DIR/kube-proxy.pid")
  port=$(sed -n 's/^healthzBindAddress: 127.0.0.1:\([0-9]*\)$/\1/p' "$DIR/kube-proxy.yaml")
  # Ready once it answers and the `kubernetes` Service has its rule.
  until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null &&
      iptables -t nat -S KUBE-SERVICES 2>/dev/null | grep -F -- "-d $API_CLUSTER_IP/32" | grep -qF 'default/kubernetes:https'; do
    # kill -0, not alive: until the forked shell has exec'd setsid, its command line is still this
    # script's, and on a loaded machine the first check can come before the exec.
    if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "real-node.sh: kube-proxy did not sync the kubernetes Service; last lines of $DIR/kube-proxy.log:" >&2
      tail -5 "$DIR/kube-proxy.log" | cut -c1-400 >&2
      return 1
    fi
    sleep 0.2
  done
}

stop_network() {
  local pid
  if pid=$(alive "$DIR/kube-proxy.pid" "$DIR/kube-proxy.yaml"); then stop_pid "$pid" kube-proxy; fi
  # Its chains go with it (it would otherwise leave the Service rules in the host's tables).
  if [ -x "$KUBE_PROXY" ] && iptables -t nat -S KUBE-SERVICES >/dev/null 2>&1; then
    "$KUBE_PROXY" --cleanup >/dev/null 2>&1 || true
  fi
  while iptables -C "${FORWARD_GUARD[@]}" 2>/dev/null; do iptables -D "${FORWARD_GUARD[@]}"; done
}

start_containerd() {
  setsid containerd --config "$DIR/containerd.toml" </dev/null >>"$DIR/containerd.log" 2>&1 &
  echo $! >"$DIR/containerd.pid"
  local deadline=$((SECONDS + 30))
  until [ -S "$SOCK" ] && ctr --address "$SOCK" version >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$DIR/containerd.pid")" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "real-node.sh: containerd did not come up; last lines of $DIR/containerd.log:" >&2
      tail -5 "$DIR/containerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

start_kubelet() {
  setsid "$KUBELET" --kubeconfig="$KUBECONFIG_FILE" --config="$DIR/kubelet.yaml" --root-dir="$DIR/kubelet" \
    --cert-dir="$DIR/pki" --hostname-override="$NODE" --node-ip="$GATEWAY" \
    </dev/null >>"$DIR/kubelet.log" 2>&1 &
  echo $! >"$DIR/kubelet.pid"
  date +%s >"$DIR/kubelet.started"
}

start() {
  local t0=$SECONDS
  for b in "$KUBELET" "$KUBE_PROXY" "$BIN_DIR/kubectl"; do
    [ -x "$b" ] || { echo "real-node.sh: $b is missing; run: bash e2e/cluster/build-binaries.sh" >&2; exit 1; }
  done
  [ -f "$KUBECONFIG_FILE" ] || { echo "real-node.sh: no kubeconfig at $KUBECONFIG_FILE; start the cluster first (bash e2e/cluster/start.sh)" >&2; exit 1; }
  [ -f "$ADDRESS_FILE" ] || { echo "real-node.sh: no registry for $CLUSTER ($ADDRESS_FILE); start it first: bash e2e/cluster/registry.sh start" >&2; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "real-node.sh: the kubelet and containerd need root" >&2; exit 1; }
  # Unix socket paths are limited to 108 bytes; the kubelet's deepest one is under its root dir.
  if [ ${#DIR} -gt 60 ]; then
    echo "real-node.sh: $DIR is too long for the sockets inside it (${#DIR} > 60 characters); use a shorter checkout path" >&2; exit 1
  fi
  local registry
  registry=$(cat "$ADDRESS_FILE")
  if alive "$DIR/kubelet.pid" "$DIR/kubelet.yaml" >/dev/null && alive "$DIR/containerd.pid" "$DIR/containerd.toml" >/dev/null \
      && alive "$DIR/kube-proxy.pid" "$DIR/kube-proxy.yaml" >/dev/null \
      && grep -qF "\"$registry/kip/pause:1\"" "$DIR/containerd.toml" && node_ready; then
    log "$NODE is already running and Ready"
    return
  fi
  stop
  install_packages
  local ports
  mkdir -p "$DIR"
  mapfile -t ports < <(bash "$HERE/free-ports.sh" 4)
  [ ${#ports[@]} -eq 4 ] || { echo "real-node.sh: could not find four free ports for the kubelet and kube-proxy" >&2; exit 1; }
  write_config "$registry" "${ports[@]}"
  start_network
  start_containerd || { stop >/dev/null 2>&1; exit 1; }
  start_kubelet
  local deadline=$((SECONDS + ${KIP_NODE_WAIT_SECONDS:-90})) kubelet_pid
  kubelet_pid=$(cat "$DIR/kubelet.pid")
  until node_ready; do
    if ! kill -0 "$kubelet_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "real-node.sh: $NODE did not become Ready; last lines of $DIR/kubelet.log:" >&2
      grep -E '^[EF][0-9]{4}' "$DIR/kubelet.log" | grep -v "nodeIP can't be loopback" | tail -8 | cut -c1-400 >&2 || true
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.5
  done
  start_kube_proxy || { stop >/dev/null 2>&1; exit 1; }
  log "$NODE is Ready in $((SECONDS - t0))s ($(kubectl get node "$NODE" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}'), registry $registry)"
}

# Lets the kubelet stop the pods itself, so their network namespaces and addresses are released and
# the pods leave the API server (otherwise they stay Terminating until the pod GC takes them).
evict_pods() {
  kubectl get node "$NODE" >/dev/null 2>&1 || return 0
  alive "$DIR/kubelet.pid" "$DIR/kubelet.yaml" >/dev/null || return 0
  kubectl taint node "$NODE" --overwrite "$TAINT_KEY-stopping=true:NoExecute" >/dev/null 2>&1 || return 0
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] &&
      [ -z "$(kubectl get pods -A --field-selector "spec.nodeName=$NODE" -o name 2>/dev/null)" ]; then
      return 0
    fi
    sleep 0.5
  done
  log "pods still on $NODE after 30s; stopping their containers directly"
}

# What the kubelet left: kill and delete every task and container, release their network namespaces.
remove_containers() {
  # Without the socket, ctr would wait 10 s for it to appear.
  [ -S "$SOCK" ] && ctr --address "$SOCK" version >/dev/null 2>&1 || return 0
  local id netns
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  for id in $(ctr_ containers ls -q 2>/dev/null); do
    for _ in $(seq 50); do ctr_ tasks delete "$id" >/dev/null 2>&1 && break; ctr_ tasks ls -q 2>/dev/null | grep -qx "$id" || break; sleep 0.1; done
    ctr_ containers rm "$id" >/dev/null 2>&1 || true
  done
  for netns in "$DIR"/state/io.containerd.grpc.v1.cri/netns/* "$DIR"/state/netns/*; do
    [ -e "$netns" ] || continue
    umount "$netns" 2>/dev/null || true
    rm -f "$netns"
  done
}

stop() {
  local pid
  evict_pods
  if pid=$(alive "$DIR/kubelet.pid" "$DIR/kubelet.yaml"); then stop_pid "$pid" kubelet; fi
  remove_containers
  if pid=$(alive "$DIR/containerd.pid" "$DIR/containerd.toml"); then stop_pid "$pid" containerd; fi
  stop_network
  # Shims outlive containerd by design; those of this node's socket go too.
  for pid in $(pgrep -f -- "-address $SOCK" || true); do stop_pid "$pid" "containerd shim"; done
  if [ -d "$DIR" ]; then
    findmnt -rn -o TARGET | grep -F "$DIR/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  ip link delete "$BRIDGE" >/dev/null 2>&1 || true
  # The kubelet links each container's log into /var/log/containers, wherever podLogsDir is.
  local link
  for link in /var/log/containers/*.log; do
    [ -L "$link" ] || continue
    case $(readlink "$link") in "$DIR"/*) rm -f "$link" ;; esac
  done
  rm -rf "$DIR"
  rmdir "$STATE_DIR/$CLUSTER" 2>/dev/null || true
  if [ -f "$KUBECONFIG_FILE" ] && kubectl get node "$NODE" >/dev/null 2>&1; then
    kubectl delete node "$NODE" --wait=false >/dev/null
    kubectl -n kube-node-lease delete lease "$NODE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    log "deleted node $NODE"
  fi
  local left
  left=$(pgrep -f -- "$DIR/" || true)
  if [ -n "$left" ]; then
    echo "real-node.sh: processes of $NODE still running: ${left//$'\n'/ }" >&2
    return 1
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop; log "stopped $NODE" ;;
  *) echo "usage: bash e2e/cluster/real-node.sh start|stop" >&2; exit 2 ;;
esac

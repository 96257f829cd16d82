#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl),
# etcd, kwok/kwokctl and helm, and for the real node its kubelet, a registry and crane, from the Go
# module proxy. Binaries are cached outside the repo, keyed by version, so only a fresh machine pays
# for the build. The kubelet and kube-proxy (the real node's) share one cache directory.
# promtool and a Pushgateway (unit tests of the metrics and the chart's alerting rules) have a cache of
# their own too.
#   usage: bash e2e/cluster/build-binaries.sh [target...]   targets: kubernetes etcd kwok helm registry crane kubelet kube-proxy promtool pushgateway
set -euo pipefail
source "$(dirname "$0")/versions.sh"

log() { printf '[build-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
have() { [ -x "$BIN_DIR/$1" ]; }

mkdir -p "$BIN_DIR" "$REGISTRY_BIN_DIR" "$KUBELET_BIN_DIR" "$PROMETHEUS_BIN_DIR"
# Two callers at once (run.sh and demo.sh, or two shells) would both compile for 20 minutes and
# overwrite each other's binaries: the second waits for the first and then finds them cached. Each
# target runs in a subshell that holds the lock of its cache directory only while it builds, so a
# kubelet build does not hold up a run that only needs the control plane.
lock_cache() {
  exec 9>"$1.lock"
  if ! flock -n 9; then
    log "another build of $1 is running; waiting for it"
    flock 9
  fi
}
started=$SECONDS
# Go is installed at /usr/local/go on these machines, which a non-login PATH may not include.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
require_go() { command -v go >/dev/null 2>&1 || { echo "build-binaries.sh: Go >= 1.26 is needed to build the control plane" >&2; exit 1; }; }
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS=
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# A module that requires k8s.io/kubernetes at $K8S_VERSION with its staging modules pinned, shared by
# the control plane and the kubelet so the kubelet's build reuses the control plane's Go build cache.
# Sets K8S_LDFLAGS and leaves the shell in the module's directory.
k8s_module() {
  require_go
  local dir="$WORK/k8s" staging="v0.${K8S_VERSION#v1.}" minor
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  # The version must be exactly the release built: it drives the emulation version and feature gates.
  K8S_LDFLAGS="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    K8S_LDFLAGS="$K8S_LDFLAGS -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  if [ -f "$dir/.resolved" ]; then cd "$dir"; return; fi
  log "kubernetes $K8S_VERSION: resolving modules"
  mkdir -p "$dir" && cd "$dir"
  go mod init local/k8s-binaries >/dev/null 2>&1
  go mod edit -go=1.26.0
  local upstream_gomod
  upstream_gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  # k8s.io/kubernetes points its staging modules at ./staging; a consumer must pin the published tags.
  for module in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$upstream_gomod"); do
    go mod edit -replace="$module=$module@$staging"
  done
  go mod edit -replace="k8s.io/kubernetes=k8s.io/kubernetes@$K8S_VERSION"
  touch .resolved
}

build_kubernetes() {
  lock_cache "$BIN_DIR"
  if have kube-apiserver && have kube-controller-manager && have kube-scheduler && have kubectl; then
    log "kubernetes $K8S_VERSION: cached"; return
  fi
  k8s_module
  local cmds="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl"
  go get -tool $(for c in $cmds; do printf '%s@%s ' "$c" "$K8S_VERSION"; done)
  log "kubernetes $K8S_VERSION: compiling (about 11 minutes on 2 cores)"
  go build -mod=mod -p 2 -trimpath -ldflags "$K8S_LDFLAGS" -o "$BIN_DIR/" $cmds
  log "kubernetes $K8S_VERSION: done"
}

build_etcd() {
  lock_cache "$BIN_DIR"
  if have etcd; then log "etcd $ETCD_VERSION: cached"; return; fi
  require_go
  log "etcd $ETCD_VERSION: compiling"
  local dir="$WORK/etcd"
  mkdir -p "$dir" && cd "$dir"
  go mod init local/etcd-binary >/dev/null 2>&1
  go mod edit -go=1.26.0
  # The server module carries replace directives, so `go install pkg@version` is refused.
  go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -mod=mod -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd" go.etcd.io/etcd/server/v3
  log "etcd $ETCD_VERSION: done"
}

build_kwok() {
  lock_cache "$BIN_DIR"
  if have kwok && have kwokctl; then log "kwok $KWOK_VERSION: cached"; return; fi
  require_go
  log "kwok $KWOK_VERSION: compiling"
  GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  log "kwok $KWOK_VERSION: done"
}

build_helm() {
  lock_cache "$BIN_DIR"
  if have helm; then log "helm $HELM_VERSION: cached"; return; fi
  require_go
  log "helm $HELM_VERSION: compiling"
  GOBIN="$BIN_DIR" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  log "helm $HELM_VERSION: done"
}

build_registry() {
  lock_cache "$REGISTRY_BIN_DIR"
  if [ -x "$REGISTRY_BIN_DIR/registry" ]; then log "registry $REGISTRY_VERSION: cached"; return; fi
  require_go
  log "registry $REGISTRY_VERSION: compiling"
  GOBIN="$REGISTRY_BIN_DIR" go install -trimpath -ldflags "-s -w" \
    "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
  log "registry $REGISTRY_VERSION: done"
}

build_crane() {
  lock_cache "$REGISTRY_BIN_DIR"
  if [ -x "$REGISTRY_BIN_DIR/crane" ]; then log "crane $CRANE_VERSION: cached"; return; fi
  require_go
  log "crane $CRANE_VERSION: compiling"
  GOBIN="$REGISTRY_BIN_DIR" go install -trimpath -ldflags "-s -w" \
    "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
  log "crane $CRANE_VERSION: done"
}

build_kubelet() {
  lock_cache "$KUBELET_BIN_DIR"
  if [ -x "$KUBELET_BIN_DIR/kubelet" ]; then log "kubelet $K8S_VERSION: cached"; return; fi
  k8s_module
  go get -tool "k8s.io/kubernetes/cmd/kubelet@$K8S_VERSION"
  log "kubelet $K8S_VERSION: compiling (about 1 minute after the control plane, which shares its packages)"
  go build -mod=mod -p 2 -trimpath -ldflags "$K8S_LDFLAGS" -o "$KUBELET_BIN_DIR/kubelet" k8s.io/kubernetes/cmd/kubelet
  log "kubelet $K8S_VERSION: done"
}

build_kube-proxy() {
  lock_cache "$KUBELET_BIN_DIR"
  if [ -x "$KUBELET_BIN_DIR/kube-proxy" ]; then log "kube-proxy $K8S_VERSION: cached"; return; fi
  k8s_module
  go get -tool "k8s.io/kubernetes/cmd/kube-proxy@$K8S_VERSION"
  log "kube-proxy $K8S_VERSION: compiling (about 20 s after the kubelet, 4 min on its own)"
  go build -mod=mod -p 2 -trimpath -ldflags "$K8S_LDFLAGS" -o "$KUBELET_BIN_DIR/kube-proxy" k8s.io/kubernetes/cmd/kube-proxy
  log "kube-proxy $K8S_VERSION: done"
}

build_promtool() {
  lock_cache "$PROMETHEUS_BIN_DIR"
  if [ -x "$PROMETHEUS_BIN_DIR/promtool" ]; then log "promtool $PROMETHEUS_VERSION: cached"; return; fi
  require_go
  log "promtool $PROMETHEUS_VERSION: compiling"
  local dir="$WORK/prometheus" release="3.${PROMETHEUS_VERSION#v0.}"
  release="${release%.*}.${release##*.}"
  mkdir -p "$dir" && cd "$dir"
  go mod init local/prometheus-tools >/dev/null 2>&1
  go mod edit -go=1.26.0
  # The prometheus module's go.mod carries exclude directives, which `go install pkg@version` refuses.
  go get -tool "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
  go build -mod=mod -p 2 -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${release#3.}" \
    -o "$PROMETHEUS_BIN_DIR/promtool" github.com/prometheus/prometheus/cmd/promtool
  log "promtool $PROMETHEUS_VERSION: done"
}

build_pushgateway() {
  lock_cache "$PROMETHEUS_BIN_DIR"
  if [ -x "$PROMETHEUS_BIN_DIR/pushgateway" ]; then log "pushgateway $PUSHGATEWAY_VERSION: cached"; return; fi
  require_go
  log "pushgateway $PUSHGATEWAY_VERSION: compiling"
  local dir="$WORK/pushgateway"
  mkdir -p "$dir" && cd "$dir"
  go mod init local/pushgateway-binary >/dev/null 2>&1
  go mod edit -go=1.26.0
  # The proxy serves this exact version but lists none, and `go install`/`go get` ask for the list
  # (deprecation notices): require the version directly and let the build resolve the rest.
  go mod edit -require="github.com/prometheus/pushgateway@$PUSHGATEWAY_VERSION"
  go build -mod=mod -p 2 -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PUSHGATEWAY_VERSION#v}" \
    -o "$PROMETHEUS_BIN_DIR/pushgateway" github.com/prometheus/pushgateway
  log "pushgateway $PUSHGATEWAY_VERSION: done"
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(kubernetes etcd kwok helm registry crane kubelet kube-proxy promtool pushgateway)
for target in "${targets[@]}"; do
  if ! declare -F "build_$target" >/dev/null; then
    echo "build-binaries.sh: unknown target '$target' (known: kubernetes etcd kwok helm registry crane kubelet kube-proxy promtool pushgateway)" >&2
    exit 2
  fi
  step_started=$SECONDS
  ( "build_$target" )
  if [ $((SECONDS - step_started)) -gt 1 ]; then log "$target took $((SECONDS - step_started))s"; fi
done
log "binaries in $BIN_DIR, $REGISTRY_BIN_DIR, $KUBELET_BIN_DIR and $PROMETHEUS_BIN_DIR ($((SECONDS - started))s)"

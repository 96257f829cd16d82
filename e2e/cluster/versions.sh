# Pinned versions of the local control plane; the cache directory is keyed by all of them.
K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
BIN_DIR=${BIN_DIR:-$HOME/.cache/kip-e2e/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION}
# The real node and its registry (e2e/real-node.test.ts) have caches of their own, so that adding
# them left the control plane's cache above valid.
REGISTRY_VERSION=${REGISTRY_VERSION:-v3.1.2}
CRANE_VERSION=${CRANE_VERSION:-v0.22.1}
REGISTRY_BIN_DIR=${REGISTRY_BIN_DIR:-$HOME/.cache/kip-e2e/registry-$REGISTRY_VERSION-crane-$CRANE_VERSION}
KUBELET_BIN_DIR=${KUBELET_BIN_DIR:-$HOME/.cache/kip-e2e/kubelet-$K8S_VERSION}
# promtool (the chart's alerting rules, test/prometheus-rules.test.ts) and a Pushgateway (the pass's
# metrics, test/metrics-pushgateway.test.ts): unit tests only, in a cache of their own. The prometheus
# module's v0.X.Y is Prometheus 3.X.Y.
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
PUSHGATEWAY_VERSION=${PUSHGATEWAY_VERSION:-v1.11.1}
PROMETHEUS_BIN_DIR=${PROMETHEUS_BIN_DIR:-$HOME/.cache/kip-e2e/prometheus-$PROMETHEUS_VERSION-pushgateway-$PUSHGATEWAY_VERSION}

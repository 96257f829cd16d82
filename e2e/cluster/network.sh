# The addresses of a cluster's real node, derived from the cluster's name so that start.sh (which
# advertises the API server there) and real-node.sh (which creates them) agree. Sourced; needs CLUSTER.
#   BRIDGE    the pod bridge of the real node, kip<8 hex digits>
#   SUBNET    its pod subnet, 10.244.N.0/24 with N from 20 to 219
#   GATEWAY   10.244.N.1: the bridge's own address, the node's InternalIP and the API server's
#             advertise address, so that kube-proxy sends the `kubernetes` Service there
#   SERVICE_RANGE / API_CLUSTER_IP   the API server's default Service range (kwokctl sets none) and
#             its first address, the `kubernetes` Service, which the serving certificate must name
NETWORK_HASH=$(printf '%s' "$CLUSTER" | cksum | cut -d' ' -f1)
BRIDGE=kip$(printf '%08x' "$NETWORK_HASH" | cut -c1-8)
SUBNET=10.244.$((NETWORK_HASH % 200 + 20)).0/24
GATEWAY=10.244.$((NETWORK_HASH % 200 + 20)).1
SERVICE_RANGE=10.0.0.0/24
API_CLUSTER_IP=10.0.0.1

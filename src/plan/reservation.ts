// What Kubernetes reserves on a node for one pod: for each resource, the larger of the sum of
// the regular containers and the largest init container (init containers run one at a time).
import type { Container, PodSpec } from '../kube/k8s-types.ts';
import { parseQuantity } from '../config/quantity.ts';

export interface Reservation {
  requests: { cpu: number; memory: number };
  limits: { cpu: number; memory: number };
}

function amount(container: Container, kind: 'requests' | 'limits', resource: 'cpu' | 'memory'): number {
  const text = container.resources?.[kind]?.[resource] ?? (kind === 'requests' ? container.resources?.limits?.[resource] : undefined);
  return text === undefined ? 0 : (parseQuantity(text) ?? 0);
}

function effective(spec: PodSpec, kind: 'requests' | 'limits', resource: 'cpu' | 'memory'): number {
  const regular = spec.containers.reduce((sum, container) => sum + amount(container, kind, resource), 0);
  const init = Math.max(0, ...(spec.initContainers ?? []).map((container) => amount(container, kind, resource)));
  return Math.max(regular, init);
}

export function podReservation(spec: PodSpec): Reservation {
  return {
    requests: { cpu: effective(spec, 'requests', 'cpu'), memory: effective(spec, 'requests', 'memory') },
    limits: { cpu: effective(spec, 'limits', 'cpu'), memory: effective(spec, 'limits', 'memory') },
  };
}

function formatBytes(bytes: number): string {
  return bytes % 2 ** 20 === 0 ? `${String(bytes / 2 ** 20)}Mi` : `${String(Math.round(bytes / 1024))}Ki`;
}

function formatCores(cores: number): string {
  return `${String(Math.round(cores * 1000))}m`;
}

/** "requests cpu=50m memory=10Mi, limits cpu=200m memory=20Mi" */
export function describeReservation(reservation: Reservation): string {
  const { requests, limits } = reservation;
  return `requests cpu=${formatCores(requests.cpu)} memory=${formatBytes(requests.memory)}, limits cpu=${formatCores(limits.cpu)} memory=${formatBytes(limits.memory)}`;
}

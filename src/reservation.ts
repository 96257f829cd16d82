// What Kubernetes reserves on a node for one pod: for each resource, the larger of the sum of
// the regular containers and the largest init container (init containers run one at a time).
import type { Container, PodSpec } from './k8s-types.ts';
import { parseQuantity } from './quantity.ts';

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

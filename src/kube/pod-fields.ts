// The fields of a listed pod that a pass reads (the Pod type), copied out of the server's object so
// that the rest of it (managed fields, the spec beyond its images, timestamps) is dropped at once.
import type { ContainerState, ContainerStatus, Pod, PodContainer } from './k8s-types.ts';

interface ServerPod {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string; initContainers?: PodContainer[]; containers?: PodContainer[] };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

/** Copies only the defined ones, so that a trimmed pod deep-equals the same pod built by hand. */
function defined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

const containers = (list: PodContainer[] | undefined): PodContainer[] | undefined =>
  list?.map(({ name, image }) => ({ name, image }));

function state(value: ContainerState | undefined): ContainerState | undefined {
  if (value === undefined) return undefined;
  const { waiting, running, terminated } = value;
  return defined({
    waiting: waiting && defined({ reason: waiting.reason, message: waiting.message }),
    running: running && {},
    terminated: terminated && defined({ reason: terminated.reason, exitCode: terminated.exitCode, message: terminated.message }),
  });
}

const statuses = (list: ContainerStatus[] | undefined): ContainerStatus[] | undefined =>
  list?.map((status) => defined({
    name: status.name,
    image: status.image,
    imageID: status.imageID,
    ready: status.ready,
    state: state(status.state),
    lastState: state(status.lastState),
  }));

export function podFields(item: unknown): Pod {
  const { metadata, spec, status } = item as ServerPod;
  return defined({
    metadata: defined({ name: metadata?.name, labels: metadata?.labels, deletionTimestamp: metadata?.deletionTimestamp }),
    spec: defined({ nodeName: spec?.nodeName, initContainers: containers(spec?.initContainers), containers: containers(spec?.containers) ?? [] }),
    status: status && defined({
      phase: status.phase,
      reason: status.reason,
      conditions: status.conditions?.map((condition) => defined({ type: condition.type, status: condition.status, reason: condition.reason, message: condition.message })),
      initContainerStatuses: statuses(status.initContainerStatuses),
      containerStatuses: statuses(status.containerStatuses),
    }),
  });
}

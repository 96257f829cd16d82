// Plain-data shapes of the Kubernetes objects this program reads and writes. Only the fields it
// uses are typed; the adapter in kube.ts converts client-node's model classes into these.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface ResourceList {
  cpu?: string;
  memory?: string;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  securityContext?: Record<string, Json>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
}

export interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; emptyDir?: Record<string, Json> }[];
  nodeSelector?: Record<string, string>;
  affinity?: Record<string, Json>;
  tolerations?: Record<string, Json>[];
  imagePullSecrets?: { name: string }[];
  priorityClassName?: string;
  securityContext?: Record<string, Json>;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  dnsPolicy?: string;
  schedulerName?: string;
  nodeName?: string;
}

export interface DaemonSetSpec {
  selector: { matchLabels: Record<string, string> };
  template: { metadata: ObjectMeta; spec: PodSpec };
  updateStrategy?: { type: string; rollingUpdate?: { maxUnavailable?: string | number; maxSurge?: string | number } };
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
}

export interface DaemonSetStatus {
  observedGeneration?: number;
  desiredNumberScheduled?: number;
  currentNumberScheduled?: number;
  updatedNumberScheduled?: number;
  numberReady?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  numberMisscheduled?: number;
}

export interface DaemonSet {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: DaemonSetSpec;
  status?: DaemonSetStatus;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: Record<string, unknown>;
  terminated?: { reason?: string; exitCode?: number; message?: string };
}

export interface ContainerStatus {
  name: string;
  image: string;
  /** The runtime's name for what it pulled: `repository@sha256:…` when it knows the digest. */
  imageID?: string;
  ready?: boolean;
  state?: ContainerState;
  /** The previous run: while a failing container waits to restart, the failure is recorded here. */
  lastState?: ContainerState;
}

/** A container of a listed pod: which image it runs under which name. */
export interface PodContainer {
  name: string;
  image: string;
}

/**
 * A pod as a pass reads it: listPods keeps only these fields of each pod it lists (pod-fields.ts),
 * so that a page of pods costs its statuses, not its managed fields and specs.
 */
export interface Pod {
  metadata: Pick<ObjectMeta, 'name' | 'labels' | 'deletionTimestamp'>;
  spec: { nodeName?: string; initContainers?: PodContainer[]; containers: PodContainer[] };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

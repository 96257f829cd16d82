// The pass's view of the cluster: a handful of namespaced calls. kube.ts implements it with
// @kubernetes/client-node; nothing else in src/ imports the client.
import type { DaemonSet, Pod } from './k8s-types.ts';

export type EventType = 'Normal' | 'Warning';

export interface SecretData {
  type: string;
  data: Record<string, string>;
}

/** A Warning Event about the DaemonSet, such as the controller's FailedCreate. */
export interface WarningEvent {
  reason: string;
  message: string;
  count: number;
}

/** The status ConfigMap as read: its data and the version a replace must name. */
export interface ConfigMapRecord {
  data: Record<string, string>;
  resourceVersion: string;
}

/** What the take-over needs of a Deployment: which object it is, and how it is going if it is. */
export interface DeploymentRecord {
  uid: string;
  /** It has a deletionTimestamp. */
  deleting: boolean;
  finalizers: string[];
}

export interface Cluster {
  readDaemonSet(name: string): Promise<DaemonSet | undefined>;
  /** The DaemonSets matching the label selector, every page: a pass's one read of all of its own. */
  listDaemonSets(labelSelector: string): Promise<DaemonSet[]>;
  /**
   * What the API server would store for this create or update — after admission (mutating
   * policies and webhooks), defaults and strict field validation — with nothing written.
   */
  previewCreate(body: DaemonSet): Promise<DaemonSet>;
  previewReplace(body: DaemonSet): Promise<DaemonSet>;
  createDaemonSet(body: DaemonSet): Promise<DaemonSet>;
  replaceDaemonSet(body: DaemonSet): Promise<DaemonSet>;
  /** Deletes exactly the object with this name and UID (a precondition), leaving its pods to the garbage collector. */
  deleteDaemonSet(name: string, uid: string): Promise<void>;
  /**
   * Hands the pods matching the selector to `visit` one at a time as they arrive (LIST pages of
   * 500, each read as a stream), so that a pass holds one pod at a time however large the cluster;
   * `visit` keeps what it needs of a pod, not the pod.
   */
  visitPods(labelSelector: string, visit: (pod: Pod) => void): Promise<void>;
  readCronJobUid(name: string): Promise<string | undefined>;
  /** Read only to learn whether the Go puller that left a DaemonSet still runs; undefined when there is none of that name. */
  readDeployment(name: string): Promise<DeploymentRecord | undefined>;
  /** A Secret's type and data (base64 values, as stored), or undefined when it does not exist. */
  readSecret(name: string): Promise<SecretData | undefined>;
  readConfigMap(name: string): Promise<ConfigMapRecord | undefined>;
  /**
   * Creates the ConfigMap with these labels, or, given the version read, patches its data alone (its
   * other fields are Helm's or the template's); a version that changed meanwhile fails (409).
   */
  writeConfigMap(name: string, data: Record<string, string>, labels: Record<string, string>, resourceVersion?: string): Promise<void>;
  /** Names of the nodes matching the label selector, every page (cluster-scoped: NODE_LABELS only). */
  listNodeNames(labelSelector: string): Promise<string[]>;
  /** Sets one label of a node, or removes it (null), touching no other field. */
  patchNodeLabel(node: string, key: string, value: string | null): Promise<void>;
  listWarningEvents(daemonSetUid: string): Promise<WarningEvent[]>;
  recordEvent(daemonSet: DaemonSet, type: EventType, reason: string, message: string): Promise<void>;
  requests(): RequestCounts;
}

export interface RequestCounts {
  total: number;
  byVerb: Record<string, number>;
}

/** Field paths the API server named in a rejection (422 causes, strict decoding errors). */
export type FieldPaths = string[];

/**
 * A failed API call, reduced to what the pass needs to decide on retrying and to tell a person.
 * Status 0 means no HTTP answer; `retryable` then says whether another try can help (a refused
 * connection can heal, an untrusted certificate cannot).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly verb: string;
  readonly resource: string;
  readonly retryable: boolean | undefined;
  readonly fields: FieldPaths;

  constructor(
    fields: { status: number; reason?: string; message: string; retryAfterSeconds?: number; verb: string; resource: string; retryable?: boolean; fields?: FieldPaths },
    options?: { cause?: unknown },
  ) {
    super(fields.message, options);
    this.name = 'ApiError';
    this.status = fields.status;
    this.reason = fields.reason;
    this.retryAfterSeconds = fields.retryAfterSeconds;
    this.verb = fields.verb;
    this.resource = fields.resource;
    this.retryable = fields.retryable;
    this.fields = fields.fields ?? [];
  }
}

/** There is no cluster to talk to: no kubeconfig, a KUBECONFIG naming a missing file. */
export class ClusterConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterConfigError';
  }
}

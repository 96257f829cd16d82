// The pass's view of the cluster: a handful of namespaced calls. kube.ts implements it with
// @kubernetes/client-node; nothing else in src/ imports the client.
import type { DaemonSet, Pod } from './k8s-types.ts';

export type EventType = 'Normal' | 'Warning';

export interface Cluster {
  readDaemonSet(): Promise<DaemonSet | undefined>;
  createDaemonSet(body: DaemonSet): Promise<DaemonSet>;
  replaceDaemonSet(body: DaemonSet): Promise<DaemonSet>;
  /** Deletes exactly the object with this UID (a precondition), leaving its pods to the garbage collector. */
  deleteDaemonSet(uid: string): Promise<void>;
  /** Pods matching the selector, page by page, so memory stays bounded on large clusters. */
  listPods(labelSelector: string): AsyncIterable<Pod[]>;
  readCronJobUid(name: string): Promise<string | undefined>;
  recordEvent(daemonSet: DaemonSet, type: EventType, reason: string, message: string): Promise<void>;
  requests(): RequestCounts;
}

export interface RequestCounts {
  total: number;
  byVerb: Record<string, number>;
}

/** A failed API call, reduced to what the pass needs to decide on retrying and to tell a person. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly verb: string;
  readonly resource: string;

  constructor(fields: { status: number; reason?: string; message: string; retryAfterSeconds?: number; verb: string; resource: string }, options?: { cause?: unknown }) {
    super(fields.message, options);
    this.name = 'ApiError';
    this.status = fields.status;
    this.reason = fields.reason;
    this.retryAfterSeconds = fields.retryAfterSeconds;
    this.verb = fields.verb;
    this.resource = fields.resource;
  }
}

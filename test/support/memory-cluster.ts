// The namespace as a pass sees it through the Cluster interface (the one kube.ts implements over
// HTTP), in memory, for the pass tests. The real API server is exercised by the e2e suite.
import { ApiError } from '../../src/kube/cluster.ts';
import type { Cluster, ConfigMapRecord, DeploymentRecord, RequestCounts, SecretData, WarningEvent } from '../../src/kube/cluster.ts';
import type { DaemonSet, Pod } from '../../src/kube/k8s-types.ts';

const DEFAULT_NAME = 'kubernetes-image-puller';
const PROGRAM = 'kubernetes-image-puller';

/** `k=v,k` against labels (equality and existence): the only selectors the pass sends. */
function matches(selector: string, labels: Record<string, string> | undefined): boolean {
  return selector.split(',').every((term) => {
    const [key = '', value] = term.split('=');
    return value === undefined ? labels !== undefined && Object.hasOwn(labels, key) : labels?.[key] === value;
  });
}

/**
 * The namespace as the pass sees it: DaemonSets by name, a DaemonSet "controller" that reports a
 * rollout complete after a number of reads, and every request counted by HTTP verb as kube.ts counts.
 * Like the API server, it answers on a later tick, and requests sent side by side in an order of
 * its own: the newest first. So a write sent without awaiting the one before it lands out of order
 * (a create before the delete it follows), and a pass that returns before its writes are answered
 * leaves them undone when the test looks.
 */
export class MemoryCluster implements Cluster {
  daemonSets = new Map<string, DaemonSet>();
  podsByDaemonSet = new Map<string, Pod[]>();
  nodes = 3;
  /** Reads after a write before the "controller" reports the rollout complete; Infinity = never. */
  settleAfterReads = 1;
  settleAfterReadsFor = new Map<string, number>();
  failures: ApiError[] = [];
  events: string[] = [];
  /** Each Event as a person reads it: `<reason>: <message>`. */
  eventMessages: string[] = [];
  /** Each write, `<verb> <DaemonSet>`: create, update, delete, or event (about that DaemonSet). */
  writesTo: string[] = [];
  /** Reads of DaemonSets: `get <name>` or `list <selector>`. */
  reads: string[] = [];
  cronJobUid: string | undefined = 'cron-uid';
  /** What admission does to every create and update (a mutating policy); identity by default. */
  admission: (daemonSet: DaemonSet) => DaemonSet = (daemonSet) => daemonSet;
  /** Field paths strict validation rejects on every create and update, dry run or not. */
  rejectedFields: string[] = [];
  /** When set, strict validation rejects only the objects of these DaemonSets. */
  rejectedOnly: Set<string> | undefined;
  warningEvents: WarningEvent[] = [];
  /** ConfigMaps by name (the status ConfigMap), and each write to one, by name. */
  configMaps = new Map<string, ConfigMapRecord & { labels?: Record<string, string> }>();
  configMapWrites: string[] = [];
  #configMapVersion = 0;
  #reads = new Map<string, number>();
  #created = 0;
  #counts: RequestCounts = { total: 0, byVerb: {} };
  /** Requests sent and not yet answered; one is answered per macrotask, the newest first. */
  #inFlight: (() => void)[] = [];

  /** The verbs of writesTo, in order. */
  get writes(): string[] {
    return this.writesTo.map((write) => write.split(' ', 1)[0] ?? '');
  }

  /** The DaemonSet named DAEMONSET_NAME's default, which most tests are about. */
  get daemonSet(): DaemonSet | undefined {
    return this.daemonSets.get(DEFAULT_NAME);
  }
  set daemonSet(daemonSet: DaemonSet | undefined) {
    if (daemonSet === undefined) this.daemonSets.delete(DEFAULT_NAME);
    else this.daemonSets.set(DEFAULT_NAME, daemonSet);
  }
  get pods(): Pod[] {
    return this.podsByDaemonSet.get(DEFAULT_NAME) ?? [];
  }
  set pods(pods: Pod[]) {
    this.podsByDaemonSet.set(DEFAULT_NAME, pods);
  }

  #answerNext(): void {
    this.#inFlight.pop()?.();
    if (this.#inFlight.length > 0) setImmediate(() => { this.#answerNext(); });
  }

  /** Resolves when the server gets to this request: never in the tick it was sent. */
  #arrival(): Promise<void> {
    return new Promise((resolve) => {
      this.#inFlight.push(resolve);
      if (this.#inFlight.length === 1) setImmediate(() => { this.#answerNext(); });
    });
  }

  /** Counts the request as it is sent, then answers it (or fails it with the next of `failures`) once the server gets to it. */
  async #request<T>(verb: string, answer: () => T): Promise<T> {
    this.#counts.total += 1;
    this.#counts.byVerb[verb] = (this.#counts.byVerb[verb] ?? 0) + 1;
    const failure = this.failures.shift();
    await this.#arrival();
    if (failure) throw failure;
    return answer();
  }

  #read(name: string): DaemonSet | undefined {
    this.#reads.set(name, (this.#reads.get(name) ?? 0) + 1);
    this.#settle(name);
    return structuredClone(this.daemonSets.get(name));
  }

  #settle(name: string): void {
    const daemonSet = this.daemonSets.get(name);
    if (!daemonSet) return;
    const generation = daemonSet.metadata.generation ?? 1;
    const done = (this.#reads.get(name) ?? 0) >= (this.settleAfterReadsFor.get(name) ?? this.settleAfterReads);
    const nodes = this.nodes;
    daemonSet.status = {
      observedGeneration: generation,
      desiredNumberScheduled: nodes,
      updatedNumberScheduled: done ? nodes : 0,
      numberAvailable: done ? nodes : 0,
      numberReady: done ? nodes : 0,
    };
  }

  readDaemonSet(name: string) {
    this.reads.push(`get ${name}`);
    return this.#request('GET', () => this.#read(name));
  }
  listDaemonSets(labelSelector: string) {
    this.reads.push(`list ${labelSelector}`);
    return this.#request('GET', () => {
      const names = [...this.daemonSets.values()].filter((daemonSet) => matches(labelSelector, daemonSet.metadata.labels)).map((daemonSet) => daemonSet.metadata.name ?? '');
      return names.flatMap((name) => this.#read(name) ?? []);
    });
  }
  #validate(verb: string, body: DaemonSet): DaemonSet {
    if (this.rejectedFields.length > 0 && (this.rejectedOnly === undefined || this.rejectedOnly.has(body.metadata.name ?? ''))) {
      throw new ApiError({ status: 422, reason: 'Invalid', message: `DaemonSet.apps is invalid: ${this.rejectedFields.join(', ')}`, verb, resource: 'daemonsets.apps', fields: this.rejectedFields });
    }
    return this.admission(structuredClone(body));
  }

  /** As the API server would store the body: admitted, with a generation bumped only by a spec change. */
  #updated(body: DaemonSet): DaemonSet {
    const stored = this.daemonSets.get(body.metadata.name ?? '');
    if (stored === undefined || body.metadata.resourceVersion !== stored.metadata.resourceVersion) {
      throw new ApiError({ status: 409, reason: 'Conflict', message: 'modified', verb: 'update', resource: 'daemonsets.apps' });
    }
    const admitted = this.#validate('update', body);
    const generation = (stored.metadata.generation ?? 1) + (JSON.stringify(admitted.spec) === JSON.stringify(stored.spec) ? 0 : 1);
    const resourceVersion = String(Number(stored.metadata.resourceVersion ?? '0') + 1);
    // A PUT cannot change the UID: the server keeps the stored one whatever the body says.
    return { ...admitted, metadata: { ...admitted.metadata, uid: stored.metadata.uid, resourceVersion, generation } };
  }

  #wrote(verb: string, name: string): void {
    this.writesTo.push(`${verb} ${name}`);
  }

  previewCreate(body: DaemonSet) {
    return this.#request('POST', () => {
      if (this.daemonSets.has(body.metadata.name ?? '')) throw new ApiError({ status: 409, reason: 'AlreadyExists', message: 'exists', verb: 'create', resource: 'daemonsets.apps' });
      return this.#validate('create', body);
    });
  }
  previewReplace(body: DaemonSet) {
    return this.#request('PUT', () => this.#updated(body));
  }
  createDaemonSet(body: DaemonSet) {
    return this.#request('POST', () => this.#create(body));
  }
  #create(body: DaemonSet): DaemonSet {
    const name = body.metadata.name ?? '';
    if (this.daemonSets.has(name)) throw new ApiError({ status: 409, reason: 'AlreadyExists', message: 'exists', verb: 'create', resource: 'daemonsets.apps' });
    const admitted = this.#validate('create', body);
    this.#wrote('create', name);
    this.#reads.set(name, 0);
    // Every object the server creates has a UID of its own, so "same UID" means "not recreated".
    this.#created += 1;
    const uid = `uid-${String(this.#created)}`;
    this.daemonSets.set(name, { ...admitted, metadata: { ...admitted.metadata, uid, resourceVersion: '1', generation: 1, creationTimestamp: new Date().toISOString() } });
    this.#settle(name);
    return structuredClone(this.daemonSets.get(name)!);
  }
  replaceDaemonSet(body: DaemonSet) {
    return this.#request('PUT', () => {
      const updated = this.#updated(body);
      const name = body.metadata.name ?? '';
      this.#wrote('update', name);
      this.#reads.set(name, 0);
      this.daemonSets.set(name, updated);
      this.#settle(name);
      return structuredClone(updated);
    });
  }
  deleteDaemonSet(name: string, uid: string) {
    return this.#request('DELETE', () => {
      const stored = this.daemonSets.get(name);
      if (stored === undefined) throw new ApiError({ status: 404, reason: 'NotFound', message: 'not found', verb: 'delete', resource: 'daemonsets.apps' });
      if (stored.metadata.uid !== uid) throw new ApiError({ status: 409, reason: 'Conflict', message: 'Precondition failed: UID', verb: 'delete', resource: 'daemonsets.apps' });
      this.#wrote('delete', name);
      this.daemonSets.delete(name);
    });
  }
  /** Pods no DaemonSet of the install made (the Job's own, another app's), with their own labels. */
  otherPods: Pod[] = [];
  /** Each label selector a pod LIST was made with. */
  podLists: string[] = [];
  async visitPods(labelSelector: string, visit: (pod: Pod) => void): Promise<void> {
    this.podLists.push(labelSelector);
    const pods = await this.#request('GET', () => [
      // Each DaemonSet's pods carry its template's labels, as the controller makes them.
      ...[...this.podsByDaemonSet].flatMap(([owner, list]) => list.map((pod) => {
        const copy = structuredClone(pod);
        copy.metadata.labels = { 'app.kubernetes.io/instance': owner, 'app.kubernetes.io/name': PROGRAM, 'app.kubernetes.io/managed-by': PROGRAM, ...copy.metadata.labels };
        return copy;
      })),
      ...structuredClone(this.otherPods),
    ].filter((pod) => matches(labelSelector, pod.metadata.labels)));
    for (const pod of pods) visit(pod);
  }
  /** Node name → labels, for warm-node labels. */
  nodeLabels = new Map<string, Record<string, string>>();
  nodePatches: string[] = [];
  listNodeNames(labelSelector: string) {
    return this.#request('GET', () => [...this.nodeLabels].filter(([, labels]) => matches(labelSelector, labels)).map(([name]) => name));
  }
  patchNodeLabel(node: string, key: string, value: string | null) {
    return this.#request('PATCH', () => {
      const labels = Object.entries(this.nodeLabels.get(node) ?? {}).filter(([name]) => name !== key);
      this.nodeLabels.set(node, Object.fromEntries(value === null ? labels : [...labels, [key, value]]));
      this.nodePatches.push(`${node} ${key}=${value ?? '-'}`);
    });
  }
  readConfigMap(name: string) {
    return this.#request('GET', () => structuredClone(this.configMaps.get(name)));
  }
  writeConfigMap(name: string, data: Record<string, string>, labels: Record<string, string>, resourceVersion?: string) {
    return this.#request(resourceVersion === undefined ? 'POST' : 'PATCH', () => {
      const live = this.configMaps.get(name);
      if (resourceVersion === undefined ? live !== undefined : live?.resourceVersion !== resourceVersion) {
        throw new ApiError({ status: 409, reason: 'Conflict', message: `configmaps "${name}" changed`, verb: resourceVersion === undefined ? 'create' : 'update', resource: 'configmaps' });
      }
      this.#configMapVersion += 1;
      this.configMaps.set(name, { data: { ...data }, resourceVersion: String(this.#configMapVersion), labels: { ...(live === undefined ? labels : live.labels) } });
      this.configMapWrites.push(name);
    });
  }
  readCronJobUid() {
    return this.#request('GET', () => this.cronJobUid);
  }
  /**
   * Deployments by name; any other name is absent. "exists" and "being-deleted" are the Go puller
   * fixture's owner (UID go-deployment-uid), deleted in the background when being deleted.
   */
  deployments = new Map<string, 'exists' | 'being-deleted' | DeploymentRecord>();
  deploymentReads: string[] = [];
  readDeployment(name: string) {
    this.deploymentReads.push(name);
    return this.#request('GET', () => {
      const stored = this.deployments.get(name);
      if (typeof stored !== 'string') return structuredClone(stored);
      return { uid: 'go-deployment-uid', deleting: stored === 'being-deleted', finalizers: [] };
    });
  }
  secrets = new Map<string, SecretData>();
  readSecret(name: string) {
    return this.#request('GET', () => structuredClone(this.secrets.get(name)));
  }
  listWarningEvents() {
    return this.#request('GET', () => structuredClone(this.warningEvents));
  }
  recordEvent(daemonSet: DaemonSet, type: string, reason: string, message: string) {
    return this.#request('POST', () => {
      this.events.push(`${type}/${reason}`);
      this.eventMessages.push(`${reason}: ${message}`);
      this.#wrote('event', daemonSet.metadata.name ?? '');
    });
  }
  requests() {
    return structuredClone(this.#counts);
  }
}

/**
 * What a pass with nothing to change asks, by its design: one LIST of its DaemonSets, then the
 * coverage, one LIST of its pods (one page here) and one GET of the status ConfigMap.
 */
export const QUIET_PASS_REQUESTS = 3;

// The pass's orchestration against an in-memory Cluster (the same interface kube.ts implements
// over HTTP). The real API server is exercised by the e2e suite.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/cluster.ts';
import type { Cluster, RequestCounts } from '../src/cluster.ts';
import { loadConfig } from '../src/config.ts';
import type { DaemonSet, Pod } from '../src/k8s-types.ts';
import { runPass } from '../src/pass.ts';

class MemoryCluster implements Cluster {
  daemonSet: DaemonSet | undefined;
  pods: Pod[] = [];
  nodes = 3;
  /** Reads after a write before the "controller" reports the rollout complete; Infinity = never. */
  settleAfterReads = 1;
  failures: ApiError[] = [];
  events: string[] = [];
  writes: string[] = [];
  cronJobUid: string | undefined = 'cron-uid';
  #reads = 0;
  #created = 0;
  #counts: RequestCounts = { total: 0, byVerb: {} };

  #count(verb: string): void {
    this.#counts.total += 1;
    this.#counts.byVerb[verb] = (this.#counts.byVerb[verb] ?? 0) + 1;
    const failure = this.failures.shift();
    if (failure) throw failure;
  }

  #settle(): void {
    if (!this.daemonSet) return;
    const generation = this.daemonSet.metadata.generation ?? 1;
    const done = this.#reads >= this.settleAfterReads;
    this.daemonSet.status = {
      observedGeneration: generation,
      desiredNumberScheduled: this.nodes,
      updatedNumberScheduled: done ? this.nodes : 0,
      numberAvailable: done ? this.nodes : 0,
      numberReady: done ? this.nodes : 0,
    };
  }

  readDaemonSet() {
    this.#count('GET');
    this.#reads += 1;
    this.#settle();
    return Promise.resolve(structuredClone(this.daemonSet));
  }
  createDaemonSet(body: DaemonSet) {
    this.#count('POST');
    if (this.daemonSet) throw new ApiError({ status: 409, reason: 'AlreadyExists', message: 'exists', verb: 'create', resource: 'daemonsets.apps' });
    this.writes.push('create');
    this.#reads = 0;
    // Every object the server creates has a UID of its own, so "same UID" means "not recreated".
    this.#created += 1;
    const uid = `uid-${String(this.#created)}`;
    this.daemonSet = { ...structuredClone(body), metadata: { ...body.metadata, uid, resourceVersion: '1', generation: 1, creationTimestamp: new Date().toISOString() } };
    this.#settle();
    return Promise.resolve(structuredClone(this.daemonSet));
  }
  replaceDaemonSet(body: DaemonSet) {
    this.#count('PUT');
    if (body.metadata.resourceVersion !== this.daemonSet?.metadata.resourceVersion) {
      throw new ApiError({ status: 409, reason: 'Conflict', message: 'modified', verb: 'update', resource: 'daemonsets.apps' });
    }
    this.writes.push('update');
    this.#reads = 0;
    const generation = (this.daemonSet?.metadata.generation ?? 1) + 1;
    // A PUT cannot change the UID: the server keeps the stored one whatever the body says.
    this.daemonSet = { ...structuredClone(body), metadata: { ...body.metadata, uid: this.daemonSet?.metadata.uid, resourceVersion: String(generation), generation } };
    this.#settle();
    return Promise.resolve(structuredClone(this.daemonSet));
  }
  deleteDaemonSet() {
    this.#count('DELETE');
    this.writes.push('delete');
    this.daemonSet = undefined;
    return Promise.resolve();
  }
  async *listPods() {
    this.#count('GET');
    await Promise.resolve();
    yield this.pods;
  }
  readCronJobUid() {
    this.#count('GET');
    return Promise.resolve(this.cronJobUid);
  }
  recordEvent(_daemonSet: DaemonSet, type: string, reason: string) {
    this.#count('POST');
    this.events.push(`${type}/${reason}`);
    this.writes.push('event');
    return Promise.resolve();
  }
  requests() {
    return structuredClone(this.#counts);
  }
}

/** A sleep that takes no time but lets timers run, so a runaway loop meets the test timeout instead of starving it. */
function yieldToTimers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

function pass(cluster: MemoryCluster, env: Record<string, string> = {}, interrupt?: AbortController) {
  const signal = interrupt?.signal ?? new AbortController().signal;
  let clock = Date.parse('2026-11-24T12:00:00Z');
  const config = loadConfig({ IMAGES: 'a=nginx:1;b=redis:7', NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30', ...env });
  return runPass({
    config,
    cluster,
    log: silent,
    now: () => new Date(clock),
    sleep: (ms) => {
      clock += ms;
      interrupt?.abort(); // SIGTERM arrives while the pass waits
      return yieldToTimers();
    },
    signal,
  });
}

describe('runPass', () => {
  it('creates, waits for the rollout and reports healthy; the next pass makes one read and no writes', async () => {
    const cluster = new MemoryCluster();
    const first = await pass(cluster);
    assert.equal(first.exitCode, 0);
    assert.equal(first.action, 'created');
    assert.deepEqual(cluster.events, ['Normal/Created']);
    const before = cluster.requests().total;
    const second = await pass(cluster);
    assert.equal(second.exitCode, 0);
    assert.equal(second.action, 'unchanged');
    assert.equal(cluster.requests().total - before, 1);
    assert.deepEqual(cluster.writes, ['create', 'event']);
  });

  it('updates drift in place and records it', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    const uid = cluster.daemonSet?.metadata.uid;
    const outcome = await pass(cluster, { IMAGES: 'a=nginx:2;b=redis:7' });
    assert.equal(outcome.action, 'updated');
    assert.deepEqual(outcome.changed, ['spec.template.spec.initContainers[a].image']);
    assert.equal(cluster.daemonSet?.metadata.uid, uid);
    assert.deepEqual(cluster.writes, ['create', 'event', 'update', 'event']);
    assert.deepEqual(cluster.events, ['Normal/Created', 'Normal/Updated']);
  });

  it('reads again after a conflict and succeeds', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    cluster.failures = [];
    const original = cluster.replaceDaemonSet.bind(cluster);
    let conflicts = 1;
    cluster.replaceDaemonSet = (body) => {
      if (conflicts-- > 0) return Promise.reject(new ApiError({ status: 409, reason: 'Conflict', message: 'modified', verb: 'update', resource: 'daemonsets.apps' }));
      return original(body);
    };
    const outcome = await pass(cluster, { IMAGES: 'a=nginx:3' });
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.action, 'updated');
  });

  it('retries transient failures within the deadline', async () => {
    const cluster = new MemoryCluster();
    cluster.failures = [
      new ApiError({ status: 0, message: 'cannot reach the API server (ECONNREFUSED)', verb: 'get', resource: 'daemonsets.apps' }),
      new ApiError({ status: 429, message: 'slow down', verb: 'get', resource: 'daemonsets.apps', retryAfterSeconds: 1 }),
    ];
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.action, 'created');
  });

  it('names the verb and resource the ServiceAccount lacks on 403, with exit 1 and no further writes', async () => {
    const cluster = new MemoryCluster();
    cluster.failures = [new ApiError({ status: 403, reason: 'Forbidden', message: 'denied', verb: 'get', resource: 'daemonsets.apps' })];
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 1);
    assert.match(outcome.error ?? '', /may not "get" daemonsets\.apps in namespace cache/);
    assert.deepEqual(cluster.writes, []);
  });

  it('refuses a DaemonSet it does not manage (exit 4) and changes nothing', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet?.metadata.labels) delete cluster.daemonSet.metadata.labels['app.kubernetes.io/managed-by'];
    const before = structuredClone(cluster.daemonSet);
    const writes = cluster.writes.length;
    const outcome = await pass(cluster, { IMAGES: 'a=other:1' });
    assert.equal(outcome.exitCode, 4);
    assert.deepEqual(cluster.writes.slice(writes), [], 'no write and no Event');
    assert.deepEqual(cluster.daemonSet, before);
  });

  it('reports unhealthy by the deadline with a diagnosis and keeps the DaemonSet (exit 3)', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    cluster.pods = [{
      metadata: { name: 'p1' },
      spec: { nodeName: 'node-1', initContainers: [{ name: 'a', image: 'broken.invalid/a:1' }], containers: [] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', image: 'broken.invalid/a:1', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
    }];
    const outcome = await pass(cluster, { IMAGES: 'a=broken.invalid/a:1' });
    assert.equal(outcome.exitCode, 3);
    assert.deepEqual(outcome.diagnosis, ['broken.invalid/a:1: ImagePullBackOff on 1 node, e.g. node-1', '2 of 3 nodes have no available pod yet and no pod error to show']);
    assert.ok(cluster.daemonSet);
    assert.ok(cluster.events.includes('Warning/Unhealthy'));
    assert.ok(!cluster.writes.includes('delete'));
  });

  it('ends the wait on SIGTERM with exit 3', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const outcome = await pass(cluster, {}, new AbortController());
    assert.equal(outcome.exitCode, 3);
    assert.match(outcome.error ?? '', /interrupted/);
  });

  it('gives the DaemonSet an ownerReference to its CronJob', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.deepEqual(cluster.daemonSet?.metadata.ownerReferences?.map((ref) => [ref.kind, ref.name, ref.uid]), [['CronJob', 'puller', 'cron-uid']]);
    const before = cluster.requests().total;
    await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.equal(cluster.requests().total - before, 1, 'a healthy owned DaemonSet still costs one read');
  });

  it('recreates when the selector must change', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    const uid = cluster.daemonSet?.metadata.uid;
    if (cluster.daemonSet) cluster.daemonSet.spec.selector = { matchLabels: { app: 'legacy' } };
    const outcome = await pass(cluster);
    assert.equal(outcome.action, 'recreated');
    assert.deepEqual(cluster.writes, ['create', 'event', 'delete', 'create', 'event']);
    assert.notEqual(cluster.daemonSet?.metadata.uid, uid);
  });
});

describe('runPass deadline', () => {
  it('waits the whole ROLLOUT_TIMEOUT_SECONDS before reporting unhealthy, and no longer', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const outcome = await pass(cluster, { ROLLOUT_TIMEOUT_SECONDS: '10' });
    assert.equal(outcome.exitCode, 3);
    assert.equal(outcome.waitedMs, 10_000);
  });

  it('counts the status polls as waiting, not as the pass\'s own work', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = 3;
    let clock = 0;
    const read = cluster.readDaemonSet.bind(cluster);
    cluster.readDaemonSet = () => { clock += 1000; return read(); };
    const outcome = await runPass({
      config: loadConfig({ IMAGES: 'a=nginx:1', NAMESPACE: 'cache' }),
      cluster,
      log: silent,
      now: () => new Date(clock),
      sleep: (ms) => { clock += ms; return Promise.resolve(); },
      signal: new AbortController().signal,
    });
    assert.equal(outcome.exitCode, 0);
    // First read (1 s, own work) and create; then 3 polls of 1 s each after sleeps of 500, 750, 1125 ms.
    assert.equal(outcome.waitedMs, 3000 + 500 + 750 + 1125);
  });
});

describe('runPass recreate', () => {
  it('finishes a recreate whose create failed transiently after the delete went through', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet) cluster.daemonSet.spec.selector = { matchLabels: { app: 'legacy' } };
    const create = cluster.createDaemonSet.bind(cluster);
    let failures = 1;
    cluster.createDaemonSet = (body) => {
      if (failures-- > 0) return Promise.reject(new ApiError({ status: 503, message: 'unavailable', verb: 'create', resource: 'daemonsets.apps' }));
      return create(body);
    };
    const remove = cluster.deleteDaemonSet.bind(cluster);
    cluster.deleteDaemonSet = () => {
      if (cluster.daemonSet === undefined) return Promise.reject(new ApiError({ status: 404, message: 'not found', verb: 'delete', resource: 'daemonsets.apps' }));
      return remove();
    };
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.action, 'recreated');
    assert.ok(cluster.daemonSet);
  });
});

describe('runPass termination', () => {
  function passWithFrozenClock(cluster: MemoryCluster) {
    return runPass({
      config: loadConfig({ IMAGES: 'a=nginx:1', NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '5' }),
      cluster,
      log: silent,
      now: () => new Date('2026-11-24T12:00:00Z'),
      sleep: yieldToTimers,
      // A safety net: should the loop run away, it ends here and the assertions below fail.
      signal: AbortSignal.timeout(5000),
    });
  }

  it('ends the rollout wait after a bounded number of polls even when sleeping takes no time', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const outcome = await passWithFrozenClock(cluster);
    assert.equal(outcome.exitCode, 3);
    assert.match(outcome.error ?? '', /not healthy after 5s/);
    assert.ok((cluster.requests().byVerb.GET ?? 0) <= 20, `${String(cluster.requests().byVerb.GET)} reads`);
  });

  it('ends the wait for a DaemonSet being deleted after a bounded number of reads', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet) cluster.daemonSet.metadata.deletionTimestamp = '2026-11-24T11:59:00Z';
    const outcome = await passWithFrozenClock(cluster);
    assert.equal(outcome.exitCode, 1);
    assert.match(outcome.error ?? '', /still being deleted/);
  });
});

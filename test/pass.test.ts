// The pass's orchestration for one DaemonSet (IMAGES alone) against an in-memory Cluster (the
// same interface kube.ts implements over HTTP). The real API server is exercised by the e2e suite.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/kube/cluster.ts';
import { loadConfig } from '../src/config/config.ts';
import type { DaemonSet } from '../src/kube/k8s-types.ts';
import { runPass } from '../src/pass/run.ts';
import { rateLimitWarnings, tagImages } from '../src/pass/digests.ts';
import type { RegistryClient } from '../src/registry/client.ts';
import { MemoryCluster, QUIET_PASS_REQUESTS } from './support/memory-cluster.ts';
import { MemoryRegistry } from './support/memory-registry.ts';
import { goPullerDaemonSet } from './support/go-puller.ts';
import { START, fixedClock, silent, yieldToTimers } from './support/run-pass.ts';

/** @param laterMs how long after START the pass runs (a later CronJob run). */
function pass(cluster: MemoryCluster, env: Record<string, string> = {}, interrupt?: AbortController, registry?: RegistryClient, laterMs = 0) {
  const signal = interrupt?.signal ?? new AbortController().signal;
  const config = loadConfig({ IMAGES: 'a=nginx:1;b=redis:7', NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30', ...env });
  const clock = fixedClock(() => interrupt?.abort()); // SIGTERM arrives while the pass waits
  return runPass({
    config,
    cluster,
    ...(registry === undefined ? {} : { registry }),
    log: silent,
    now: () => new Date(clock.now().getTime() + laterMs),
    sleep: clock.sleep,
    signal,
  });
}

const digestOf = (seed: string): string => `sha256:${seed.repeat(64).slice(0, 64)}`;

describe('runPass', () => {
  it('creates, waits for the rollout and reports healthy; the next pass makes its quiet reads and no writes', async () => {
    const cluster = new MemoryCluster();
    const first = await pass(cluster);
    assert.equal(first.exitCode, 0);
    assert.equal(first.action, 'created');
    assert.deepEqual(cluster.events, ['Normal/Created']);
    const before = cluster.requests().total;
    const second = await pass(cluster);
    assert.equal(second.exitCode, 0);
    assert.equal(second.action, 'unchanged');
    assert.equal(cluster.requests().total - before, QUIET_PASS_REQUESTS);
    assert.deepEqual(cluster.writes, ['create', 'event']);
    assert.deepEqual(cluster.configMapWrites, ['kubernetes-image-puller-status'], 'the status ConfigMap is written once, not again on a quiet pass');
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
    // A Role without daemonsets at all: its LIST is refused, and so is the read by name that follows it.
    cluster.failures = [
      new ApiError({ status: 403, reason: 'Forbidden', message: 'denied', verb: 'list', resource: 'daemonsets.apps' }),
      new ApiError({ status: 403, reason: 'Forbidden', message: 'denied', verb: 'get', resource: 'daemonsets.apps' }),
    ];
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

  it('reads its pods once when unhealthy: the diagnosis and the coverage come from one LIST', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    cluster.pods = [{
      metadata: { name: 'p1' },
      spec: { nodeName: 'node-1', initContainers: [{ name: 'a', image: 'broken.invalid/a:1' }], containers: [] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', image: 'broken.invalid/a:1', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
    }];
    const outcome = await pass(cluster, { IMAGES: 'a=broken.invalid/a:1' });
    assert.equal(outcome.exitCode, 3);
    assert.deepEqual(outcome.diagnosis[0], 'broken.invalid/a:1: ImagePullBackOff on 1 node, e.g. node-1');
    assert.deepEqual(outcome.coverage[0]?.coverage.images[0]?.failing.map((f) => [f.reason, f.nodes]), [['ImagePullBackOff', 1]]);
    assert.equal(cluster.podLists.length, 1);
  });

  it("leaves the Job's own pods out of the diagnosis when the Helm release is named like the DaemonSet", async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    // The chart's pass pods: name and instance as the DaemonSet's selector, managed by Helm.
    const labels = { 'app.kubernetes.io/name': 'kubernetes-image-puller', 'app.kubernetes.io/instance': 'kubernetes-image-puller', 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/component': 'reconcile-pass' };
    cluster.otherPods = ['node-1', 'node-2', 'node-3'].map((node) => ({
      metadata: { name: `pass-${node}`, labels },
      spec: { nodeName: node, containers: [{ name: 'pass', image: 'quay.io/example/kubernetes-image-puller:1' }] },
      status: { phase: 'Failed', containerStatuses: [{ name: 'pass', image: 'quay.io/example/kubernetes-image-puller:1', state: { terminated: { reason: 'Error', exitCode: 3 } } }] },
    }));
    cluster.warningEvents = [{ reason: 'FailedCreate', message: 'pods "kubernetes-image-puller-x" is forbidden: exceeded quota: pods', count: 1 }];
    const outcome = await pass(cluster, { IMAGES: 'a=nginx:1' });
    assert.equal(outcome.exitCode, 3);
    assert.ok(!outcome.diagnosis.some((line) => line.includes('kubernetes-image-puller:1')), outcome.diagnosis.join('\n'));
    assert.ok(outcome.diagnosis.some((line) => line.includes('exceeded quota')), outcome.diagnosis.join('\n'));
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
    // Not the controller, and no blockOwnerDeletion: deleting the CronJob removes the DaemonSet in the background.
    assert.deepEqual(cluster.daemonSet?.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'cron-uid', controller: false, blockOwnerDeletion: false }]);
    const before = cluster.requests().total;
    await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.equal(cluster.requests().total - before, QUIET_PASS_REQUESTS, 'a healthy owned DaemonSet costs no more than a quiet pass');
  });

  it('recreates when the selector must change, with the new selector and the CronJob owner it had', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, { CRONJOB_NAME: 'puller' });
    const created = structuredClone(cluster.daemonSet);
    if (cluster.daemonSet) cluster.daemonSet.spec.selector = { matchLabels: { app: 'legacy' } };
    const outcome = await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.deepEqual([outcome.exitCode, outcome.action, outcome.changed], [0, 'recreated', ['spec.selector']]);
    assert.deepEqual(cluster.writes, ['create', 'event', 'delete', 'create', 'event']);
    assert.notEqual(cluster.daemonSet?.metadata.uid, created?.metadata.uid);
    assert.deepEqual(cluster.daemonSet?.spec.selector, created?.spec.selector);
    assert.deepEqual(cluster.daemonSet?.metadata.ownerReferences?.map((ref) => [ref.kind, ref.name, ref.uid]), [['CronJob', 'puller', 'cron-uid']], 'helm uninstall still removes it');
    assert.deepEqual(cluster.events, ['Normal/Created', 'Normal/Recreated']);
    const next = await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.equal(next.action, 'unchanged');
  });

  it('writes a changed DAEMONSET_ANNOTATIONS value once, and the next pass is quiet', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, { DAEMONSET_ANNOTATIONS: '{"example.com/owner":"ide-team"}' });
    const changed = await pass(cluster, { DAEMONSET_ANNOTATIONS: '{"example.com/owner":"platform"}' });
    assert.deepEqual([changed.action, changed.changed], ['updated', ['metadata.annotations.example.com/owner']]);
    assert.deepEqual(cluster.daemonSet?.metadata.annotations, { 'example.com/owner': 'platform' });
    const quiet = await pass(cluster, { DAEMONSET_ANNOTATIONS: '{"example.com/owner":"platform"}' });
    assert.equal(quiet.action, 'unchanged');
    assert.deepEqual(cluster.writes, ['create', 'event', 'update', 'event']);
  });

  it('does not undo a `kubectl rollout restart`: no write, and an update later keeps its annotation', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    const restartedAt = '2026-11-24T11:30:00Z';
    const live = cluster.daemonSet;
    if (live) {
      live.spec.template.metadata.annotations = { ...live.spec.template.metadata.annotations, 'kubectl.kubernetes.io/restartedAt': restartedAt };
      live.metadata.generation = 2;
    }
    const quiet = await pass(cluster);
    assert.equal(quiet.action, 'unchanged');
    assert.deepEqual(cluster.writes, ['create', 'event']);
    const updated = await pass(cluster, { IMAGES: 'a=nginx:2;b=redis:7' });
    assert.equal(updated.action, 'updated');
    assert.equal(cluster.daemonSet?.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], restartedAt);
  });
});

describe('runPass Events: what each write says on the DaemonSet', () => {
  it('created, updated (the fields, at most 20), restarted (the interval), recreated (why)', async () => {
    const cluster = new MemoryCluster();
    const images = (tag: (index: number) => string) => Array.from({ length: 22 }, (_, index) => `i${String(index).padStart(2, '0')}=nginx:${tag(index)}`).join(';');
    const many = images((index) => (index < 2 ? '2' : '1'));
    await pass(cluster, { IMAGES: images(() => '1'), REFRESH_MODE: 'restart' });
    await pass(cluster, { IMAGES: many, REFRESH_MODE: 'restart' });
    await pass(cluster, { IMAGES: images(() => '3'), REFRESH_MODE: 'restart' });
    await pass(cluster, { IMAGES: images(() => '3'), REFRESH_MODE: 'restart', CACHING_INTERVAL_HOURS: '2' }, undefined, undefined, 3 * 3600 * 1000);
    if (cluster.daemonSet) cluster.daemonSet.spec.selector = { matchLabels: { app: 'legacy' } };
    await pass(cluster, { IMAGES: images(() => '3'), REFRESH_MODE: 'restart', CACHING_INTERVAL_HOURS: '2' }, undefined, undefined, 3 * 3600 * 1000);
    const [created, updated, all, restarted, recreated, ...rest] = cluster.eventMessages;
    assert.equal(created, 'Created: created with 22 image(s)');
    assert.equal(updated, 'Updated: changed: spec.template.spec.initContainers[i00].image, spec.template.spec.initContainers[i01].image');
    const fields = (all ?? '').replace(/^Updated: changed: /, '').split(', ');
    assert.deepEqual([fields.length, fields[19]], [20, 'spec.template.spec.initContainers[i19].image'], all);
    assert.equal(restarted, 'Restarted: rolling restart to re-pull tagged images (every 2h)');
    assert.equal(recreated, 'Recreated: recreated because spec.selector cannot change in place');
    assert.deepEqual(rest, []);
  });

  it('took over, saying whether the Go puller\'s Deployment is gone or being deleted', async () => {
    for (const [state, why] of [['absent', 'is gone'], ['being-deleted', 'is being deleted']] as const) {
      const cluster = new MemoryCluster();
      cluster.daemonSet = goPullerDaemonSet();
      if (state !== 'absent') cluster.deployments.set('kubernetes-image-puller', state);
      await pass(cluster);
      assert.deepEqual(cluster.eventMessages, [`TookOver: replaced the DaemonSet left by the Go kubernetes-image-puller, whose Deployment kubernetes-image-puller ${why}`]);
    }
  });

  it('unhealthy: the available pods and the diagnosis', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    await pass(cluster);
    assert.deepEqual(cluster.eventMessages.slice(1), ['Unhealthy: 0/3 available: 3 of 3 nodes have no available pod yet, and no pod reports an error']);
  });
});

describe('runPass against an API server that fails or refuses', () => {
  const apiError = (status: number, reason: string, verb = 'update', fields: string[] = []) => new ApiError({ status, reason, message: `said ${String(status)}`, verb, resource: 'daemonsets.apps', fields });

  it('gives up after 5 conflicts in a row with exit 1, naming the conflict', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    let attempts = 0;
    cluster.replaceDaemonSet = () => { attempts += 1; return Promise.reject(apiError(409, 'Conflict')); };
    const outcome = await pass(cluster, { IMAGES: 'a=nginx:2' });
    assert.deepEqual([outcome.exitCode, outcome.action, attempts], [1, 'failed', 5]);
    assert.equal(outcome.error, 'update daemonsets.apps failed with HTTP 409 Conflict: said 409');
  });

  it('reads again when the DaemonSet it updates was deleted meanwhile (404 on update), and creates it', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    const replace = cluster.replaceDaemonSet.bind(cluster);
    cluster.replaceDaemonSet = () => {
      cluster.daemonSet = undefined;
      cluster.replaceDaemonSet = replace;
      return Promise.reject(apiError(404, 'NotFound'));
    };
    const outcome = await pass(cluster, { IMAGES: 'a=nginx:2' });
    assert.deepEqual([outcome.exitCode, outcome.action], [0, 'created']);
    assert.equal(cluster.daemonSet?.spec.template.spec.initContainers?.[1]?.image, 'nginx:2');
  });

  it('a 404 on anything but an update is an error, not a conflict', async () => {
    const cluster = new MemoryCluster();
    let attempts = 0;
    cluster.createDaemonSet = () => { attempts += 1; return Promise.reject(apiError(404, 'NotFound', 'create')); };
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.error, attempts], [1, 'create daemonsets.apps failed with HTTP 404 NotFound: said 404', 1]);
  });

  it('a 400 or a 422 without field paths is exit 2 for the DaemonSet as a whole', async () => {
    for (const status of [400, 422]) {
      const cluster = new MemoryCluster();
      cluster.previewCreate = () => Promise.reject(apiError(status, 'Invalid', 'create'));
      cluster.createDaemonSet = () => Promise.reject(apiError(status, 'Invalid', 'create'));
      const outcome = await pass(cluster);
      assert.deepEqual([outcome.exitCode, outcome.rejected], [2, [{ variable: '(the DaemonSet as a whole)', problem: `the API server rejected it: said ${String(status)}` }]], String(status));
      assert.equal(outcome.error, `the API server rejected the DaemonSet built from the configuration: said ${String(status)}`);
    }
  });

  it('a 422 about another resource is an error, not the configuration\'s', async () => {
    const cluster = new MemoryCluster();
    cluster.createDaemonSet = () => Promise.reject(new ApiError({ status: 422, reason: 'Invalid', message: 'quota', verb: 'create', resource: 'resourcequotas' }));
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.rejected], [1, []]);
  });

  it('a SIGTERM before the pass begins ends it with exit 3 and nothing written', async () => {
    const cluster = new MemoryCluster();
    const interrupt = new AbortController();
    interrupt.abort();
    const outcome = await pass(cluster, {}, interrupt);
    assert.deepEqual([outcome.exitCode, outcome.error, cluster.writes], [3, 'interrupted before the DaemonSet was reconciled', []]);
  });

  it('a SIGTERM during the rollout wait says so', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const outcome = await pass(cluster, {}, new AbortController());
    assert.deepEqual([outcome.exitCode, outcome.error], [3, 'interrupted (SIGTERM) before the rollout completed']);
  });

  it('names the Job deadline when it, not ROLLOUT_TIMEOUT_SECONDS, cut the wait short', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const outcome = await runPass({ config: loadConfig({ IMAGES: 'a=nginx:1', NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30' }), cluster, log: silent, ...fixedClock(), signal: new AbortController().signal }, 10);
    assert.deepEqual([outcome.exitCode, outcome.error, outcome.waitedMs], [3, 'not healthy after 10s (the Job\'s deadline, JOB_DEADLINE_SECONDS, less time to report)', 10_000]);
    const full = await pass(new MemoryCluster(), { ROLLOUT_TIMEOUT_SECONDS: '10' });
    assert.equal(full.exitCode, 0);
  });

  it('warns when no node matches, so that nothing is cached, and counts it healthy', async () => {
    const cluster = new MemoryCluster();
    cluster.nodes = 0;
    const warnings: string[] = [];
    const outcome = await runPass({ config: loadConfig({ IMAGES: 'a=nginx:1', NAMESPACE: 'cache' }), cluster, log: { ...silent, warn: (message: string) => warnings.push(message) }, ...fixedClock(), signal: new AbortController().signal });
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(warnings, ['no node matches the DaemonSet\'s node selector, affinity and tolerations; nothing is cached']);
  });

  it('warns when the CronJob named by CRONJOB_NAME is not found, and an Event it cannot record does not fail the pass', async () => {
    const cluster = new MemoryCluster();
    cluster.cronJobUid = undefined;
    cluster.recordEvent = () => Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'no events', verb: 'create', resource: 'events' }));
    const warnings: string[] = [];
    const outcome = await runPass({ config: loadConfig({ IMAGES: 'a=nginx:1', NAMESPACE: 'cache', CRONJOB_NAME: 'gone' }), cluster, log: { ...silent, warn: (message: string) => warnings.push(message) }, ...fixedClock(), signal: new AbortController().signal });
    assert.deepEqual([outcome.exitCode, outcome.action], [0, 'created']);
    assert.deepEqual(warnings, ['the CronJob named by CRONJOB_NAME was not found; the DaemonSet gets no owner', 'could not record an Event on the DaemonSet']);
  });
});

describe('runPass when a read or a delete fails', () => {
  const forbidden = (verb: string, resource: string) => new ApiError({ status: 403, reason: 'Forbidden', message: 'denied', verb, resource });
  const broken = (verb: string, resource: string) => new ApiError({ status: 500, reason: 'InternalError', message: 'broken', verb, resource });

  it('a recreate whose delete is refused leaves the old DaemonSet and creates nothing (exit 1)', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet) cluster.daemonSet.spec.selector = { matchLabels: { app: 'legacy' } };
    const uid = cluster.daemonSet?.metadata.uid;
    cluster.deleteDaemonSet = () => Promise.reject(forbidden('delete', 'daemonsets.apps'));
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.action, cluster.daemonSet?.metadata.uid], [1, 'failed', uid]);
    assert.match(outcome.error ?? '', /may not "delete" daemonsets\.apps/);
    assert.deepEqual(cluster.writes, ['create', 'event']);
  });

  it('a failure while waiting for the rollout keeps the action it did, with exit 1', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const read = cluster.readDaemonSet.bind(cluster);
    let reads = 0;
    cluster.readDaemonSet = (name) => (++reads > 1 ? Promise.reject(forbidden('get', 'daemonsets.apps')) : read(name));
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.action, outcome.changed], [1, 'created', ['daemonset']]);
    assert.match(outcome.error ?? '', /may not "get" daemonsets\.apps/);
  });

  it('a DaemonSet deleted while the pass waits for it is exit 1, saying so', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const read = cluster.readDaemonSet.bind(cluster);
    let reads = 0;
    cluster.readDaemonSet = (name) => {
      if (++reads > 1) cluster.daemonSet = undefined;
      return read(name);
    };
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.error], [1, 'the DaemonSet was deleted while this pass waited for its rollout']);
  });

  it('an error listing the DaemonSets other than 403 ends the pass before any DaemonSet (exit 1)', async () => {
    const cluster = new MemoryCluster();
    cluster.listDaemonSets = () => Promise.reject(new ApiError({ status: 404, reason: 'NotFound', message: 'no such namespace', verb: 'list', resource: 'daemonsets.apps' }));
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.action, outcome.daemonSets, cluster.writes], [1, 'failed', [], []]);
    assert.equal(outcome.error, 'list daemonsets.apps failed with HTTP 404 NotFound: no such namespace');
  });

  it('a Deployment or pull Secret that cannot be read for another reason than 403 is an error, not a refusal', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet();
    cluster.readDeployment = () => Promise.reject(new ApiError({ status: 404, reason: 'NotFound', message: 'gone', verb: 'get', resource: 'deployments.apps' }));
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.error, cluster.writes], [1, 'get deployments.apps failed with HTTP 404 NotFound: gone', []]);
    const secrets = new MemoryCluster();
    secrets.readSecret = () => Promise.reject(new ApiError({ status: 401, reason: 'Unauthorized', message: 'expired', verb: 'get', resource: 'secrets' }));
    const refreshed = await pass(secrets, { REFRESH_MODE: 'digest', IMAGE_PULL_SECRETS: 'hub' }, undefined, new MemoryRegistry());
    assert.deepEqual([refreshed.exitCode, refreshed.error, secrets.writes], [1, 'the API server rejected the credentials (401 Unauthorized) on get secrets: expired', []]);
  });

  it('a timed restart is "restarted", and names no changed field', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, { REFRESH_MODE: 'restart' });
    const outcome = await pass(cluster, { REFRESH_MODE: 'restart' }, undefined, undefined, 2 * 3600 * 1000);
    assert.deepEqual([outcome.exitCode, outcome.action, outcome.changed], [0, 'restarted', []]);
  });

  it('a take-over names the DaemonSet as what changed', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet();
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.action, outcome.changed], ['took-over', ['daemonset']]);
  });

  it('diagnoses what it could not read: the pods, or the controller\'s Events', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    cluster.visitPods = async () => {
      await Promise.resolve();
      throw broken('list', 'pods');
    };
    const unlisted = await pass(cluster);
    assert.deepEqual([unlisted.exitCode, unlisted.diagnosis], [3, ['could not list the DaemonSet\'s pods: broken']]);
    const events = new MemoryCluster();
    events.settleAfterReads = Number.POSITIVE_INFINITY;
    events.listWarningEvents = () => Promise.reject(broken('list', 'events'));
    const unread = await pass(events);
    assert.deepEqual(unread.diagnosis, ['could not read the DaemonSet\'s Events: broken', '3 of 3 nodes have no available pod yet and no pod error to show']);
  });

  it('reads the controller\'s Events only when pods are missing', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    cluster.nodes = 1;
    cluster.pods = [{
      metadata: { name: 'p1' },
      spec: { nodeName: 'node-1', initContainers: [{ name: 'a', image: 'nginx:1' }], containers: [] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', image: 'nginx:1', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
    }];
    let eventReads = 0;
    cluster.listWarningEvents = () => { eventReads += 1; return Promise.resolve([]); };
    const outcome = await pass(cluster, { IMAGES: 'a=nginx:1' });
    assert.deepEqual([outcome.exitCode, outcome.diagnosis, eventReads], [3, ['nginx:1: ImagePullBackOff on 1 node, e.g. node-1'], 0]);
  });
});

describe('runPass deadline', () => {
  it('waits the whole ROLLOUT_TIMEOUT_SECONDS before reporting unhealthy, and no longer', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const outcome = await pass(cluster, { ROLLOUT_TIMEOUT_SECONDS: '10' });
    assert.equal(outcome.exitCode, 3);
    assert.equal(outcome.waitedMs, 10_000);
    // The read by name before the create, then polls 0.5 s apart at first, each wait 1.5 times longer up to 3 s,
    // and the last at the deadline: at 0.5, 1.25, 2.375, 4.06, 6.59, 9.59 and 10 s.
    assert.equal(cluster.reads.filter((read) => read.startsWith('get ')).length, 1 + 7);
  });

  it('counts the status polls as waiting, not as the pass\'s own work', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = 3;
    let clock = 0;
    const read = cluster.readDaemonSet.bind(cluster);
    cluster.readDaemonSet = (name) => { clock += 1000; return read(name); };
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
    cluster.deleteDaemonSet = (name, uid) => {
      if (cluster.daemonSet === undefined) return Promise.reject(new ApiError({ status: 404, message: 'not found', verb: 'delete', resource: 'daemonsets.apps' }));
      return remove(name, uid);
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
      now: () => new Date(START),
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

  it('ends the wait for a DaemonSet still being deleted with exit 1 when sleeping takes no time', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet) cluster.daemonSet.metadata.deletionTimestamp = '2026-11-24T11:59:00Z';
    const outcome = await passWithFrozenClock(cluster);
    assert.equal(outcome.exitCode, 1);
    assert.match(outcome.error ?? '', /still being deleted/);
  });
});

describe('runPass against a platform that mutates or rejects', () => {
  const addTeamLabel = (daemonSet: DaemonSet): DaemonSet => {
    daemonSet.spec.template.metadata.labels = { ...daemonSet.spec.template.metadata.labels, 'policy.example/team': 'platform' };
    return daemonSet;
  };

  it('a mutating policy costs one dry run and no write: generation and pods stay', async () => {
    const cluster = new MemoryCluster();
    cluster.admission = addTeamLabel;
    await pass(cluster);
    for (const round of [1, 2]) {
      const before = cluster.requests();
      const outcome = await pass(cluster);
      assert.equal(outcome.action, 'unchanged', `pass ${String(round + 1)}`);
      assert.deepEqual(outcome.tolerated, ['spec.template.metadata.labels.policy.example/team']);
      const after = cluster.requests();
      assert.deepEqual([after.total - before.total, (after.byVerb.PUT ?? 0) - (before.byVerb.PUT ?? 0)], [QUIET_PASS_REQUESTS + 1, 1], 'a quiet pass\'s reads and one dry-run PUT');
    }
    assert.deepEqual(cluster.writes, ['create', 'event']);
    assert.equal(cluster.daemonSet?.metadata.generation, 1);
  });

  it('a real change under a mutating policy is written once, and the next pass is quiet again', async () => {
    const cluster = new MemoryCluster();
    cluster.admission = addTeamLabel;
    await pass(cluster);
    const changed = await pass(cluster, { IMAGES: 'a=nginx:2;b=redis:7' });
    assert.deepEqual([changed.action, changed.changed], ['updated', ['spec.template.spec.initContainers[a].image']]);
    const quiet = await pass(cluster, { IMAGES: 'a=nginx:2;b=redis:7' });
    assert.equal(quiet.action, 'unchanged');
    assert.deepEqual(cluster.writes, ['create', 'event', 'update', 'event']);
  });

  it('a value only the API server rejects stops the pass with exit 2, naming the variable, before any write', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    const before = structuredClone(cluster.daemonSet);
    const writes = cluster.writes.length;
    cluster.rejectedFields = ['spec.template.spec.affinity.nodeAffinity.hostPath'];
    const outcome = await pass(cluster, { AFFINITY: '{"nodeAffinity":{"hostPath":{"path":"/"}}}' });
    assert.equal(outcome.exitCode, 2);
    assert.deepEqual(outcome.rejected.map((rejected) => rejected.variable), ['AFFINITY']);
    assert.deepEqual(cluster.writes.slice(writes), []);
    assert.deepEqual(cluster.daemonSet, before);
  });

  it('a rejected first create is exit 2 too, and nothing exists afterwards', async () => {
    const cluster = new MemoryCluster();
    cluster.rejectedFields = ['spec.template.spec.tolerations[0].effect'];
    const outcome = await pass(cluster, { TOLERATIONS: '[{"key":"a","operator":"Exists","effect":"NoSchedule","tolerationSeconds":5}]' });
    assert.deepEqual([outcome.exitCode, outcome.rejected.map((rejected) => rejected.variable)], [2, ['TOLERATIONS']]);
    assert.deepEqual([cluster.writes, cluster.daemonSet], [[], undefined]);
  });

  it('a CRONJOB_NAME that names no CronJob causes no write, pass after pass', async () => {
    const cluster = new MemoryCluster();
    cluster.cronJobUid = undefined;
    await pass(cluster, { CRONJOB_NAME: 'gone' });
    await pass(cluster, { CRONJOB_NAME: 'gone' });
    await pass(cluster, { CRONJOB_NAME: 'gone' });
    assert.deepEqual(cluster.writes, ['create', 'event']);
  });

  it('keeps finalizers others added when it updates', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet) cluster.daemonSet.metadata.finalizers = ['backup.example.com/protect'];
    await pass(cluster, { IMAGES: 'a=nginx:2' });
    assert.deepEqual(cluster.daemonSet?.metadata.finalizers, ['backup.example.com/protect']);
  });

  it('explains missing pods with the controller\'s FailedCreate Events', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    cluster.warningEvents = [
      { reason: 'FailedCreate', message: 'Error creating: pods "kip-abc12" is forbidden: exceeded quota: kip-quota, requested: pods=1, used: pods=2, limited: pods=2', count: 3 },
      { reason: 'FailedCreate', message: 'Error creating: pods "kip-def34" is forbidden: exceeded quota: kip-quota, requested: pods=1, used: pods=2, limited: pods=2', count: 2 },
    ];
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 3);
    assert.deepEqual(outcome.diagnosis, [
      'FailedCreate (5×): Error creating: pods is forbidden: exceeded quota: kip-quota, requested: pods=1, used: pods=2, limited: pods=2',
      '3 of 3 nodes have no available pod yet and no pod error to show',
    ]);
  });
});

describe('runPass recreate safety', () => {
  it('looks up the owner before deleting: a failing lookup leaves the DaemonSet in place', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet) cluster.daemonSet.spec.selector = { matchLabels: { app: 'legacy' } };
    cluster.readCronJobUid = () => Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'denied', verb: 'get', resource: 'cronjobs.batch' }));
    const outcome = await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.equal(outcome.exitCode, 1);
    assert.ok(cluster.daemonSet);
    assert.ok(!cluster.writes.includes('delete'));
  });

  it('validates the replacement before deleting: a rejected one leaves the DaemonSet in place', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster);
    if (cluster.daemonSet) cluster.daemonSet.spec.selector = { matchLabels: { app: 'legacy' } };
    cluster.rejectedFields = ['spec.template.spec.nodeSelector'];
    const outcome = await pass(cluster);
    assert.deepEqual([outcome.exitCode, outcome.rejected.map((rejected) => rejected.variable)], [2, ['NODE_SELECTOR']]);
    assert.ok(!cluster.writes.includes('delete'));
  });
});

describe('runPass refreshing by digest', () => {
  const digestMode = { REFRESH_MODE: 'digest', IMAGES: `a=nginx:1;b=redis:7;c=busybox@${digestOf('c')}` };
  const annotation = (cluster: MemoryCluster) => cluster.daemonSet?.spec.template.metadata.annotations?.['kubernetes-image-puller/digests'];

  it('records the digest of every tag image, asks once per pass, and writes nothing when no tag moved', async () => {
    const cluster = new MemoryCluster();
    const registry = new MemoryRegistry();
    registry.digests.set('nginx:1', digestOf('1')).set('redis:7', digestOf('7'));
    await pass(cluster, digestMode, undefined, registry);
    assert.equal(annotation(cluster), `{"nginx:1":"${digestOf('1')}","redis:7":"${digestOf('7')}"}`);
    const before = cluster.requests().total;
    const quiet = await pass(cluster, { ...digestMode, CACHING_INTERVAL_HOURS: '1' }, undefined, registry);
    assert.deepEqual([quiet.action, cluster.requests().total - before], ['unchanged', QUIET_PASS_REQUESTS]);
    assert.deepEqual(registry.asked.flat(), ['nginx:1', 'redis:7', 'nginx:1', 'redis:7'], 'tag images only, once per pass');
    assert.deepEqual(cluster.writes, ['create', 'event']);
  });

  it('a moved tag rolls the DaemonSet once, says which, and the next pass is quiet', async () => {
    const cluster = new MemoryCluster();
    const registry = new MemoryRegistry();
    registry.digests.set('nginx:1', digestOf('1')).set('redis:7', digestOf('7'));
    await pass(cluster, digestMode, undefined, registry);
    registry.digests.set('redis:7', digestOf('8'));
    const moved = await pass(cluster, digestMode, undefined, registry);
    assert.equal(moved.action, 'updated');
    assert.deepEqual(moved.refresh?.moved, ['redis:7']);
    assert.deepEqual(moved.changed, ['spec.template.metadata.annotations.kubernetes-image-puller/digests']);
    assert.equal(cluster.daemonSet?.metadata.generation, 2);
    assert.deepEqual(cluster.events, ['Normal/Created', 'Normal/TagsMoved', 'Normal/Updated']);
    assert.equal(cluster.eventMessages[1], 'TagsMoved: re-pulling on every node, 10% at a time: redis:7');
    const quiet = await pass(cluster, digestMode, undefined, registry);
    assert.equal(quiet.action, 'unchanged');
  });

  it('a registry that cannot be asked keeps the last known digest: no write, a Warning Event, the image named', async () => {
    const cluster = new MemoryCluster();
    const registry = new MemoryRegistry();
    registry.digests.set('nginx:1', digestOf('1')).set('redis:7', digestOf('7'));
    await pass(cluster, digestMode, undefined, registry);
    const remembered = annotation(cluster);
    registry.problems.set('redis:7', { reason: 'unreachable', message: 'cannot reach registry-1.docker.io' });
    const outcome = await pass(cluster, digestMode, undefined, registry);
    assert.deepEqual([outcome.exitCode, outcome.action], [0, 'unchanged']);
    assert.deepEqual(outcome.refresh?.unresolved.map(({ image, reason }) => [image, reason]), [['redis:7', 'unreachable']]);
    assert.equal(annotation(cluster), remembered);
    assert.deepEqual(cluster.writes, ['create', 'event', 'event']);
    assert.equal(cluster.events.at(-1), 'Warning/DigestUnknown');
    assert.equal(cluster.eventMessages.at(-1), 'DigestUnknown: kept the last known digest of: redis:7 (unreachable)');
  });

  it('warns before a roll that would take more manifest requests than the registry has left', async () => {
    const cluster = new MemoryCluster();
    const registry = new MemoryRegistry();
    await pass(cluster, digestMode, undefined, registry);
    registry.digests.set('nginx:1', digestOf('2'));
    registry.rateLimit = { limit: 100, remaining: 5 };
    const outcome = await pass(cluster, digestMode, undefined, registry);
    assert.equal(outcome.action, 'updated');
    assert.ok(cluster.events.includes('Warning/RegistryRateLimit'), cluster.events.join());
    assert.ok(cluster.eventMessages.includes('RegistryRateLimit: a rollout makes 3 nodes ask registry-1.docker.io for 2 tag image(s) each (6 manifest requests), but it reports 5 of 100 left; some nodes may be refused until the window resets'), cluster.eventMessages.join('\n'));
  });

  it('asks no registry when every image is pinned by digest', async () => {
    const registry = new MemoryRegistry();
    await pass(new MemoryCluster(), { REFRESH_MODE: 'digest', IMAGES: `c=busybox@${digestOf('c')}` }, undefined, registry);
    assert.deepEqual(registry.asked, []);
  });

  it('offers the credentials of the pull Secrets it may read, and names the Role rule for one it may not', async () => {
    const cluster = new MemoryCluster();
    const auths = Buffer.from(JSON.stringify({ auths: { 'docker.io': { username: 'puller', password: 'secret' } } })).toString('base64');
    cluster.secrets.set('hub', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': auths } });
    const readSecret = cluster.readSecret.bind(cluster);
    cluster.readSecret = (name) => (name === 'locked'
      ? Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'forbidden', verb: 'get', resource: 'secrets' }))
      : readSecret(name));
    const registry = new MemoryRegistry();
    const outcome = await pass(cluster, { ...digestMode, IMAGE_PULL_SECRETS: 'hub;locked' }, undefined, registry);
    assert.deepEqual(registry.credentialsOffered, ['puller', 'puller']);
    assert.match(outcome.refresh?.warnings.join('\n') ?? '', /may not read pull Secret "locked"; add to its Role: .*resourceNames: \["locked"\]/);
  });

  it('asks anonymously for a pull Secret that does not exist, and says so', async () => {
    const registry = new MemoryRegistry();
    const outcome = await pass(new MemoryCluster(), { ...digestMode, IMAGE_PULL_SECRETS: 'missing' }, undefined, registry);
    assert.deepEqual(registry.credentialsOffered, []);
    assert.deepEqual(outcome.refresh?.warnings, ['pull Secret "missing" (IMAGE_PULL_SECRETS) does not exist in namespace cache; asking its registries anonymously']);
  });

  it('records the digests afresh when the annotation is garbled, and says so', async () => {
    const cluster = new MemoryCluster();
    const registry = new MemoryRegistry();
    registry.digests.set('nginx:1', digestOf('1')).set('redis:7', digestOf('7'));
    await pass(cluster, digestMode, undefined, registry);
    const live = cluster.daemonSet;
    if (live?.spec.template.metadata.annotations) live.spec.template.metadata.annotations['kubernetes-image-puller/digests'] = '{not json';
    const outcome = await pass(cluster, digestMode, undefined, registry);
    assert.equal(outcome.action, 'updated');
    assert.deepEqual(outcome.refresh?.warnings, ['annotation kubernetes-image-puller/digests is not JSON, so no digest is remembered; this pass records them afresh']);
    assert.equal(annotation(cluster), `{"nginx:1":"${digestOf('1')}","redis:7":"${digestOf('7')}"}`);
  });

  it('keeps the lowest remaining budget per registry, and counts its tag images', async () => {
    const remaining: Record<string, number> = { 'nginx:1': 50, 'redis:7': 49, 'quay.io/x/y:1': 48 };
    const registry: RegistryClient = {
      resolve: (images) => Promise.resolve(images.map((image) => ({ image, digest: digestOf('1'), rateLimit: { limit: 100, remaining: remaining[image] ?? 0, windowSeconds: 21600 } }))),
      requests: () => ({ total: 3, byHost: {} }),
    };
    const outcome = await pass(new MemoryCluster(), { REFRESH_MODE: 'digest', IMAGES: 'a=nginx:1;b=redis:7;c=quay.io/x/y:1' }, undefined, registry);
    assert.deepEqual(outcome.refresh?.rateLimits, [
      { registry: 'registry-1.docker.io', limit: 100, remaining: 49, windowSeconds: 21600, tagImages: 2 },
      { registry: 'quay.io', limit: 100, remaining: 48, windowSeconds: 21600, tagImages: 1 },
    ]);
  });

  it('in restart mode asks no registry', async () => {
    const registry = new MemoryRegistry();
    await pass(new MemoryCluster(), { REFRESH_MODE: 'restart' }, undefined, registry);
    assert.deepEqual(registry.asked, []);
  });
});

describe('runPass, taking over from the Go puller', () => {
  it('replaces its DaemonSet once its Deployment is gone, records it in an Event and ends healthy', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet();
    const outcome = await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.equal(outcome.action, 'took-over');
    assert.deepEqual(cluster.deploymentReads, ['kubernetes-image-puller']);
    assert.deepEqual(cluster.writes, ['delete', 'create', 'event']);
    assert.deepEqual(cluster.events, ['Normal/TookOver']);
    assert.equal(cluster.daemonSet?.metadata.labels?.['app.kubernetes.io/managed-by'], 'kubernetes-image-puller');
    assert.deepEqual(cluster.daemonSet?.metadata.ownerReferences?.map((ref) => ref.kind), ['CronJob']);
    const next = await pass(cluster, { CRONJOB_NAME: 'puller' });
    assert.equal(next.action, 'unchanged');
    assert.deepEqual(cluster.deploymentReads, ['kubernetes-image-puller'], 'its own DaemonSet needs no Deployment read');
  });

  it('replaces it while its Deployment is being deleted', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet('che-puller');
    cluster.deployments.set('che-puller', 'being-deleted');
    const outcome = await pass(cluster);
    assert.equal(outcome.action, 'took-over');
    assert.deepEqual(cluster.deploymentReads, ['che-puller']);
  });

  it('refuses while its Deployment runs (exit 4), naming it, and writes nothing', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet();
    cluster.deployments.set('kubernetes-image-puller', 'exists');
    const before = structuredClone(cluster.daemonSet);
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 4);
    assert.equal(outcome.action, 'refused');
    assert.match(outcome.error ?? '', /Deployment cache\/kubernetes-image-puller still runs/);
    assert.deepEqual(cluster.writes, []);
    assert.deepEqual([cluster.daemonSet?.metadata, cluster.daemonSet?.spec], [before.metadata, before.spec]);
  });

  it('refuses (exit 4) when the Role may not read that Deployment, saying which value grants it', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet('che-puller');
    cluster.readDeployment = () => Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'deployments.apps "che-puller" is forbidden', verb: 'get', resource: 'deployments.apps' }));
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 4);
    assert.match(outcome.error ?? '', /may not read Deployment cache\/che-puller/);
    assert.match(outcome.error ?? '', /deploymentName=che-puller/);
    assert.match(outcome.error ?? '', /DEPLOYMENT_NAME=che-puller/);
    assert.deepEqual(cluster.writes, []);
  });

  it('reads no Deployment for any other foreign DaemonSet, and refuses it', async () => {
    const cluster = new MemoryCluster();
    const foreign = goPullerDaemonSet();
    foreign.spec.selector.matchLabels = { app: 'someone-else' };
    cluster.daemonSet = foreign;
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 4);
    assert.deepEqual(cluster.deploymentReads, []);
    assert.deepEqual(cluster.writes, []);
  });
});


describe('rateLimitWarnings and tagImages', () => {
  it('warns only when a roll would ask for more manifests than are left, naming the window when known', () => {
    const limit = { registry: 'registry-1.docker.io', limit: 100, remaining: 30, tagImages: 2 };
    assert.deepEqual(rateLimitWarnings([limit], 15), []);
    assert.deepEqual(rateLimitWarnings([limit, { ...limit, registry: 'quay.io', windowSeconds: 3600 }], 16), [
      'a rollout makes 16 nodes ask registry-1.docker.io for 2 tag image(s) each (32 manifest requests), but it reports 30 of 100 left; some nodes may be refused until the window resets',
      'a rollout makes 16 nodes ask quay.io for 2 tag image(s) each (32 manifest requests), but it reports 30 of 100 left per 3600s; some nodes may be refused until the window resets',
    ]);
  });

  it('lists each tag image once and no image pinned by digest', () => {
    assert.deepEqual(tagImages([{ image: 'nginx:1' }, { image: `busybox@${digestOf('b')}` }, { image: 'nginx:1' }, { image: 'redis' }]), ['nginx:1', 'redis']);
  });
});

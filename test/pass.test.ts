// The pass's orchestration for one DaemonSet (IMAGES alone) against an in-memory Cluster (the
// same interface kube.ts implements over HTTP). The real API server is exercised by the e2e suite.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/cluster.ts';
import { loadConfig } from '../src/config.ts';
import type { DaemonSet } from '../src/k8s-types.ts';
import { runPass } from '../src/pass.ts';
import type { RegistryClient } from '../src/registry/client.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { MemoryRegistry } from './support/memory-registry.ts';
import { goPullerDaemonSet } from './support/go-puller.ts';
import { START, fixedClock, silent, yieldToTimers } from './support/run-pass.ts';

function pass(cluster: MemoryCluster, env: Record<string, string> = {}, interrupt?: AbortController, registry?: RegistryClient) {
  const signal = interrupt?.signal ?? new AbortController().signal;
  const config = loadConfig({ IMAGES: 'a=nginx:1;b=redis:7', NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30', ...env });
  return runPass({
    config,
    cluster,
    ...(registry === undefined ? {} : { registry }),
    log: silent,
    ...fixedClock(() => interrupt?.abort()), // SIGTERM arrives while the pass waits
    signal,
  });
}

const digestOf = (seed: string): string => `sha256:${seed.repeat(64).slice(0, 64)}`;

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
      assert.deepEqual([after.total - before.total, (after.byVerb.PUT ?? 0) - (before.byVerb.PUT ?? 0)], [2, 1], 'one GET and one dry-run PUT');
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
    assert.deepEqual([quiet.action, cluster.requests().total - before], ['unchanged', 1]);
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


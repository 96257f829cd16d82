// What the DaemonSets of one pass share (src/pass/shared-cluster.ts, shared-registry.ts, write-gate.ts,
// server-check.ts): a bounded number of requests in flight, reads made once, images asked for once,
// writes held until every DaemonSet has decided, and the server's judgement of every DaemonSet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/kube/cluster.ts';
import { loadConfig } from '../src/config/config.ts';
import { planDaemonSets } from '../src/plan/daemonset-plan.ts';
import { ExitCode } from '../src/pass/exit-codes.ts';
import { checkPlanWithServer } from '../src/pass/server-check.ts';
import { shareCluster } from '../src/pass/shared-cluster.ts';
import { shareRegistry } from '../src/pass/shared-registry.ts';
import { createWriteGate } from '../src/pass/write-gate.ts';
import type { RegistryClient } from '../src/registry/client.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { yieldToTimers } from './support/run-pass.ts';

const unavailable = (verb: string) => new ApiError({ status: 503, message: 'unavailable', verb, resource: 'secrets' });

describe('shareCluster', () => {
  it('keeps at most the given number of requests in flight and starts the waiting ones in the order they came', async () => {
    const cluster = new MemoryCluster();
    let inFlight = 0;
    let most = 0;
    const started: string[] = [];
    const read = cluster.readDaemonSet.bind(cluster);
    cluster.readDaemonSet = async (name) => {
      started.push(name);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await yieldToTimers();
      try {
        return await read(name);
      } finally {
        inFlight -= 1;
      }
    };
    const shared = shareCluster(cluster, 2);
    const names = ['a', 'b', 'c', 'd', 'e'];
    await Promise.all(names.map((name) => shared.readDaemonSet(name)));
    assert.deepEqual([most, started], [2, names]);
    most = 0;
    await Promise.all(names.map((name) => shared.readDaemonSet(name)));
    assert.equal(most, 2, 'the slots are all given back, and no more');
    // A failed request gives its turn back too.
    cluster.failures = names.map(() => unavailable('get'));
    await Promise.allSettled(names.map((name) => shared.readDaemonSet(name)));
    assert.equal(await shared.readDaemonSet('a'), undefined);
  });

  it('reads a Secret, the CronJob and a Deployment once per name, and asks again after a failure', async () => {
    const cluster = new MemoryCluster();
    cluster.secrets.set('hub', { type: 'kubernetes.io/dockerconfigjson', data: {} });
    const reads: string[] = [];
    let failNext = true;
    const readSecret = cluster.readSecret.bind(cluster);
    cluster.readSecret = (name) => {
      reads.push(name);
      if (failNext) {
        failNext = false;
        return Promise.reject(unavailable('get'));
      }
      return readSecret(name);
    };
    const shared = shareCluster(cluster);
    await assert.rejects(shared.readSecret('hub'));
    const [first, second, other] = await Promise.all([shared.readSecret('hub'), shared.readSecret('hub'), shared.readSecret('other')]);
    assert.deepEqual([first?.type, second?.type, other], ['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockerconfigjson', undefined]);
    assert.deepEqual(reads, ['hub', 'hub', 'other']);
    await Promise.all([shared.readCronJobUid('kip'), shared.readCronJobUid('kip'), shared.readDeployment('d'), shared.readDeployment('d')]);
    assert.deepEqual([cluster.requests().byVerb.GET, cluster.deploymentReads], [4, ['d']]);
  });

  it('passes every other call through, pods page by page', async () => {
    const cluster = new MemoryCluster();
    const shared = shareCluster(cluster);
    const body = { metadata: { name: 'kip', namespace: 'cache' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: {}, spec: { containers: [] } } } };
    await shared.previewCreate(body);
    const created = await shared.createDaemonSet(body);
    await shared.previewReplace(created);
    await shared.replaceDaemonSet(created);
    await shared.recordEvent(created, 'Normal', 'Created', 'm');
    cluster.podsByDaemonSet.set('kip', [{ metadata: { name: 'p' }, spec: { containers: [] } }]);
    const pages: (string | undefined)[][] = [[]];
    await shared.visitPods('app.kubernetes.io/instance=kip', (pod) => pages[0]?.push(pod.metadata.name));
    assert.deepEqual(await shared.listWarningEvents('uid-1'), []);
    assert.deepEqual((await shared.listDaemonSets('a=b')).length, 0);
    await shared.deleteDaemonSet('kip', created.metadata.uid ?? '');
    assert.deepEqual([pages, cluster.writes, shared.requests().total], [[['p']], ['create', 'update', 'event', 'delete'], 9]);
  });
});

describe('shareRegistry', () => {
  it('asks for each image once per pass, whichever DaemonSet asks first, and answers each in its order', async () => {
    const asked: string[][] = [];
    const registry: RegistryClient = {
      resolve: (images) => {
        asked.push([...images]);
        return Promise.resolve(images.filter((image) => image !== 'lost:1').map((image) => ({ image, digest: `digest of ${image}` })));
      },
      requests: () => ({ total: asked.flat().length, byHost: {} }),
    };
    const shared = shareRegistry(registry);
    const [first, second] = await Promise.all([shared.resolve(['a:1', 'b:1', 'a:1']), shared.resolve(['b:1', 'c:1'])]);
    assert.deepEqual(asked, [['a:1', 'b:1'], ['c:1']]);
    assert.deepEqual(first.map(({ digest }) => digest), ['digest of a:1', 'digest of b:1', 'digest of a:1']);
    assert.deepEqual(second.map(({ digest }) => digest), ['digest of b:1', 'digest of c:1']);
    // A registry client that answers fewer images than asked: the unanswered one is reported, not left out.
    const [z, lost] = await shared.resolve(['z:1', 'lost:1']);
    assert.deepEqual([z?.digest, lost], ['digest of z:1', { image: 'lost:1', problem: { reason: 'error', message: 'no answer for lost:1' } }]);
    assert.equal(shared.requests().total, 5);
  });
});

describe('createWriteGate', () => {
  it('opens when every DaemonSet has decided, naming those rejected; one that settles twice counts once', async () => {
    const gate = createWriteGate(['a', 'b', 'c']);
    let opened: string[] | undefined;
    const waiting = gate.mayWrite('a').then((rejected) => { opened = rejected; });
    gate.settle('b', true);
    gate.settle('b', true);
    await yieldToTimers();
    assert.equal(opened, undefined, 'c has not decided yet');
    gate.settle('c', false);
    await waiting;
    assert.deepEqual(opened, ['b']);
    assert.deepEqual(await gate.mayWrite('c'), ['b'], 'later callers get the same answer');
  });
});

describe('checkPlanWithServer (--dry-run=server)', () => {
  const config = loadConfig({ IMAGES: 'a=nginx:1', NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: 'c=cuda:1', nodeSelector: { pool: 'gpu' } }]) });

  it('judges every DaemonSet under a spare name and gives each back under its own', async () => {
    const cluster = new MemoryCluster();
    const judged: string[] = [];
    const preview = cluster.previewCreate.bind(cluster);
    cluster.previewCreate = (body) => { judged.push(body.metadata.name ?? ''); return preview(body); };
    const check = await checkPlanWithServer(cluster, planDaemonSets(config));
    assert.deepEqual([check.exitCode, check.error, check.rejected], [ExitCode.healthy, undefined, []]);
    assert.deepEqual(judged, ['kip-kip-preview', 'kip-gpu-kip-preview']);
    assert.deepEqual(check.accepted.map((daemonSet) => daemonSet.metadata.name), ['kip', 'kip-gpu']);
    assert.deepEqual(cluster.writes, []);
  });

  it('traces a rejection to the set, names the DaemonSet, and accepts none when one is rejected', async () => {
    const cluster = new MemoryCluster();
    cluster.rejectedOnly = new Set(['kip-gpu-kip-preview']);
    cluster.rejectedFields = ['spec.template.spec.nodeSelector'];
    const check = await checkPlanWithServer(cluster, planDaemonSets(config));
    assert.equal(check.exitCode, ExitCode.invalidConfig);
    assert.deepEqual(check.accepted, []);
    assert.deepEqual(check.rejected.map(({ variable, problem }) => [variable, problem.replace(/: .*/, '')]), [['IMAGE_SETS', 'set "gpu"']]);
    assert.match(check.error ?? '', /^kip-gpu: the API server rejected the DaemonSet built from the configuration: /);
  });

  it('reports an API failure as an error (exit 1), without the DaemonSet\'s name when there is one', async () => {
    const cluster = new MemoryCluster();
    cluster.previewCreate = () => Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'denied', verb: 'create', resource: 'daemonsets.apps' }));
    const check = await checkPlanWithServer(cluster, planDaemonSets(loadConfig({ IMAGES: 'a=nginx:1', NAMESPACE: 'cache' })));
    assert.deepEqual([check.exitCode, check.accepted, check.rejected], [ExitCode.error, [], []]);
    assert.equal(check.error, 'the ServiceAccount may not "create" daemonsets.apps in namespace cache; grant that verb in the Role (403 Forbidden: denied)');
  });
});

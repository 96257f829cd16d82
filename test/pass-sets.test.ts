// One pass over every DaemonSet of an install (IMAGE_SETS, MAX_IMAGES_PER_DAEMONSET) against the
// in-memory cluster: one LIST when all is in order, a section per DaemonSet, the worst verdict as
// the exit code, removed sets cleaned up, and nothing of anyone else's touched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/kube/cluster.ts';
import { loadConfig } from '../src/config/config.ts';
import { ExitCode, worstExitCode } from '../src/pass/exit-codes.ts';
import type { DaemonSet } from '../src/kube/k8s-types.ts';
import { runPass } from '../src/pass/run.ts';
import type { RegistryClient } from '../src/registry/client.ts';
import { MemoryCluster, QUIET_PASS_REQUESTS } from './support/memory-cluster.ts';
import { MemoryRegistry } from './support/memory-registry.ts';
import { fixedClock, silent, yieldToTimers } from './support/run-pass.ts';

const OWN_SELECTOR = 'app.kubernetes.io/managed-by=kubernetes-image-puller,app.kubernetes.io/name=kubernetes-image-puller';

function pass(cluster: MemoryCluster, env: Record<string, string>, registry?: RegistryClient) {
  return runPass({
    config: loadConfig({ NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', ROLLOUT_TIMEOUT_SECONDS: '30', ...env }),
    cluster,
    ...(registry === undefined ? {} : { registry }),
    log: silent,
    ...fixedClock(),
    signal: new AbortController().signal,
  });
}

const gpu = { name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12;torch=docker.io/pytorch/pytorch:2', nodeSelector: { pool: 'gpu' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] };
const zoneB = { name: 'zone-b', images: { ide: 'quay.io/che/code:next' }, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['b'] }] }] } } } };
const env = (...sets: object[]): Record<string, string> => ({ IMAGES: 'a=nginx:1;b=redis:7', IMAGE_SETS: JSON.stringify(sets) });
const names = (cluster: MemoryCluster): string[] => [...cluster.daemonSets.keys()].sort();

/** A DaemonSet the puller made for another install (or that looks like it), to prove it stays. */
function puller(name: string, labels: Record<string, string>, extra: Partial<DaemonSet['metadata']> = {}): DaemonSet {
  const all = { 'app.kubernetes.io/name': 'kubernetes-image-puller', 'app.kubernetes.io/managed-by': 'kubernetes-image-puller', 'app.kubernetes.io/instance': name, ...labels };
  return {
    metadata: { name, namespace: 'cache', uid: `uid-${name}`, resourceVersion: '7', labels: all, ...extra },
    spec: { selector: { matchLabels: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/name': 'kubernetes-image-puller' } }, template: { metadata: { labels: all }, spec: { containers: [] } } },
  };
}

describe('worstExitCode', () => {
  it('ranks invalid configuration over refusal over error over unhealthy over healthy', () => {
    assert.equal(worstExitCode([]), ExitCode.healthy);
    assert.equal(worstExitCode([ExitCode.healthy, ExitCode.unhealthy]), ExitCode.unhealthy);
    assert.equal(worstExitCode([ExitCode.unhealthy, ExitCode.error, ExitCode.healthy]), ExitCode.error);
    assert.equal(worstExitCode([ExitCode.error, ExitCode.refused, ExitCode.unhealthy]), ExitCode.refused);
    assert.equal(worstExitCode([ExitCode.refused, ExitCode.invalidConfig]), ExitCode.invalidConfig);
  });
});

describe('a pass over image sets', () => {
  it('creates a DaemonSet per set, each with its own scheduling, and reports a section for each', async () => {
    const cluster = new MemoryCluster();
    const outcome = await pass(cluster, env(gpu, zoneB));
    assert.deepEqual([outcome.exitCode, outcome.action], [0, 'created']);
    assert.deepEqual(outcome.daemonSets.map((section) => [section.name, section.set, section.action, section.exitCode, section.images]), [
      ['kip', 'default', 'created', 0, 2],
      ['kip-gpu', 'gpu', 'created', 0, 2],
      ['kip-zone-b', 'zone-b', 'created', 0, 1],
    ]);
    assert.deepEqual(names(cluster), ['kip', 'kip-gpu', 'kip-zone-b']);
    assert.deepEqual(cluster.daemonSets.get('kip-gpu')?.spec.template.spec.nodeSelector, { pool: 'gpu' });
    assert.equal(cluster.daemonSets.get('kip')?.spec.template.spec.nodeSelector, undefined, 'the IMAGES set inherits NODE_SELECTOR, empty here');
  });

  it('when everything is in order reads its DaemonSets in one LIST by label, however many, measures coverage and writes nothing', async () => {
    for (const max of ['', '1']) {
      const cluster = new MemoryCluster();
      const configured = { ...env(gpu, zoneB), MAX_IMAGES_PER_DAEMONSET: max };
      await pass(cluster, configured);
      const [before, writes] = [cluster.requests().total, cluster.writes.length];
      cluster.reads.length = 0;
      const quiet = await pass(cluster, configured);
      assert.deepEqual([quiet.exitCode, quiet.action], [0, 'unchanged']);
      assert.equal(quiet.daemonSets.length, max === '' ? 3 : 5);
      assert.deepEqual(cluster.reads, [`list ${OWN_SELECTOR}`]);
      assert.equal(cluster.requests().total - before, QUIET_PASS_REQUESTS);
      assert.deepEqual(cluster.writes.slice(writes), []);
    }
  });

  it('reports a change to one set in that set\'s section and writes only its DaemonSet', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    const writes = cluster.writesTo.length;
    const outcome = await pass(cluster, env({ ...gpu, images: 'cuda=nvcr.io/nvidia/cuda:13;torch=docker.io/pytorch/pytorch:2' }, zoneB));
    assert.deepEqual([outcome.exitCode, outcome.action], [0, 'updated']);
    assert.deepEqual(outcome.daemonSets.map((section) => section.action), ['unchanged', 'updated', 'unchanged']);
    assert.deepEqual(outcome.changed, ['kip-gpu: spec.template.spec.initContainers[cuda].image']);
    assert.deepEqual(cluster.writesTo.slice(writes), ['update kip-gpu', 'event kip-gpu']);
  });

  it('deletes the DaemonSets of a set removed from the configuration, and a chunk no longer needed', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, { ...env(gpu, zoneB), MAX_IMAGES_PER_DAEMONSET: '1' });
    assert.deepEqual(names(cluster), ['kip', 'kip-2', 'kip-gpu', 'kip-gpu-2', 'kip-zone-b']);
    const zone = structuredClone(cluster.daemonSets.get('kip-zone-b'));
    const removed = await pass(cluster, { ...env(zoneB), MAX_IMAGES_PER_DAEMONSET: '1' });
    assert.deepEqual([removed.exitCode, removed.action, removed.removed], [0, 'changed', ['kip-gpu', 'kip-gpu-2']]);
    assert.deepEqual(names(cluster), ['kip', 'kip-2', 'kip-zone-b']);
    assert.equal(cluster.daemonSets.get('kip-zone-b')?.metadata.resourceVersion, zone?.metadata.resourceVersion, 'the other sets are untouched');
    const shrunk = await pass(cluster, { ...env(zoneB), IMAGES: 'a=nginx:1', MAX_IMAGES_PER_DAEMONSET: '1' });
    assert.deepEqual(shrunk.removed, ['kip-2']);
    assert.deepEqual(names(cluster), ['kip', 'kip-zone-b']);
  });

  it('removes the DaemonSet named DAEMONSET_NAME once IMAGES is left out', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu));
    const outcome = await pass(cluster, { IMAGES: '', IMAGE_SETS: JSON.stringify([gpu]) });
    assert.deepEqual([outcome.exitCode, outcome.removed], [0, ['kip']]);
    assert.deepEqual(names(cluster), ['kip-gpu']);
  });

  it('never removes a DaemonSet that is not this install\'s, however much it looks like one', async () => {
    const cluster = new MemoryCluster();
    const others = [
      puller('other-gpu', { 'kubernetes-image-puller/install': 'other', 'kubernetes-image-puller/set': 'gpu' }),
      puller('kip-legacy', {}),
      puller('kip-old', { 'kubernetes-image-puller/install': 'kip', 'kubernetes-image-puller/set': 'old' }, { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'someone-else', uid: 'u' }] }),
      puller('kip-leaving', { 'kubernetes-image-puller/install': 'kip', 'kubernetes-image-puller/set': 'leaving' }, { deletionTimestamp: '2026-11-24T11:59:00Z' }),
    ];
    for (const daemonSet of others) cluster.daemonSets.set(daemonSet.metadata.name ?? '', structuredClone(daemonSet));
    const outcome = await pass(cluster, { ...env(gpu), CRONJOB_NAME: 'kip' });
    assert.deepEqual([outcome.exitCode, outcome.removed], [0, []]);
    for (const daemonSet of others) assert.equal(cluster.daemonSets.get(daemonSet.metadata.name ?? '')?.metadata.resourceVersion, '7', daemonSet.metadata.name);
    assert.ok(!cluster.writesTo.some((write) => /other|legacy|old|leaving/.test(write)), cluster.writesTo.join());
  });

  it('a set the API server rejects: exit 2 naming the set and its field, nothing written and nothing removed', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    const before = structuredClone([...cluster.daemonSets.entries()]);
    const writes = cluster.writes.length;
    cluster.rejectedOnly = new Set(['kip-gpu']);
    cluster.rejectedFields = ['spec.template.spec.tolerations[0].tolerationSeconds'];
    // Every set would change, zone-b is gone: only the rejected set stops them all.
    const outcome = await pass(cluster, { ...env({ ...gpu, images: 'cuda=nvcr.io/nvidia/cuda:13' }), IMAGES: 'a=nginx:2' });
    assert.equal(outcome.exitCode, 2);
    assert.deepEqual(outcome.rejected.map(({ variable }) => variable), ['IMAGE_SETS']);
    assert.match(outcome.rejected[0]?.problem ?? '', /^set "gpu": "tolerations": the API server rejected it: /);
    assert.match(outcome.daemonSets[0]?.error ?? '', /not written: the API server rejected the DaemonSet kip-gpu/);
    assert.deepEqual([outcome.removed, cluster.writes.slice(writes)], [[], []]);
    assert.deepEqual([...cluster.daemonSets.entries()].map(([name, daemonSet]) => [name, daemonSet.metadata.resourceVersion]), before.map(([name, daemonSet]) => [name, daemonSet.metadata.resourceVersion]));
  });

  it('a rejected set beside an unchanged one: exit 2, and the status ConfigMap is not rewritten either', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu));
    const statusWrites = cluster.configMapWrites.length;
    // The unchanged DaemonSet's coverage changes (a node joined), so only the rule for exit 2 holds the write back.
    cluster.podsByDaemonSet.set('kip', [{ metadata: { name: 'kip-n1' }, spec: { nodeName: 'n1', containers: [] } }]);
    cluster.rejectedOnly = new Set(['kip-gpu']);
    cluster.rejectedFields = ['spec.template.spec.tolerations[0].tolerationSeconds'];
    const outcome = await pass(cluster, env({ ...gpu, images: 'cuda=nvcr.io/nvidia/cuda:13' }));
    assert.deepEqual([outcome.exitCode, outcome.daemonSets.map(({ action }) => action)], [2, ['unchanged', 'failed']]);
    assert.deepEqual([outcome.coverage, cluster.configMapWrites.length], [[], statusWrites]);
  });

  it('a new set the API server rejects is caught by a dry run before the other sets are written', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu));
    const writes = cluster.writes.length;
    cluster.rejectedOnly = new Set(['kip-zone-b']);
    cluster.rejectedFields = ['spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution'];
    const outcome = await pass(cluster, { ...env(gpu, zoneB), IMAGES: 'a=nginx:2' });
    assert.deepEqual([outcome.exitCode, outcome.rejected.map(({ variable }) => variable)], [2, ['IMAGE_SETS']]);
    assert.match(outcome.rejected[0]?.problem ?? '', /^set "zone-b": "affinity": /);
    assert.deepEqual(cluster.writes.slice(writes), []);
  });

  it('a value a set inherits, rejected by the API server, is traced to the top-level variable', async () => {
    const cluster = new MemoryCluster();
    cluster.rejectedOnly = new Set(['kip-zone-b']);
    cluster.rejectedFields = ['spec.template.spec.tolerations[0].effect'];
    const outcome = await pass(cluster, { ...env(zoneB), TOLERATIONS: '[{"key":"a","operator":"Exists","effect":"NoSchedule","tolerationSeconds":5}]' });
    assert.deepEqual([outcome.exitCode, outcome.rejected.map(({ variable }) => variable)], [2, ['TOLERATIONS']]);
    assert.deepEqual([names(cluster), cluster.writes], [[], []]);
  });

  it('refuses a DaemonSet someone else made under a set\'s name (exit 4), leaves it untouched and still reconciles the other sets', async () => {
    const cluster = new MemoryCluster();
    const foreign: DaemonSet = { metadata: { name: 'kip-gpu', namespace: 'cache', uid: 'theirs', resourceVersion: '3', labels: { app: 'theirs' } }, spec: { selector: { matchLabels: { app: 'theirs' } }, template: { metadata: { labels: { app: 'theirs' } }, spec: { containers: [] } } } };
    cluster.daemonSets.set('kip-gpu', structuredClone(foreign));
    const outcome = await pass(cluster, env(gpu, zoneB));
    assert.deepEqual([outcome.exitCode, outcome.action], [4, 'refused']);
    assert.deepEqual(outcome.daemonSets.map((section) => [section.name, section.action, section.exitCode]), [['kip', 'created', 0], ['kip-gpu', 'refused', 4], ['kip-zone-b', 'created', 0]]);
    assert.match(outcome.daemonSets[1]?.error ?? '', /kip-gpu exists but is not managed by kubernetes-image-puller/);
    const after = cluster.daemonSets.get('kip-gpu');
    assert.deepEqual([after?.metadata, after?.spec], [foreign.metadata, foreign.spec]);
    assert.ok(!cluster.writesTo.some((write) => write.endsWith(' kip-gpu')), cluster.writesTo.join());
    assert.ok(cluster.reads.includes('get kip-gpu'), 'the create that found a name taken reads that one DaemonSet again');
  });

  it('refuses a DaemonSet of another install under a set\'s name, naming that install', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSets.set('kip-gpu', puller('kip-gpu', { 'kubernetes-image-puller/install': 'other', 'kubernetes-image-puller/set': 'x' }));
    const outcome = await pass(cluster, env(gpu));
    assert.equal(outcome.exitCode, 4);
    assert.match(outcome.daemonSets[1]?.error ?? '', /kip-gpu belongs to the install "other" .*not to "kip"/);
    assert.equal(cluster.daemonSets.get('kip-gpu')?.metadata.resourceVersion, '7');
  });

  it('exits with the worst verdict; a chunk that cannot become healthy is the only one reported unhealthy', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReadsFor.set('kip-gpu-2', Number.POSITIVE_INFINITY);
    cluster.podsByDaemonSet.set('kip-gpu-2', [{
      metadata: { name: 'p1' },
      spec: { nodeName: 'node-1', initContainers: [{ name: 'torch', image: 'broken.invalid/torch:2' }], containers: [] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'torch', image: 'broken.invalid/torch:2', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
    }]);
    const configured = { ...env({ ...gpu, images: 'cuda=nvcr.io/nvidia/cuda:12;torch=broken.invalid/torch:2' }), MAX_IMAGES_PER_DAEMONSET: '1' };
    const outcome = await pass(cluster, configured);
    assert.equal(outcome.exitCode, 3);
    assert.deepEqual(outcome.daemonSets.map((section) => [section.name, section.exitCode]), [['kip', 0], ['kip-2', 0], ['kip-gpu', 0], ['kip-gpu-2', 3]]);
    assert.deepEqual(outcome.daemonSets[3]?.diagnosis, ['broken.invalid/torch:2: ImagePullBackOff on 1 node, e.g. node-1', '2 of 3 nodes have no available pod yet and no pod error to show']);
    assert.deepEqual(outcome.diagnosis, outcome.daemonSets[3]?.diagnosis.map((line) => `kip-gpu-2: ${line}`));
    assert.ok(cluster.events.includes('Warning/Unhealthy'));

    cluster.daemonSets.set('kip-zone-b', puller('kip-zone-b', { 'kubernetes-image-puller/install': 'other' }));
    const refused = await pass(cluster, { ...configured, IMAGE_SETS: JSON.stringify([{ ...gpu, images: 'cuda=nvcr.io/nvidia/cuda:12;torch=broken.invalid/torch:2' }, zoneB]) });
    assert.equal(refused.exitCode, 4, 'a refusal outranks an unhealthy rollout');
  });

  it('asks the registry once per image and reads pull Secrets and the CronJob once per pass, however many sets', async () => {
    const cluster = new MemoryCluster();
    const registry = new MemoryRegistry();
    const counts = { secret: 0, cronJob: 0 };
    const [readSecret, readCronJobUid] = [cluster.readSecret.bind(cluster), cluster.readCronJobUid.bind(cluster)];
    cluster.readSecret = (name) => { counts.secret += 1; return readSecret(name); };
    cluster.readCronJobUid = () => { counts.cronJob += 1; return readCronJobUid(); };
    const shared = { name: 'shared', images: 'a=nginx:1;c=busybox:1' };
    await pass(cluster, { ...env(gpu, shared), REFRESH_MODE: 'digest', IMAGE_PULL_SECRETS: 'hub', CRONJOB_NAME: 'kip' }, registry);
    assert.deepEqual(registry.asked.flat().sort(), ['busybox:1', 'docker.io/pytorch/pytorch:2', 'nginx:1', 'nvcr.io/nvidia/cuda:12', 'redis:7']);
    assert.deepEqual(counts, { secret: 1, cronJob: 1 });
  });

  it('keeps at most four requests in flight, however many DaemonSets', async () => {
    const cluster = new MemoryCluster();
    let inFlight = 0;
    let most = 0;
    for (const method of ['previewCreate', 'createDaemonSet', 'recordEvent', 'readDaemonSet'] as const) {
      const original = cluster[method].bind(cluster) as (...args: unknown[]) => Promise<unknown>;
      (cluster as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await yieldToTimers();
        try {
          return await original(...args);
        } finally {
          inFlight -= 1;
        }
      };
    }
    const outcome = await pass(cluster, { IMAGE_SETS: JSON.stringify(Array.from({ length: 8 }, (_, index) => ({ name: `s${String(index)}`, images: `i=nginx:${String(index)}` }))) });
    assert.equal(outcome.exitCode, 0);
    assert.ok(most > 1 && most <= 4, `${String(most)} requests in flight at most`);
  });

  it('without permission to list DaemonSets reads each by name, removes nothing, and names the rule to add', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    cluster.failures = [new ApiError({ status: 403, reason: 'Forbidden', message: 'cannot list', verb: 'list', resource: 'daemonsets.apps' })];
    cluster.reads.length = 0;
    const outcome = await pass(cluster, env(gpu));
    assert.deepEqual([outcome.exitCode, outcome.action, outcome.removed], [0, 'unchanged', []]);
    assert.deepEqual(cluster.reads, [`list ${OWN_SELECTOR}`, 'get kip', 'get kip-gpu']);
    assert.ok(cluster.daemonSets.has('kip-zone-b'));
    assert.match(outcome.warnings.join('\n'), /may not "list" daemonsets.*add "list" to the verbs of its Role's daemonsets rule/);
  });
});

describe('a pass over image sets, waiting for its rollouts', () => {
  const forbiddenList = () => new ApiError({ status: 403, reason: 'Forbidden', message: 'cannot list', verb: 'list', resource: 'daemonsets.apps' });

  it('polls the status of all its DaemonSets in one LIST per poll, never a GET each', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = 3;
    const outcome = await pass(cluster, env(gpu, zoneB));
    assert.deepEqual([outcome.exitCode, outcome.daemonSets.length], [0, 3]);
    // The pass's LIST of its DaemonSets, a GET of each absent one before it is created (reconcile.ts),
    // then three polls, each one LIST answering all three.
    const list = `list ${OWN_SELECTOR}`;
    assert.deepEqual(cluster.reads, [list, 'get kip', 'get kip-gpu', 'get kip-zone-b', list, list, list]);
  });

  it('without permission to list, polls each DaemonSet by name', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = 2;
    cluster.failures = [forbiddenList()];
    const outcome = await pass(cluster, env(gpu));
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(cluster.reads.filter((read) => read.startsWith('list ')), [`list ${OWN_SELECTOR}`], 'no LIST after the first 403');
    // Each: the GET instead of the LIST, the GET before the create, and two polls.
    assert.deepEqual(cluster.reads.filter((read) => read.startsWith('get ')).sort(), [...Array<string>(4).fill('get kip'), ...Array<string>(4).fill('get kip-gpu')]);
  });

  it('a 403 on a poll\'s LIST turns the polls into a GET per DaemonSet for the rest of the pass', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = 3;
    const list = cluster.listDaemonSets.bind(cluster);
    let lists = 0;
    cluster.listDaemonSets = (selector) => (++lists === 2 ? Promise.reject(forbiddenList()) : list(selector));
    const outcome = await pass(cluster, env(gpu));
    assert.equal(outcome.exitCode, 0);
    assert.equal(lists, 2, 'the pass\'s LIST, then the poll refused');
    // Each: the GET before the create, then three polls by name.
    assert.deepEqual(cluster.reads.slice(1).sort(), [...Array<string>(4).fill('get kip'), ...Array<string>(4).fill('get kip-gpu')]);
  });

  it('a DaemonSet missing from a poll\'s LIST, and gone by name too, was deleted while the pass waited: exit 1 for it', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = Number.POSITIVE_INFINITY;
    const list = cluster.listDaemonSets.bind(cluster);
    let lists = 0;
    cluster.listDaemonSets = (selector) => {
      if (++lists === 3) cluster.daemonSets.delete('kip-gpu');
      return list(selector);
    };
    const outcome = await pass(cluster, { ...env(gpu), ROLLOUT_TIMEOUT_SECONDS: '5' });
    const gpuSection = outcome.daemonSets.find(({ name }) => name === 'kip-gpu');
    assert.deepEqual([gpuSection?.exitCode, gpuSection?.error], [1, 'the DaemonSet was deleted while this pass waited for its rollout']);
    assert.equal(outcome.daemonSets.find(({ name }) => name === 'kip')?.exitCode, 3, 'the other kept waiting until the deadline');
    // The GETs before the creates, then one, to tell deleted from relabelled.
    assert.deepEqual(cluster.reads.filter((read) => read.startsWith('get ')), ['get kip', 'get kip-gpu', 'get kip-gpu']);
  });

  it('a DaemonSet that lost our labels is read by name, not taken for deleted', async () => {
    const cluster = new MemoryCluster();
    cluster.settleAfterReads = 3;
    const list = cluster.listDaemonSets.bind(cluster);
    let lists = 0;
    cluster.listDaemonSets = async (selector) => {
      const listed = await list(selector);
      return ++lists === 1 ? listed : listed.filter((daemonSet) => daemonSet.metadata.name !== 'kip-gpu');
    };
    const outcome = await pass(cluster, env(gpu));
    assert.deepEqual(outcome.daemonSets.map(({ exitCode }) => exitCode), [0, 0]);
    assert.ok(cluster.reads.includes('get kip-gpu'));
  });
});

describe('a pass over image sets that the API server rejects in part', () => {
  it('a metadata-only update rejected for one DaemonSet stops the others\' writes too (exit 2 writes nothing)', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu));
    const writes = cluster.writes.length;
    cluster.rejectedFields = ['metadata.annotations'];
    cluster.rejectedOnly = new Set(['kip-gpu']);
    const outcome = await pass(cluster, { ...env(gpu), DAEMONSET_ANNOTATIONS: '{"team.example.com/owner":"platform"}' });
    assert.equal(outcome.exitCode, ExitCode.invalidConfig);
    assert.deepEqual(cluster.writes.slice(writes), [], 'no DaemonSet was written');
  });
});

describe('a pass that cannot delete the DaemonSet of a removed set', () => {
  const refusals: [number, string, RegExp][] = [
    [403, 'Forbidden', /may not "delete" daemonsets\.apps in namespace cache; grant that verb in the Role/],
    [500, 'InternalError', /delete daemonsets\.apps failed with HTTP 500 InternalError: etcd timed out/],
  ];
  for (const [status, reason, why] of refusals) {
    it(`reports a ${String(status)} with exit 1, naming the DaemonSet and why, and still reconciles the sets that remain`, async () => {
      const cluster = new MemoryCluster();
      await pass(cluster, env(gpu, zoneB));
      const remove = cluster.deleteDaemonSet.bind(cluster);
      cluster.deleteDaemonSet = (name, uid) => (name === 'kip-zone-b'
        ? Promise.reject(new ApiError({ status, reason, message: status === 403 ? 'forbidden' : 'etcd timed out', verb: 'delete', resource: 'daemonsets.apps' }))
        : remove(name, uid));
      const outcome = await pass(cluster, { ...env(gpu), IMAGES: 'a=nginx:2' });
      assert.deepEqual([outcome.exitCode, outcome.action, outcome.removed], [1, 'failed', []]);
      assert.match(outcome.error ?? '', /^could not delete DaemonSet kip-zone-b, whose set is no longer in the configuration: /);
      assert.match(outcome.error ?? '', why);
      assert.ok(cluster.daemonSets.has('kip-zone-b'));
      assert.deepEqual(outcome.daemonSets.map((section) => [section.name, section.action, section.exitCode]), [['kip', 'updated', 0], ['kip-gpu', 'unchanged', 0]]);
    });
  }

  it('deletes the others and says which one it could not', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    const remove = cluster.deleteDaemonSet.bind(cluster);
    cluster.deleteDaemonSet = (name, uid) => (name === 'kip-zone-b'
      ? Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'forbidden', verb: 'delete', resource: 'daemonsets.apps' }))
      : remove(name, uid));
    const outcome = await pass(cluster, env());
    assert.deepEqual([outcome.exitCode, outcome.removed], [1, ['kip-gpu']]);
    assert.deepEqual(names(cluster), ['kip', 'kip-zone-b']);
    assert.match(outcome.error ?? '', /could not delete DaemonSet kip-zone-b/);
    assert.doesNotMatch(outcome.error ?? '', /kip-gpu/);
  });
});

describe('a pass whose writes include a recreate', () => {
  it('a recreate in one DaemonSet and a rejection in another: exit 2, and neither is written', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    const gpuBefore = cluster.daemonSets.get('kip-gpu');
    if (gpuBefore) gpuBefore.spec.selector = { matchLabels: { app: 'legacy' } };
    const before = structuredClone([...cluster.daemonSets.entries()]);
    const writes = cluster.writes.length;
    cluster.rejectedOnly = new Set(['kip-zone-b']);
    cluster.rejectedFields = ['spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution'];
    const outcome = await pass(cluster, env(gpu, { ...zoneB, images: { ide: 'quay.io/che/code:latest' } }));
    assert.equal(outcome.exitCode, 2);
    assert.deepEqual(outcome.rejected.map(({ variable }) => variable), ['IMAGE_SETS']);
    assert.match(outcome.daemonSets[1]?.error ?? '', /not written: the API server rejected the DaemonSet kip-zone-b/);
    assert.deepEqual(cluster.writes.slice(writes), [], 'no delete, no create, no update');
    assert.deepEqual([...cluster.daemonSets.entries()].map(([name, daemonSet]) => [name, daemonSet.metadata.uid, daemonSet.metadata.resourceVersion]), before.map(([name, daemonSet]) => [name, daemonSet.metadata.uid, daemonSet.metadata.resourceVersion]));
  });

  it('a recreate the API server rejects stops the other DaemonSets\' writes too', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    const gpuBefore = cluster.daemonSets.get('kip-gpu');
    if (gpuBefore) gpuBefore.spec.selector = { matchLabels: { app: 'legacy' } };
    const writes = cluster.writes.length;
    // The recreate is judged under a spare name (a dry-run create), which is what strict validation rejects here.
    cluster.rejectedOnly = new Set(['kip-gpu-kip-preview']);
    cluster.rejectedFields = ['spec.template.spec.tolerations[0].tolerationSeconds'];
    const outcome = await pass(cluster, env(gpu, { ...zoneB, images: { ide: 'quay.io/che/code:latest' } }));
    assert.deepEqual([outcome.exitCode, outcome.rejected.map(({ variable }) => variable)], [2, ['IMAGE_SETS']]);
    assert.deepEqual(cluster.writes.slice(writes), []);
    assert.equal(cluster.daemonSets.get('kip-gpu')?.metadata.uid, gpuBefore?.metadata.uid);
  });

  it('with nothing rejected, the recreate goes ahead beside the other writes', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    const gpuBefore = cluster.daemonSets.get('kip-gpu');
    if (gpuBefore) gpuBefore.spec.selector = { matchLabels: { app: 'legacy' } };
    const outcome = await pass(cluster, env(gpu, { ...zoneB, images: { ide: 'quay.io/che/code:latest' } }));
    assert.deepEqual([outcome.exitCode, outcome.daemonSets.map((section) => section.action)], [0, ['unchanged', 'recreated', 'updated']]);
    assert.notEqual(cluster.daemonSets.get('kip-gpu')?.metadata.uid, gpuBefore?.metadata.uid);
  });
});

describe('a pass over image sets, at its edges', () => {
  it('a removed set\'s DaemonSet that is gone (404) or replaced (409) by the time of the delete is left alone, exit 0', async () => {
    for (const status of [404, 409]) {
      const cluster = new MemoryCluster();
      await pass(cluster, env(gpu, zoneB));
      const infos: unknown[] = [];
      cluster.deleteDaemonSet = () => Promise.reject(new ApiError({ status, message: 'moved on', verb: 'delete', resource: 'daemonsets.apps' }));
      const outcome = await runPass({
        config: loadConfig({ NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', ROLLOUT_TIMEOUT_SECONDS: '30', ...env(gpu) }),
        cluster, log: { ...silent, info: (message: string, meta?: Record<string, unknown>) => infos.push([message, meta]) }, ...fixedClock(), signal: new AbortController().signal,
      });
      assert.deepEqual([outcome.exitCode, outcome.removed, outcome.error, infos], [0, [], undefined, []], String(status));
    }
  });

  it('logs each DaemonSet it deletes', async () => {
    const cluster = new MemoryCluster();
    await pass(cluster, env(gpu, zoneB));
    const infos: unknown[] = [];
    await runPass({
      config: loadConfig({ NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', ROLLOUT_TIMEOUT_SECONDS: '30', ...env(gpu) }),
      cluster, log: { ...silent, info: (message: string, meta?: Record<string, unknown>) => infos.push([message, meta]) }, ...fixedClock(), signal: new AbortController().signal,
    });
    assert.deepEqual(infos, [['deleted the DaemonSet of a set no longer in the configuration', { daemonset: 'kip-zone-b' }]]);
  });

  it('traces a rejected value of a set\'s own images or priorityClassName to IMAGE_SETS, and an inherited one to its variable', async () => {
    const cases: [string, Record<string, string>, string[]][] = [
      ['spec.template.spec.initContainers[cuda].image', env({ ...gpu, images: 'cuda=nvcr.io/nvidia/cuda:12' }), ['IMAGE_SETS']],
      ['spec.template.spec.priorityClassName', env({ ...gpu, priorityClassName: 'gpu-low' }), ['IMAGE_SETS']],
      ['spec.template.spec.priorityClassName', { ...env(gpu), PRIORITY_CLASS_NAME: 'low' }, ['PRIORITY_CLASS_NAME']],
    ];
    for (const [field, configured, variables] of cases) {
      const cluster = new MemoryCluster();
      cluster.rejectedOnly = new Set(['kip-gpu']);
      cluster.rejectedFields = [field];
      const outcome = await pass(cluster, configured);
      assert.deepEqual([outcome.exitCode, outcome.rejected.map(({ variable }) => variable)], [2, variables], field);
      if (variables[0] === 'IMAGE_SETS') assert.match(outcome.rejected[0]?.problem ?? '', new RegExp(`^set "gpu": "${field.includes('image') ? 'images' : 'priorityClassName'}": `));
    }
  });
});

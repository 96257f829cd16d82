import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoverageCounter, expectedImages } from '../src/coverage/count.ts';
import { labelChanges, warmLabel, warmNodesBySet } from '../src/coverage/node-labels.ts';
import type { DaemonSetCoverage } from '../src/coverage/report.ts';
import { ApiError } from '../src/kube/cluster.ts';
import { loadConfig } from '../src/config/config.ts';
import type { Pod } from '../src/kube/k8s-types.ts';
import { runPass } from '../src/pass/run.ts';
import type { PassContext } from '../src/pass/context.ts';
import { MAX_LABEL_CHANGES, labelWarmNodes } from '../src/pass/node-labels.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { fixedClock, silent } from './support/run-pass.ts';

const PINNED = `quay.io/x/a@sha256:${'1'.repeat(64)}`;
const OTHER = `sha256:${'2'.repeat(64)}`;

function pod(node: string, digest = `sha256:${'1'.repeat(64)}`): Pod {
  return {
    metadata: { name: `p-${node}` },
    spec: { nodeName: node, initContainers: [{ name: 'a', image: PINNED }], containers: [] },
    status: { initContainerStatuses: [{ name: 'a', image: PINNED, imageID: `quay.io/x/a@${digest}`, state: { terminated: { exitCode: 0 } } }] },
  };
}

function measured(set: string, pods: Pod[]): DaemonSetCoverage {
  const counter = new CoverageCounter(expectedImages([PINNED], {}));
  counter.add(pods);
  return { daemonSet: `kip-${set}`, set, coverage: counter.result(pods.length) };
}

describe('warm nodes', () => {
  it('are the nodes complete in every DaemonSet of a set (its chunks)', () => {
    const warm = warmNodesBySet([measured('gpu', [pod('n1'), pod('n2')]), measured('gpu', [pod('n1'), pod('n2', OTHER)]), measured('default', [pod('n3')])], new Set());
    assert.deepEqual([...warm].map(([set, nodes]) => [set, [...nodes]]), [['gpu', ['n1']], ['default', ['n3']]]);
  });

  it('leave out a set one of whose DaemonSets was not measured', () => {
    assert.deepEqual([...warmNodesBySet([measured('gpu', [pod('n1')])], new Set(['gpu']))], []);
  });

  it('gain and lose the label as they become and stop being warm', () => {
    assert.deepEqual(labelChanges(new Set(['n1', 'n2']), new Set(['n2', 'n3'])), { add: ['n1'], remove: ['n3'] });
    assert.equal(warmLabel('gpu'), 'kubernetes-image-puller.io/gpu');
  });
});

function pass(cluster: MemoryCluster, env: Record<string, string> = {}) {
  const clock = fixedClock();
  return runPass({
    config: loadConfig({ IMAGES: `a=${PINNED}`, NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30', NODE_LABELS: 'true', ...env }),
    cluster, log: silent, now: clock.now, sleep: clock.sleep, signal: new AbortController().signal,
  });
}

describe('runPass with NODE_LABELS=true', () => {
  const LABEL = 'kubernetes-image-puller.io/default';

  it('labels the complete nodes, unlabels one that fell behind and one that left, and touches no other label', async () => {
    const cluster = new MemoryCluster();
    cluster.nodeLabels = new Map<string, Record<string, string>>([['n1', { zone: 'a' }], ['n2', { [LABEL]: 'ready' }], ['n3', { [LABEL]: 'ready' }], ['gone', { [LABEL]: 'ready' }]]);
    cluster.pods = [pod('n1'), pod('n2'), pod('n3', OTHER)];
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(outcome.nodeLabels, [{ label: LABEL, nodes: 2, added: 1, removed: 2 }]);
    assert.deepEqual(cluster.nodeLabels.get('n1'), { zone: 'a', [LABEL]: 'ready' });
    assert.deepEqual([cluster.nodeLabels.get('n3'), cluster.nodeLabels.get('gone')], [{}, {}]);
    assert.deepEqual(cluster.nodePatches.sort(), [`gone ${LABEL}=-`, `n1 ${LABEL}=ready`, `n3 ${LABEL}=-`]);

    const patches = cluster.nodePatches.length;
    await pass(cluster);
    assert.equal(cluster.nodePatches.length, patches, 'nothing to change: no patch');
  });

  it(`changes at most ${String(MAX_LABEL_CHANGES)} labels a pass and says the rest wait`, async () => {
    const cluster = new MemoryCluster();
    const nodes = MAX_LABEL_CHANGES + 3;
    cluster.nodes = nodes;
    cluster.pods = Array.from({ length: nodes }, (_, index) => pod(`n${String(index)}`));
    const outcome = await pass(cluster);
    assert.equal(cluster.nodePatches.length, MAX_LABEL_CHANGES);
    assert.ok(outcome.warnings.includes(`3 node label change(s) for ${LABEL} are left to the next pass (at most ${String(MAX_LABEL_CHANGES)} a pass)`));
  });

  it('a ServiceAccount that may not list nodes gets a warning naming the grant, and exit 0', async () => {
    class NoNodes extends MemoryCluster {
      override listNodeNames(): Promise<string[]> {
        return Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'nodes is forbidden', verb: 'list', resource: 'nodes' }));
      }
    }
    const cluster = new NoNodes();
    cluster.pods = [pod('n1')];
    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 0);
    assert.ok(outcome.warnings.some((warning) => warning.startsWith('the ServiceAccount may not list nodes (403 Forbidden)') && warning.includes('nodeLabels.enabled')));
  });

  it('takes the label of a set removed from IMAGE_SETS off every node once its DaemonSet is deleted', async () => {
    const GPU = 'kubernetes-image-puller.io/gpu';
    const withGpu = { IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: `b=${PINNED}`, nodeSelector: { pool: 'gpu' } }]) };
    const cluster = new MemoryCluster();
    await pass(cluster, withGpu);
    assert.ok(cluster.daemonSets.has('kubernetes-image-puller-gpu'));
    cluster.nodeLabels = new Map<string, Record<string, string>>([['g1', { pool: 'gpu', [GPU]: 'ready' }], ['g2', { [GPU]: 'ready', [LABEL]: 'ready' }], ['n1', { zone: 'a' }]]);
    cluster.nodePatches.length = 0;

    const outcome = await pass(cluster);
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(outcome.removed, ['kubernetes-image-puller-gpu']);
    assert.deepEqual(outcome.nodeLabels?.find(({ label }) => label === GPU), { label: GPU, nodes: 0, added: 0, removed: 2 });
    assert.deepEqual([cluster.nodeLabels.get('g1'), cluster.nodeLabels.get('n1')], [{ pool: 'gpu' }, { zone: 'a' }]);
    assert.equal(cluster.nodeLabels.get('g2')?.[GPU], undefined);
    assert.deepEqual(cluster.nodePatches.filter((patch) => patch.includes(GPU)).sort(), [`g1 ${GPU}=-`, `g2 ${GPU}=-`]);
  });

  it('keeps the label of a removed set whose DaemonSet could not be deleted', async () => {
    const GPU = 'kubernetes-image-puller.io/gpu';
    class NoDelete extends MemoryCluster {
      override deleteDaemonSet(): Promise<void> {
        return Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'daemonsets is forbidden', verb: 'delete', resource: 'daemonsets' }));
      }
    }
    const cluster = new NoDelete();
    await pass(cluster, { IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: `b=${PINNED}` }]) });
    cluster.nodeLabels = new Map<string, Record<string, string>>([['g1', { [GPU]: 'ready' }]]);
    const outcome = await pass(cluster);
    assert.notEqual(outcome.exitCode, 0);
    assert.deepEqual(cluster.nodeLabels.get('g1'), { [GPU]: 'ready' });
    assert.equal(outcome.nodeLabels?.some(({ label }) => label === GPU) ?? false, false);
  });

  it('without NODE_LABELS asks nothing about nodes', async () => {
    const cluster = new MemoryCluster();
    cluster.nodeLabels = new Map([['n1', { [LABEL]: 'ready' }]]);
    cluster.pods = [pod('n1', OTHER)];
    const outcome = await pass(cluster, { NODE_LABELS: '' });
    assert.equal(outcome.nodeLabels, undefined);
    assert.deepEqual(cluster.nodePatches, []);
  });
});

/** A pass context for labelWarmNodes alone: the cluster, and retries that only run the operation once. */
function labelContext(cluster: MemoryCluster): PassContext {
  return { cluster, retrying: <T>(operation: () => Promise<T>) => operation() } as unknown as PassContext;
}

function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${String(index).padStart(4, '0')}`);
}

/** The patches made for one label, counted: [labelled, unlabelled]. */
function patchCounts(cluster: MemoryCluster, label: string): [number, number] {
  const mine = cluster.nodePatches.filter((patch) => patch.split(' ')[1]?.startsWith(`${label}=`));
  return [mine.filter((patch) => !patch.endsWith('=-')).length, mine.filter((patch) => patch.endsWith('=-')).length];
}

describe('labelWarmNodes', () => {
  const A = warmLabel('a');
  const B = warmLabel('b');

  it('gives no warning on a pass that changes every label it needs to', async () => {
    const cluster = new MemoryCluster();
    cluster.nodeLabels = new Map<string, Record<string, string>>([['n1', {}], ['n2', { [A]: 'ready' }], ['n3', { [A]: 'ready' }]]);
    const result = await labelWarmNodes(labelContext(cluster), [measured('a', [pod('n1'), pod('n2')])], new Set());
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.labels, [{ label: A, nodes: 2, added: 1, removed: 1 }]);
  });

  it(`labels at most ${String(MAX_LABEL_CHANGES)} nodes a pass across all sets, removals first, and says how many changes are left`, async () => {
    // Set a: 100 to unlabel, 200 to label (300 changes, all made). Set b: 250 to unlabel, 400 to
    // label, and only 200 of the budget left: 200 unlabelled, none labelled, 450 left.
    const cluster = new MemoryCluster();
    cluster.nodeLabels = new Map<string, Record<string, string>>([
      ...names('a-old-', 100).map((node): [string, Record<string, string>] => [node, { [A]: 'ready' }]),
      ...names('b-old-', 250).map((node): [string, Record<string, string>] => [node, { [B]: 'ready' }]),
    ]);
    const coverage = [measured('a', names('a-new-', 200).map((node) => pod(node))), measured('b', names('b-new-', 400).map((node) => pod(node)))];
    const result = await labelWarmNodes(labelContext(cluster), coverage, new Set());
    assert.equal(cluster.nodePatches.length, MAX_LABEL_CHANGES);
    assert.deepEqual([patchCounts(cluster, A), patchCounts(cluster, B)], [[200, 100], [0, 200]]);
    assert.deepEqual(result.labels, [{ label: A, nodes: 200, added: 200, removed: 100 }, { label: B, nodes: 50, added: 0, removed: 200 }]);
    assert.deepEqual(result.warnings, [`450 node label change(s) for ${B} are left to the next pass (at most ${String(MAX_LABEL_CHANGES)} a pass)`]);
  });

  it('labels with what is left of the budget after the removals of a set, and counts both kinds of change left', async () => {
    // 100 to unlabel and 500 to label: all 100 unlabelled, 400 labelled, 100 left.
    const cluster = new MemoryCluster();
    cluster.nodeLabels = new Map<string, Record<string, string>>(names('old-', 100).map((node) => [node, { [A]: 'ready' }]));
    const result = await labelWarmNodes(labelContext(cluster), [measured('a', names('new-', 500).map((node) => pod(node)))], new Set());
    assert.deepEqual(patchCounts(cluster, A), [400, 100]);
    assert.deepEqual(result.labels, [{ label: A, nodes: 400, added: 400, removed: 100 }]);
    assert.deepEqual(result.warnings, [`100 node label change(s) for ${A} are left to the next pass (at most ${String(MAX_LABEL_CHANGES)} a pass)`]);
  });

  async function failing(error: unknown): Promise<{ labels: unknown[]; warnings: string[] }> {
    class Failing extends MemoryCluster {
      override listNodeNames(): Promise<string[]> {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a thrown non-Error is the case under test
        return Promise.reject(error);
      }
    }
    return labelWarmNodes(labelContext(new Failing()), [measured('a', [pod('n1')])], new Set());
  }

  it('says a 403 is the ServiceAccount lacking the nodes grant, naming the verb', async () => {
    const result = await failing(new ApiError({ status: 403, reason: 'Forbidden', message: 'nodes is forbidden', verb: 'patch', resource: 'nodes' }));
    assert.deepEqual(result, {
      labels: [],
      warnings: ['the ServiceAccount may not patch nodes (403 Forbidden), so warm-node labels are not kept; NODE_LABELS=true needs a ClusterRole with nodes list and patch (the chart\'s nodeLabels.enabled makes it)'],
    });
  });

  it('gives the message of any other API error, not the 403 sentence', async () => {
    const result = await failing(new ApiError({ status: 500, reason: 'InternalError', message: 'etcd is down', verb: 'list', resource: 'nodes' }));
    assert.deepEqual(result, { labels: [], warnings: ['could not keep the warm-node labels: etcd is down'] });
  });

  it('gives the message of an error that is no API error, and the text of a thrown non-Error', async () => {
    assert.deepEqual((await failing(new Error('socket hang up'))).warnings, ['could not keep the warm-node labels: socket hang up']);
    assert.deepEqual((await failing('plain text')).warnings, ['could not keep the warm-node labels: plain text']);
  });
});

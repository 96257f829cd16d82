// Taking over from the Go puller while image sets are configured: the take-over deletes and
// re-creates a DaemonSet, so it is a write like any other and waits behind the write gate. A pass
// that exits 2 because the API server rejects one set's DaemonSet writes nothing, the Go puller's
// DaemonSet included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import type { Decision } from '../src/pass/decide.ts';
import { ExitCode } from '../src/pass/exit-codes.ts';
import type { DaemonSet } from '../src/kube/k8s-types.ts';
import { runPass } from '../src/pass/run.ts';
import { writes } from '../src/pass/write-gate.ts';
import { goPullerDaemonSet } from './support/go-puller.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { fixedClock, silent } from './support/run-pass.ts';

const gpu = { name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12', nodeSelector: { pool: 'gpu' } };

function pass(cluster: MemoryCluster, env: Record<string, string>) {
  return runPass({
    config: loadConfig({ NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30', IMAGES: 'a=nginx:1', ...env }),
    cluster,
    log: silent,
    ...fixedClock(),
    signal: new AbortController().signal,
  });
}

describe('writes: which decisions the write gate holds back', () => {
  const body = { metadata: {}, spec: { selector: { matchLabels: {} }, template: { metadata: {}, spec: { containers: [] } } } } as DaemonSet;
  const cases: [Decision, boolean][] = [
    [{ action: 'create', body }, true],
    [{ action: 'update', body, changed: ['metadata.labels'], restart: false, confirm: false }, true],
    [{ action: 'recreate', body, changed: ['spec.selector'], uid: 'u' }, true],
    [{ action: 'take-over', body, uid: 'u', deployment: 'kubernetes-image-puller', deploymentState: 'absent' }, true],
    [{ action: 'refuse', reason: 'not ours' }, false],
    [{ action: 'wait-for-deletion' }, false],
    [{ action: 'none', tolerated: [] }, false],
  ];
  for (const [decision, expected] of cases) {
    it(`${decision.action}: ${expected ? 'a write' : 'no write'}`, () => {
      assert.equal(writes(decision), expected);
    });
  }
});

describe('a take-over in a pass that exits 2', () => {
  it('with a set the API server rejects, leaves the Go puller\'s DaemonSet in place: exit 2 and zero writes', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet();
    const before = structuredClone(cluster.daemonSet);
    cluster.rejectedOnly = new Set(['kubernetes-image-puller-gpu']);
    cluster.rejectedFields = ['spec.template.spec.nodeSelector'];
    const outcome = await pass(cluster, { IMAGE_SETS: JSON.stringify([gpu]) });
    assert.equal(outcome.exitCode, ExitCode.invalidConfig);
    assert.deepEqual(outcome.rejected.map(({ variable }) => variable), ['IMAGE_SETS']);
    assert.deepEqual(cluster.writesTo, [], 'nothing deleted, created or recorded');
    assert.deepEqual([cluster.daemonSet?.metadata, cluster.daemonSet?.spec], [before.metadata, before.spec]);
  });

  it('a take-over the API server rejects stops the other sets\' writes too', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet();
    cluster.rejectedOnly = new Set(['kubernetes-image-puller-kip-preview']);
    cluster.rejectedFields = ['metadata.annotations'];
    const outcome = await pass(cluster, { IMAGE_SETS: JSON.stringify([gpu]) });
    assert.equal(outcome.exitCode, ExitCode.invalidConfig);
    assert.deepEqual(cluster.writesTo, []);
  });

  it('with every set accepted, takes over and creates the sets\' DaemonSets', async () => {
    const cluster = new MemoryCluster();
    cluster.daemonSet = goPullerDaemonSet();
    const outcome = await pass(cluster, { IMAGE_SETS: JSON.stringify([gpu]) });
    assert.equal(outcome.exitCode, ExitCode.healthy, outcome.error);
    assert.deepEqual(outcome.daemonSets.map(({ name, action }) => [name, action]), [['kubernetes-image-puller', 'took-over'], ['kubernetes-image-puller-gpu', 'created']]);
  });
});

describe('a take-over checks which Deployment it is told about', () => {
  const going = (uid: string, finalizers: string[] = []) => ({ uid, deleting: true, finalizers });
  const cases: { name: string; deployment: 'exists' | { uid: string; deleting: boolean; finalizers: string[] } | undefined; action: string; error?: RegExp }[] = [
    { name: 'its owner is gone', deployment: undefined, action: 'took-over' },
    { name: 'its owner is being deleted in the background', deployment: going('go-deployment-uid'), action: 'took-over' },
    { name: 'its owner is being deleted in the foreground', deployment: going('go-deployment-uid', ['foregroundDeletion']), action: 'took-over' },
    { name: 'its owner is being deleted with --cascade=orphan', deployment: going('go-deployment-uid', ['orphan']), action: 'refused', error: /being deleted with --cascade=orphan, which keeps its DaemonSet/ },
    { name: 'another Deployment of that name is being deleted', deployment: going('other-uid'), action: 'refused', error: /with UID go-deployment-uid, and the Deployment of that name now is another object/ },
    { name: 'another Deployment of that name runs', deployment: { uid: 'other-uid', deleting: false, finalizers: [] }, action: 'refused', error: /another object/ },
    { name: 'its owner runs', deployment: 'exists', action: 'refused', error: /still runs/ },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.action}`, async () => {
      const cluster = new MemoryCluster();
      cluster.daemonSet = goPullerDaemonSet();
      if (c.deployment !== undefined) cluster.deployments.set('kubernetes-image-puller', c.deployment);
      const outcome = await pass(cluster, {});
      assert.equal(outcome.action, c.action, outcome.error);
      if (c.error === undefined) {
        assert.deepEqual(cluster.writes, ['delete', 'create', 'event']);
        return;
      }
      assert.equal(outcome.exitCode, ExitCode.refused);
      assert.match(outcome.error ?? '', c.error);
      assert.deepEqual(cluster.writes, []);
      assert.equal(cluster.daemonSet?.metadata.uid, 'go-ds-uid');
    });
  }
});

// Where the pods land: NODE_SELECTOR and TOLERATIONS against labelled and tainted nodes, and a node
// that joins after the DaemonSet exists. The test puts every label and taint back and scales the
// cluster back to its node count afterwards, since the cluster is shared by the whole suite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTestNamespace,
  deleteNamespace,
  labelNode,
  nodeNames,
  readyPodsByNode,
  scaleNodes,
  taintNode,
  untaintNode,
  waitFor,
} from './lib/cluster.ts';
import { runPass } from './lib/pass-runner.ts';
import { assertReadyOn, expectPass, passEnv } from './lib/puller.ts';

const pool = 'kip-e2e/pool';
const dedicated = 'kip-e2e/dedicated';
const images = 'alpha=quay.io/kip-e2e/alpha:1.0';

describe('labelled and tainted nodes', { timeout: 180_000 }, () => {
  let ns = '';
  let original: string[] = [];
  const touched = new Set<string>();
  const env = (extra: Record<string, string>): Record<string, string> =>
    passEnv(ns, { IMAGES: images, NODE_SELECTOR: JSON.stringify({ [pool]: 'cache' }), ...extra });

  before(async () => {
    original = await nodeNames();
    assert.ok(original.length >= 3, `needs 3 nodes, the cluster has ${original.length}`);
    ns = await createTestNamespace('kip-nodes');
  });
  after(async () => {
    for (const node of touched) {
      await labelNode(node, { [pool]: null }).catch(() => undefined);
      await untaintNode(node, dedicated).catch(() => undefined);
    }
    if ((await nodeNames()).length !== original.length) await scaleNodes(original.length);
    if (process.env.KIP_E2E_KEEP !== '1') await deleteNamespace(ns);
  });

  test('pods run only where the nodeSelector matches and the taints are tolerated', async () => {
    // The third node stays unlabelled: assertReadyOn checks it gets no pod.
    const [plain, tainted] = original as [string, string];
    touched.add(plain).add(tainted);
    await labelNode(plain, { [pool]: 'cache' });
    await labelNode(tainted, { [pool]: 'cache' });
    await taintNode(tainted, `${dedicated}=cache:NoSchedule`);

    const selected = expectPass(await runPass(env({})), 0);
    assert.equal(selected.desired, 1, 'only the labelled, untainted node');
    await assertReadyOn(ns, [plain], images);

    const toleration = { key: dedicated, operator: 'Equal', value: 'cache', effect: 'NoSchedule' };
    const tolerated = expectPass(await runPass(env({ TOLERATIONS: JSON.stringify([toleration]) })), 0);
    assert.equal(tolerated.action, 'updated');
    assert.equal(tolerated.desired, 2, 'the labelled nodes, tainted or not');
    await assertReadyOn(ns, [plain, tainted], images);
  });

  test('a node that joins later gets its pod, and the next pass is healthy', async () => {
    const [plain, tainted] = original as [string, string];
    const toleration = { key: dedicated, operator: 'Equal', value: 'cache', effect: 'NoSchedule' };
    const grown = await scaleNodes(original.length + 1);
    const joined = grown.find((n) => !original.includes(n));
    assert.ok(joined !== undefined, `a new node among ${grown.join(', ')}`);
    touched.add(joined);
    await labelNode(joined, { [pool]: 'cache' });
    // The DaemonSet controller, not the puller, places the pod on the new node.
    await waitFor(`a Ready puller pod on ${joined}`, async () => (await readyPodsByNode(ns)).has(joined), { timeoutMs: 30_000 });

    const summary = expectPass(await runPass(env({ TOLERATIONS: JSON.stringify([toleration]) })), 0);
    assert.equal(summary.action, 'unchanged');
    assert.equal(summary.desired, 3);
    await assertReadyOn(ns, [plain, tainted, joined], images);
  });
});

// The reconcile loop against a real API server: create, no-op, drift repair, recreate after deletion,
// and restoring a hand-edited DaemonSet. Each scenario gets its own restricted namespace.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { createTestNamespace, deleteNamespace, kubectlOk, labelNode, nodeNames } from './lib/cluster.ts';
import { runPass, type PassSummary } from './lib/pass-runner.ts';
import { auditLogOrSkip, auditRequests, formatRequests, writesIn } from './lib/audit.ts';
import {
  assertCaches,
  assertReadyOn,
  assertSawPassRead,
  isPassList,
  daemonSetName,
  digest,
  expectPass,
  getPuller,
  holdContainer,
  managedLabels,
  passEnv,
  verbAndResource,
  COVERAGE_READS,
} from './lib/puller.ts';

const namespaces: string[] = [];
async function namespaceFor(prefix: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  namespaces.push(ns);
  return ns;
}
after(async () => {
  if (process.env.KIP_E2E_KEEP === '1') return;
  for (const ns of namespaces) await deleteNamespace(ns);
});

/** The summary's `requests` field: a number, or an object with a `total`. */
function requestTotal(summary: PassSummary): number | undefined {
  const requests = summary.requests as unknown;
  if (typeof requests === 'number') return requests;
  if (typeof requests === 'object' && requests !== null && 'total' in requests) return Number(requests.total);
  return undefined;
}

const images = `alpha=quay.io/kip-e2e/alpha:1.0;beta=quay.io/kip-e2e/beta@${digest('b')}`;

describe('a fresh restricted namespace', { timeout: 120_000 }, () => {
  let ns = '';

  test('the first pass creates the DaemonSet and is healthy on every node', async (t) => {
    ns = await namespaceFor('kip-fresh');
    const nodes = await nodeNames();
    const since = new Date();
    const result = await runPass(passEnv(ns, { IMAGES: images }));
    const summary = expectPass(result, 0);
    assert.equal(summary.action, 'created');
    assert.equal(summary.desired, nodes.length);
    assert.equal(summary.ready, nodes.length);

    const ds = await getPuller(ns);
    for (const [key, value] of Object.entries(managedLabels)) {
      assert.equal(ds.metadata.labels?.[key], value, `label ${key}`);
    }
    assertCaches(ds, images);
    // Exit 0 means healthy now, so the pods must already be Ready: no waiting here.
    await assertReadyOn(ns, nodes, images);

    if (!auditLogOrSkip(t)) return;
    // The pass's own request count agrees with what the API server saw from it.
    const seen = await auditRequests({ since });
    assert.equal(requestTotal(summary), seen.length, `requests seen by the API server:\n${formatRequests(seen)}`);
  });

  test('a second pass makes a LIST of its DaemonSets and coverage\'s two reads, and writes nothing', async (t) => {
    const before = await getPuller(ns);
    const since = new Date();
    const result = await runPass(passEnv(ns, { IMAGES: images }));
    const summary = expectPass(result, 0);
    assert.equal(summary.action, 'unchanged');

    const afterPass = await getPuller(ns);
    assert.equal(afterPass.metadata.resourceVersion, before.metadata.resourceVersion, 'resourceVersion');

    if (!auditLogOrSkip(t)) return;
    const inNamespace = await auditRequests({ since, namespace: ns });
    assert.deepEqual(inNamespace.map(verbAndResource), ['list daemonsets', ...COVERAGE_READS], `requests in ${ns}:\n${formatRequests(inNamespace)}`);
    assert.ok(inNamespace[0] !== undefined && isPassList(inNamespace[0]), formatRequests(inNamespace));
    const everything = await auditRequests({ since });
    assertSawPassRead(everything, ns);
    assert.deepEqual(writesIn(everything), [], `writes by the puller:\n${formatRequests(everything)}`);
    assert.equal(requestTotal(summary), everything.length, 'the summary counts the same requests');
  });
});

describe('drift in the configuration', { timeout: 120_000 }, () => {
  test('changed images, resources, nodeSelector and tolerations update the DaemonSet in place', async (t) => {
    const ns = await namespaceFor('kip-drift');
    const nodes = await nodeNames();
    // A label every current node carries, so the new nodeSelector still matches all of them.
    for (const node of nodes) await labelNode(node, { 'kip-e2e/drift': 'all' });
    t.after(async () => {
      for (const node of nodes) await labelNode(node, { 'kip-e2e/drift': null });
    });
    const created = expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    assert.equal(created.action, 'created');
    const before = await getPuller(ns);

    const changedImages = `alpha=quay.io/kip-e2e/alpha:2.0;gamma=quay.io/kip-e2e/gamma:1.0`;
    const toleration = { key: 'kip-e2e/dedicated', operator: 'Equal', value: 'cache', effect: 'NoSchedule' };
    const result = await runPass(
      passEnv(ns, {
        IMAGES: changedImages,
        CACHING_MEMORY_REQUEST: '16Mi',
        CACHING_MEMORY_LIMIT: '32Mi',
        CACHING_CPU_REQUEST: '0.1',
        CACHING_CPU_LIMIT: '0.3',
        NODE_SELECTOR: JSON.stringify({ 'kip-e2e/drift': 'all' }),
        TOLERATIONS: JSON.stringify([toleration]),
      }),
    );
    const summary = expectPass(result, 0);
    assert.equal(summary.action, 'updated');

    const ds = await getPuller(ns);
    assert.equal(ds.metadata.uid, before.metadata.uid, 'updated in place, not recreated');
    assertCaches(ds, changedImages);
    const spec = ds.spec.template.spec;
    for (const c of (spec.initContainers ?? []).slice(1)) {
      assert.equal(c.resources?.requests?.memory, '16Mi', `${c.name} memory request`);
      assert.equal(c.resources?.limits?.memory, '32Mi', `${c.name} memory limit`);
      assert.ok(['100m', '0.1'].includes(c.resources?.requests?.cpu ?? ''), `${c.name} cpu request ${c.resources?.requests?.cpu}`);
      assert.ok(['300m', '0.3'].includes(c.resources?.limits?.cpu ?? ''), `${c.name} cpu limit ${c.resources?.limits?.cpu}`);
    }
    assert.deepEqual(spec.nodeSelector, { 'kip-e2e/drift': 'all' });
    assert.ok(
      (spec.tolerations ?? []).some((t) => isDeepStrictEqual(t, toleration)),
      `tolerations ${JSON.stringify(spec.tolerations)}`,
    );
    // The rollout finished before the pass reported success.
    assert.equal(ds.status?.updatedNumberScheduled, nodes.length, 'updatedNumberScheduled');
    await assertReadyOn(ns, nodes, changedImages);
  });
});

describe('a DaemonSet deleted or edited by hand', { timeout: 120_000 }, () => {
  let ns = '';

  test('a deleted DaemonSet is created again', async () => {
    ns = await namespaceFor('kip-restore');
    const nodes = await nodeNames();
    expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    const first = await getPuller(ns);
    await kubectlOk(['delete', 'daemonset', daemonSetName, '-n', ns, '--wait=true']);

    const summary = expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    // The old one is gone before the pass starts, so there is nothing to recreate.
    assert.equal(summary.action, 'created');
    const second = await getPuller(ns);
    assert.notEqual(second.metadata.uid, first.metadata.uid, 'a new DaemonSet');
    assertCaches(second, images);
    await assertReadyOn(ns, nodes, images);
  });

  test('an added container and a changed image are reverted', async () => {
    const nodes = await nodeNames();
    const before = await getPuller(ns);
    const hold = before.spec.template.spec.containers.find((c) => c.name === holdContainer);
    assert.ok(hold !== undefined);
    const intruder = { ...hold, name: 'intruder', image: 'quay.io/kip-e2e/intruder:1' };
    const patch = [
      { op: 'add', path: '/spec/template/spec/containers/-', value: intruder },
      { op: 'replace', path: '/spec/template/spec/initContainers/1/image', value: 'quay.io/kip-e2e/tampered:9' },
    ];
    await kubectlOk(['patch', 'daemonset', daemonSetName, '-n', ns, '--type=json', '-p', JSON.stringify(patch)]);
    const edited = await getPuller(ns);
    assert.equal(edited.spec.template.spec.containers.length, 2, 'the hand edit took');

    const summary = expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    assert.equal(summary.action, 'updated');
    const restored = await getPuller(ns);
    assert.equal(restored.metadata.uid, before.metadata.uid, 'restored in place');
    assertCaches(restored, images);
    await assertReadyOn(ns, nodes, images);
  });
});

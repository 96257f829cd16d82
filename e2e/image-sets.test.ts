// IMAGE_SETS against the local control plane: three node pools (labelled, two of them tainted), a
// DaemonSet per set, each node holding exactly its sets' images; a node that changes pool; a set
// removed; a name taken by someone else; chunks that stay put when an image is appended; a broken
// image that blocks only its chunk. Every label and taint is put back afterwards: the cluster is
// shared by the whole suite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apply,
  createTestNamespace,
  getJson,
  labelNode,
  listJson,
  nodeNames,
  releaseNamespace,
  taintNode,
  untaintNode,
  waitFor,
  type DaemonSet,
} from './lib/cluster.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { auditLogOrSkip, auditRequests, formatRequests, realWrites, writesIn } from './lib/audit.ts';
import { COVERAGE_READS, assertSawPassRead, cachedImagesByNode, expectPass, getPuller, isPassList, passEnv, sectionsOf, verbAndResource } from './lib/puller.ts';

const POOL = 'kip-e2e/pool';
const ZONE = 'kip-e2e/zone';
const GPU_TAINT = 'kip-e2e/gpu';
const BATCH_TAINT = 'kip-e2e/batch';
const base = 'kubernetes-image-puller';

const common = 'quay.io/kip-e2e/common:1';
const ide = 'quay.io/kip-e2e/ide:1';
const cuda = 'quay.io/kip-e2e/cuda:12';
const torch = 'quay.io/kip-e2e/torch:2';
const zoneTool = 'quay.io/kip-e2e/zone-tool:1';

const sets = {
  general: { name: 'general', images: { ide }, nodeSelector: { [POOL]: 'general' } },
  gpu: { name: 'gpu', images: `cuda=${cuda};torch=${torch}`, nodeSelector: { [POOL]: 'gpu' }, tolerations: [{ key: GPU_TAINT, operator: 'Exists', effect: 'NoSchedule' }] },
  zoneB: {
    name: 'zone-b',
    images: { tool: zoneTool },
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: ['b'] }] }] } } },
  },
};

/** The IMAGES set runs everywhere: it tolerates both pool taints. */
function poolEnv(namespace: string, imageSets: object[], extra: Record<string, string> = {}): Record<string, string> {
  return passEnv(namespace, {
    IMAGES: `common=${common}`,
    TOLERATIONS: JSON.stringify([{ key: GPU_TAINT, operator: 'Exists', effect: 'NoSchedule' }, { key: BATCH_TAINT, operator: 'Exists', effect: 'NoSchedule' }]),
    IMAGE_SETS: JSON.stringify(imageSets),
    ...extra,
  });
}

const namespaces: string[] = [];
async function namespaceFor(prefix: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  namespaces.push(ns);
  return ns;
}
after(async () => {
  for (const ns of namespaces) await releaseNamespace(ns);
});

async function daemonSetNames(namespace: string): Promise<string[]> {
  return (await listJson<DaemonSet>('daemonsets', { namespace })).map((ds) => ds.metadata.name).sort();
}

describe('three node pools, a DaemonSet per set', { timeout: 240_000 }, () => {
  let ns = '';
  let general = '';
  let gpu = '';
  let batch = '';

  before(async () => {
    const nodes = await nodeNames();
    assert.ok(nodes.length >= 3, `needs 3 nodes, the cluster has ${nodes.length}`);
    [general, gpu, batch] = nodes as [string, string, string];
    await labelNode(general, { [POOL]: 'general', [ZONE]: 'a' });
    await labelNode(gpu, { [POOL]: 'gpu', [ZONE]: 'a' });
    await taintNode(gpu, `${GPU_TAINT}=true:NoSchedule`);
    await labelNode(batch, { [POOL]: 'batch', [ZONE]: 'b' });
    await taintNode(batch, `${BATCH_TAINT}=true:NoSchedule`);
    ns = await namespaceFor('kip-pools');
  });
  after(async () => {
    for (const node of [general, gpu, batch].filter((n) => n !== '')) {
      await labelNode(node, { [POOL]: null, [ZONE]: null }).catch(() => undefined);
      await untaintNode(node, GPU_TAINT).catch(() => undefined);
      await untaintNode(node, BATCH_TAINT).catch(() => undefined);
    }
  });

  test('each node holds exactly the images of its sets', async () => {
    const result = await runPass(poolEnv(ns, [sets.general, sets.gpu, sets.zoneB]));
    const summary = expectPass(result, 0);
    assert.equal(summary.action, 'created', explain(result));
    assert.deepEqual(sectionsOf(summary).map((s) => [s.daemonset, s.set, s.action, s.desired]), [
      [base, 'default', 'created', 3],
      [`${base}-general`, 'general', 'created', 1],
      [`${base}-gpu`, 'gpu', 'created', 1],
      [`${base}-zone-b`, 'zone-b', 'created', 1],
    ]);
    const gpuSet = await getPuller(ns, `${base}-gpu`);
    assert.equal(gpuSet.metadata.labels?.['kubernetes-image-puller/set'], 'gpu');
    assert.equal(gpuSet.metadata.labels?.['kubernetes-image-puller/install'], base);
    assert.deepEqual(Object.fromEntries(await cachedImagesByNode(ns)), {
      [general]: [common, ide].sort(),
      [gpu]: [common, cuda, torch].sort(),
      [batch]: [common, zoneTool].sort(),
    });
  });

  test('a second pass makes one LIST for all four DaemonSets, then coverage\'s two reads, and writes nothing', async (t) => {
    const since = new Date();
    const summary = expectPass(await runPass(poolEnv(ns, [sets.general, sets.gpu, sets.zoneB])), 0);
    assert.equal(summary.action, 'unchanged');
    if (!auditLogOrSkip(t)) return;
    const seen = await auditRequests({ since, namespace: ns });
    assert.deepEqual(seen.map(verbAndResource), ['list daemonsets', ...COVERAGE_READS], formatRequests(seen));
    assert.ok(isPassList(seen[0]!), formatRequests(seen));
  });

  test('a node relabelled into another pool gets that pool\'s pods, and the next pass finds all in order', async () => {
    await labelNode(general, { [POOL]: 'gpu' });
    try {
      // The DaemonSet controller moves the pods; no pass is needed for that.
      await waitFor(`${general} to hold the GPU images instead of the IDE`, async () => {
        const images = (await cachedImagesByNode(ns)).get(general);
        return JSON.stringify(images) === JSON.stringify([common, cuda, torch].sort());
      }, { timeoutMs: 30_000 });
      const summary = expectPass(await runPass(poolEnv(ns, [sets.general, sets.gpu, sets.zoneB])), 0);
      assert.equal(summary.action, 'unchanged');
      assert.deepEqual(sectionsOf(summary).map((s) => [s.set, s.desired]), [['default', 3], ['general', 0], ['gpu', 2], ['zone-b', 1]]);
    } finally {
      await labelNode(general, { [POOL]: 'general' });
    }
    await waitFor(`${general} to hold the IDE image again`, async () => (await cachedImagesByNode(ns)).get(general)?.includes(ide) === true, { timeoutMs: 30_000 });
  });

  test('a set removed from the configuration has its DaemonSet deleted, and its pods go', async () => {
    const result = await runPass(poolEnv(ns, [sets.general, sets.gpu]));
    const summary = expectPass(result, 0);
    assert.deepEqual(summary.removed, [`${base}-zone-b`], explain(result));
    assert.deepEqual(await daemonSetNames(ns), [base, `${base}-general`, `${base}-gpu`]);
    await waitFor(`${batch} to hold only the common image`, async () => JSON.stringify((await cachedImagesByNode(ns)).get(batch)) === JSON.stringify([common]), { timeoutMs: 30_000 });
  });
});

/** A valid DaemonSet nobody's puller made, as another team would have it. */
function foreignDaemonSet(namespace: string, name: string, labels: Record<string, string>): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, labels },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{ name: 'theirs', image: 'quay.io/someone/else:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
        },
      },
    },
  };
}

describe('DaemonSets that are not this install\'s', { timeout: 120_000 }, () => {
  test('a name a set needs, taken by someone else, is refused (exit 4) and left untouched; nothing of another install is removed', async (t) => {
    const ns = await namespaceFor('kip-sets-foreign');
    const taken = `${base}-tools`;
    const otherInstall = 'other-puller-gpu';
    await apply([
      foreignDaemonSet(ns, taken, { app: 'someone-else' }),
      // Looks like a puller DaemonSet of another install: the pass LISTs it, and must leave it.
      foreignDaemonSet(ns, otherInstall, {
        'app.kubernetes.io/name': 'kubernetes-image-puller',
        'app.kubernetes.io/managed-by': 'kubernetes-image-puller',
        'kubernetes-image-puller/install': 'other-puller',
        'kubernetes-image-puller/set': 'gpu',
      }),
    ]);
    const before = { taken: await getPuller(ns, taken), other: await getPuller(ns, otherInstall) };
    const since = new Date();
    const result = await runPass(passEnv(ns, { IMAGES: `common=${common}`, IMAGE_SETS: JSON.stringify([{ name: 'tools', images: { tool: zoneTool } }, { name: 'ide', images: { ide } }]) }));
    const summary = expectPass(result, 4);
    assert.equal(summary.action, 'refused');
    assert.deepEqual(sectionsOf(summary).map((s) => [s.daemonset, s.action, s.exitCode]), [[base, 'created', 0], [taken, 'refused', 4], [`${base}-ide`, 'created', 0]]);
    assert.match(sectionsOf(summary)[1]?.error ?? '', /is not managed by kubernetes-image-puller/);
    // Their controllers update their status; what the pass could have written is the spec and the labels.
    for (const [name, was] of [[taken, before.taken], [otherInstall, before.other]] as const) {
      const now = await getPuller(ns, name);
      assert.deepEqual([now.metadata.uid, now.metadata.generation, now.metadata.labels], [was.metadata.uid, was.metadata.generation, was.metadata.labels], `${name} untouched`);
    }
    if (!auditLogOrSkip(t)) return;
    const seen = await auditRequests({ since, namespace: ns });
    assertSawPassRead(seen, ns);
    const daemonSetWrites = realWrites(seen).filter((e) => e.objectRef?.resource === 'daemonsets');
    assert.deepEqual(daemonSetWrites.map((e) => e.verb), ['create', 'create'], `only the two DaemonSets of the install are written:\n${formatRequests(seen)}`);
    assert.ok(writesIn(seen).every((e) => e.objectRef?.name !== taken && e.objectRef?.name !== otherInstall), `a write to a DaemonSet that is not the install's:\n${formatRequests(seen)}`);
  });
});

describe('a set split by MAX_IMAGES_PER_DAEMONSET', { timeout: 180_000 }, () => {
  let ns = '';
  const images = (count: number, broken?: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`i${String(i + 1)}`, i + 1 === broken ? `broken.invalid/i${String(i + 1)}:1` : `quay.io/kip-e2e/i${String(i + 1)}:1`]));
  const env = (count: number, extra: Record<string, string> = {}, broken?: number): Record<string, string> =>
    passEnv(ns, { IMAGES: '', IMAGE_SETS: JSON.stringify([{ name: 'big', images: images(count, broken) }]), MAX_IMAGES_PER_DAEMONSET: '2', ...extra });
  const state = async (name: string) => {
    const ds = await getJson<DaemonSet>('daemonset', name, ns);
    return ds === undefined ? undefined : { uid: ds.metadata.uid, generation: ds.metadata.generation };
  };

  before(async () => {
    ns = await namespaceFor('kip-chunks');
  });

  test('appending images changes only the last chunk, then adds one; the others keep their object and pods', async () => {
    const created = expectPass(await runPass(env(5)), 0);
    assert.deepEqual(sectionsOf(created).map((s) => [s.daemonset, s.chunk]), [[`${base}-big`, '1/3'], [`${base}-big-2`, '2/3'], [`${base}-big-3`, '3/3']]);
    const first = { big: await state(`${base}-big`), big2: await state(`${base}-big-2`), big3: await state(`${base}-big-3`) };
    const pods = JSON.stringify((await listJson('pods', { namespace: ns, selector: `app.kubernetes.io/instance in (${base}-big,${base}-big-2)` })).map((p) => p.metadata.uid).sort());

    const appended = expectPass(await runPass(env(6)), 0);
    assert.deepEqual(sectionsOf(appended).map((s) => s.action), ['unchanged', 'unchanged', 'updated']);
    assert.deepEqual([await state(`${base}-big`), await state(`${base}-big-2`)], [first.big, first.big2], 'the first two chunks are untouched');
    assert.equal((await state(`${base}-big-3`))?.generation, (first.big3?.generation ?? 0) + 1);

    const grown = expectPass(await runPass(env(7)), 0);
    assert.deepEqual(sectionsOf(grown).map((s) => [s.daemonset, s.action]), [[`${base}-big`, 'unchanged'], [`${base}-big-2`, 'unchanged'], [`${base}-big-3`, 'unchanged'], [`${base}-big-4`, 'created']]);
    assert.deepEqual([await state(`${base}-big`), await state(`${base}-big-2`)], [first.big, first.big2]);
    const podsAfter = JSON.stringify((await listJson('pods', { namespace: ns, selector: `app.kubernetes.io/instance in (${base}-big,${base}-big-2)` })).map((p) => p.metadata.uid).sort());
    assert.equal(podsAfter, pods, 'no pod of the first two chunks was replaced');
  });

  test('a broken image blocks only its own chunk: exit 3, that section names it, the others are healthy', async () => {
    // i3 is the first image of the second chunk.
    const result = await runPass(env(7, { ROLLOUT_TIMEOUT_SECONDS: '10' }, 3));
    const summary = expectPass(result, 3);
    const sections = sectionsOf(summary);
    assert.deepEqual(sections.map((s) => [s.daemonset, s.exitCode]), [[`${base}-big`, 0], [`${base}-big-2`, 3], [`${base}-big-3`, 0], [`${base}-big-4`, 0]], explain(result));
    assert.match(sections[1]?.diagnosis?.[0] ?? '', /^broken\.invalid\/i3:1: ImagePullBackOff on \d+ nodes?/);
    for (const healthy of [sections[0], sections[2], sections[3]]) assert.equal(healthy?.ready, healthy?.desired, healthy?.daemonset);
  });
});

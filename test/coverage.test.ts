import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoverageCounter, LISTED_NODES, expectedImages } from '../src/coverage/count.ts';
import type { ExpectedImage } from '../src/coverage/count.ts';
import { load as loadYaml } from 'js-yaml';
import { coverageDocument, coverageSummary, shortDigest, staleDigestWarnings, statusData, toBlockYaml, topReason } from '../src/coverage/report.ts';
import type { ContainerStatus, Pod } from '../src/kube/k8s-types.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const TAG = 'quay.io/che/code:next';
const PINNED = `quay.io/che/tools@${D3}`;

type Held = { digest: string } | { waiting: string } | { terminated: number } | 'running-no-id' | 'absent';

function status(name: string, image: string, held: Held): ContainerStatus | undefined {
  if (held === 'absent') return undefined;
  if (held === 'running-no-id') return { name, image, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
  if ('digest' in held) return { name, image, imageID: `${image.split('@')[0] ?? image}@${held.digest}`, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
  if ('waiting' in held) return { name, image, state: { waiting: { reason: held.waiting } } };
  return { name, image, state: { terminated: { exitCode: held.terminated, reason: 'Error' } } };
}

function pod(node: string, tag: Held, pinned: Held = { digest: D3 }, extra: Partial<Pod['metadata']> = {}): Pod {
  const initContainers = [
    { name: 'kip-install-helper', image: 'kip:1' },
    { name: 'code', image: TAG },
    { name: 'tools', image: PINNED },
  ];
  const statuses = [status('code', TAG, tag), status('tools', PINNED, pinned)].filter((item) => item !== undefined);
  return { metadata: { name: `p-${node}`, ...extra }, spec: { nodeName: node, initContainers, containers: [{ name: 'kip-hold', image: 'kip:1' }] }, status: { initContainerStatuses: statuses } };
}

function count(expected: ExpectedImage[], pages: Pod[][], nodes: number) {
  const counter = new CoverageCounter(expected);
  for (const page of pages) counter.add(page);
  return counter.result(nodes);
}

describe('expectedImages', () => {
  it('takes a pin from the reference, a recorded digest from the template, and the majority otherwise', () => {
    assert.deepEqual(expectedImages([TAG, PINNED, 'docker.io/x:1'], { [TAG]: D1 }), [
      { image: TAG, basis: 'registry', digest: D1 },
      { image: PINNED, basis: 'pinned', digest: D3 },
      { image: 'docker.io/x:1', basis: 'majority' },
    ]);
  });

  it('does not trust a recorded digest this pass could not confirm with the registry', () => {
    assert.deepEqual(expectedImages([TAG], { [TAG]: D1 }, new Set([TAG])), [{ image: TAG, basis: 'majority' }]);
  });

  it('lists an image configured twice once', () => {
    assert.equal(expectedImages([TAG, TAG], {}).length, 1);
  });

  it('ignores a recorded digest for an image of that name inherited from the prototype', () => {
    assert.deepEqual(expectedImages(['constructor'], {}), [{ image: 'constructor', basis: 'majority' }]);
  });
});

describe('CoverageCounter', () => {
  const expected = expectedImages([TAG, PINNED], { [TAG]: D1 });

  it('counts nodes at the current digest, at another, pulling and failing, across pages', () => {
    const coverage = count(expected, [
      [pod('n1', { digest: D1 }), pod('n2', { digest: D1 })],
      [pod('n3', { digest: D2 }), pod('n4', { waiting: 'ContainerCreating' }, 'absent'), pod('n5', { waiting: 'ImagePullBackOff' }, 'absent')],
    ], 6);
    assert.equal(coverage.expected, 6);
    assert.equal(coverage.withPod, 5);
    assert.equal(coverage.complete, 2);
    const [code, tools] = coverage.images;
    assert.deepEqual(code, {
      image: TAG, basis: 'registry', digest: D1, current: 2, otherDigests: [{ digest: D2, nodes: 1 }], unverified: 0,
      pulling: [{ reason: 'ContainerCreating', nodes: 1, exampleNode: 'n4' }],
      failing: [{ reason: 'ImagePullBackOff', nodes: 1, exampleNode: 'n5' }],
    });
    assert.equal(tools?.current, 3);
    assert.deepEqual(tools?.pulling, [{ reason: 'not started', nodes: 2, exampleNode: 'n4' }]);
    assert.equal(coverage.incompleteNodes, 3);
    assert.deepEqual(coverage.incomplete.map((node) => node.node), ['n3', 'n4', 'n5']);
    assert.deepEqual(coverage.incomplete[0]?.images, [{ image: TAG, state: 'other-digest', detail: D2 }]);
    assert.deepEqual(coverage.incomplete[2]?.images, [
      { image: TAG, state: 'failing', detail: 'ImagePullBackOff' },
      { image: PINNED, state: 'pulling', detail: 'not started' },
    ]);
  });

  it('compares a pinned image with its pin, whatever most nodes hold', () => {
    const coverage = count(expected, [[pod('n1', { digest: D1 }, { digest: D2 }), pod('n2', { digest: D1 }, { digest: D2 }), pod('n3', { digest: D1 })]], 3);
    assert.equal(coverage.images[1]?.current, 1);
    assert.deepEqual(coverage.images[1]?.otherDigests, [{ digest: D2, nodes: 2 }]);
  });

  it('takes the digest most nodes hold as current on the majority basis, the lower one on a tie', () => {
    const majority = expectedImages([TAG, PINNED], {});
    const coverage = count(majority, [[pod('n1', { digest: D2 }), pod('n2', { digest: D1 }), pod('n3', { digest: D2 })]], 3);
    assert.equal(coverage.images[0]?.digest, D2);
    assert.equal(coverage.images[0]?.current, 2);
    const tie = count(majority, [[pod('n1', { digest: D2 }), pod('n2', { digest: D1 })]], 2);
    assert.equal(tie.images[0]?.digest, D1);
  });

  it('counts an image pulled without a reported digest as unverified, and such a node as complete', () => {
    const coverage = count(expected, [[pod('n1', 'running-no-id')]], 1);
    assert.equal(coverage.images[0]?.unverified, 1);
    assert.equal(coverage.images[0]?.current, 0);
    assert.equal(coverage.complete, 1);
  });

  it('counts a container waiting to restart after its image was pulled as holding it', () => {
    const restarting: Pod = pod('n1', { digest: D1 });
    const code = restarting.status?.initContainerStatuses?.[0];
    assert.ok(code);
    code.state = { waiting: { reason: 'CrashLoopBackOff' } };
    assert.equal(count(expected, [[restarting]], 1).images[0]?.current, 1);
  });

  it('reports a failed container with no image as failing with its exit code', () => {
    const coverage = count(expected, [[pod('n1', { terminated: 2 })]], 1);
    assert.deepEqual(coverage.images[0]?.failing.map((reason) => reason.reason), ['Error']);
  });

  it('skips pods going away and a second pod on a node already counted', () => {
    const coverage = count(expected, [[pod('n1', { digest: D2 }, undefined, { deletionTimestamp: '2026-01-01T00:00:00Z' }), pod('n1', { digest: D1 }), pod('n1', { digest: D2 })]], 1);
    assert.equal(coverage.withPod, 1);
    assert.equal(coverage.complete, 1);
  });

  it('skips pods not on a node yet', () => {
    const unscheduled = pod('n1', 'absent');
    delete unscheduled.spec.nodeName;
    assert.equal(count(expected, [[unscheduled]], 1).withPod, 0);
  });

  it('counts an image missing from a pod of an earlier revision as pulling', () => {
    const old = pod('n1', { digest: D1 });
    old.spec.initContainers = old.spec.initContainers?.filter((container) => container.image !== PINNED);
    assert.deepEqual(count(expected, [[old]], 1).images[1]?.pulling.map((reason) => reason.reason), ['pod of an earlier revision']);
  });

  it(`lists at most ${String(LISTED_NODES)} incomplete nodes, by name, and counts them all`, () => {
    const pods = Array.from({ length: LISTED_NODES + 5 }, (_, index) => pod(`n${String(index).padStart(3, '0')}`, { digest: D2 }));
    const coverage = count(expected, [pods.reverse()], pods.length);
    assert.equal(coverage.incomplete.length, LISTED_NODES);
    assert.equal(coverage.incompleteNodes, LISTED_NODES + 5);
    assert.equal(coverage.incomplete[0]?.node, 'n000');
  });
});

describe('coverage reports', () => {
  const expected = expectedImages([TAG, PINNED], { [TAG]: D1 });
  const mixed = count(expected, [[pod('n1', { digest: D1 }), pod('n2', { digest: D2 }), pod('n3', { waiting: 'ErrImagePull' }, 'absent')]], 4);

  it('summarizes only the exceptions, digests shortened', () => {
    assert.deepEqual(coverageSummary(mixed), {
      complete: 1,
      expected: 4,
      basis: { registry: 1, pinned: 1 },
      images: [
        { image: TAG, basis: 'registry', current: 1, otherDigest: { [shortDigest(D2)]: 1 }, failing: { ErrImagePull: 1 }, noPod: 1 },
        { image: PINNED, basis: 'pinned', current: 2, pulling: { 'not started': 1 }, noPod: 1 },
      ],
    });
  });

  it('summarizes a complete install as two numbers and the basis', () => {
    const complete = count(expected, [[pod('n1', { digest: D1 })]], 1);
    assert.deepEqual(coverageSummary(complete), { complete: 1, expected: 1, basis: { registry: 1, pinned: 1 } });
  });

  it('shows three digests or reasons per image and adds up the rest', () => {
    const digests = [D1, D2, D3, `sha256:${'4'.repeat(64)}`, `sha256:${'5'.repeat(64)}`];
    const pods = digests.map((digest, index) => pod(`n${String(index)}`, { digest }));
    const summary = coverageSummary(count(expectedImages([TAG, PINNED], { [TAG]: `sha256:${'9'.repeat(64)}` }), [pods], 5)) as { images: { otherDigest: Record<string, number> }[] };
    assert.equal(Object.keys(summary.images[0]?.otherDigest ?? {}).length, 4);
    assert.equal(summary.images[0]?.otherDigest.other, 2);
  });

  it('warns of nodes at another digest, naming the image, the counts and the basis', () => {
    assert.deepEqual(staleDigestWarnings({ daemonSet: 'kip', set: 'default', coverage: mixed }), [
      `${TAG}: 1 of 4 nodes of DaemonSet kip hold another digest than the digest the registry gave (${shortDigest(D1)}): ${shortDigest(D2)} on 1 node; they pull the current one when their pod is next replaced`,
    ]);
    assert.deepEqual(staleDigestWarnings({ daemonSet: 'kip', set: 'default', coverage: count(expected, [[pod('n1', { digest: D1 })]], 1) }), []);
  });

  it('gives the top reason of an image, failing before pulling when as common', () => {
    assert.equal(topReason(mixed.images[0]!), 'ErrImagePull (1 node, e.g. n3)');
    assert.equal(topReason(count(expected, [[pod('n1', { digest: D2 })]], 1).images[0]!), `other digest ${shortDigest(D2)} (1 node)`);
    assert.equal(topReason(count(expected, [[pod('n1', { digest: D1 })]], 1).images[0]!), '-');
  });

  it('writes the status ConfigMap as block YAML with full digests, the same bytes for the same coverage', () => {
    const data = statusData([{ daemonSet: 'kip', set: 'default', coverage: mixed }]);
    const again = statusData([{ daemonSet: 'kip', set: 'default', coverage: count(expected, [[pod('n3', { waiting: 'ErrImagePull' }, 'absent'), pod('n2', { digest: D2 }), pod('n1', { digest: D1 })]], 4) }]);
    assert.equal(data['coverage.yaml'], again['coverage.yaml']);
    const text = data['coverage.yaml'] ?? '';
    assert.match(text, /^daemonSets:\n {2}- name: "kip"\n {4}set: "default"\n {4}nodes:\n {6}expected: 4\n/);
    assert.deepEqual(loadYaml(text), JSON.parse(JSON.stringify(coverageDocument([{ daemonSet: 'kip', set: 'default', coverage: mixed }]))));
    assert.ok(text.includes(`digest: "${D2}"`));
    assert.ok(!/\d{4}-\d\d-\d\dT/.test(text), 'no timestamp');
  });
  it('lists at most 10 other digests per image in the status ConfigMap, and counts the rest, so it stays far below 1 MiB', () => {
    const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
    const nodes = Array.from({ length: 2_000 }, (_, n) => pod(`node-${String(n)}`, { digest: n < 1_000 ? D1 : digest(1_000 + (n % 600)) }));
    const coverage = count(expected, [nodes], nodes.length);
    const text = statusData([{ daemonSet: 'kip', set: 'default', coverage }])['coverage.yaml'] ?? '';
    const image = (loadYaml(text) as { daemonSets: { images: { otherDigests?: unknown[]; otherDigestsNotListed?: unknown }[] }[] }).daemonSets[0]?.images[0];
    assert.equal(image?.otherDigests?.length, 10);
    assert.deepEqual(image?.otherDigestsNotListed, { digests: 590, nodes: 1_000 - 10 * 2 });
    assert.ok(text.length < 16_384, `${String(text.length)} bytes`);
    assert.equal(coverage.images[0]?.otherDigests.length, 600, 'the status command still sees them all');
  });
});

describe('toBlockYaml', () => {
  it('writes nested objects and arrays, empty ones in flow style, strings quoted', () => {
    assert.equal(toBlockYaml({ a: 1, b: 'x: y', c: [], d: {}, e: [{ f: true }, 'g', [1]] }).trimStart(),
      'a: 1\nb: "x: y"\nc: []\nd: {}\ne:\n  - f: true\n  - "g"\n  -\n    - 1\n');
  });

  it('quotes keys that are not plain words', () => {
    assert.equal(toBlockYaml({ 'a b': 1, 'x:y': 2 }).trimStart(), '"a b": 1\n"x:y": 2\n');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArguments } from '../src/cli/arguments.ts';
import { MAX_NODE_LINES, installDaemonSets, readStatus, statusJson, statusTable } from '../src/cli/status.ts';
import type { DaemonSet, Pod } from '../src/kube/k8s-types.ts';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const IMAGE = 'quay.io/che/code:next';

function daemonSet(name: string, labels: Record<string, string> = {}, desired = 3): DaemonSet {
  return {
    metadata: { name, labels },
    spec: {
      selector: { matchLabels: {} },
      template: {
        metadata: { annotations: { 'kubernetes-image-puller/digests': JSON.stringify({ [IMAGE]: D1 }) } },
        spec: { initContainers: [{ name: 'kip-install-helper', image: 'kip:1' }, { name: 'code', image: IMAGE }], containers: [] },
      },
    },
    status: { desiredNumberScheduled: desired },
  };
}

function pod(owner: string, node: string, digest: string | undefined): Pod {
  return {
    metadata: { name: `${owner}-${node}`, labels: { 'app.kubernetes.io/instance': owner } },
    spec: { nodeName: node, initContainers: [{ name: 'code', image: IMAGE }], containers: [] },
    status: {
      initContainerStatuses: [digest === undefined
        ? { name: 'code', image: IMAGE, state: { waiting: { reason: 'ErrImagePull' } } }
        : { name: 'code', image: IMAGE, imageID: `quay.io/che/code@${digest}`, state: { terminated: { exitCode: 0 } } }],
    },
  };
}

function cluster(daemonSets: DaemonSet[], pages: Pod[][]) {
  const asked: string[] = [];
  return {
    asked,
    listDaemonSets: (selector: string) => {
      asked.push(`daemonsets ${selector}`);
      return Promise.resolve(daemonSets);
    },
    async visitPods(selector: string, visit: (pod: Pod) => void) {
      asked.push(`pods ${selector}`);
      for (const page of pages) for (const pod of await Promise.resolve(page)) visit(pod);
    },
  };
}

describe('status arguments', () => {
  it('reads the namespace, the install and the output format', () => {
    assert.deepEqual(parseArguments(['status']), { status: { namespace: undefined, name: undefined, output: 'table' } });
    assert.deepEqual(parseArguments(['status', '-n', 'ns', '--name=kip', '-o', 'json']), { status: { namespace: 'ns', name: 'kip', output: 'json' } });
    assert.deepEqual(parseArguments(['status', '--namespace=ns', '--output=table']), { status: { namespace: 'ns', name: undefined, output: 'table' } });
  });

  it('refuses an unknown flag, an unknown format and a flag without its value', () => {
    assert.deepEqual(parseArguments(['status', '--watch']), { unknown: '--watch' });
    assert.deepEqual(parseArguments(['status', '-o', 'yaml']), { unknown: '-o yaml' });
    assert.deepEqual(parseArguments(['status', '-n']), { unknown: '-n (it needs a value)' });
    assert.deepEqual(parseArguments(['status', '--name=']), { unknown: '--name ""' });
  });

  it('keeps the pass flags as they were', () => {
    assert.equal(parseArguments([]), 'pass');
    assert.equal(parseArguments(['--dry-run=server']), 'server-dry-run');
    assert.deepEqual(parseArguments(['--status']), { unknown: '--status' });
  });
});

describe('status', () => {
  it('takes the DaemonSet named after the install and those of its sets, not another install\'s', () => {
    const listed = [daemonSet('other'), daemonSet('kip-gpu', { 'kubernetes-image-puller/install': 'kip' }), daemonSet('kip'), daemonSet('x', { 'kubernetes-image-puller/install': 'other' })];
    assert.deepEqual(installDaemonSets(listed, 'kip').map((item) => item.metadata.name), ['kip', 'kip-gpu']);
  });

  it('reads the DaemonSets once and the pods in one paged list, and counts each pod for its DaemonSet', async () => {
    const api = cluster(
      [daemonSet('kip'), daemonSet('kip-gpu', { 'kubernetes-image-puller/install': 'kip', 'kubernetes-image-puller/set': 'gpu' }, 1)],
      [[pod('kip', 'n1', D1), pod('kip-gpu', 'n1', D2)], [pod('kip', 'n2', D2), pod('kip', 'n3', undefined), pod('stranger', 'n4', D1)]],
    );
    const entries = await readStatus(api, 'kip');
    assert.deepEqual(api.asked, [
      'daemonsets app.kubernetes.io/managed-by=kubernetes-image-puller,app.kubernetes.io/name=kubernetes-image-puller',
      'pods app.kubernetes.io/managed-by=kubernetes-image-puller,app.kubernetes.io/name=kubernetes-image-puller',
    ]);
    assert.deepEqual(entries.map(({ daemonSet: name, set, coverage }) => [name, set, coverage.complete, coverage.expected, coverage.withPod]), [['kip', 'default', 1, 3, 3], ['kip-gpu', 'gpu', 0, 1, 1]]);
  });

  it('prints one row per image and only the nodes that are not complete', async () => {
    const entries = await readStatus(cluster([daemonSet('kip', {}, 4)], [[pod('kip', 'n1', D1), pod('kip', 'n2', D2), pod('kip', 'n3', undefined)]]), 'kip');
    const lines = statusTable(entries, { namespace: 'ns', install: 'kip' }).split('\n');
    assert.equal(lines[0], 'DaemonSet kip (set default): 1/4 nodes complete, 1 without a pod yet');
    assert.match(lines[1] ?? '', /^ {2}IMAGE +BASIS +CURRENT +OTHER DIGEST +PULLING +FAILING +TOP REASON$/);
    assert.match(lines[2] ?? '', /^ {2}quay\.io\/che\/code:next +registry +1\/4 +1 +0 +1 +ErrImagePull \(1 node, e\.g\. n3\)$/);
    assert.equal(lines[3], '  nodes not complete (2):');
    assert.equal(lines[4], `    n2: ${IMAGE} other-digest sha256:bbbbbbbbbbbb`);
    assert.equal(lines[5], `    n3: ${IMAGE} failing (ErrImagePull)`);
    assert.equal(lines.length, 7);
  });

  it(`lists at most ${String(MAX_NODE_LINES)} nodes, then says how many more`, async () => {
    const pods = Array.from({ length: 25 }, (_, index) => pod('kip', `n${String(index).padStart(2, '0')}`, D2));
    const text = statusTable(await readStatus(cluster([daemonSet('kip', {}, 25)], [pods]), 'kip'), { namespace: 'ns', install: 'kip' });
    assert.equal(text.split('\n').filter((line) => line.startsWith('    n')).length, MAX_NODE_LINES);
    assert.match(text, /\n {4}and 5 more nodes\n$/);
  });

  it('says so when the install has no DaemonSet', () => {
    assert.equal(statusTable([], { namespace: 'ns', install: 'kip' }), 'no DaemonSet of install "kip" in namespace ns (run a pass first, or pass --name and -n)\n');
  });

  it('prints JSON with every digest in full', async () => {
    const entries = await readStatus(cluster([daemonSet('kip', {}, 2)], [[pod('kip', 'n1', D1), pod('kip', 'n2', D2)]]), 'kip');
    const parsed = JSON.parse(statusJson(entries)) as { daemonSets: { images: { digest: string; otherDigests: { digest: string }[] }[] }[] };
    assert.equal(parsed.daemonSets[0]?.images[0]?.digest, D1);
    assert.equal(parsed.daemonSets[0]?.images[0]?.otherDigests[0]?.digest, D2);
  });
});

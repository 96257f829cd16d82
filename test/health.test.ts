import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Diagnosis, MAX_DIAGNOSIS_LINES, podFindings, rolloutOf, shortMessage, summarize } from '../src/pass/health.ts';
import type { ContainerStatus, DaemonSet, Pod } from '../src/kube/k8s-types.ts';

function daemonSet(status: DaemonSet['status'], generation = 2): DaemonSet {
  return { metadata: { generation }, spec: { selector: { matchLabels: {} }, template: { metadata: {}, spec: { containers: [] } } }, status };
}

function pod(node: string, state: 'ready' | { image: string; reason: string; init?: boolean } | 'unschedulable' | 'pending'): Pod {
  const spec = {
    nodeName: node,
    initContainers: [{ name: 'a', image: 'quay.io/a:1' }, { name: 'b', image: 'quay.io/b:1' }],
    containers: [{ name: 'kip-hold', image: 'kip:1' }],
  };
  if (state === 'ready') return { metadata: { name: `p-${node}` }, spec, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  if (state === 'unschedulable') {
    return { metadata: { name: `p-${node}` }, spec: { ...spec, nodeName: undefined }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes available' }] } };
  }
  if (state === 'pending') return { metadata: { name: `p-${node}` }, spec, status: { phase: 'Pending' } };
  const name = state.image === 'quay.io/b:1' ? 'b' : 'kip-hold';
  const statuses = [{ name, image: state.image, state: { waiting: { reason: state.reason, message: 'Back-off pulling image' } } }];
  return {
    metadata: { name: `p-${node}` },
    spec,
    status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], ...(state.init === false ? { containerStatuses: statuses } : { initContainerStatuses: statuses }) },
  };
}

describe('rolloutOf', () => {
  it('is complete when the latest generation is observed and every node is updated and available', () => {
    assert.equal(rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 })).complete, true);
  });
  it('is not complete while the controller has not seen the latest generation', () => {
    assert.equal(rolloutOf(daemonSet({ observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 })).complete, false);
  });
  it('is not complete while old pods remain or pods are unavailable', () => {
    assert.equal(rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3 })).complete, false);
    assert.equal(rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })).complete, false);
  });
  it('treats zero matching nodes as complete (the pass warns about it)', () => {
    const rollout = rolloutOf(daemonSet({ observedGeneration: 2 }));
    assert.equal(rollout.complete, true);
    assert.equal(rollout.desired, 0);
  });
  it('is not complete for a fresh object with no status', () => {
    assert.equal(rolloutOf(daemonSet(undefined, 1)).complete, false);
  });
});

describe('diagnosis', () => {
  it('ignores ready pods and explains unready ones by image and reason', () => {
    assert.deepEqual(podFindings(pod('n1', 'ready')), []);
    assert.deepEqual(podFindings(pod('n1', { image: 'quay.io/b:1', reason: 'ImagePullBackOff' })), [
      { image: 'quay.io/b:1', reason: 'ImagePullBackOff', message: 'Back-off pulling image' },
    ]);
    assert.equal(podFindings(pod('n1', 'unschedulable'))[0]?.reason, 'Unschedulable');
    assert.match(podFindings(pod('n1', 'pending'))[0]?.reason ?? '', /Pending, not ready/);
  });

  it('groups 5,000 nodes into a few lines with node counts, largest first', () => {
    const diagnosis = new Diagnosis();
    const pods: Pod[] = [];
    for (let index = 0; index < 5000; index += 1) {
      const node = `node-${String(index)}`;
      if (index % 10 === 0) pods.push(pod(node, { image: 'quay.io/b:1', reason: 'ErrImagePull' }));
      else if (index % 3 === 0) pods.push(pod(node, { image: 'quay.io/b:1', reason: 'ImagePullBackOff' }));
      else if (index % 7 === 0) pods.push(pod(node, { image: 'kip:1', reason: 'CrashLoopBackOff', init: false }));
      else pods.push(pod(node, 'ready'));
    }
    for (let start = 0; start < pods.length; start += 500) diagnosis.add(pods.slice(start, start + 500));
    const groups = diagnosis.groups();
    assert.deepEqual(groups.map((group) => [group.image, group.reason, group.nodes]), [
      ['quay.io/b:1', 'ImagePullBackOff', 1500],
      ['kip:1', 'CrashLoopBackOff', 428],
      ['quay.io/b:1', 'ErrImagePull', 500],
    ].sort((a, b) => Number(b[2]) - Number(a[2])));
    const lines = summarize(groups, rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 5000, numberAvailable: 2572 })));
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^quay\.io\/b:1: ImagePullBackOff on 1500 nodes, e\.g\. node-3/);
  });

  it('caps the summary and says how much was left out', () => {
    const diagnosis = new Diagnosis();
    diagnosis.add(Array.from({ length: 20 }, (_, index) => pod(`n${String(index)}`, { image: `quay.io/b:1`, reason: `Reason${String(index)}` })));
    const lines = summarize(diagnosis.groups(), rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 20 })));
    assert.equal(lines.length, MAX_DIAGNOSIS_LINES + 1);
    assert.match(lines.at(-1) ?? '', /and 12 more image\/reason groups on 12 nodes/);
  });

  it('counts a node once per group even when several pods there report it', () => {
    const diagnosis = new Diagnosis();
    diagnosis.add([pod('n1', { image: 'quay.io/b:1', reason: 'ErrImagePull' }), pod('n1', { image: 'quay.io/b:1', reason: 'ErrImagePull' })]);
    assert.equal(diagnosis.groups()[0]?.nodes, 1);
    assert.equal(diagnosis.podsSeen, 2);
  });

  it('still says something when no pod reports an error', () => {
    const lines = summarize([], rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 4, numberAvailable: 1 })));
    assert.deepEqual(lines, ['3 of 4 nodes have no available pod yet, and no pod reports an error']);
  });
});

function groupsOf(pods: Pod[]) {
  const diagnosis = new Diagnosis();
  diagnosis.add(pods);
  return diagnosis.groups();
}

describe('an install container that cannot start the helper: KIP_IMAGE lacks it', () => {
  const goImage = 'quay.io/eclipse/kubernetes-image-puller:next';
  function installing(status: Omit<ContainerStatus, 'name' | 'image'>, node = 'n1'): Pod {
    return {
      metadata: { name: `p-${node}` },
      spec: {
        nodeName: node,
        initContainers: [{ name: 'kip-install-helper', image: goImage }, { name: 'a', image: 'quay.io/a:1' }],
        containers: [{ name: 'kip-hold', image: goImage }],
      },
      status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], initContainerStatuses: [{ name: 'kip-install-helper', image: goImage, ...status }] },
    };
  }
  const noSuchFile = 'failed to create containerd task: OCI runtime create failed: exec: "/usr/local/bin/kip-helper": stat /usr/local/bin/kip-helper: no such file or directory: unknown';
  const cases: Array<{ status: Omit<ContainerStatus, 'name' | 'image'>; why: string }> = [
    { status: { state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } }, lastState: { terminated: { exitCode: 128, reason: 'StartError', message: noSuchFile } } }, why: 'containerd, in back-off after a StartError' },
    { status: { state: { terminated: { exitCode: 128, reason: 'StartError', message: noSuchFile } } }, why: 'containerd, StartError' },
    { status: { state: { terminated: { exitCode: 127, reason: 'ContainerCannotRun' } } }, why: 'docker, exit code 127' },
    { status: { state: { waiting: { reason: 'RunContainerError', message: noSuchFile } } }, why: 'a runtime that reports it while waiting' },
    { status: { state: { waiting: { reason: 'CreateContainerError', message: 'executable file not found in $PATH' } } }, why: 'CRI-O' },
  ];
  for (const c of cases) {
    it(`says so and how to fix it (${c.why})`, () => {
      const findings = podFindings(installing(c.status));
      assert.equal(findings.length, 1, JSON.stringify(findings));
      const lines = summarize(groupsOf([installing(c.status, 'n1'), installing(c.status, 'n2')]), rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 2 })));
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0] ?? '', new RegExp(`^KIP_IMAGE=${goImage.replace(/[.]/g, '\\.')}: no /usr/local/bin/kip-helper in the image on 2 nodes, e\\.g\\. n1 .*; set KIP_IMAGE to this program's image \\(quay\\.io/eclipse/kubernetes-image-puller:latest\\)`));
    });
  }

  it('keeps a pull failure of KIP_IMAGE a pull failure', () => {
    const findings = podFindings(installing({ state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }));
    assert.deepEqual(findings, [{ image: goImage, reason: 'ImagePullBackOff', message: 'Back-off pulling image' }]);
  });

  it('does not blame KIP_IMAGE for a cached image that exits with 127', () => {
    const pod = installing({ state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    pod.status?.initContainerStatuses?.push({ name: 'a', image: 'quay.io/a:1', state: { terminated: { exitCode: 127, reason: 'Error' } } });
    assert.deepEqual(podFindings(pod), [{ image: 'quay.io/a:1', reason: 'Error', message: undefined }]);
  });
});

describe('summarize', () => {
  const group = (image: string, reason: string, nodes: number) => ({ image, reason, nodes, exampleNode: 'n1', message: undefined });

  it('counts the groups past the cap in singular and plural', () => {
    const rollout = { complete: false, observed: true, desired: 20, updated: 0, ready: 0, available: 0 };
    const groups = (lastNodes: number) => [...Array.from({ length: MAX_DIAGNOSIS_LINES }, (_, i) => group(`i${String(i)}`, 'ErrImagePull', 2)), group('last', 'ErrImagePull', lastNodes)];
    assert.equal(summarize(groups(1), rollout)[MAX_DIAGNOSIS_LINES], 'and 1 more image/reason group on 1 node');
    assert.equal(summarize(groups(2), rollout)[MAX_DIAGNOSIS_LINES], 'and 1 more image/reason group on 2 nodes');
  });

  it('accounts for nodes that have no pod to blame alongside the groups', () => {
    const lines = summarize([group('quay.io/b:1', 'ImagePullBackOff', 428), group('quay.io/c:1', 'ErrImagePull', 135)], rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 1000, numberAvailable: 0 })));
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '437 of 1000 nodes have no available pod yet and no pod error to show');
  });

  it('ranks a named image above generic not-ready groups, whatever their size', () => {
    const diagnosis = new Diagnosis();
    diagnosis.add([
      ...Array.from({ length: 7 }, (_, index) => pod(`p${String(index)}`, 'pending')),
      ...Array.from({ length: 3 }, (_, index) => pod(`b${String(index)}`, { image: 'quay.io/b:1', reason: 'ImagePullBackOff' })),
    ]);
    assert.deepEqual(diagnosis.groups().map((g) => [g.image, g.nodes]), [['quay.io/b:1', 3], ['-', 7]]);
  });
});

describe('shortMessage', () => {
  // What containerd 1.6 behind a real kubelet reports for a tag the registry does not have.
  const notFound =
    'rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:35009/kip/one-file:missing": ' +
    'failed to resolve reference "127.0.0.1:35009/kip/one-file:missing": 127.0.0.1:35009/kip/one-file:missing: not found';
  const cases: Array<{ message: string; expected: string }> = [
    { message: 'Back-off pulling image', expected: 'Back-off pulling image' },
    { message: 'x'.repeat(120), expected: 'x'.repeat(120) },
    { message: notFound, expected: 'rpc error: code = NotFound desc = failed … 127.0.0.1:35009/kip/one-file:missing: not found' },
    { message: 'y'.repeat(200), expected: `${'y'.repeat(40)} … ${'y'.repeat(77)}` },
  ];
  for (const { message, expected } of cases) {
    it(`${message.slice(0, 30)}… (${String(message.length)} characters)`, () => {
      const short = shortMessage(message);
      assert.equal(short, expected);
      assert.ok(short.length <= 120, `${String(short.length)} characters`);
    });
  }

  it('keeps what the registry answered in the summary line', () => {
    const lines = summarize(
      [{ image: '127.0.0.1:35009/kip/one-file:missing', reason: 'ErrImagePull', nodes: 1, exampleNode: 'kip-real-0', message: notFound }],
      rolloutOf(daemonSet({ observedGeneration: 2, desiredNumberScheduled: 1, numberAvailable: 0 })),
    );
    assert.match(lines[0] ?? '', /^127\.0\.0\.1:35009\/kip\/one-file:missing: ErrImagePull on 1 node, e\.g\. kip-real-0 \(.*: not found\)$/);
  });
});

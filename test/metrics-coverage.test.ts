import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoverageCounter, expectedImages } from '../src/coverage/count.ts';
import type { DaemonSetCoverage } from '../src/coverage/report.ts';
import type { Pod } from '../src/kube/k8s-types.ts';
import { metricsCoverage } from '../src/metrics/from-pass.ts';

const A = `quay.io/x/a@sha256:${'1'.repeat(64)}`;
const B = `quay.io/x/b@sha256:${'2'.repeat(64)}`;

function pod(node: string, image: string, held: 'pin' | 'other' | 'failing' | 'no-digest'): Pod {
  const status = held === 'failing'
    ? { name: 'c', image, state: { waiting: { reason: 'ErrImagePull' } } }
    : { name: 'c', image, ...(held === 'no-digest' ? {} : { imageID: `x@${held === 'pin' ? image.split('@')[1] ?? '' : `sha256:${'9'.repeat(64)}`}` }), state: { terminated: { exitCode: 0 } } };
  return { metadata: { name: node }, spec: { nodeName: node, initContainers: [{ name: 'c', image }], containers: [] }, status: { initContainerStatuses: [status] } };
}

function measured(daemonSet: string, set: string, image: string, pods: Pod[], expected: number): DaemonSetCoverage {
  const counter = new CoverageCounter(expectedImages([image], {}));
  counter.add(pods);
  return { daemonSet, set, coverage: counter.result(expected) };
}

describe('metricsCoverage', () => {
  it('gives a set the nodes complete in all of its chunks, and nodes per image and state', () => {
    const figures = metricsCoverage([
      measured('kip', 'default', A, [pod('n1', A, 'pin'), pod('n2', A, 'no-digest'), pod('n3', A, 'other')], 3),
      measured('kip-gpu-1', 'gpu', A, [pod('n1', A, 'pin'), pod('n2', A, 'pin')], 2),
      measured('kip-gpu-2', 'gpu', B, [pod('n1', B, 'pin'), pod('n2', B, 'failing')], 2),
    ]);
    assert.deepEqual(figures.sets, [{ set: 'default', nodesExpected: 3, nodesComplete: 2 }, { set: 'gpu', nodesExpected: 2, nodesComplete: 1 }]);
    assert.deepEqual(figures.images, [
      { set: 'default', image: A, state: 'current', nodes: 2 },
      { set: 'default', image: A, state: 'other-digest', nodes: 1 },
      { set: 'gpu', image: A, state: 'current', nodes: 2 },
      { set: 'gpu', image: B, state: 'current', nodes: 1 },
      { set: 'gpu', image: B, state: 'failing', nodes: 1 },
    ]);
  });
});

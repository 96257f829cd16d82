import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CoverageCounter, expectedImages } from '../src/coverage/count.ts';
import type { Pod } from '../src/kube/k8s-types.ts';
import { podFields } from '../src/kube/pod-fields.ts';
import { podFindings } from '../src/pass/health.ts';

const REAL_POD = JSON.parse(readFileSync(new URL('fixtures/kwok-pod-20-images.json', import.meta.url), 'utf8')) as Pod & { metadata: { managedFields: unknown[] } };

/** The real pod, with its tool images failing in all the ways a diagnosis and the coverage tell apart. */
function troubledPod(): Pod {
  const pod = structuredClone(REAL_POD);
  const statuses = pod.status?.initContainerStatuses ?? [];
  const [, pulled, pulling, failing, crashed] = statuses;
  if (pulled === undefined || pulling === undefined || failing === undefined || crashed === undefined) throw new Error('the fixture has fewer init containers than expected');
  pulled.imageID = `${pulled.image}@sha256:${'a'.repeat(64)}`;
  pulling.state = { waiting: { reason: 'PodInitializing' } };
  failing.state = { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x": not found' } };
  crashed.state = { terminated: { reason: 'Error', exitCode: 1, message: 'exec format error' } };
  crashed.lastState = { terminated: { reason: 'Error', exitCode: 1 } };
  if (pod.status !== undefined) pod.status.conditions = [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with incomplete status' }];
  return pod;
}

describe('podFields', () => {
  it('keeps of a real pod what a pass reads and drops its managed fields and the rest of its spec', () => {
    const trimmed = podFields(REAL_POD);
    assert.ok(REAL_POD.metadata.managedFields.length > 0, 'the fixture is a pod as the server lists it');
    assert.deepEqual(Object.keys(trimmed.metadata).sort(), ['labels', 'name']);
    assert.deepEqual(Object.keys(trimmed.spec).sort(), ['containers', 'initContainers', 'nodeName']);
    assert.deepEqual(trimmed.spec.initContainers, REAL_POD.spec.initContainers?.map(({ name, image }) => ({ name, image })));
    assert.equal(trimmed.spec.nodeName, REAL_POD.spec.nodeName);
    assert.equal(trimmed.metadata.labels, REAL_POD.metadata.labels);
    assert.ok(JSON.stringify(trimmed).length < JSON.stringify(REAL_POD).length / 4, `${String(JSON.stringify(trimmed).length)} bytes left of ${String(JSON.stringify(REAL_POD).length)}`);
  });

  it('keeps what the coverage counts and the diagnosis reports', () => {
    const pod = troubledPod();
    const trimmed = podFields(pod);
    assert.deepEqual(podFindings(trimmed), podFindings(pod));
    assert.ok(podFindings(pod).length >= 2, 'the diagnosis has something to report');
    const images = (pod.spec.initContainers ?? []).map((container) => container.image);
    const count = (pods: Pod[]) => {
      const counter = new CoverageCounter(expectedImages(images, {}));
      counter.add(pods);
      return counter.result(1);
    };
    assert.deepEqual(count([trimmed]), count([pod]));
    assert.deepEqual(podFields({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-12-03T00:00:00Z' } }).metadata.deletionTimestamp, '2026-12-03T00:00:00Z');
  });

  it('copies a container state\'s reason, exit code and message, and nothing else of it', () => {
    const pod = troubledPod();
    const statuses = podFields(pod).status?.initContainerStatuses ?? [];
    assert.deepEqual(statuses[4], {
      name: pod.status?.initContainerStatuses?.[4]?.name,
      image: pod.status?.initContainerStatuses?.[4]?.image,
      imageID: '',
      ready: true,
      state: { terminated: { reason: 'Error', exitCode: 1, message: 'exec format error' } },
      lastState: { terminated: { reason: 'Error', exitCode: 1 } },
    });
    assert.deepEqual(statuses[0]?.state, { terminated: { reason: 'Completed', exitCode: 0 } });
    assert.deepEqual(podFields({ metadata: {}, spec: { containers: [] }, status: { containerStatuses: [{ name: 'c', image: 'i', state: { running: { startedAt: 'now' } } }] } }).status,
      { containerStatuses: [{ name: 'c', image: 'i', state: { running: {} } }] });
  });

  it('reads a pod with no status or spec fields as a pod with none', () => {
    assert.deepEqual(podFields({ metadata: { name: 'p' } }), { metadata: { name: 'p' }, spec: { containers: [] } });
  });
});

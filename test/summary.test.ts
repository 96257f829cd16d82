// The one summary line a pass ends with: unchanged for an install without image sets, a section
// per DaemonSet with them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passSummary } from '../src/cli/summary.ts';
import { loadConfig } from '../src/config.ts';
import type { DaemonSetOutcome, PassOutcome } from '../src/pass.ts';

const figures = { durationMs: 420, requests: { total: 1, byVerb: { GET: 1 } }, warnings: [] };

function section(name: string, set: string, extra: Partial<DaemonSetOutcome> = {}): DaemonSetOutcome {
  return {
    name, set, chunk: 1, chunks: 1, images: 2, exitCode: 0, action: 'unchanged', changed: [], tolerated: [],
    rollout: { complete: true, observed: true, desired: 3, updated: 3, ready: 3, available: 3 },
    diagnosis: [], error: undefined, rejected: [], refresh: undefined, waitedMs: 0, diagnosisMs: 0, ...extra,
  };
}

function outcome(sections: DaemonSetOutcome[], extra: Partial<PassOutcome> = {}): PassOutcome {
  return {
    exitCode: 0, action: 'unchanged', changed: [], tolerated: [], rollout: { complete: true, observed: true, desired: 9, updated: 9, ready: 8, available: 9 },
    diagnosis: [], error: undefined, rejected: [], refresh: undefined, waitedMs: 0, diagnosisMs: 0, daemonSets: sections, removed: [], warnings: [], ...extra,
  };
}

describe('passSummary', () => {
  it('for IMAGES alone has the fields it always had, and no sections', () => {
    const config = loadConfig({ IMAGES: 'a=nginx:1;b=redis:7', NAMESPACE: 'cache' });
    const only = section('kubernetes-image-puller', 'default');
    const summary = passSummary(config, { ...outcome([only]), rollout: only.rollout }, figures);
    assert.deepEqual(Object.keys(summary), ['action', 'daemonset', 'namespace', 'changed', 'images', 'desired', 'ready', 'updated', 'available', 'durationMs', 'waitedMs', 'requests', 'exitCode']);
    assert.deepEqual([summary.daemonset, summary.images, summary.desired], ['kubernetes-image-puller', 2, 3]);
  });

  it('with sets has a section per DaemonSet, totals on top, and the removed DaemonSets', () => {
    const config = loadConfig({ IMAGES: 'a=nginx:1;b=redis:7', DAEMONSET_NAME: 'kip', MAX_IMAGES_PER_DAEMONSET: '2', IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: 'c=cuda:1;d=torch:2;e=jax:1' }]) });
    const summary = passSummary(config, outcome([
      section('kip', 'default'),
      section('kip-gpu', 'gpu', { chunks: 2, action: 'updated', changed: ['spec.template.spec.initContainers[c].image'] }),
      section('kip-gpu-2', 'gpu', {
        chunk: 2, chunks: 2, images: 1, exitCode: 3, error: 'not healthy after 300s (ROLLOUT_TIMEOUT_SECONDS)', diagnosis: ['broken.invalid/jax:1: ImagePullBackOff on 3 nodes, e.g. node-1'],
        rollout: { complete: false, observed: true, desired: 3, updated: 3, ready: 2, available: 2 },
      }),
    ], { exitCode: 3, action: 'updated', removed: ['kip-old'], error: 'kip-gpu-2: not healthy after 300s (ROLLOUT_TIMEOUT_SECONDS)' }), figures);
    assert.deepEqual([summary.action, summary.daemonset, summary.images, summary.desired, summary.ready, summary.exitCode, summary.removed], ['updated', 'kip', 5, 9, 8, 3, ['kip-old']]);
    assert.equal(summary.changed, undefined, 'each section says what it changed');
    assert.deepEqual(summary.daemonSets, [
      { daemonset: 'kip', set: 'default', action: 'unchanged', changed: [], images: 2, desired: 3, ready: 3, updated: 3, available: 3, exitCode: 0 },
      { daemonset: 'kip-gpu', set: 'gpu', chunk: '1/2', action: 'updated', changed: ['spec.template.spec.initContainers[c].image'], images: 2, desired: 3, ready: 3, updated: 3, available: 3, exitCode: 0 },
      {
        daemonset: 'kip-gpu-2', set: 'gpu', chunk: '2/2', action: 'unchanged', changed: [], images: 1, desired: 3, ready: 2, updated: 3, available: 2, exitCode: 3,
        diagnosis: ['broken.invalid/jax:1: ImagePullBackOff on 3 nodes, e.g. node-1'], error: 'not healthy after 300s (ROLLOUT_TIMEOUT_SECONDS)',
      },
    ]);
  });

  it('names the rejected set\'s section invalid-config and keeps the pass\'s own warnings', () => {
    const config = loadConfig({ IMAGES: 'a=nginx:1', DAEMONSET_NAME: 'kip', IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: 'c=cuda:1' }]) });
    const rejected = [{ variable: 'IMAGE_SETS', problem: 'set "gpu": "tolerations": the API server rejected it: …' }];
    const summary = passSummary(config, outcome([
      section('kip', 'default', { exitCode: 2, error: 'not written: …' }),
      section('kip-gpu', 'gpu', { exitCode: 2, action: 'failed', rejected }),
    ], { exitCode: 2, action: 'failed', rejected, warnings: ['may not "list" daemonsets'] }), figures);
    assert.deepEqual((summary.daemonSets as { action: string }[]).map(({ action }) => action), ['unchanged', 'invalid-config']);
    assert.deepEqual([summary.action, summary.invalid, summary.warnings], ['invalid-config', ['IMAGE_SETS'], ['may not "list" daemonsets']]);
  });
});

// The one summary line a pass ends with: unchanged for an install without image sets, a section
// per DaemonSet with them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passSummary } from '../src/cli/summary.ts';
import { loadConfig } from '../src/config/config.ts';
import type { DaemonSetOutcome, PassOutcome } from '../src/pass/run.ts';
import type { RegistryRequestCounts } from '../src/registry/client.ts';

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
    diagnosis: [], error: undefined, rejected: [], refresh: undefined, waitedMs: 0, diagnosisMs: 0, daemonSets: sections, removed: [], warnings: [], coverage: [], ...extra,
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

  it('keeps the diagnosis to 20 lines across sections when many DaemonSets fail, and says where the rest is', () => {
    const config = loadConfig({ IMAGES: 'a=nginx:1', DAEMONSET_NAME: 'kip', MAX_IMAGES_PER_DAEMONSET: '1', IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: 'c=cuda:1;d=torch:2;e=jax:1' }]) });
    const failing = (name: string, set: string, lines: number) => section(name, set, {
      exitCode: 3, diagnosis: Array.from({ length: lines }, (_, line) => `${name} line ${String(line + 1)}`),
    });
    const summary = passSummary(config, outcome([failing('kip', 'default', 9), failing('kip-gpu', 'gpu', 9), failing('kip-gpu-2', 'gpu', 9), failing('kip-gpu-3', 'gpu', 2)], { exitCode: 3 }), figures);
    const diagnoses = (summary.daemonSets as { diagnosis?: string[] }[]).map((entry) => entry.diagnosis ?? []);
    assert.equal(diagnoses.flat().length, 20);
    assert.deepEqual(diagnoses.map((lines) => lines.length), [9, 9, 1, 1]);
    assert.deepEqual(diagnoses[0], failing('kip', 'default', 9).diagnosis);
    const cut = passSummary(config, outcome([failing('kip', 'default', 12), failing('kip-gpu', 'gpu', 12)], { exitCode: 3 }), figures);
    assert.deepEqual((cut.daemonSets as { diagnosis: string[] }[]).map((entry) => [entry.diagnosis.length, entry.diagnosis.at(-1)]), [
      [12, 'kip line 12'],
      [8, 'and 5 more lines: kubectl describe daemonset kip-gpu (its Unhealthy Event)'],
    ]);
    assert.equal(diagnoses[2]?.[0], '9 lines of diagnosis: kubectl describe daemonset kip-gpu-2 (its Unhealthy Event)');
    assert.equal(diagnoses[3]?.[0], '2 lines of diagnosis: kubectl describe daemonset kip-gpu-3 (its Unhealthy Event)');
  });

  it('keeps to 20 lines when more than 20 DaemonSets fail: the last line names the Events of the rest', () => {
    const config = loadConfig({ IMAGES: 'a=nginx:1', DAEMONSET_NAME: 'kip', NAMESPACE: 'cache' });
    const sections = Array.from({ length: 25 }, (_, index) => section(`kip-${String(index + 1)}`, 'default', { exitCode: 3, diagnosis: ['one line', 'two lines'] }));
    const summary = passSummary(config, outcome(sections, { exitCode: 3 }), figures);
    const diagnoses = (summary.daemonSets as { diagnosis?: string[]; exitCode: number }[]);
    assert.equal(diagnoses.flatMap((entry) => entry.diagnosis ?? []).length, 20);
    assert.deepEqual(diagnoses[0]?.diagnosis, ['2 lines of diagnosis: kubectl describe daemonset kip-1 (its Unhealthy Event)']);
    assert.deepEqual(diagnoses[19]?.diagnosis, ['6 failing DaemonSets, kip-20 and the 5 after it: kubectl get events -n cache --field-selector involvedObject.kind=DaemonSet,reason=Unhealthy']);
    assert.deepEqual(diagnoses.slice(20).map((entry) => [entry.diagnosis, entry.exitCode]), Array.from({ length: 5 }, () => [undefined, 3]));
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

  describe('the registry section (REFRESH_MODE=digest)', () => {
    const config = loadConfig({ IMAGES: 'a=quay.io/x/a:1;b=docker.io/library/redis:7', NAMESPACE: 'cache' });
    const refresh = { templateAnnotations: {}, moved: [], firstSeen: [], unresolved: [], rateLimits: [], warnings: [] };
    const asked: RegistryRequestCounts = { total: 2, byHost: { 'quay.io': { HEAD: 1 }, 'registry-1.docker.io': { HEAD: 1 } } };
    const summaryWith = (extra: Partial<PassOutcome>, registryRequests = asked) =>
      passSummary(config, { ...outcome([section('kubernetes-image-puller', 'default')]), ...extra }, { ...figures, registryRequests });

    it('is there when every digest resolved and nothing moved: the requests by registry', () => {
      assert.deepEqual(summaryWith({ refresh }).registry, { requests: asked.byHost });
    });

    it('says what moved, what was first seen and which limits were read', () => {
      const rateLimits = [{ registry: 'registry-1.docker.io', limit: 100, remaining: 40, windowSeconds: 21600, tagImages: 1 }];
      const summary = summaryWith({ refresh: { ...refresh, moved: ['quay.io/x/a:1'], firstSeen: ['docker.io/library/redis:7'], rateLimits } });
      assert.deepEqual(summary.registry, {
        requests: asked.byHost,
        moved: ['quay.io/x/a:1'],
        firstSeen: ['docker.io/library/redis:7'],
        rateLimits: [{ registry: 'registry-1.docker.io', limit: 100, remaining: 40, windowSeconds: 21600 }],
      });
    });

    it('names the images whose digest stayed unknown, even when no request went out', () => {
      const unresolved = [{ image: 'quay.io/x/a:1', reason: 'unreachable' as const, message: 'cannot reach quay.io' }];
      assert.deepEqual(summaryWith({ refresh: { ...refresh, unresolved } }, { total: 0, byHost: {} }).registry, { requests: {}, unresolved });
    });

    it('is absent when no registry was asked (restart mode, or every image pinned by digest)', () => {
      assert.equal('registry' in summaryWith({ refresh: undefined }), false);
      assert.equal('registry' in summaryWith({ refresh }, { total: 0, byHost: {} }), false);
    });
  });
});

// The outcome of a pass from its DaemonSets' outcomes (src/pass/overall.ts): the worst exit code,
// one action that says what happened, figures that add up, and what the registries said, each once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../src/pass/exit-codes.ts';
import type { DaemonSetOutcome } from '../src/pass/run.ts';
import type { DigestRefresh } from '../src/pass/digests.ts';
import { overallOutcome } from '../src/pass/overall.ts';

const complete = { complete: true, observed: true, desired: 3, updated: 3, ready: 3, available: 3 };

function section(name: string, extra: Partial<DaemonSetOutcome> = {}): DaemonSetOutcome {
  return {
    name, set: 'default', chunk: 1, chunks: 1, images: 1, exitCode: ExitCode.healthy, action: 'unchanged', changed: [], tolerated: [],
    rollout: complete, diagnosis: [], error: undefined, rejected: [], refresh: undefined, waitedMs: 0, diagnosisMs: 0, ...extra,
  };
}

function refresh(extra: Partial<DigestRefresh>): DigestRefresh {
  return { templateAnnotations: {}, moved: [], firstSeen: [], unresolved: [], rateLimits: [], warnings: [], ...extra };
}

const nothingRemoved = { removed: [], failures: [] };

describe('overallOutcome', () => {
  it('with one DaemonSet and nothing removed is that DaemonSet\'s outcome, field for field', () => {
    const only = section('kip', { action: 'updated', changed: ['spec.x'], tolerated: ['spec.y'], waitedMs: 7, diagnosisMs: 2, exitCode: ExitCode.unhealthy, error: 'slow', diagnosis: ['d'] });
    const outcome = overallOutcome([only], nothingRemoved, ['w']);
    assert.deepEqual(outcome, {
      exitCode: ExitCode.unhealthy, action: 'updated', changed: ['spec.x'], tolerated: ['spec.y'], rollout: complete, diagnosis: ['d'], error: 'slow',
      rejected: [], refresh: undefined, waitedMs: 7, diagnosisMs: 2, daemonSets: [only], removed: [], warnings: ['w'], coverage: [],
    });
  });

  const actions: Array<{ why: string; actions: DaemonSetOutcome['action'][]; removed: string[]; expected: string }> = [
    { why: 'nothing written', actions: ['unchanged', 'unchanged'], removed: [], expected: 'unchanged' },
    { why: 'one kind of write', actions: ['created', 'unchanged', 'created'], removed: [], expected: 'created' },
    { why: 'two kinds of write', actions: ['created', 'updated'], removed: [], expected: 'changed' },
    { why: 'only a removal', actions: ['unchanged', 'unchanged'], removed: ['kip-old'], expected: 'changed' },
    { why: 'one kind of write and a removal', actions: ['updated', 'unchanged'], removed: ['kip-old'], expected: 'changed' },
  ];
  for (const c of actions) {
    it(`${c.why} → ${c.expected}`, () => {
      const sections = c.actions.map((action, index) => section(`kip-${String(index)}`, { action }));
      assert.equal(overallOutcome(sections, { removed: c.removed, failures: [] }, []).action, c.expected);
    });
  }

  it('a refusal is "refused" and an error or a rejection "failed", whatever else was written', () => {
    const refused = overallOutcome([section('a', { action: 'created' }), section('b', { action: 'refused', exitCode: ExitCode.refused })], nothingRemoved, []);
    assert.deepEqual([refused.exitCode, refused.action], [ExitCode.refused, 'refused']);
    const failed = overallOutcome([section('a', { action: 'created' }), section('b', { action: 'failed', exitCode: ExitCode.error })], nothingRemoved, []);
    assert.deepEqual([failed.exitCode, failed.action], [ExitCode.error, 'failed']);
    const rejected = overallOutcome([section('a'), section('b', { exitCode: ExitCode.invalidConfig })], nothingRemoved, []);
    assert.deepEqual([rejected.exitCode, rejected.action], [ExitCode.invalidConfig, 'failed']);
  });

  it('a failed removal is exit 1 and its sentence joins the errors, each DaemonSet\'s named', () => {
    const outcome = overallOutcome([section('a', { exitCode: ExitCode.unhealthy, error: 'not healthy' }), section('b')], { removed: ['c'], failures: ['could not delete DaemonSet d'] }, []);
    assert.deepEqual([outcome.exitCode, outcome.action, outcome.removed], [ExitCode.error, 'failed', ['c']]);
    assert.equal(outcome.error, 'a: not healthy; could not delete DaemonSet d');
    const alone = overallOutcome([section('a')], { removed: [], failures: ['could not delete DaemonSet d'] }, []);
    assert.deepEqual([alone.exitCode, alone.error, alone.daemonSets.length], [ExitCode.error, 'could not delete DaemonSet d', 1]);
  });

  it('adds up the rollouts, complete only when all are, and leaves out a DaemonSet that has none', () => {
    const outcome = overallOutcome([
      section('a', { rollout: { complete: true, observed: true, desired: 3, updated: 3, ready: 3, available: 3 } }),
      section('b', { rollout: { complete: false, observed: false, desired: 2, updated: 1, ready: 0, available: 1 } }),
      section('c', { rollout: undefined }),
    ], nothingRemoved, []);
    assert.deepEqual(outcome.rollout, { complete: false, observed: false, desired: 5, updated: 4, ready: 3, available: 4 });
    const none = overallOutcome([section('a', { rollout: undefined }), section('b', { rollout: undefined })], nothingRemoved, []);
    assert.equal(none.rollout, undefined);
    const all = overallOutcome([section('a'), section('b')], nothingRemoved, []);
    assert.deepEqual([all.rollout?.complete, all.rollout?.observed], [true, true]);
  });

  it('names each DaemonSet\'s changes, tolerations and diagnosis, waits as long as the longest, and lists each rejection once', () => {
    const rejected = [{ variable: 'IMAGE_SETS', problem: 'p' }];
    const outcome = overallOutcome([
      section('a', { changed: ['spec.x'], tolerated: ['spec.t'], diagnosis: ['d1'], waitedMs: 5, diagnosisMs: 9, rejected }),
      section('b', { changed: ['spec.y'], diagnosis: ['d2'], waitedMs: 8, diagnosisMs: 1, rejected: [...rejected, { variable: 'IMAGE_SETS', problem: 'q' }] }),
    ], nothingRemoved, ['w']);
    assert.deepEqual(outcome.changed, ['a: spec.x', 'b: spec.y']);
    assert.deepEqual(outcome.tolerated, ['a: spec.t']);
    assert.deepEqual(outcome.diagnosis, ['a: d1', 'b: d2']);
    assert.deepEqual([outcome.waitedMs, outcome.diagnosisMs], [8, 9]);
    assert.deepEqual(outcome.rejected, [...rejected, { variable: 'IMAGE_SETS', problem: 'q' }]);
    assert.deepEqual([outcome.warnings, outcome.error], [['w'], undefined]);
  });

  it('merges what the registries said: each image and warning once, the lowest remaining budget per registry', () => {
    const limit = (registry: string, remaining: number) => ({ registry, limit: 100, remaining, tagImages: 1 });
    const unresolved = (image: string) => ({ image, reason: 'unreachable' as const, message: `cannot reach ${image}` });
    const outcome = overallOutcome([
      section('a', { refresh: refresh({ moved: ['x:1'], firstSeen: ['y:1'], unresolved: [unresolved('z:1')], rateLimits: [limit('docker.io', 40), limit('quay.io', 9)], warnings: ['w1'], templateAnnotations: { k: 'v' } }) }),
      section('b', { refresh: undefined }),
      section('c', { refresh: refresh({ moved: ['x:1', 'x:2'], firstSeen: ['y:1'], unresolved: [unresolved('z:1')], rateLimits: [limit('docker.io', 30), limit('quay.io', 12)], warnings: ['w1', 'w2'] }) }),
    ], nothingRemoved, []);
    assert.deepEqual(outcome.refresh, {
      templateAnnotations: {},
      moved: ['x:1', 'x:2'],
      firstSeen: ['y:1'],
      unresolved: [unresolved('z:1')],
      rateLimits: [limit('quay.io', 9), limit('docker.io', 30)],
      warnings: ['w1', 'w2'],
    });
    assert.equal(overallOutcome([section('a'), section('b')], nothingRemoved, []).refresh, undefined);
  });
});

// Mutable tags are re-pulled by a rolling restart once CACHING_INTERVAL_HOURS have passed since the
// template's refreshed-at annotation; a list of digest-pinned images is never restarted. Instead of
// waiting an hour, the tests move the annotation back in time.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import {
  createTestNamespace,
  kubectlOk,
  nodeNames,
  podUids,
  releaseNamespace,
  waitFor,
  waitForRollout,
  watchPullerPods,
} from './lib/cluster.ts';
import { runPass } from './lib/pass-runner.ts';
import { assertReadyOn, daemonSetName, digest, expectPass, getPuller, passEnv, refreshedAtAnnotation } from './lib/puller.ts';

const namespaces: string[] = [];
after(async () => {
  for (const ns of namespaces) await releaseNamespace(ns);
});

const hoursAgo = (hours: number): string => new Date(Date.now() - hours * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');

/** Moves the template's refreshed-at back, then waits for the rollout that edit itself causes. */
async function backdateRefresh(namespace: string, hours: number): Promise<void> {
  const stamp = (await getPuller(namespace)).spec.template.metadata.annotations?.[refreshedAtAnnotation];
  assert.ok(stamp !== undefined, `the pass stamped the template with ${refreshedAtAnnotation}`);
  const patch = { spec: { template: { metadata: { annotations: { [refreshedAtAnnotation]: hoursAgo(hours) } } } } };
  await kubectlOk(['patch', 'daemonset', daemonSetName, '-n', namespace, '--type=merge', '-p', JSON.stringify(patch)]);
  await waitForRollout(namespace);
}

describe('tag-referenced images', { timeout: 120_000 }, () => {
  const images = 'alpha=quay.io/kip-e2e/alpha:1.0;beta=quay.io/kip-e2e/beta:latest';
  const maxUnavailable = 1;
  const env = (ns: string): Record<string, string> =>
    passEnv(ns, { IMAGES: images, CACHING_INTERVAL_HOURS: '1', MAX_UNAVAILABLE: String(maxUnavailable) });
  let ns = '';

  test('the first pass stamps refreshed-at; a pass within the interval does not restart', async () => {
    ns = await createTestNamespace('kip-tags');
    namespaces.push(ns);
    const before = Date.now();
    expectPass(await runPass(env(ns)), 0);
    const stamp = (await getPuller(ns)).spec.template.metadata.annotations?.[refreshedAtAnnotation];
    assert.ok(stamp !== undefined, `template annotation ${refreshedAtAnnotation}`);
    assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, 'RFC 3339');
    assert.ok(Math.abs(Date.parse(stamp) - before) < 60_000, `refreshed-at ${stamp} is now`);

    const uids = await podUids(ns);
    const summary = expectPass(await runPass(env(ns)), 0);
    assert.equal(summary.action, 'unchanged');
    assert.deepEqual(await podUids(ns), uids, 'no pod was replaced');
  });

  test('once the interval has elapsed the next pass restarts every pod, rolling', async (t) => {
    const nodes = await nodeNames();
    await backdateRefresh(ns, 2);
    const oldUids = new Set(await podUids(ns));
    const watch = await watchPullerPods(ns, nodes);
    t.after(() => watch.stop());
    const passStarted = Date.now();

    const summary = expectPass(await runPass(env(ns)), 0);
    assert.equal(summary.action, 'restarted');
    const stamp = (await getPuller(ns)).spec.template.metadata.annotations?.[refreshedAtAnnotation] ?? '';
    assert.ok(Date.parse(stamp) >= passStarted - 2000, `refreshed-at moved forward to ${stamp}`);
    await assertReadyOn(ns, nodes, images);
    const uids = await podUids(ns);
    assert.deepEqual(uids.filter((uid) => oldUids.has(uid)), [], 'no pod from before the pass is left');
    assert.equal(uids.length, nodes.length, 'one new pod per node');

    // Rolling: the watch must have followed the whole restart, and never seen more nodes at once
    // without a Ready pod than MAX_UNAVAILABLE allows.
    await waitFor('the pod watch to see the new Ready pod on every node', () => {
      return Promise.resolve(isDeepStrictEqual([...watch.readyByNode().values()].sort(), uids));
    }, { timeoutMs: 10_000 });
    watch.stop();
    assert.ok(
      watch.maxUnavailable() <= maxUnavailable,
      `at most ${maxUnavailable} node(s) at once without a Ready pod (MAX_UNAVAILABLE); the watch saw ${watch.maxUnavailable()}`,
    );

    // The fresh stamp holds off the next restart.
    assert.equal(expectPass(await runPass(env(ns)), 0).action, 'unchanged');
  });
});

describe('digest-pinned images only', { timeout: 120_000 }, () => {
  const images = `alpha=quay.io/kip-e2e/alpha@${digest('a')};beta=quay.io/kip-e2e/beta:1.0@${digest('c')}`;
  const env = (ns: string): Record<string, string> => passEnv(ns, { IMAGES: images, CACHING_INTERVAL_HOURS: '1' });

  test('are never restarted, however old the last refresh', async () => {
    const ns = await createTestNamespace('kip-digests');
    namespaces.push(ns);
    expectPass(await runPass(env(ns)), 0);
    await backdateRefresh(ns, 48);
    const before = await getPuller(ns);
    const uids = await podUids(ns);

    const summary = expectPass(await runPass(env(ns)), 0);
    assert.equal(summary.action, 'unchanged');
    const afterPass = await getPuller(ns);
    assert.equal(afterPass.metadata.generation, before.metadata.generation, 'the template was not touched');
    assert.deepEqual(await podUids(ns), uids, 'no pod was replaced');
  });
});

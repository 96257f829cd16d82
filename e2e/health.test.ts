// A DaemonSet that cannot become healthy: an image no node can pull (kwok's pod-image-pull-backoff
// stage holds every pod using broken.invalid/… in Init:ImagePullBackOff). The pass must give up at
// its deadline with exit 3 and say which image and how many nodes, leaving the DaemonSet in place.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestNamespace, deleteNamespace, escapeRegExp, nodeNames, pullerPods, waitFor } from './lib/cluster.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { assertCaches, assertReadyOn, expectPass, getPuller, passEnv } from './lib/puller.ts';

const namespaces: string[] = [];
after(async () => {
  if (process.env.KIP_E2E_KEEP === '1') return;
  for (const ns of namespaces) await deleteNamespace(ns);
});

describe('an image that cannot be pulled', { timeout: 120_000 }, () => {
  let ns = '';
  const broken = 'broken.invalid/x:1';
  const images = `alpha=quay.io/kip-e2e/alpha:1.0;broken=${broken}`;
  const timeoutSeconds = 10;

  test('the pass gives up at its deadline with exit 3 and names the image', async () => {
    ns = await createTestNamespace('kip-broken');
    namespaces.push(ns);
    const nodes = await nodeNames();
    const started = Date.now();
    const result = await runPass(passEnv(ns, { IMAGES: images, ROLLOUT_TIMEOUT_SECONDS: String(timeoutSeconds) }));
    const seconds = (Date.now() - started) / 1000;

    const summary = expectPass(result, 3);
    assert.ok(seconds < timeoutSeconds + 15, `took ${seconds}s for a ${timeoutSeconds}s deadline`);
    // The first diagnosis line is the actionable cause: the image, why, and on how many nodes.
    const [first] = summary.diagnosis ?? [];
    const onNodes = `on ${nodes.length} node${nodes.length === 1 ? '' : 's'}`;
    const example = `e\\.g\\. (${nodes.map(escapeRegExp).join('|')})`;
    const expected = new RegExp(`^${escapeRegExp(broken)}: ImagePullBackOff ${onNodes}, ${example}( \\(.*\\))?$`);
    assert.match(first ?? '(no diagnosis)', expected, `the first diagnosis line\n${explain(result)}`);
    assert.equal(summary.desired, nodes.length, 'desired = node count');
    assert.equal(summary.ready, 0, 'ready');

    // The DaemonSet stays, and its pods really are stuck pulling the broken image.
    assertCaches(await getPuller(ns), images);
    const pods = await pullerPods(ns);
    assert.equal(pods.length, nodes.length, 'one pod per node');
    for (const pod of pods) {
      const status = pod.status as { initContainerStatuses?: Array<{ name: string; state?: { waiting?: { reason?: string } } }> };
      const waiting = status.initContainerStatuses?.find((c) => c.name === 'broken')?.state?.waiting?.reason;
      assert.equal(waiting, 'ImagePullBackOff', `pod ${pod.metadata.name}`);
    }

    // "Not healthy by the deadline": a pod that turned Ready a second before it would still count.
    // The deadline runs from the start of the pass, which the summary's durationMs measures (the wall
    // clock here also includes starting Node and loading the bundle).
    const passSeconds = typeof summary.durationMs === 'number' ? summary.durationMs / 1000 : seconds;
    assert.ok(
      passSeconds >= timeoutSeconds - 1,
      `reported not healthy after ${passSeconds.toFixed(1)}s of the pass, before its ${timeoutSeconds}s deadline\n${explain(result)}`,
    );
  });

  test('a pass with the image fixed rolls out and is healthy', async () => {
    const nodes = await nodeNames();
    const fixed = 'alpha=quay.io/kip-e2e/alpha:1.0;broken=quay.io/kip-e2e/fixed:1';
    const summary = expectPass(await runPass(passEnv(ns, { IMAGES: fixed })), 0);
    assert.equal(summary.action, 'updated');
    await assertReadyOn(ns, nodes, fixed);
    // No pod of the broken template lingers.
    await waitFor('old pods gone', async () => (await pullerPods(ns)).length === nodes.length, { timeoutMs: 10_000 });
  });
});

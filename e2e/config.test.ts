// Invalid configuration: every case exits 2, naming the variable, before touching the cluster. The
// namespace already holds a healthy DaemonSet from a good pass; after all cases it must be exactly as
// it was, and the audit log must show no write by the puller.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestNamespace, deleteNamespace, type ProcessResult } from './lib/cluster.ts';
import { explain, runPass, summaryOf } from './lib/pass-runner.ts';
import { auditLogOrSkip, auditRequests, formatRequests, writesIn } from './lib/audit.ts';
import { assertSawPassRead, expectPass, getPuller, passEnv } from './lib/puller.ts';

const goodImages = 'alpha=quay.io/kip-e2e/alpha:1.0';
const longName = 'a'.repeat(64);

// variable: the name the error must mention; env: what the case sets on top of a valid configuration.
const cases: Array<{ name: string; variable: RegExp; env: Record<string, string> }> = [
  { name: 'IMAGES empty', variable: /IMAGES/, env: { IMAGES: '' } },
  { name: 'IMAGES entry without =', variable: /IMAGES/, env: { IMAGES: 'quay.io/kip-e2e/alpha:1.0' } },
  { name: 'IMAGES name not DNS-1123', variable: /IMAGES/, env: { IMAGES: 'Bad_Name=quay.io/kip-e2e/alpha:1.0' } },
  { name: 'IMAGES name over 63 characters', variable: /IMAGES/, env: { IMAGES: `${longName}=quay.io/kip-e2e/alpha:1.0` } },
  { name: 'IMAGES duplicate names', variable: /IMAGES/, env: { IMAGES: 'alpha=quay.io/kip-e2e/a:1;alpha=quay.io/kip-e2e/b:1' } },
  { name: 'IMAGES whitespace in an image', variable: /IMAGES/, env: { IMAGES: 'alpha=quay.io/kip-e2e/al pha:1.0' } },
  { name: 'IMAGES invalid reference', variable: /IMAGES/, env: { IMAGES: 'alpha=quay.io/kip-e2e/alpha:bad:tag' } },
  { name: 'IMAGES invalid digest', variable: /IMAGES/, env: { IMAGES: 'alpha=quay.io/kip-e2e/alpha@sha256:123' } },
  { name: 'NODE_SELECTOR not JSON', variable: /NODE_SELECTOR/, env: { NODE_SELECTOR: '{disk: ssd' } },
  { name: 'NODE_SELECTOR an array', variable: /NODE_SELECTOR/, env: { NODE_SELECTOR: '["ssd"]' } },
  { name: 'NODE_SELECTOR a non-string value', variable: /NODE_SELECTOR/, env: { NODE_SELECTOR: '{"disk":1}' } },
  { name: 'AFFINITY not JSON', variable: /AFFINITY/, env: { AFFINITY: 'nodeAffinity' } },
  { name: 'AFFINITY an array', variable: /AFFINITY/, env: { AFFINITY: '[]' } },
  { name: 'TOLERATIONS not JSON', variable: /TOLERATIONS/, env: { TOLERATIONS: '[{' } },
  { name: 'TOLERATIONS an object', variable: /TOLERATIONS/, env: { TOLERATIONS: '{"key":"x","operator":"Exists"}' } },
  { name: 'TOLERATIONS entries not objects', variable: /TOLERATIONS/, env: { TOLERATIONS: '["x"]' } },
  { name: 'memory request 10MB', variable: /CACHING_MEMORY_REQUEST/, env: { CACHING_MEMORY_REQUEST: '10MB' } },
  { name: 'cpu limit abc', variable: /CACHING_CPU_LIMIT/, env: { CACHING_CPU_LIMIT: 'abc' } },
  { name: 'memory limit -1Mi', variable: /CACHING_MEMORY_LIMIT/, env: { CACHING_MEMORY_LIMIT: '-1Mi' } },
  {
    name: 'memory request above its limit',
    variable: /CACHING_MEMORY_(REQUEST|LIMIT)/,
    env: { CACHING_MEMORY_REQUEST: '64Mi', CACHING_MEMORY_LIMIT: '20Mi' },
  },
  { name: 'cpu request above its limit', variable: /CACHING_CPU_(REQUEST|LIMIT)/, env: { CACHING_CPU_REQUEST: '1', CACHING_CPU_LIMIT: '.2' } },
  { name: 'interval 0', variable: /CACHING_INTERVAL_HOURS/, env: { CACHING_INTERVAL_HOURS: '0' } },
  { name: 'interval -2', variable: /CACHING_INTERVAL_HOURS/, env: { CACHING_INTERVAL_HOURS: '-2' } },
  { name: 'interval 1.5', variable: /CACHING_INTERVAL_HOURS/, env: { CACHING_INTERVAL_HOURS: '1.5' } },
  { name: 'interval 3h', variable: /CACHING_INTERVAL_HOURS/, env: { CACHING_INTERVAL_HOURS: '3h' } },
  { name: 'LOG_LEVEL trace', variable: /LOG_LEVEL/, env: { LOG_LEVEL: 'trace' } },
];

/** Runs at most `n` of the given jobs at a time. */
function limited(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (job) => {
    while (running >= n) await new Promise<void>((r) => waiting.push(r));
    running += 1;
    try {
      return await job();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

describe('invalid configuration', { timeout: 240_000 }, () => {
  let ns = '';
  let resourceVersion = '';
  let goodPassStarted = new Date();
  let since = new Date();
  // The passes never reach the cluster, so they run a few at a time; the cluster-side checks
  // (no write, DaemonSet unchanged) then cover all of them together.
  const outcomes = new Map<string, Promise<ProcessResult>>();

  before(async () => {
    ns = await createTestNamespace('kip-config');
    goodPassStarted = new Date();
    expectPass(await runPass(passEnv(ns, { IMAGES: goodImages })), 0);
    resourceVersion = (await getPuller(ns)).metadata.resourceVersion;
    since = new Date();
    const slot = limited(3);
    const unset = passEnv(ns);
    delete unset.IMAGES;
    outcomes.set('IMAGES unset', slot(() => runPass(unset)));
    for (const c of cases) outcomes.set(c.name, slot(() => runPass(passEnv(ns, { IMAGES: goodImages, ...c.env }))));
  });
  after(async () => {
    await Promise.allSettled(outcomes.values());
    if (process.env.KIP_E2E_KEEP !== '1') await deleteNamespace(ns);
  });

  for (const c of [{ name: 'IMAGES unset', variable: /IMAGES/ }, ...cases]) {
    test(`${c.name} → exit 2, naming the variable`, async () => {
      const result = await outcomes.get(c.name);
      assert.ok(result !== undefined);
      assert.equal(result.code, 2, explain(result));
      assert.match(result.stdout + result.stderr, c.variable, `the error names the variable\n${explain(result)}`);
      assert.equal(summaryOf(result)?.action, 'invalid-config', explain(result));
    });
  }

  test('none of them wrote to the cluster or changed the DaemonSet', async (t) => {
    await Promise.all(outcomes.values());
    assert.equal((await getPuller(ns)).metadata.resourceVersion, resourceVersion, 'the DaemonSet is unchanged');

    if (!auditLogOrSkip(t)) return;
    // The invalid passes make no request at all, so the good pass before them is the control.
    assertSawPassRead(await auditRequests({ since: goodPassStarted, namespace: ns }), ns);
    const writes = writesIn(await auditRequests({ since }));
    assert.deepEqual(writes, [], `writes by the puller:\n${formatRequests(writes)}`);
  });
});

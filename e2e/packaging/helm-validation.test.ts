// A bad value is refused by `helm install` itself (values.schema.json), with a message naming the
// value, before anything reaches the cluster.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestNamespace, listJson, releaseNamespace } from '../lib/cluster.ts';
import { explain } from '../lib/pass-runner.ts';
import { chartDir, upstreamHelmValues } from './fixtures.ts';
import { helmLive, helmWithValues } from './live.ts';

let ns = '';
before(async () => {
  ns = await createTestNamespace('kip-helm-bad');
});
after(async () => {
  if (ns !== '') await releaseNamespace(ns);
});

describe('helm install with a bad value', { timeout: 120_000 }, () => {
  const cases: Array<{ configMap: Record<string, unknown>; names: RegExp }> = [
    { configMap: { cachingIntervalHours: 0 }, names: /cachingIntervalHours/ },
    { configMap: { images: 'che-theia:next' }, names: /images/ },
    { configMap: { cachingMemoryLimt: '20Mi' }, names: /cachingMemoryLimt/ },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.configMap)} is rejected and nothing is created`, async () => {
      const values = { ...upstreamHelmValues, configMap: { ...upstreamHelmValues.configMap, ...c.configMap } };
      const res = await helmWithValues(['install', 'kip-bad', chartDir, '-n', ns, '--timeout', '60s'], values);
      assert.notEqual(res.code, 0, explain(res));
      assert.match(res.stderr, c.names, res.stderr);
      assert.deepEqual(await listJson('configmaps', { namespace: ns, selector: 'app.kubernetes.io/instance=kip-bad' }), []);
      assert.deepEqual(await listJson('cronjobs', { namespace: ns }), []);
      const releases = await helmLive(['list', '-n', ns, '-a', '-q']);
      assert.equal(releases.code, 0, `helm list ${explain(releases)}`);
      assert.equal(releases.stdout.trim(), '', 'no release record was left behind');
    });
  }
});

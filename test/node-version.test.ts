// The Node version check that runs before the Kubernetes client is loaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { nodeTooOld } from '../src/cli/node-version.ts';

describe('nodeTooOld', () => {
  it('accepts 22.19 and anything newer', () => {
    for (const version of ['v22.19.0', 'v22.20.1', 'v23.0.0', 'v24.11.1', 'v100.0.0']) assert.equal(nodeTooOld(version), undefined, version);
  });

  it('refuses older ones, naming the version and how to get a newer Node', () => {
    for (const version of ['v20.20.2', 'v22.18.9', 'v18.0.0', 'v9.99.0']) {
      const message = nodeTooOld(version) ?? '';
      assert.match(message, /needs Node >= 22\.19/, version);
      assert.ok(message.includes(`this is Node ${version}`), message);
      assert.match(message, /~\/\.cache\/node24/);
    }
  });
});

// The machine's own Node (20 on the project's machines) running the bundle, as a user who skipped
// the PATH step would: one line that says what to do, not a TypeError from inside the client. The
// bundle is built from the sources here (about a second), so the test runs under npm run test:unit
// too and never judges a stale dist/.
const OLD_NODE = '/usr/bin/node';
const BUNDLER = new URL('../src/build/bundle.mjs', import.meta.url).pathname;

describe('the bundle on an old Node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kip-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ends at once with exit 1 and the line that says which Node is needed', (t) => {
    const version = existsSync(OLD_NODE) ? spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
    if (nodeTooOld(version) === undefined) return t.skip(`needs an older Node at ${OLD_NODE}; found ${version || 'none'}`);
    const bundle = join(dir, 'main.mjs');
    const built = spawnSync(process.execPath, [BUNDLER, dir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(built.status, 0, built.stderr);
    const result = spawnSync(OLD_NODE, [bundle], {
      env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', KUBECONFIG: '/nonexistent/kubeconfig', IMAGES: 'a=quay.io/x/y:1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stderr.trim(), nodeTooOld(version));
    assert.equal(result.stdout, '');
  });
});

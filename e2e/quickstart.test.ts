// The README's quick start as a new user meets it: a fresh clone, the machine's old Node first on
// PATH, no node_modules. `npm run demo` must set itself up and end with a healthy pass. The cached
// control-plane binaries and Node 24 under ~/.cache are reused; everything else starts from nothing.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { inCi, repoRoot } from './lib/cluster.ts';

/** A Node older than 22.19 on this machine (the kind's own is 20), or undefined. */
function oldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 19)) return candidate;
  }
  return undefined;
}

describe('the README quick start in a fresh clone', { timeout: 900_000 }, () => {
  const clone = mkdtempSync(join(tmpdir(), 'kip-quickstart-'));
  const cluster = `kip-quickstart-${String(process.pid)}`;
  after(() => {
    spawnSync('bash', [join(clone, 'e2e', 'cluster', 'stop.sh')], { env: { ...process.env, KIP_CLUSTER: cluster }, stdio: 'ignore' });
    rmSync(clone, { recursive: true, force: true });
  });

  test('npm run demo with an old Node first on PATH and no node_modules ends with a healthy pass', (t) => {
    const node = oldNode();
    if (node === undefined) {
      assert.ok(!inCi(), 'no Node older than 22.19 on this machine to start the quick start with');
      t.skip('no Node older than 22.19 on this machine');
      return;
    }
    execFileSync('git', ['clone', '--quiet', repoRoot, clone]);
    assert.equal(existsSync(join(clone, 'node_modules')), false);
    const path = [dirname(node), '/usr/local/go/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':');
    const demo = spawnSync('npm', ['run', 'demo'], {
      cwd: clone,
      env: { PATH: path, HOME: process.env.HOME ?? '', KIP_DEMO_CLUSTER: cluster },
      encoding: 'utf8',
      timeout: 840_000,
    });
    const output = `${demo.stdout}\n${demo.stderr}`;
    assert.equal(demo.status, 0, output.slice(-4000));
    assert.match(output, /installing the dependencies \(npm ci\)/, 'it said what it set up');
    assert.match(output, /exit code: 0 \(0 = every node caches every image\)/, output.slice(-4000));
    assert.match(output, /helm install kip charts\/kubernetes-image-puller/, 'the closing text shows the chart');
  });
});

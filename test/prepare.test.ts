// .ci/prepare, the set-up behind npm test, npm run demo and CI, on a copy of the repository's files
// with a stand-in npm that records what it is asked to do: which Node it picks or fetches, when it
// runs npm ci (missing node_modules, a changed package-lock.json, --reinstall) and what it prints.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const PREPARE = new URL('../.ci/prepare', import.meta.url).pathname;

let root = '';
let home = '';
let fakeBin = '';
let oldNodeBin = '';
let npmLog = '';

// npm ci makes an empty node_modules; npm install --prefix P node-<platform>@24 links this test's own
// Node (>= 22.19) where the real package puts its executable.
const FAKE_NPM = `#!/bin/sh
echo "npm $*" >> "$NPM_LOG"
case "$1" in
  ci) rm -rf node_modules && mkdir node_modules ;;
  install)
    for last; do :; done
    pkg=\${last%@*}
    mkdir -p "$3/node_modules/$pkg/bin" && ln -sf "$REAL_NODE" "$3/node_modules/$pkg/bin/node" ;;
esac
`;
// A Node too old for the program: --version answers, the version check fails.
const OLD_NODE = `#!/bin/sh
[ "$1" = --version ] && { echo v20.20.2; exit 0; }
exit 1
`;

function script(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** Runs `bash .ci/prepare args` in the copy; `oldNode` puts a too-old node first on PATH. */
function prepare(args: string[], opts: { oldNode?: boolean } = {}) {
  writeFileSync(npmLog, '');
  const path = [...(opts.oldNode === true ? [oldNodeBin] : []), fakeBin, dirname(process.execPath), '/usr/bin', '/bin'].join(':');
  const result = spawnSync('bash', [join(root, '.ci', 'prepare'), ...args], {
    cwd: root,
    env: { PATH: path, HOME: home, NPM_LOG: npmLog, REAL_NODE: process.execPath },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  return { code: result.status, stdout: result.stdout, lines, npm: readFileSync(npmLog, 'utf8').split('\n').filter((l) => l !== '') };
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'kip-prepare-'));
  home = join(root, 'home');
  fakeBin = join(root, 'fake-bin');
  oldNodeBin = join(root, 'old-node-bin');
  npmLog = join(root, 'npm.log');
  mkdirSync(home);
  script(join(root, '.ci', 'prepare'), readFileSync(PREPARE, 'utf8'));
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  script(join(fakeBin, 'npm'), FAKE_NPM);
  script(join(oldNodeBin, 'node'), OLD_NODE);
});
after(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

describe('.ci/prepare', () => {
  it('with a recent Node: npm ci when node_modules is missing, nothing the second time', () => {
    const first = prepare([]);
    assert.equal(first.code, 0, first.lines.join('\n'));
    assert.deepEqual(first.npm, ['npm ci --no-audit --no-fund --no-update-notifier']);
    assert.deepEqual(first.lines, ['[prepare] node_modules is missing: installing the dependencies (npm ci)']);

    const second = prepare([]);
    assert.equal(second.code, 0);
    assert.deepEqual(second.npm, [], 'node_modules is current');
    assert.deepEqual(second.lines, [], 'nothing to do, nothing printed');
  });

  it('runs npm ci again once package-lock.json changes, and with --reinstall', () => {
    prepare([]);
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion": 3, "changed": true}\n');
    const changed = prepare([]);
    assert.deepEqual(changed.npm, ['npm ci --no-audit --no-fund --no-update-notifier']);
    assert.deepEqual(changed.lines, ['[prepare] package-lock.json has changed since node_modules was installed: installing the dependencies (npm ci)']);
    assert.deepEqual(prepare([]).npm, []);

    const forced = prepare(['--reinstall']);
    assert.deepEqual(forced.npm, ['npm ci --no-audit --no-fund --no-update-notifier']);
    assert.match(forced.lines.join('\n'), /a clean install was asked for/);
  });

  it('reinstalls a node_modules it did not install (no stamp)', () => {
    rmSync(join(root, 'node_modules'), { recursive: true, force: true });
    mkdirSync(join(root, 'node_modules'));
    const result = prepare([]);
    assert.deepEqual(result.npm, ['npm ci --no-audit --no-fund --no-update-notifier']);
    assert.match(result.lines.join('\n'), /node_modules was not installed by \.ci\/prepare/);
  });

  it('with an old Node: installs Node 24 into ~/.cache/node24 once, then reuses it, and runs the command with it', { skip: process.platform !== 'linux' }, () => {
    const first = prepare(['bash', '-c', 'command -v node'], { oldNode: true });
    assert.equal(first.code, 0, first.lines.join('\n'));
    assert.equal(first.npm.length, 1);
    assert.match(first.npm[0]!, /^npm install --prefix .*\/home\/\.cache\/node24 .*node-linux-(x64|arm64)@24$/);
    assert.match(first.lines[0]!, /^\[prepare\] the node on PATH is v20\.20\.2, older than 22\.19: installing node-linux-(x64|arm64)@24 from the npm registry into ~\/\.cache\/node24$/);
    assert.match(first.lines[1]!, /^\[prepare\] installed Node v\d+\.\d+\.\d+ in \d+s; using it$/);
    assert.equal(first.lines.length, 2, first.lines.join('\n'));
    assert.match(first.stdout.trim(), /\/home\/\.cache\/node24\/node_modules\/node-linux-(x64|arm64)\/bin\/node$/, 'the command runs with the fetched Node');

    const second = prepare([], { oldNode: true });
    assert.equal(second.code, 0);
    assert.deepEqual(second.npm, []);
    assert.match(second.lines[0]!, /^\[prepare\] the node on PATH is v20\.20\.2, older than 22\.19: using v\d+\.\d+\.\d+ from ~\/\.cache\/node24$/);
    assert.match(second.lines[1]!, /^\[prepare\] to use this Node in your shell: export PATH=".*\/home\/\.cache\/node24\/node_modules\/node-linux-(x64|arm64)\/bin:\$PATH"$/);
    assert.ok(existsSync(join(home, '.cache', 'node24.lock')));
  });

  it('a failing npm ci fails the set-up and leaves no stamp', () => {
    script(join(fakeBin, 'npm'), `#!/bin/sh\necho "npm $*" >> "$NPM_LOG"\nexit 1\n`);
    try {
      const result = prepare(['--reinstall', 'true']);
      assert.notEqual(result.code, 0);
      assert.match(result.lines.join('\n'), /npm ci failed/);
      assert.ok(!existsSync(join(root, 'node_modules', '.kip-lock-sha256')));
    } finally {
      script(join(fakeBin, 'npm'), FAKE_NPM);
    }
  });
});

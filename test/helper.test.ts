// The static helper (src/helper/kip-helper.c) is what every cached image's init container runs, from an
// emptyDir, inside images that may hold nothing at all. These tests run it in an empty root directory,
// so any dependency on a dynamic loader, libc or a shell makes them fail.
//
// They need root (chroot) or unprivileged user namespaces (unshare -r). Set KIP_HELPER to test a
// prebuilt binary (for example one copied out of the image); otherwise src/helper/build.sh builds one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// chroot lives in /usr/sbin, which a non-login PATH (as in some CI runners) can leave out.
process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

const repoRoot = new URL('..', import.meta.url).pathname;
const EX_USAGE = 64;

let workDir = '';
let helper = '';
let enterRoot: (root: string, argv: string[]) => string[] = () => [];

function run(argv: string[], opts: { shellPrefix?: string } = {}) {
  const [cmd, ...args] = argv;
  const res = opts.shellPrefix
    ? spawnSync('sh', ['-c', `${opts.shellPrefix}; exec "$@"`, 'sh', ...argv], { encoding: 'utf8' })
    : spawnSync(cmd!, args, { encoding: 'utf8' });
  if (res.error) throw res.error;
  return { code: res.status, signal: res.signal, stdout: res.stdout, stderr: res.stderr };
}

/** A fresh root directory holding only the helper at /kip-helper (and an empty /out, like an emptyDir). */
function emptyRoot(name: string): string {
  const root = join(workDir, name);
  mkdirSync(join(root, 'out'), { recursive: true });
  chmodSync(root, 0o755);
  chmodSync(join(root, 'out'), 0o777);
  copyFileSync(helper, join(root, 'kip-helper'));
  chmodSync(join(root, 'kip-helper'), 0o755);
  return root;
}

/** Which way of changing root works here: plain chroot as root, or a user namespace otherwise. */
function pickRootRunner(): (root: string, argv: string[]) => string[] {
  const probe = emptyRoot('probe');
  const candidates: Array<(root: string, argv: string[]) => string[]> = [
    (root, argv) => ['chroot', root, ...argv],
    (root, argv) => ['unshare', '--map-root-user', `--root=${root}`, ...argv],
  ];
  for (const candidate of candidates) {
    const [cmd, ...args] = candidate(probe, ['/kip-helper', 'exit']);
    const res = spawnSync(cmd!, args);
    if (res.status === 0) return candidate;
  }
  throw new Error('neither chroot nor `unshare --map-root-user --root` can run a program here; run the tests as root');
}

before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'kip-helper-test-'));
  helper = process.env['KIP_HELPER'] ?? '';
  if (!helper) {
    helper = join(workDir, 'kip-helper');
    const build = spawnSync('bash', [join(repoRoot, 'src/helper/build.sh'), helper], { encoding: 'utf8' });
    assert.equal(build.status, 0, `build.sh failed:\n${build.stdout}${build.stderr}`);
  }
  enterRoot = pickRootRunner();
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('kip-helper binary', () => {
  it('is a statically linked ELF executable (no PT_INTERP program header)', () => {
    const elf = readFileSync(helper);
    assert.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'not an ELF file');
    assert.equal(elf[4], 2, 'expected a 64-bit ELF');
    const phoff = Number(elf.readBigUInt64LE(0x20));
    const phentsize = elf.readUInt16LE(0x36);
    const phnum = elf.readUInt16LE(0x38);
    const PT_INTERP = 3;
    const types = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    assert.ok(types.length > 0, 'no program headers');
    assert.ok(!types.includes(PT_INTERP), 'the helper asks for a dynamic loader; it would fail in images without libc');
  });
});

describe('kip-helper in an empty root directory', () => {
  const cases: Array<{ argv: string[]; code: number; stderr: RegExp | null }> = [
    { argv: ['exit'], code: 0, stderr: null },
    { argv: [], code: EX_USAGE, stderr: /usage: kip-helper install <dir>/ },
    { argv: ['bogus'], code: EX_USAGE, stderr: /usage:/ },
    { argv: ['exit', 'extra'], code: EX_USAGE, stderr: /usage:/ },
    { argv: ['install'], code: EX_USAGE, stderr: /usage:/ },
    { argv: ['install', '/no/such/dir'], code: 73, stderr: /cannot create \/no\/such\/dir\/\.kip-helper\.\d+/ },
  ];
  for (const c of cases) {
    it(`\`kip-helper ${c.argv.join(' ')}\` exits ${c.code}`, () => {
      const root = emptyRoot(`case-${c.argv.join('-') || 'none'}`);
      const res = run(enterRoot(root, ['/kip-helper', ...c.argv]));
      assert.equal(res.code, c.code, res.stderr);
      if (c.stderr) assert.match(res.stderr, c.stderr);
      else assert.equal(res.stderr, '');
    });
  }

  it('install copies itself with mode 0755 despite umask 077, and again over an existing copy', () => {
    const root = emptyRoot('install');
    // Without /proc the helper falls back to argv[0].
    const res = run(enterRoot(root, ['/kip-helper', 'install', '/out']), { shellPrefix: 'umask 077' });
    assert.equal(res.code, 0, res.stderr);
    const copy = join(root, 'out', 'kip-helper');
    const st = statSync(copy);
    assert.equal(st.mode & 0o7777, 0o755, `mode is ${(st.mode & 0o7777).toString(8)}`);
    assert.deepEqual(readFileSync(copy), readFileSync(helper), 'the copy differs from the original');
    const again = run(enterRoot(root, ['/out/kip-helper', 'install', '/out']));
    assert.equal(again.code, 0, `reinstalling over an existing copy (init container restart) failed: ${again.stderr}`);
  });

  it('a copy installed by an arbitrary UID under umask 077 runs as another UID (OpenShift restricted-v2)', (t) => {
    if (!isRoot()) return t.skip('needs root: only root can run the helper as two other UIDs (chroot --userspec); run the tests as root to cover this');
    const root = emptyRoot('install-other-uid');
    const install = run(['chroot', '--userspec=1000710000:0', root, '/kip-helper', 'install', '/out'], { shellPrefix: 'umask 077' });
    assert.equal(install.code, 0, install.stderr);
    assert.equal(statSync(join(root, 'out', 'kip-helper')).uid, 1000710000, 'the install did not run as the arbitrary UID');
    const other = run(['chroot', '--userspec=65532:65532', root, '/out/kip-helper', 'exit']);
    assert.equal(other.code, 0, `UID 65532 cannot run the copy UID 1000710000 installed: ${other.stderr}`);
  });

  it('install succeeds over the temporary file a copy killed mid-install left in the emptyDir', () => {
    const root = emptyRoot('install-stale');
    // In a container the helper is PID 1, so every restart of the install container picks the same
    // temporary name; an OOM kill or node crash mid-copy leaves that file behind in the emptyDir.
    const stale = join(root, 'out', '.kip-helper.1');
    writeFileSync(stale, 'the first half of an executable', { mode: 0o700 });
    const res = run(asPid1(root, ['/kip-helper', 'install', '/out']));
    assert.equal(res.code, 0, `a retried install must not fail forever on the stale ${stale}: ${res.stderr}`);
    assert.deepEqual(readFileSync(join(root, 'out', 'kip-helper')), readFileSync(helper));
    assert.equal(existsSync(stale), false, 'the stale temporary file is still there: the helper did not run as PID 1, so this test proved nothing');
  });

  it('install reads /proc/self/exe when /proc is mounted (as in a container)', (t) => {
    if (!isRoot()) return t.skip('mounting /proc in a new pid namespace needs root');
    const root = emptyRoot('install-proc');
    mkdirSync(join(root, 'proc'));
    mkdirSync(join(root, 'bin'));
    copyFileSync(helper, join(root, 'bin', 'kip-helper'));
    chmodSync(join(root, 'bin', 'kip-helper'), 0o755);
    // Found through PATH, argv[0] is the bare name "kip-helper", so the argv[0] fallback cannot be what
    // succeeds: only /proc/self/exe can.
    const res = run(['unshare', '--mount', '--pid', '--fork', `--root=${root}`, '--mount-proc', 'kip-helper', 'install', '/out'], {
      shellPrefix: 'export PATH=/bin',
    });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(readFileSync(join(root, 'out', 'kip-helper')), readFileSync(helper));
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`sleep blocks until ${signal}, then exits 0`, async () => {
      const root = emptyRoot(`sleep-${signal}`);
      const [cmd, ...args] = enterRoot(root, ['/kip-helper', 'sleep']);
      const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      const early = await Promise.race([exited, delay(500).then(() => 'still running' as const)]);
      assert.equal(early, 'still running', `sleep returned before any signal: ${JSON.stringify(early)} ${stderr}`);
      child.kill(signal);
      const outcome = await Promise.race([exited, delay(5000).then(() => 'timeout' as const)]);
      if (outcome === 'timeout') child.kill('SIGKILL');
      assert.deepEqual(outcome, { code: 0, signal: null }, stderr);
    });
  }

  it('sleep as PID 1 of a pid namespace stops on SIGTERM sent from outside (as the kubelet does)', async (t) => {
    if (!isRoot()) return t.skip('a new pid namespace needs root');
    // The kernel drops signals to a namespace's init that it neither handles nor blocks; a bare pause()
    // would hang here until SIGKILL. The helper blocks them and waits, which the kernel does deliver.
    const root = emptyRoot('sleep-pid1');
    const wrapper = spawn('unshare', ['--pid', '--fork', `--root=${root}`, '/kip-helper', 'sleep'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    wrapper.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => wrapper.on('exit', (code) => resolve(code)));
    const pid1 = await childOf(wrapper.pid!);
    assert.ok(pid1, `no child of unshare appeared: ${stderr}`);
    await delay(200); // let the helper reach sigwait; a signal before that would also be caught (blocked early)
    process.kill(pid1, 'SIGTERM');
    const outcome = await Promise.race([exited, delay(5000).then(() => 'timeout' as const)]);
    if (outcome === 'timeout') process.kill(pid1, 'SIGKILL');
    assert.equal(outcome, 0, `PID 1 did not exit 0 on SIGTERM: ${String(outcome)} ${stderr}`);
  });
});

/** The host PID of the first child of `pid` (unshare --fork's child is the namespace's PID 1). */
async function childOf(pid: number): Promise<number | undefined> {
  for (let i = 0; i < 50; i++) {
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (children) return Number(children.split(/\s+/)[0]);
    } catch {
      // the wrapper may not have forked yet
    }
    await delay(20);
  }
  return undefined;
}

/** Runs argv as PID 1 of a new pid namespace inside root, as the kubelet starts a container's process. */
function asPid1(root: string, argv: string[]): string[] {
  const becomeRoot = isRoot() ? [] : ['--map-root-user'];
  return ['unshare', ...becomeRoot, '--pid', '--fork', `--root=${root}`, ...argv];
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

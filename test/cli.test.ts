// The command line as a user meets it: flags, exit codes and what lands on stdout. Runs the
// program as a process, without a cluster (--dry-run and invalid configuration touch none).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { load, loadAll } from 'js-yaml';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function run(args: string[], env: Record<string, string> = {}) {
  // No KUBECONFIG and an unroutable in-cluster address: any API call would fail loudly.
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', KUBECONFIG: '/nonexistent/kubeconfig', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('command line', () => {
  it('--version prints the package version', () => {
    const { code, stdout } = run(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), VERSION);
  });

  it('--help documents every exit code', () => {
    const { code, stdout } = run(['--help']);
    assert.equal(code, 0);
    for (const text of ['--dry-run', '0 healthy', '2 invalid configuration', '3 not healthy', '4 refused']) assert.ok(stdout.includes(text), text);
  });

  it('an unknown flag is a usage error (exit 2)', () => {
    const { code, stderr } = run(['--dryrun']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown argument "--dryrun"/);
  });

  it('--dry-run prints the desired DaemonSet as YAML with its per-node reservation', () => {
    const { code, stdout } = run(['--dry-run'], { IMAGES: 'a=nginx:1;b=redis:7', NAMESPACE: 'cache' });
    assert.equal(code, 0);
    assert.match(stdout.split('\n')[0] ?? '', /^# 2 image\(s\); reserved per node: requests cpu=50m memory=10Mi, limits cpu=200m memory=20Mi$/);
    const manifest = load(stdout) as { kind: string; metadata: { namespace: string }; spec: { template: { spec: { initContainers: { name: string }[] } } } };
    assert.equal(manifest.kind, 'DaemonSet');
    assert.equal(manifest.metadata.namespace, 'cache');
    assert.deepEqual(manifest.spec.template.spec.initContainers.map((c) => c.name), ['kip-install-helper', 'a', 'b']);
  });

  it('--dry-run prints every DaemonSet of the sets, each with its own heading', () => {
    const sets = JSON.stringify([{ name: 'gpu', images: 'c=cuda:12;d=torch:2', tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] }]);
    const { code, stdout } = run(['--dry-run'], { IMAGES: 'a=nginx:1', NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', IMAGE_SETS: sets, MAX_IMAGES_PER_DAEMONSET: '1' });
    assert.equal(code, 0);
    assert.deepEqual(stdout.split('\n').filter((line) => line.startsWith('# ')), [
      '# kip: the IMAGES set, 1 image(s); reserved per node: requests cpu=50m memory=10Mi, limits cpu=200m memory=20Mi',
      '# kip-gpu: set "gpu", chunk 1 of 2, 1 image(s); reserved per node: requests cpu=50m memory=10Mi, limits cpu=200m memory=20Mi',
      '# kip-gpu-2: set "gpu", chunk 2 of 2, 1 image(s); reserved per node: requests cpu=50m memory=10Mi, limits cpu=200m memory=20Mi',
    ]);
    const manifests = loadAll(stdout) as { metadata: { name: string; labels: Record<string, string> } }[];
    assert.deepEqual(manifests.map((manifest) => [manifest.metadata.name, manifest.metadata.labels['kubernetes-image-puller/set']]), [['kip', undefined], ['kip-gpu', 'gpu'], ['kip-gpu-2', 'gpu']]);
  });

  it('invalid configuration exits 2 with one JSON line per bad variable, before any API call', () => {
    const { code, stdout } = run([], { IMAGES: 'nginx', CACHING_INTERVAL_HOURS: '1.5' });
    assert.equal(code, 2);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { variable?: string; value?: string; action?: string });
    assert.deepEqual(lines.filter((line) => line.variable).map((line) => [line.variable, line.value]), [['IMAGES', 'nginx'], ['CACHING_INTERVAL_HOURS', '1.5']]);
    assert.equal(lines.at(-1)?.action, 'invalid-config');
  });

  it('LOG_FORMAT=text logs plain lines', () => {
    const { code, stdout } = run([], { IMAGES: '', LOG_FORMAT: 'text' });
    assert.equal(code, 2);
    assert.match(stdout, /^\S+ ERROR invalid IMAGES="": expected at least one entry/m);
  });
});

describe('values the Go puller let through, rejected as the README lists them', () => {
  const cases: Array<{ env: Record<string, string>; variable: string; says: RegExp }> = [
    { env: { IMAGES: 'che-code' }, variable: 'IMAGES', says: /entry "che-code" has no "="/ },
    { env: { IMAGES: 'a=b=c' }, variable: 'IMAGES', says: /image "b=c" of "a" is not a valid image reference/ },
    { env: { IMAGES: '=quay.io/x' }, variable: 'IMAGES', says: /empty name/ },
    { env: { IMAGES: 'code=' }, variable: 'IMAGES', says: /image "" of "code" is empty/ },
    { env: { IMAGES: 'che-code=quay.io/a:1;che-code=quay.io/b:1' }, variable: 'IMAGES', says: /name "che-code" appears more than once/ },
    { env: { IMAGES: 'RELATED_IMAGE_code=quay.io/a:1' }, variable: 'IMAGES', says: /not a DNS-1123 label/ },
    { env: { TOLERATIONS: '[{"key":"gpu","efect":"NoSchedule"}]' }, variable: 'TOLERATIONS', says: /toleration #1 has unknown field "efect"/ },
    { env: { AFFINITY: '{"nodeAfinity":{}}' }, variable: 'AFFINITY', says: /unknown field "nodeAfinity"/ },
    { env: { CACHING_INTERVAL_HOURS: '1h' }, variable: 'CACHING_INTERVAL_HOURS', says: /whole number from 1 to 8760/ },
    { env: { CACHING_INTERVAL_HOURS: '1.5' }, variable: 'CACHING_INTERVAL_HOURS', says: /whole number from 1 to 8760/ },
    { env: { CACHING_MEMORY_REQUEST: '64Mi' }, variable: 'CACHING_MEMORY_REQUEST', says: /above CACHING_MEMORY_LIMIT=20Mi/ },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.env)}: --dry-run exits 2 naming ${c.variable}`, () => {
      const { code, stdout } = run(['--dry-run'], { IMAGES: 'che-code=quay.io/che-incubator/che-code:next', LOG_FORMAT: 'text', ...c.env });
      assert.equal(code, 2, stdout);
      assert.match(stdout, new RegExp(`ERROR invalid ${c.variable}=`));
      assert.match(stdout, c.says);
    });
  }
});


// Pushes to the real Pushgateway (built from Go modules, see test/support/prometheus-binaries.ts) on a
// loopback port and reads its /metrics back: a failed pass, POSTed, keeps the last success that a
// successful pass PUT; a refused connection and a 5xx answer are warnings, not throws.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pushPassMetrics } from '../src/metrics/index.ts';
import type { PassMetrics } from '../src/metrics/index.ts';
import { prometheusBinary } from './support/prometheus-binaries.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const SUCCESS = new Date('2026-12-03T10:00:00Z');
const FAILURE = new Date('2026-12-03T11:00:00Z');

function pass(overrides: Partial<PassMetrics>): PassMetrics {
  return {
    namespace: 'k8s-image-puller',
    daemonSet: 'kip',
    sets: [{ set: 'default', nodesExpected: 3, nodesComplete: 3 }, { set: 'gpu', nodesExpected: 2, nodesComplete: 2 }],
    images: [{ set: 'default', image: 'che-code', state: 'current', nodes: 3 }],
    durationSeconds: 2.5,
    exitCode: 0,
    registryRequests: { 'quay.io': 4 },
    succeeded: true,
    finishedAt: SUCCESS,
    ...overrides,
  };
}

/** The samples of one group, by series without its grouping labels: `name{rest}` → value. */
function samples(text: string, namespace: string, daemonSet: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = [...match[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name!, value!] as const);
    const map = new Map(labels);
    if (map.get('job') !== 'kubernetes-image-puller' || map.get('namespace') !== namespace || map.get('daemonset') !== daemonSet) continue;
    const rest = labels.filter(([name]) => !['job', 'namespace', 'daemonset', 'instance'].includes(name)).map(([name, value]) => `${name}="${value}"`);
    found.set(`${match[1]!}${rest.length === 0 ? '' : `{${rest.join(',')}}`}`, Number(match[3]));
  }
  return found;
}

describe('pushing to the real Pushgateway', () => {
  let gateway: ChildProcess;
  let base = '';
  let output = '';

  before(async () => {
    const binary = prometheusBinary('pushgateway');
    const port = await freePort();
    base = `http://127.0.0.1:${String(port)}`;
    gateway = spawn(binary, [`--web.listen-address=127.0.0.1:${String(port)}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    gateway.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    gateway.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const until = Date.now() + 20_000;
    for (;;) {
      const ready = await fetch(`${base}/-/ready`).then((response) => response.ok, () => false);
      if (ready) break;
      if (Date.now() > until || gateway.exitCode !== null) throw new Error(`the Pushgateway did not become ready: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  after(() => {
    gateway.kill('SIGTERM');
  });

  async function scrape(namespace = 'k8s-image-puller', daemonSet = 'kip'): Promise<Map<string, number>> {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    return samples(await response.text(), namespace, daemonSet);
  }

  it('keeps the last success through a failed pass, and replaces the rest', async () => {
    assert.equal(await pushPassMetrics(base, pass({})), undefined);
    const first = await scrape();
    assert.equal(first.get('kip_last_success_timestamp_seconds'), SUCCESS.getTime() / 1000);
    assert.equal(first.get('kip_last_run_timestamp_seconds'), SUCCESS.getTime() / 1000);
    assert.equal(first.get('kip_pass_succeeded'), 1);
    assert.equal(first.get('kip_set_nodes_complete{set="gpu"}'), 2);
    assert.equal(first.get('kip_registry_requests{host="quay.io"}'), 4);

    const failed = pass({
      succeeded: false,
      exitCode: 3,
      finishedAt: FAILURE,
      sets: [{ set: 'default', nodesExpected: 3, nodesComplete: 1 }],
      images: [{ set: 'default', image: 'che-code', state: 'failing', nodes: 2 }, { set: 'default', image: 'che-code', state: 'current', nodes: 1 }],
    });
    assert.equal(await pushPassMetrics(base, failed), undefined);
    const second = await scrape();
    assert.equal(second.get('kip_last_success_timestamp_seconds'), SUCCESS.getTime() / 1000, 'the failed pass must not wipe the last success');
    assert.equal(second.get('kip_last_run_timestamp_seconds'), FAILURE.getTime() / 1000);
    assert.equal(second.get('kip_pass_succeeded'), 0);
    assert.equal(second.get('kip_pass_exit_code'), 3);
    assert.equal(second.get('kip_set_nodes_complete{set="default"}'), 1);
    // POST replaces every series of a metric it sends: the set the failed pass did not report is gone.
    assert.equal(second.get('kip_set_nodes_complete{set="gpu"}'), undefined);
    assert.equal(second.get('kip_image_nodes{image="che-code",set="default",state="failing"}'), 2);

    // The next success replaces the whole group: its last success moves on.
    const later = new Date('2026-12-03T12:00:00Z');
    assert.equal(await pushPassMetrics(base, pass({ finishedAt: later, images: [] })), undefined);
    const third = await scrape();
    assert.equal(third.get('kip_last_success_timestamp_seconds'), later.getTime() / 1000);
    assert.equal(third.get('kip_pass_succeeded'), 1);
    assert.equal([...third.keys()].some((key) => key.startsWith('kip_image_nodes')), false, 'PUT replaced the group');
  });

  it('groups by namespace and daemonset, a value with a slash or an empty one included', async () => {
    assert.equal(await pushPassMetrics(base, pass({ namespace: 'team/a', daemonSet: 'puller' })), undefined);
    assert.equal(await pushPassMetrics(base, pass({ namespace: 'other', daemonSet: '', exitCode: 7 })), undefined);
    assert.equal((await scrape('team/a', 'puller')).get('kip_pass_succeeded'), 1);
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /^kip_pass_exit_code\{daemonset="",instance="",job="kubernetes-image-puller",namespace="other"\} 7$/m);
  });

  it('turns a refused connection into a warning', async () => {
    const port = await freePort();
    const warning = await pushPassMetrics(`http://127.0.0.1:${String(port)}`, pass({}), { timeoutMs: 2000 });
    assert.match(warning ?? '', new RegExp(`^metrics were not pushed to http://127\\.0\\.0\\.1:${String(port)}/metrics/job/kubernetes-image-puller/namespace/k8s-image-puller/daemonset/kip: PUT failed: ECONNREFUSED`));
  });

  it('turns a 5xx answer into a warning that quotes it', async () => {
    const server = createServer((_request, response) => { response.writeHead(503, { 'content-type': 'text/plain' }); response.end('overloaded\n'); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const warning = await pushPassMetrics(`http://127.0.0.1:${String(port)}`, pass({ succeeded: false, exitCode: 1 }));
      assert.equal(warning, `metrics were not pushed to http://127.0.0.1:${String(port)}/metrics/job/kubernetes-image-puller/namespace/k8s-image-puller/daemonset/kip: POST answered HTTP 503: overloaded; the pass's outcome is unchanged`);
    } finally {
      server.close();
    }
  });
});

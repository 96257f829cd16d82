// The command line's pass path as a process: the exit code and the summary line it prints for each
// verdict, against a loopback API server that answers as a cluster in that state would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApiServer, status } from './support/api-server.ts';
import type { Route } from './support/api-server.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const DAEMONSETS = '/apis/apps/v1/namespaces/cache/daemonsets';

interface Summary {
  message: string;
  warnings?: string[];
  action?: string;
  exitCode?: number;
  error?: string;
}

interface RunOptions {
  /** Called once the process is started, with a function that sends it SIGTERM. */
  onStart?: (terminate: () => void) => void;
  args?: string[];
}

function runPass(kubeconfig: string | undefined, env: Record<string, string> = {}, { onStart, args = [] }: RunOptions = {}): Promise<{ code: number | null; summary: Summary; stdout: string; stderr: string; lines: number; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...(kubeconfig === undefined ? {} : { KUBECONFIG: kubeconfig }), IMAGES: 'a=nginx:1', NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onStart?.(() => child.kill('SIGTERM'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const lines = stdout.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Summary);
      const summary = lines.find((line) => / finished/.test(line.message)) ?? { message: `no summary line in: ${stdout}` };
      resolve({ code, summary, stdout, stderr, lines: lines.length, ms: Date.now() - started });
    });
  });
}

/** A namespace where whatever is POSTed to daemonsets is kept, and its pods never become available. */
function stuckRollout(): Route {
  let stored: Record<string, unknown> | undefined;
  return (request) => {
    if (request.path === DAEMONSETS && request.method === 'GET') return { status: 200, body: { metadata: {}, items: stored ? [stored] : [] } };
    if (request.path === `${DAEMONSETS}/kip` && request.method === 'GET') return stored ? { status: 200, body: stored } : status(404, 'NotFound', 'not found');
    if (request.path === DAEMONSETS && request.method === 'POST') {
      const body = JSON.parse(request.body) as { metadata: Record<string, unknown> };
      stored = { ...body, metadata: { ...body.metadata, uid: 'uid-1', resourceVersion: '1', generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 2, numberAvailable: 0, numberReady: 0, updatedNumberScheduled: 0 } };
      return { status: 201, body: stored };
    }
    if (request.path === '/api/v1/namespaces/cache/events' && request.method === 'POST') return { status: 201, body: JSON.parse(request.body) as object };
    if (request.path === '/api/v1/namespaces/cache/pods') return { status: 200, body: { metadata: {}, items: [] } };
    return undefined;
  };
}

// One API server for the file: every test states its own routes, and what it was asked is cleared before each.
const server = new ApiServer();
let kubeconfig = '';

before(async () => {
  await server.start();
  kubeconfig = server.writeKubeconfig();
});
after(() => server.stop());
beforeEach(() => {
  server.requests.length = 0;
});

describe('command line pass', () => {
  it('exits 1 and names the missing permission when the API server forbids the read', async () => {
    server.routes = [() => status(403, 'Forbidden', 'forbidden')];
    const { code, summary } = await runPass(kubeconfig);
    assert.equal(code, 1);
    assert.equal(summary.exitCode, 1);
    assert.match(summary.error ?? '', /may not "get" daemonsets\.apps in namespace cache/);
    assert.deepEqual(server.writes(), []);
  });

  it('exits 3 when the pods are not available by the deadline', async () => {
    server.routes = [stuckRollout()];
    const { code, summary } = await runPass(kubeconfig, { ROLLOUT_TIMEOUT_SECONDS: '3' });
    assert.equal(code, 3);
    assert.deepEqual([summary.action, summary.exitCode], ['created', 3]);
    assert.match(summary.error ?? '', /not healthy after 3s/);
  });

  it('stops waiting early enough to report inside its Job\'s deadline, and says which value to raise', async () => {
    server.routes = [stuckRollout()];
    const { code, summary, ms } = await runPass(kubeconfig, { ROLLOUT_TIMEOUT_SECONDS: '300', JOB_DEADLINE_SECONDS: '32' });
    assert.equal(code, 3);
    assert.match(summary.error ?? '', /^not healthy after 2s \(the Job's deadline/);
    assert.match(summary.warnings?.[0] ?? '', /^ROLLOUT_TIMEOUT_SECONDS=300 does not fit the Job's activeDeadlineSeconds=32/);
    assert.ok(ms < 2000 + 3000, `took ${String(ms)} ms`);
  });

  it('ends by its deadline with a summary line when the API server accepts the connection and never answers', async () => {
    server.routes = [() => ({ status: 200, hang: true })];
    const { code, summary, ms } = await runPass(kubeconfig, { ROLLOUT_TIMEOUT_SECONDS: '3' });
    assert.equal(code, 1);
    assert.match(summary.error ?? '', /^the API server did not answer in time on list daemonsets\.apps/);
    assert.ok(ms < 3000 + 2500, `took ${String(ms)} ms (3 s deadline; the rest is starting Node)`);
  });

  it('SIGTERM cancels a request in flight: the summary line still comes, at once', async () => {
    // SIGTERM goes out when the first request arrives: the pass is then surely past installing its handler.
    let terminate = (): void => undefined;
    let terminatedAt = 0;
    server.routes = [() => {
      if (terminatedAt === 0) {
        terminatedAt = Date.now();
        terminate();
      }
      return { status: 200, hang: true };
    }];
    const started = Date.now();
    const { code, summary } = await runPass(kubeconfig, { ROLLOUT_TIMEOUT_SECONDS: '60' }, { onStart: (kill) => (terminate = kill) });
    assert.equal(code, 1);
    assert.match(summary.error ?? '', /cancelled/);
    assert.ok(terminatedAt > 0 && Date.now() - terminatedAt < 2000, `ended ${String(Date.now() - terminatedAt)} ms after SIGTERM (${String(Date.now() - started)} ms in all)`);
  });

  it('exits 4 and writes nothing when a DaemonSet of that name is not managed by the puller', async () => {
    // Not the puller's, so its LIST by label does not show it; the read by name before a create does.
    server.routes = [
      (request) => (request.method === 'GET' && request.path === DAEMONSETS ? { status: 200, body: { metadata: {}, items: [] } } : undefined),
      (request) => (request.method === 'GET' && request.path === `${DAEMONSETS}/kip`
        ? { status: 200, body: { metadata: { name: 'kip', namespace: 'cache', uid: 'foreign', labels: { app: 'other' } }, spec: { selector: { matchLabels: { app: 'other' } }, template: { metadata: {}, spec: { containers: [] } } } } }
        : undefined),
    ];
    const { code, summary } = await runPass(kubeconfig);
    assert.equal(code, 4);
    assert.deepEqual([summary.action, summary.exitCode], ['refused', 4]);
    assert.deepEqual(server.writes(), []);
  });
});

describe('command line --dry-run=server', () => {
  it('prints the DaemonSet as the server would store it, under its own name, and stores nothing', async () => {
    server.routes = [(request) => (request.method === 'POST' && request.path === DAEMONSETS
      ? { status: 201, body: { ...JSON.parse(request.body) as object, status: {} } }
      : undefined)];
    const { code, stdout } = await runPass(kubeconfig, {}, { args: ['--dry-run=server'] });
    assert.equal(code, 0);
    assert.match(stdout, /^# accepted by the API server \(dry run; nothing was stored\)\n/);
    assert.match(stdout, /^ {2}name: kip$/m);
    assert.deepEqual(server.requests.map((request) => [request.method, request.query.get('dryRun'), request.query.get('fieldValidation')]), [['POST', 'All', 'Strict']]);
  });

  it('exits 2 naming the variable behind the field the server rejected', async () => {
    server.routes = [() => status(400, 'BadRequest', 'strict decoding error: unknown field "spec.template.spec.affinity.nodeAffinity.hostPath"')];
    const { code, stdout } = await runPass(kubeconfig, { AFFINITY: '{"nodeAffinity":{"hostPath":{"path":"/"}}}' }, { args: ['--dry-run=server'] });
    assert.equal(code, 2);
    assert.match(stdout, /invalid AFFINITY=.*the API server rejected it: strict decoding error: unknown field/);
  });
});

describe('command line --dry-run=server with image sets', () => {
  const sets = JSON.stringify([{ name: 'gpu', images: 'c=cuda:12', tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }] }]);

  it('asks the API server about every DaemonSet and prints each as it would be stored', async () => {
    server.routes = [(request) => (request.method === 'POST' && request.path === DAEMONSETS ? { status: 201, body: JSON.parse(request.body) as object } : undefined)];
    const { code, stdout } = await runPass(kubeconfig, { IMAGE_SETS: sets }, { args: ['--dry-run=server'] });
    assert.equal(code, 0);
    assert.deepEqual([...stdout.matchAll(/^ {2}name: (\S+)$/gm)].map((match) => match[1]), ['kip', 'kip-gpu']);
    assert.deepEqual(server.writes(), ['POST /apis/apps/v1/namespaces/cache/daemonsets', 'POST /apis/apps/v1/namespaces/cache/daemonsets']);
  });

  it('exits 2 naming IMAGE_SETS, the set and the field when the server rejects a set\'s own value', async () => {
    server.routes = [(request) => ((JSON.parse(request.body) as { metadata: { name: string } }).metadata.name.startsWith('kip-gpu')
      ? { status: 422, body: { kind: 'Status', reason: 'Invalid', message: 'DaemonSet.apps "kip-gpu" is invalid', details: { causes: [{ field: 'spec.template.spec.tolerations[0].tolerationSeconds' }] } } }
      : { status: 201, body: JSON.parse(request.body) as object })];
    const { code, stdout } = await runPass(kubeconfig, { IMAGE_SETS: sets }, { args: ['--dry-run=server'] });
    assert.equal(code, 2);
    assert.match(stdout, /invalid IMAGE_SETS=.*set \\"gpu\\": \\"tolerations\\": the API server rejected it/);
  });
});

describe('command line without a cluster', () => {
  it('a KUBECONFIG naming a missing file ends at once with one line that says so (exit 1)', async () => {
    const { code, summary, lines, stderr, ms } = await runPass('/nonexistent/kubeconfig');
    assert.deepEqual([code, lines, stderr], [1, 1, '']);
    assert.equal(summary.error, 'KUBECONFIG=/nonexistent/kubeconfig names no file that exists; point it at a kubeconfig or unset it');
    assert.ok(ms < 5000, `took ${String(ms)} ms`);
  });

  it('no kubeconfig and no ServiceAccount ends at once with one line that says what is missing (exit 1)', async () => {
    const { code, summary, lines, ms } = await runPass(undefined);
    assert.deepEqual([code, lines], [1, 1]);
    assert.match(summary.error ?? '', /^no cluster configuration: KUBECONFIG is not set, \/nonexistent\/\.kube\/config does not exist/);
    assert.ok(ms < 5000, `took ${String(ms)} ms`);
  });
});

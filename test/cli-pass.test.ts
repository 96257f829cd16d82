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
  action?: string;
  exitCode?: number;
  error?: string;
}

function runPass(kubeconfig: string, env: Record<string, string> = {}): Promise<{ code: number | null; summary: Summary; stderr: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', KUBECONFIG: kubeconfig, IMAGES: 'a=nginx:1', NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const lines = stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Summary);
      const summary = lines.find((line) => line.message.startsWith('pass finished')) ?? { message: `no summary line in: ${stdout}` };
      resolve({ code, summary, stderr });
    });
  });
}

/** A namespace where whatever is POSTed to daemonsets is kept, and its pods never become available. */
function stuckRollout(): Route {
  let stored: Record<string, unknown> | undefined;
  return (request) => {
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

describe('command line pass', () => {
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

  it('exits 1 and names the missing permission when the API server forbids the read', async () => {
    server.routes = [() => status(403, 'Forbidden', 'forbidden')];
    const { code, summary } = await runPass(kubeconfig);
    assert.equal(code, 1);
    assert.equal(summary.exitCode, 1);
    assert.match(summary.error ?? '', /may not "get" daemonsets\.apps in namespace cache/);
    assert.deepEqual(server.writes(), []);
  });

  it('exits 3 with the rollout figures when the pods are not available by the deadline', async () => {
    server.routes = [stuckRollout()];
    const { code, summary } = await runPass(kubeconfig, { ROLLOUT_TIMEOUT_SECONDS: '1' });
    assert.equal(code, 3);
    assert.deepEqual([summary.action, summary.exitCode], ['created', 3]);
    assert.match(summary.error ?? '', /not healthy after 1s/);
  });

  it('exits 4 and writes nothing when a DaemonSet of that name is not managed by the puller', async () => {
    server.routes = [(request) => (request.method === 'GET' && request.path === `${DAEMONSETS}/kip`
      ? { status: 200, body: { metadata: { name: 'kip', namespace: 'cache', uid: 'foreign', labels: { app: 'other' } }, spec: { selector: { matchLabels: { app: 'other' } }, template: { metadata: {}, spec: { containers: [] } } } } }
      : undefined)];
    const { code, summary } = await runPass(kubeconfig);
    assert.equal(code, 4);
    assert.deepEqual([summary.action, summary.exitCode], ['refused', 4]);
    assert.deepEqual(server.writes(), []);
  });
});

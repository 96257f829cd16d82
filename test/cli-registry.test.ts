// What the command line gives the registry lookups: where the pass runs (KUBERNETES_SERVICE_HOST,
// which every pod has and a host has not, makes a loopback registry node-local, not asked; without
// it the host's loopback is asked), and their share of the pass, which no registry request outlives.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiServer, status } from './support/api-server.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
/** The bundle loads the registry client and undici as chunks of their own: the lookups must work there too. */
const BUNDLE = new URL('../dist/main.mjs', import.meta.url).pathname;
const DAEMONSETS = '/apis/apps/v1/namespaces/cache/daemonsets';

interface Unresolved {
  image: string;
  reason: string;
}

function run(kubeconfig: string, env: Record<string, string>, program = MAIN): Promise<{ code: number | null; unresolved: Unresolved[]; stdout: string }> {
  const child = spawn(process.execPath, [program], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', KUBECONFIG: kubeconfig, NAMESPACE: 'cache', DAEMONSET_NAME: 'kip', REFRESH_MODE: 'digest', ROLLOUT_TIMEOUT_SECONDS: '20', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const summary = stdout.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { message: string; registry?: { unresolved?: Unresolved[] } }).find((line) => / finished/.test(line.message));
      resolve({ code, unresolved: summary?.registry?.unresolved ?? [], stdout });
    });
  });
}

const server = new ApiServer();
let kubeconfig = '';
/** A loopback "registry" that counts connections and closes each at once. */
let registry: Server;
let connections = 0;
let port = 0;
/** A loopback "registry" that accepts connections and never answers. */
let hung: Server;
const held: Socket[] = [];

before(async () => {
  await server.start();
  kubeconfig = server.writeKubeconfig();
  let stored: Record<string, unknown> | undefined;
  server.routes = [(request) => {
    if (request.path === DAEMONSETS && request.method === 'GET') return { status: 200, body: { metadata: {}, items: stored ? [stored] : [] } };
    if (request.path === `${DAEMONSETS}/kip`) return stored ? { status: 200, body: stored } : status(404, 'NotFound', 'not found');
    if (request.path === DAEMONSETS && request.method === 'POST') {
      const body = JSON.parse(request.body) as { metadata: Record<string, unknown> };
      stored = { ...body, metadata: { ...body.metadata, uid: 'uid-1', resourceVersion: '1', generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 0, numberAvailable: 0, numberReady: 0, updatedNumberScheduled: 0 } };
      return { status: 201, body: stored };
    }
    if (request.path === '/api/v1/namespaces/cache/events') return { status: 201, body: JSON.parse(request.body) as object };
    return undefined;
  }];
  registry = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  port = (registry.address() as AddressInfo).port;
  hung = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await server.stop();
  await new Promise((resolve) => registry.close(resolve));
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => hung.close(resolve));
});

describe('command line pass, images on a loopback registry', () => {
  it('in a pod (KUBERNETES_SERVICE_HOST set): reports them node-local and never connects', async () => {
    connections = 0;
    const result = await run(kubeconfig, { IMAGES: `a=127.0.0.1:${String(port)}/team/app:1`, KUBERNETES_SERVICE_HOST: '10.96.0.1' });
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(result.unresolved.map(({ image, reason }) => [image, reason]), [[`127.0.0.1:${String(port)}/team/app:1`, 'node-local']]);
    assert.equal(connections, 0);
  });

  it('on a host: asks the host\'s loopback, as before', async () => {
    connections = 0;
    const result = await run(kubeconfig, { IMAGES: `a=127.0.0.1:${String(port)}/team/app:1` });
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(result.unresolved.map(({ reason }) => reason), ['unreachable'], JSON.stringify(result.unresolved));
    assert.ok(connections > 0);
  });
});

describe('the bundle, images on a loopback registry', () => {
  it('on a host: asks the host\'s loopback, as the program run from src/ does', async (t) => {
    if (!existsSync(BUNDLE)) return t.skip(`needs ${BUNDLE}: npm run build`);
    connections = 0;
    const result = await run(kubeconfig, { IMAGES: `a=127.0.0.1:${String(port)}/team/app:1` }, BUNDLE);
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(result.unresolved.map(({ reason }) => reason), ['unreachable'], JSON.stringify(result.unresolved));
    assert.ok(connections > 0);
  });
});

describe('command line pass, a registry that never answers', () => {
  it('gives up on it when the lookups\' third of the pass is over, not at the pass\'s deadline', async () => {
    const host = `127.0.0.1:${String((hung.address() as AddressInfo).port)}`;
    const result = await run(kubeconfig, { IMAGES: `a=${host}/team/app:1`, ROLLOUT_TIMEOUT_SECONDS: '9' });
    assert.equal(result.code, 0, result.stdout);
    const [unresolved] = result.unresolved as (Unresolved & { message: string })[];
    assert.equal(unresolved?.reason, 'timeout');
    const waited = Number(/did not answer within (\d+) ms/.exec(unresolved?.message ?? '')?.[1]);
    assert.ok(waited <= 3000, `the request was given ${String(waited)} ms, more than a third of the 9 s pass`);
  });
});

// Faults around the API server: nothing listening, the server vanishing in the middle of a pass, and
// two passes racing for the same DaemonSet.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  createTestNamespace,
  deleteNamespace,
  getJson,
  kubeconfigPath,
  listJson,
  nodeNames,
  waitFor,
  type DaemonSet,
} from './lib/cluster.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { assertReadyOn, expectPass, passEnv } from './lib/puller.ts';

const namespaces: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'kip-e2e-faults-'));
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  if (process.env.KIP_E2E_KEEP === '1') return;
  for (const ns of namespaces) await deleteNamespace(ns);
});

/** The suite's kubeconfig with its server address replaced; the TLS name (127.0.0.1) still matches. */
function kubeconfigWithServer(server: string): string {
  const original = readFileSync(kubeconfigPath(), 'utf8');
  const rewritten = original.replace(/(server:\s*)https:\/\/[^\s]+/g, `$1${server}`);
  assert.notEqual(rewritten, original, 'the kubeconfig has a server: line to rewrite');
  const path = join(scratch, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, rewritten);
  return path;
}

function apiServerAddress(): { host: string; port: number } {
  const match = /server:\s*https:\/\/([^:\s/]+):(\d+)/.exec(readFileSync(kubeconfigPath(), 'utf8'));
  assert.ok(match?.[1] !== undefined && match[2] !== undefined, 'the kubeconfig names an https server with a port');
  return { host: match[1], port: Number(match[2]) };
}

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A TCP relay to the API server that can be cut: listener closed and every connection reset. */
async function cuttableRelay(): Promise<{ port: number; cut: () => Promise<void> }> {
  const target = apiServerAddress();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    port,
    cut: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.resetAndDestroy();
      await closed;
    },
  };
}

const images = 'alpha=quay.io/kip-e2e/alpha:1.0';
/** The pass's error when its first request, the LIST of its DaemonSets, finds nothing listening. */
const refusedOnList = 'cannot reach the API server (ECONNREFUSED) on list daemonsets.apps; nothing further was changed';
/** The pass's error when a read of its DaemonSet while it waits for the rollout finds nothing listening. */
const refusedOnRead = 'cannot reach the API server (ECONNREFUSED) on get daemonsets.apps; nothing further was changed';

describe('the API server cannot be reached', { timeout: 90_000 }, () => {
  test('no server listening: exit 1 with an error that says so', async () => {
    const port = await closedPort();
    const kubeconfig = kubeconfigWithServer(`https://127.0.0.1:${port}`);
    const started = Date.now();
    const result = await runPass(passEnv('kip-unreachable', { IMAGES: images, ROLLOUT_TIMEOUT_SECONDS: '5' }), { kubeconfig });
    const seconds = (Date.now() - started) / 1000;
    const summary = expectPass(result, 1);
    assert.equal(summary.action, 'failed');
    assert.equal(summary.error, refusedOnList, explain(result));
    assert.ok(seconds < 5 + 15, `gave up after ${seconds}s for a 5s deadline`);
  });

  test('the server goes away while the pass waits for the rollout: exit 1', async () => {
    const ns = await createTestNamespace('kip-cut');
    namespaces.push(ns);
    const relay = await cuttableRelay();
    const kubeconfig = kubeconfigWithServer(`https://127.0.0.1:${relay.port}`);
    // A broken image keeps the pass waiting on the rollout, talking to the server through the relay.
    const pass = runPass(
      passEnv(ns, { IMAGES: `${images};broken=broken.invalid/x:1`, ROLLOUT_TIMEOUT_SECONDS: '15' }),
      { kubeconfig },
    );
    // The DaemonSet can be in etcd before the answer to the create reaches the pass; the Created Event
    // is sent only once the pass has that answer, so the cut comes after the pass knows what it did.
    await waitFor(
      'the pass to record the Created Event on its DaemonSet',
      async () =>
        (await listJson<{ reason?: string; involvedObject?: { kind?: string } }>('events', { namespace: ns })).some(
          (e) => e.reason === 'Created' && e.involvedObject?.kind === 'DaemonSet',
        ),
      { timeoutMs: 20_000 },
    );
    await relay.cut();
    const result = await pass;
    const summary = expectPass(result, 1);
    assert.equal(summary.action, 'created', 'the summary still reports what was done before the cut');
    // Retries outlast the reset of the open connection; the last one finds the relay closed.
    assert.equal(summary.error, refusedOnRead, explain(result));
    // What was created before the cut is still there.
    assert.ok((await getJson('daemonset', 'kubernetes-image-puller', ns)) !== undefined);
  });
});

describe('two passes started at once', { timeout: 90_000 }, () => {
  test('end with one DaemonSet and both exit 0', async () => {
    const ns = await createTestNamespace('kip-race');
    namespaces.push(ns);
    const nodes = await nodeNames();
    const [first, second] = await Promise.all([runPass(passEnv(ns, { IMAGES: images })), runPass(passEnv(ns, { IMAGES: images }))]);
    const a = expectPass(first, 0);
    const b = expectPass(second, 0);
    const actions = [a.action, b.action].sort();
    assert.ok(actions.includes('created'), `one of them created the DaemonSet: ${actions.join(', ')}`);
    const daemonSets = await listJson<DaemonSet>('daemonsets', { namespace: ns });
    assert.deepEqual(
      daemonSets.map((d) => d.metadata.name),
      ['kubernetes-image-puller'],
    );
    await assertReadyOn(ns, nodes, images);
  });
});

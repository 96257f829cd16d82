// A dead registry must not eat the pass. Each registry host gets one lookup first and the rest of
// its images only once it answered; a host that timed out or refused the connection is not asked
// again that pass, its images unresolved for the host's one reason; and lookups have their own
// share of the pass, after which none starts, so the rollout keeps the rest of the deadline.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { runPass } from '../src/pass/run.ts';
import { LOOKUP_SHARE, lookupDeadline, spareHosts } from '../src/pass/registry-hosts.ts';
import { createRegistryClient } from '../src/registry/client.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { MemoryRegistry } from './support/memory-registry.ts';
import { DOCKER_MANIFEST, RegistryServer, manifestOf } from './support/registry-server.ts';
import { fixedClock, silent } from './support/run-pass.ts';

const manifest = manifestOf(DOCKER_MANIFEST, { config: {}, layers: [] });
// Long enough that a live host answers in time on a loaded machine; the hung host costs it once.
const REQUEST_TIMEOUT_MS = 2000;

/** A port where nothing listens: connections are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a pass whose registry never answers', () => {
  const hung = new RegistryServer();
  const live = new RegistryServer();
  let refusedHost = '';

  before(async () => {
    await hung.start();
    await live.start();
    refusedHost = `127.0.0.1:${String(await closedPort())}`;
  });
  after(async () => {
    await hung.stop();
    await live.stop();
  });
  beforeEach(() => {
    hung.reset();
    live.reset();
    hung.routes = [() => ({ status: 200, hang: true })];
    for (const tag of ['1', '2']) live.put('app', tag, manifest);
  });

  function pass(images: string[]) {
    const registry = createRegistryClient({ version: '1', requestTimeoutMs: REQUEST_TIMEOUT_MS });
    const config = loadConfig({ NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '300', REFRESH_MODE: 'digest', IMAGES: images.map((image, index) => `i${String(index)}=${image}`).join(';') });
    return runPass({ config, cluster: new MemoryCluster(), registry, log: silent, ...fixedClock(), signal: new AbortController().signal });
  }

  it('asks a host that timed out once, not once per image: 40 images cost one timeout, and the other registry is asked as usual', async () => {
    const images = [...Array.from({ length: 40 }, (_, index) => `${hung.host}/team/app${String(index)}:1`), `${live.host}/app:1`, `${live.host}/app:2`];
    const outcome = await pass(images);
    assert.equal(hung.requests.length, 1, 'one request to the hung host');
    assert.deepEqual(outcome.refresh?.unresolved.map(({ reason }) => reason), Array.from({ length: 40 }, () => 'timeout'));
    assert.match(outcome.refresh?.unresolved[1]?.message ?? '', new RegExp(`^${hung.host} was not asked for ${hung.host}/team/app1:1: it did not answer earlier in this pass \\(${hung.host} did not answer within ${String(REQUEST_TIMEOUT_MS)} ms`));
    assert.deepEqual(outcome.refresh?.firstSeen, [`${live.host}/app:1`, `${live.host}/app:2`]);
  });

  it('asks a host that refused the connection once, its images unresolved as unreachable', async () => {
    const images = Array.from({ length: 20 }, (_, index) => `${refusedHost}/team/app${String(index)}:1`);
    const outcome = await pass(images);
    const unresolved = outcome.refresh?.unresolved ?? [];
    assert.deepEqual([...new Set(unresolved.map(({ reason }) => reason))], ['unreachable']);
    assert.equal(unresolved.filter(({ message }) => message.startsWith(`cannot reach ${refusedHost}`)).length, 1, 'one connection tried');
    assert.match(unresolved[5]?.message ?? '', /could not be reached earlier in this pass \(cannot reach/);
  });

  it('a host that answered keeps being asked, however many of its images are unknown to it', async () => {
    const images = Array.from({ length: 12 }, (_, index) => `${live.host}/missing${String(index)}:1`);
    const outcome = await pass(images);
    assert.equal(live.requests.length, 12);
    assert.deepEqual([...new Set(outcome.refresh?.unresolved.map(({ reason }) => reason))], ['not-found']);
  });
});

describe('the lookups\' share of the pass', () => {
  const slow = new RegistryServer();
  before(async () => {
    await slow.start();
  });
  after(() => slow.stop());

  it('is a third of the time to the deadline', () => {
    assert.equal(LOOKUP_SHARE, 1 / 3);
    assert.equal(lookupDeadline(1_000, 301_000), 101_000);
    assert.equal(lookupDeadline(5_000, 4_000), 5_000);
    // A whole millisecond: the client hands what is left to AbortSignal.timeout, which takes no fraction.
    assert.equal(lookupDeadline(0, 20_000), 6_666);
  });

  it('once used up, no lookup starts: the images left are unresolved (timeout) and say why', async () => {
    slow.reset();
    slow.delayMs = 100;
    for (let index = 0; index < 40; index += 1) slow.put(`app${String(index)}`, '1', manifest);
    const until = Date.now() + 250;
    const client = createRegistryClient({ version: '1', deadline: () => until });
    const lookups = await spareHosts(client, { until, now: Date.now }).resolve(Array.from({ length: 40 }, (_, index) => `${slow.host}/app${String(index)}:1`));
    const resolved = lookups.filter(({ digest }) => digest !== undefined).length;
    assert.ok(resolved > 0 && resolved < 40, `${String(resolved)} resolved`);
    const left = lookups.filter(({ problem }) => problem !== undefined);
    assert.deepEqual([...new Set(left.map(({ problem }) => problem?.reason))], ['timeout']);
    assert.match(left.at(-1)?.problem?.message ?? '', /not asked for .*: the lookups' share of this pass \(0 s\) was used up; the next pass asks again/);
  });
});

describe('spareHosts, as the client did within one call', () => {
  it('asks for two spellings of one manifest once, and passes an image pinned by digest or unreadable straight through', async () => {
    const registry = new MemoryRegistry();
    const pinned = `quay.io/a/b@sha256:${'1'.repeat(64)}`;
    const lookups = await spareHosts(registry, { until: Infinity, now: Date.now }).resolve(['nginx:1', 'docker.io/library/nginx:1', pinned, 'UPPER/case']);
    assert.deepEqual(registry.asked.flat(), ['nginx:1', pinned, 'UPPER/case']);
    assert.deepEqual(lookups.map(({ image }) => image), ['nginx:1', 'docker.io/library/nginx:1', pinned, 'UPPER/case']);
    assert.equal(lookups[1]?.digest, lookups[0]?.digest);
  });
});

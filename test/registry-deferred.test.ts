// The registry client loaded with the first lookup: none for a pass that asks no registry, one for many lookups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RegistryClient } from '../src/registry/client.ts';
import { deferredRegistryClient } from '../src/registry/deferred.ts';

function fakeClient(): RegistryClient & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    resolve: (images) => {
      asked.push([...images]);
      return Promise.resolve(images.map((image) => ({ image, digest: `sha256:${'a'.repeat(64)}` })));
    },
    requests: () => ({ total: asked.length, byHost: { 'quay.io': { HEAD: asked.length } } }),
  };
}

describe('deferredRegistryClient', () => {
  it('loads nothing and counts no request while no lookup is asked for', () => {
    let loads = 0;
    const registry = deferredRegistryClient(() => {
      loads += 1;
      return Promise.resolve(fakeClient());
    });
    assert.deepEqual(registry.requests(), { total: 0, byHost: {} });
    assert.equal(loads, 0);
  });

  it('loads the client once, however many lookups, even asked at once, and reports its counts', async () => {
    let loads = 0;
    const client = fakeClient();
    const registry = deferredRegistryClient(() => {
      loads += 1;
      return Promise.resolve(client);
    });
    const [first, second] = await Promise.all([registry.resolve(['quay.io/a:1']), registry.resolve(['quay.io/b:1', 'quay.io/c:1'])]);
    assert.equal(loads, 1);
    assert.deepEqual(first.map((lookup) => lookup.image), ['quay.io/a:1']);
    assert.deepEqual(second.map((lookup) => lookup.image), ['quay.io/b:1', 'quay.io/c:1']);
    assert.deepEqual(client.asked, [['quay.io/a:1'], ['quay.io/b:1', 'quay.io/c:1']]);
    assert.deepEqual(registry.requests(), { total: 2, byHost: { 'quay.io': { HEAD: 2 } } });
  });

  it('passes the credentials on to the client', async () => {
    let given: unknown;
    const credentialsFor = () => [];
    const registry = deferredRegistryClient(() => Promise.resolve({
      resolve: (images, credentials) => {
        given = credentials;
        return Promise.resolve(images.map((image) => ({ image })));
      },
      requests: () => ({ total: 0, byHost: {} }),
    }));
    await registry.resolve(['quay.io/a:1'], credentialsFor);
    assert.equal(given, credentialsFor);
  });
});

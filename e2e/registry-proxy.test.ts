// Digest lookups in a corporate network: the real registry (distribution v3) served over HTTPS with
// a private CA, under a name (registry.test) that only the forward proxy started here can reach. The
// pass gets there only through HTTPS_PROXY's CONNECT tunnel, and trusts the certificate only through
// NODE_EXTRA_CA_CERTS (what the chart's registryCA and the template's REGISTRY_CA_CONFIGMAP set).
// The proxy and the registry listen on loopback; nothing leaves the machine.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProxyServer } from '../test/support/proxy-server.ts';
import { createTestNamespace, releaseNamespace, repoRoot } from './lib/cluster.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { expectPass, getPuller, passEnv } from './lib/puller.ts';
import { LocalRegistry, pullerManifestRequests } from './lib/registry.ts';

const DIGESTS = 'kubernetes-image-puller/digests';
const tlsDir = join(repoRoot, 'test', 'support', 'tls');
const ca = join(tlsDir, 'ca.pem');

describe('refresh by digest through a proxy, from a registry with a private CA', { timeout: 300_000 }, () => {
  const registry = new LocalRegistry();
  const proxy = new ProxyServer();
  let ns = '';
  let image = '';
  let digest = '';

  const env = (extra: Record<string, string>): Record<string, string> => passEnv(ns, { IMAGES: `app=${image}`, REFRESH_MODE: 'digest', ...extra });
  const recorded = async (): Promise<string | undefined> =>
    (JSON.parse((await getPuller(ns)).spec.template.metadata.annotations?.[DIGESTS] ?? '{}') as Record<string, string>)[image];

  before(async () => {
    await registry.start({ kind: 'none' }, undefined, { certificate: join(tlsDir, 'registry.pem'), key: join(tlsDir, 'registry-key.pem'), ca });
    digest = registry.push('proxied/app:1', 'behind a proxy');
    image = `registry.test:${registry.address.split(':')[1] ?? ''}/proxied/app:1`;
    await proxy.start();
    ns = await createTestNamespace('kip-digest-proxy');
  });
  after(async () => {
    await proxy.stop();
    await registry.stop();
    await releaseNamespace(ns);
  });

  test('HTTPS_PROXY and NODE_EXTRA_CA_CERTS: one HEAD through the CONNECT tunnel, and the digest is the registry\'s', async () => {
    const asked = registry.accessLog().length;
    const result = await runPass(env({ HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: ca }));
    const summary = expectPass(result, 0);
    assert.equal(summary.action, 'created', explain(result));
    assert.equal((summary.registry as { unresolved?: unknown[] } | undefined)?.unresolved, undefined, explain(result));
    assert.equal(await recorded(), digest);
    assert.ok(proxy.asked.includes(`CONNECT ${image.split('/')[0] ?? ''}`), `the proxy was asked: ${proxy.asked.join(', ')}`);
    assert.deepEqual(pullerManifestRequests(registry.accessLog().slice(asked)), ['HEAD /v2/proxied/app/manifests/1']);
  });

  test('without the CA the certificate is not accepted: the image is unresolved, its digest kept, nothing written', async () => {
    const before = (await getPuller(ns)).metadata.resourceVersion;
    const asked = registry.accessLog().length;
    const result = await runPass(env({ HTTPS_PROXY: proxy.url }));
    const summary = expectPass(result, 0);
    const unresolved = (summary.registry as { unresolved?: Array<{ image: string; message: string }> } | undefined)?.unresolved ?? [];
    assert.deepEqual(unresolved.map((u) => u.image), [image], explain(result));
    assert.match(unresolved[0]?.message ?? '', /certificate .* not accepted/, explain(result));
    assert.deepEqual(pullerManifestRequests(registry.accessLog().slice(asked)), [], 'no request got past the handshake');
    assert.equal((await getPuller(ns)).metadata.resourceVersion, before);
    assert.equal(await recorded(), digest);
  });
});

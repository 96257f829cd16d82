// Where a registry's API is (plain HTTP or HTTPS), which token services may see credentials, and
// where a registry may send the pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { internalAddress, internalTargetRefusal, isLoopback, mayReceiveCredentials, redirectRefusal, registryOrigin, usesPlainHttp } from '../src/registry/endpoint.ts';
import type { InternalAddress } from '../src/registry/endpoint.ts';

describe('isLoopback', () => {
  const cases: [string, boolean][] = [
    ['localhost', true],
    ['LOCALHOST:5000', true],
    ['127.0.0.1', true],
    ['127.8.9.10:5000', true],
    ['127.100.200.255', true],
    ['not a host', false],
    ['[::1]:5000', true],
    ['[::1]', true],
    ['128.0.0.1', false],
    ['127.example.com', false],
    ['localhost.example.com', false],
    // Names that only start like a loopback address are somebody's host on the network.
    ['127.0.0.1.example.com', false],
    ['127.0.0.1.nip.io:5000', false],
    ['127.0.0.1-registry.example.com', false],
    ['localhost:5000.example.com', false],
    ['10.0.0.1:5000', false],
    ['[::2]:5000', false],
  ];
  for (const [registry, expected] of cases) it(`${expected ? 'takes' : 'does not take'} ${registry} for loopback`, () => assert.equal(isLoopback(registry), expected));
});

describe('usesPlainHttp', () => {
  const listed = ['registry.lan', 'mirror.lan:8080', 'http://Other.Lan:5000/', ' padded.lan ', 'https://slashes.lan//', 'not a host'];
  const cases: [string, boolean][] = [
    ['127.0.0.1:5000', true],
    ['localhost', true],
    ['registry.lan', true],
    ['registry.lan:5000', true],
    ['REGISTRY.LAN', true],
    ['mirror.lan:8080', true],
    ['mirror.lan:8443', false],
    ['mirror.lan', false],
    ['other.lan:5000', true],
    ['quay.io', false],
    ['registry-1.docker.io', false],
    ['padded.lan', true],
    ['slashes.lan', true],
    ['not a host', false],
    ['127.0.0.1.example.com', false],
    ['127.0.0.1.nip.io:5000', false],
  ];
  for (const [registry, expected] of cases) it(`speaks ${expected ? 'plain HTTP' : 'HTTPS'} to ${registry}`, () => assert.equal(usesPlainHttp(registry, listed), expected));

  it('asks a name that only starts like a loopback address over HTTPS, and withholds credentials from its plain-HTTP realm', () => {
    const origin = registryOrigin('127.0.0.1.example.com:5000', []);
    assert.equal(origin, 'https://127.0.0.1.example.com:5000');
    assert.equal(mayReceiveCredentials(new URL('http://127.0.0.1.example.com:5000/token'), origin), false);
  });

  it('builds the origin from the choice', () => {
    assert.deepEqual([registryOrigin('quay.io', []), registryOrigin('[::1]:5000', []), registryOrigin('registry.lan:5000', ['registry.lan'])], ['https://quay.io', 'http://[::1]:5000', 'http://registry.lan:5000']);
  });
});

describe('mayReceiveCredentials', () => {
  const cases: [string, string, boolean][] = [
    ['https://auth.docker.io/token', 'https://registry-1.docker.io', true],
    ['https://gitlab.com/jwt/auth', 'https://registry.gitlab.com', true],
    ['https://registry.lan/token', 'http://registry.lan', true],
    ['http://127.0.0.1:5000/token', 'http://127.0.0.1:5000', true],
    ['http://localhost:5000/token', 'http://127.0.0.1:5000', false],
    ['http://127.0.0.1:5001/token', 'http://127.0.0.1:5000', false],
    ['http://quay.io/v2/auth', 'https://quay.io', false],
    ['http://auth.example.com/token', 'http://registry.lan', false],
  ];
  for (const [realm, origin, expected] of cases) it(`${expected ? 'sends' : 'withholds'} credentials to ${realm} for ${origin}`, () => assert.equal(mayReceiveCredentials(new URL(realm), origin), expected));
});

describe('internalAddress', () => {
  const cases: [string, InternalAddress | undefined][] = [
    ['http://localhost:5000', 'loopback'],
    ['http://LOCALHOST./', 'loopback'],
    ['http://registry.localhost', 'loopback'],
    ['http://127.0.0.1', 'loopback'],
    ['http://127.8.9.10', 'loopback'],
    ['http://2130706433', 'loopback'],
    ['http://0x7f.1', 'loopback'],
    ['http://0.0.0.0', 'loopback'],
    ['http://[::1]', 'loopback'],
    ['http://[::]', 'loopback'],
    ['http://[::ffff:127.0.0.1]', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['http://[::ffff:169.254.169.254]', 'cloud metadata'],
    ['http://169.254.170.2', 'cloud metadata'],
    ['http://100.100.100.200', 'cloud metadata'],
    ['http://[fd00:ec2::254]', 'cloud metadata'],
    ['http://metadata.google.internal', 'cloud metadata'],
    ['http://metadata', 'cloud metadata'],
    ['http://169.254.1.1', 'link-local'],
    ['http://[fe80::1]', 'link-local'],
    ['http://[febf::1]', 'link-local'],
    ['http://10.0.0.1', undefined],
    ['http://192.168.1.10', undefined],
    ['http://100.100.100.201', undefined],
    ['http://[fec0::1]', undefined],
    ['https://auth.docker.io', undefined],
    ['https://localhost.example.com', undefined],
    ['https://metadata.example.com', undefined],
  ];
  for (const [url, expected] of cases) it(`takes ${url} for ${expected ?? 'no internal address'}`, () => assert.equal(internalAddress(new URL(url).hostname), expected));
});

describe('internalTargetRefusal', () => {
  const cases: [string, string, boolean][] = [
    ['http://localhost:5001/token', 'quay.io', false],
    ['http://127.0.0.1:5001/token', 'registry.lan:5000', false],
    ['http://169.254.169.254/latest/meta-data/', 'quay.io', false],
    ['http://169.254.169.254/latest/meta-data/', '127.0.0.1:5000', false],
    ['http://169.254.169.254/latest/meta-data/', '169.254.10.10:5000', false],
    ['http://localhost:5001/token', '127.0.0.1:5000', true],
    ['http://[::1]:5001/token', 'localhost:5000', true],
    ['http://169.254.10.11/token', '169.254.10.10:5000', true],
    ['https://auth.docker.io/token', 'registry-1.docker.io', true],
    ['http://10.0.0.5/token', 'registry.lan', true],
  ];
  for (const [target, registry, allowed] of cases) {
    it(`${allowed ? 'lets' : 'does not let'} ${registry} send the pass to ${target}`, () => assert.equal(internalTargetRefusal(new URL(target), registry) === undefined, allowed));
  }

  it('says what the address is and who may use it', () => {
    assert.equal(internalTargetRefusal(new URL('http://169.254.169.254/latest/'), 'quay.io'), 'http://169.254.169.254 is a cloud metadata address, and only a registry on such an address may send the pass there');
  });
});

describe('redirectRefusal', () => {
  const cases: [string, string, string[], string | undefined][] = [
    ['https://quay.io/v2/a/manifests/1', 'quay.io', [], undefined],
    ['https://cdn.example.com/blob', 'quay.io', [], undefined],
    ['http://quay.io/v2/a/manifests/1', 'quay.io', [], 'http://quay.io is plain HTTP, which only loopback registries and PLAIN_HTTP_REGISTRIES are asked over'],
    ['http://mirror.lan/v2/a/manifests/1', 'quay.io', ['mirror.lan'], undefined],
    ['http://127.0.0.1:5001/v2/a/manifests/1', '127.0.0.1:5000', [], undefined],
    ['http://169.254.169.254/latest/', 'registry.lan', ['registry.lan'], 'http://169.254.169.254 is a cloud metadata address, and only a registry on such an address may send the pass there'],
    ['file:///etc/passwd', 'quay.io', [], 'file: is neither HTTP nor HTTPS'],
  ];
  for (const [target, registry, plain, expected] of cases) {
    it(`${expected === undefined ? 'follows' : 'does not follow'} ${registry} to ${target}`, () => assert.equal(redirectRefusal(new URL(target), registry, plain), expected));
  }
});

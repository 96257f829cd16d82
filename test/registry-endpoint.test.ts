// Where a registry's API is (plain HTTP or HTTPS) and which token services may see credentials.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopback, mayReceiveCredentials, registryOrigin, usesPlainHttp } from '../src/registry/endpoint.ts';

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

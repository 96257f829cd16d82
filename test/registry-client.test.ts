// The registry client over a real socket, against a loopback registry: what it asks (HEAD, Accept,
// User-Agent, tokens), how it authenticates, and how each failure becomes an image's problem.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createRegistryClient } from '../src/registry/client.ts';
import type { CredentialsFor, RegistryClientOptions } from '../src/registry/client.ts';
import type { RegistryCredential } from '../src/registry/credentials.ts';
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, RegistryServer, manifestOf } from './support/registry-server.ts';
import type { RegistryRequest, Reply, Route } from './support/registry-server.ts';
import { ProxyServer } from './support/proxy-server.ts';
import { TEST_TLS, testNetwork } from './support/test-network.ts';

const amd64 = manifestOf(OCI_MANIFEST, { config: { digest: 'sha256:1' }, layers: [] });
const arm64 = manifestOf(OCI_MANIFEST, { config: { digest: 'sha256:2' }, layers: [] });
const index = manifestOf(OCI_INDEX, { manifests: [{ digest: amd64.digest, platform: { architecture: 'amd64' } }, { digest: arm64.digest, platform: { architecture: 'arm64' } }] });
const single = manifestOf(DOCKER_MANIFEST, { config: { digest: 'sha256:3' }, layers: [] });

function credential(username: string, password: string, source = `pull secret "regcred", key "${username}"`): RegistryCredential {
  return { username, password, source };
}

/** Credentials offered for every image, whatever its name; records the names asked for. */
function offering(...credentials: RegistryCredential[]): CredentialsFor & { names: string[] } {
  const names: string[] = [];
  return Object.assign((name: string) => {
    names.push(name);
    return credentials;
  }, { names });
}

/** The Authorization header for the robot user with this password. */
function basic(password: string): string {
  return `Basic ${Buffer.from(`robot:${password}`).toString('base64')}`;
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

describe('registry client', () => {
  const server = new RegistryServer();
  let host = '';
  const client = (options: Partial<RegistryClientOptions> = {}) => createRegistryClient({ version: '9.8.7', ...options });

  before(async () => {
    host = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => server.reset());

  describe('asking for digests', () => {
    it('asks with one HEAD per tag, accepting indexes and manifests, OCI and Docker, over plain HTTP for a loopback registry', async () => {
      server.put('app', 'v1', single);
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup, { image: `${host}/app:v1`, digest: single.digest });
      assert.deepEqual(server.requests.map((request) => `${request.method} ${request.path}`), ['HEAD /v2/app/manifests/v1']);
      const accept = headerOf(server.requests[0]?.headers.accept) ?? '';
      for (const mediaType of [OCI_INDEX, OCI_MANIFEST, 'application/vnd.docker.distribution.manifest.list.v2+json', DOCKER_MANIFEST]) assert.ok(accept.includes(mediaType), `Accept lacks ${mediaType}: ${accept}`);
      assert.equal(server.requests[0]?.headers['user-agent'], 'kubernetes-image-puller/9.8.7');
      assert.equal(server.requests[0]?.headers.authorization, undefined);
    });

    it('answers a multi-platform tag with the index\'s digest, what the tag points at', async () => {
      server.put('multi', 'latest', index);
      const [lookup] = await client().resolve([`${host}/multi`]);
      assert.equal(lookup?.digest, index.digest);
      assert.notEqual(lookup?.digest, amd64.digest);
    });

    it('falls back to GET when HEAD is not allowed', async () => {
      server.head = 'not-allowed';
      server.put('team/app', '2', index);
      const [lookup] = await client().resolve([`${host}/team/app:2`]);
      assert.equal(lookup?.digest, index.digest);
      assert.deepEqual(server.requests.map((request) => request.method), ['HEAD', 'GET']);
      assert.ok((headerOf(server.requests[1]?.headers.accept) ?? '').includes(OCI_INDEX));
    });

    it('computes the digest of the manifest it was sent when the registry names none', async () => {
      server.head = 'no-digest-header';
      server.put('app', 'v1', index);
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.equal(lookup?.digest, `sha256:${createHash('sha256').update(index.body).digest('hex')}`);
      assert.deepEqual(server.requests.map((request) => request.method), ['HEAD', 'GET']);
    });

    it('takes only a sha256 or sha512 Docker-Content-Digest, and computes the digest of the manifest instead of any other', async () => {
      server.put('app', 'v1', index);
      const sha512 = `sha512:${'ab'.repeat(64)}`;
      const cases: [string, string][] = [
        [`sha256:${'a'.repeat(15_000)}`, index.digest],
        [`sha256:${'A'.repeat(64)}`, index.digest],
        ['md5:0123456789abcdef0123456789abcdef', index.digest],
        [sha512, sha512],
      ];
      for (const [header, expected] of cases) {
        server.requests.length = 0;
        server.manifestHeaders = { 'docker-content-digest': header };
        server.head = 'no-digest-header';
        const [lookup] = await client().resolve([`${host}/app:v1`]);
        assert.equal(lookup?.digest, expected, header.slice(0, 80));
      }
    });

    it('takes no digest from an answer that is not a manifest, such as a proxy\'s login page, and says what came back', async () => {
      let nonce = 0;
      server.routes = [(request) => {
        nonce += 1;
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: request.method === 'HEAD' ? undefined : `<html><form action="/sso"><input name="nonce" value="${String(nonce)}"></form></html>` };
      }];
      const registry = client();
      const lookups = [...await registry.resolve([`${host}/app:v1`]), ...await registry.resolve([`${host}/app:v1`])];
      for (const lookup of lookups) {
        assert.equal(lookup.digest, undefined);
        assert.deepEqual(lookup.problem, { reason: 'error', message: `registry ${host} answered the manifest of app:v1 with text/html (70 bytes), not a manifest, and no digest: a proxy or login page may stand in front of it, so no digest was taken` });
      }
    });

    it('asks once for images that name the same manifest, and answers each in order', async () => {
      server.put('app', 'v1', single);
      server.put('app', 'v2', index);
      const images = [`${host}/app:v1`, `${host}/app:v2`, `${host}/app:v1`];
      const lookups = await client().resolve(images);
      assert.deepEqual(lookups.map((lookup) => [lookup.image, lookup.digest]), [[images[0], single.digest], [images[1], index.digest], [images[2], single.digest]]);
      assert.equal(server.manifestRequests().length, 2);
    });

    it('takes a reference without a tag and one with :latest for the same manifest', async () => {
      server.put('app', 'latest', single);
      const lookups = await client().resolve([`${host}/app`, `${host}/app:latest`]);
      assert.deepEqual(lookups.map((lookup) => lookup.digest), [single.digest, single.digest]);
      assert.deepEqual(server.manifestRequests().map((request) => request.path), ['/v2/app/manifests/latest']);
    });

    it('answers images pinned by digest without asking, and says what is wrong with an invalid one', async () => {
      const lookups = await client().resolve([`${host}/app:v1@${single.digest}`, `${host}/App:v1`]);
      assert.deepEqual(lookups[0], { image: `${host}/app:v1@${single.digest}`, digest: single.digest });
      assert.equal(lookups[1]?.problem?.reason, 'error');
      assert.match(lookups[1]?.problem?.message ?? '', new RegExp(`^image ${host}/App:v1 is not a valid image reference`));
      assert.equal(server.requests.length, 0);
    });

    it('counts its requests by host and method', async () => {
      server.head = 'not-allowed';
      server.put('app', 'v1', single);
      const registry = client();
      await registry.resolve([`${host}/app:v1`, `${host}/app:missing`]);
      assert.deepEqual(registry.requests(), { total: 3, byHost: { [host]: { HEAD: 2, GET: 1 } } });
    });

    it('asks the credentials for the canonical name the kubelet matches pull secrets against', async () => {
      server.put('team/app', 'v1', single);
      const credentials = offering();
      await client().resolve([`${host}/team/app:v1`], credentials);
      assert.deepEqual(credentials.names, [`${host}/team/app`]);
    });
  });

  describe('authenticating with Basic', () => {
    beforeEach(() => {
      server.auth = { kind: 'basic', users: { robot: 'right' } };
      server.put('private', 'v1', single);
    });

    it('asks anonymously first, then with the pull secret\'s credentials', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`], offering(credential('robot', 'right')));
      assert.equal(lookup?.digest, single.digest);
      assert.deepEqual(server.requests.map((request) => request.headers.authorization), [undefined, basic('right')]);
    });

    it('tries each candidate credential in turn', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`], offering(credential('robot', 'old'), credential('robot', 'right')));
      assert.equal(lookup?.digest, single.digest);
      assert.deepEqual(server.requests.map((request) => request.headers.authorization), [undefined, basic('old'), basic('right')]);
    });

    it('reports a wrong password as unauthorized, naming the registry and the pull secret', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`], offering(credential('robot', 'wrong')));
      assert.equal(lookup?.digest, undefined);
      assert.deepEqual(lookup?.problem, {
        reason: 'unauthorized',
        message: `registry ${host} refused the credentials from pull secret "regcred", key "robot" for private:v1 (HTTP 401): check the username and password, and that the repository exists`,
      });
    });

    it('says no pull secret has credentials when it has none to offer', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`]);
      assert.equal(lookup?.problem?.reason, 'unauthorized');
      assert.match(lookup?.problem?.message ?? '', new RegExp(`^registry ${host} refused anonymous access to private:v1 \\(HTTP 401\\): .*no pull secret has a key for ${host}/private$`));
      assert.equal(server.requests.length, 1);
    });

    it('starts with what worked for the repository when it asks for another of its tags', async () => {
      server.put('private', 'v2', index);
      const registry = client();
      await registry.resolve([`${host}/private:v1`], offering(credential('robot', 'right')));
      server.requests.length = 0;
      const [lookup] = await registry.resolve([`${host}/private:v2`], offering(credential('robot', 'right')));
      assert.equal(lookup?.digest, index.digest);
      assert.deepEqual(server.requests.map((request) => request.headers.authorization), [basic('right')]);
    });
  });

  describe('authenticating with a Bearer token', () => {
    beforeEach(() => {
      server.auth = { kind: 'bearer', users: { robot: 'right' }, publicRepositories: ['public'] };
      server.put('private', 'v1', single);
      server.put('private', 'v2', index);
      server.put('private', 'v3', single);
      server.put('public', 'v1', index);
    });

    it('gets a token for the repository from the realm, with the pull secret\'s credentials, and asks with it', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`], offering(credential('robot', 'right')));
      assert.equal(lookup?.digest, single.digest);
      assert.deepEqual(server.requests.map((request) => `${request.method} ${request.path}`), ['HEAD /v2/private/manifests/v1', 'GET /token', 'HEAD /v2/private/manifests/v1']);
      const [token] = server.tokenRequests();
      assert.deepEqual([token?.query.get('service'), token?.query.get('scope'), token?.headers.authorization], ['test-registry', 'repository:private:pull', basic('right')]);
      assert.equal(server.requests[2]?.headers.authorization, 'Bearer token-1');
    });

    it('gets a token anonymously when no pull secret has credentials for the registry', async () => {
      const [lookup] = await client().resolve([`${host}/public:v1`]);
      assert.equal(lookup?.digest, index.digest);
      assert.equal(server.tokenRequests()[0]?.headers.authorization, undefined);
    });

    it('reads the token from access_token too', async () => {
      server.auth = { kind: 'bearer', users: {}, publicRepositories: ['public'], tokenField: 'access_token' };
      const [lookup] = await client().resolve([`${host}/public:v1`]);
      assert.equal(lookup?.digest, index.digest);
    });

    it('gets one token per repository for the whole pass, however many tags it looks up', async () => {
      const registry = client();
      const credentials = offering(credential('robot', 'right'));
      const lookups = await registry.resolve([`${host}/private:v1`, `${host}/private:v2`, `${host}/private:v3`], credentials);
      assert.deepEqual(lookups.map((lookup) => lookup.digest), [single.digest, index.digest, single.digest]);
      await registry.resolve([`${host}/private:v1`], credentials);
      assert.equal(server.tokenRequests().length, 1);
    });

    it('asks for a new token once the one it holds has expired', async () => {
      server.auth = { kind: 'bearer', users: { robot: 'right' }, tokenSeconds: 1 };
      const registry = client();
      const credentials = offering(credential('robot', 'right'));
      await registry.resolve([`${host}/private:v1`], credentials);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const [lookup] = await registry.resolve([`${host}/private:v2`], credentials);
      assert.equal(lookup?.digest, index.digest);
      assert.equal(server.tokenRequests().length, 2);
    });

    it('reports a password the token service refuses as unauthorized, naming the registry', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`], offering(credential('robot', 'wrong')));
      assert.equal(lookup?.problem?.reason, 'unauthorized');
      assert.match(lookup?.problem?.message ?? '', new RegExp(`^registry ${host} refused the credentials from pull secret "regcred", key "robot" for private:v1 \\(HTTP 401\\)`));
    });

    it('moves on to the next credential when the token service refuses one', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`], offering(credential('robot', 'wrong'), credential('robot', 'right')));
      assert.equal(lookup?.digest, single.digest);
      assert.equal(server.tokenRequests().length, 2);
    });

    it('reports a private repository asked for anonymously as unauthorized', async () => {
      const [lookup] = await client().resolve([`${host}/private:v1`]);
      assert.equal(lookup?.problem?.reason, 'unauthorized');
      assert.match(lookup?.problem?.message ?? '', /refused anonymous access to private:v1 \(HTTP 401\).*no pull secret has a key for/);
    });

    it('sends no credentials to a plain-HTTP realm on another host, and says so', async () => {
      server.auth = { kind: 'bearer', users: { robot: 'right' }, realm: `http://${host.replace('127.0.0.1', 'localhost')}/token` };
      const [lookup] = await client().resolve([`${host}/private:v1`], offering(credential('robot', 'right')));
      assert.equal(server.tokenRequests().length, 1);
      assert.equal(server.tokenRequests()[0]?.headers.authorization, undefined);
      assert.equal(lookup?.problem?.reason, 'unauthorized');
      assert.match(lookup?.problem?.message ?? '', /token service http:\/\/localhost:\d+ is neither HTTPS nor the registry itself, so the pull secret's credentials were not sent to it/);
    });
  });

  describe('failures', () => {
    it('reports a missing tag as not found', async () => {
      server.put('app', 'v1', single);
      const [lookup] = await client().resolve([`${host}/app:v9`]);
      assert.deepEqual(lookup?.problem, { reason: 'not-found', message: `registry ${host} has no app:v9 (HTTP 404): check the image's repository and tag` });
    });

    it('reports a refusal to an authenticated user as forbidden', async () => {
      server.routes = [() => ({ status: 403, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}' })];
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.equal(lookup?.problem?.reason, 'forbidden');
      assert.match(lookup?.problem?.message ?? '', new RegExp(`^registry ${host} forbids anonymous requests to pull app:v1 \\(HTTP 403\\)`));
    });

    it('reports the rate limit when the registry stops answering, and keeps its numbers', async () => {
      server.routes = [() => ({ status: 429, headers: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600', 'retry-after': '60' } })];
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup?.rateLimit, { limit: 100, remaining: 0, windowSeconds: 21600 });
      assert.equal(lookup?.problem?.reason, 'rate-limited');
      assert.equal(lookup?.problem?.message, `registry ${host} is limiting requests (HTTP 429; 0 of 100 left per 21600 s, retry after 60 s) for app:v1: the next pass tries again; a pull secret for it usually raises the limit`);
    });

    it('reports the rate limit of a successful lookup too', async () => {
      server.put('app', 'v1', single);
      server.manifestHeaders = { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' };
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup, { image: `${host}/app:v1`, digest: single.digest, rateLimit: { limit: 100, remaining: 76, windowSeconds: 21600 } });
    });

    it('reports another answer by its status and the registry\'s message', async () => {
      server.routes = [(request) => (request.method === 'HEAD' ? { status: 405 } : { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"storage backend down"}]}' })];
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup?.problem, { reason: 'error', message: `registry ${host} answered HTTP 503 for app:v1: "storage backend down"` });
    });

    it('gives up on a registry that never answers when the deadline comes, and still answers the others', async () => {
      server.put('app', 'v1', single);
      server.routes = [(request) => (request.path.startsWith('/v2/hung/') ? { status: 200, hang: true } : undefined)];
      const started = Date.now();
      const lookups = await client({ deadline: () => started + 1000 }).resolve([`${host}/hung:v1`, `${host}/app:v1`]);
      const took = Date.now() - started;
      assert.equal(lookups[0]?.problem?.reason, 'timeout');
      assert.match(lookups[0]?.problem?.message ?? '', new RegExp(`^${host} did not answer within \\d+ ms \\(asked for the manifest of hung:v1\\); the next pass asks again$`));
      assert.equal(lookups[1]?.digest, single.digest);
      assert.ok(took >= 900 && took < 2500, `took ${String(took)} ms`);
    });

    it('bounds each request by its own timeout too', async () => {
      server.routes = [() => ({ status: 200, hang: true })];
      const started = Date.now();
      const [lookup] = await client({ requestTimeoutMs: 300 }).resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup?.problem, { reason: 'timeout', message: `${host} did not answer within 300 ms (asked for the manifest of app:v1); the next pass asks again` });
      assert.ok(Date.now() - started < 2000);
    });

    it('takes a deadline that falls between two milliseconds (a share of the pass) as it comes', async () => {
      server.put('app', 'v1', single);
      const [lookup] = await client({ deadline: () => Date.now() + 6666.6667 }).resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup, { image: `${host}/app:v1`, digest: single.digest });
    });

    it('sends nothing once the deadline has passed', async () => {
      const [lookup] = await client({ deadline: () => Date.now() - 1 }).resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup?.problem, { reason: 'timeout', message: `${host} was not asked for the manifest of app:v1: the pass's deadline came first` });
      assert.equal(server.requests.length, 0);
    });

    it('ends the requests in flight when the pass is interrupted', async () => {
      server.routes = [() => ({ status: 200, hang: true })];
      const interrupt = new AbortController();
      setTimeout(() => interrupt.abort(), 200);
      const started = Date.now();
      const [lookup] = await client({ signal: interrupt.signal }).resolve([`${host}/app:v1`]);
      assert.ok(Date.now() - started < 2000);
      assert.deepEqual(lookup?.problem, { reason: 'error', message: `the request to ${host} was cancelled (asked for the manifest of app:v1): the pass was interrupted` });
    });

    it('keeps at most the configured number of requests in flight', async () => {
      server.delayMs = 50;
      const images = Array.from({ length: 12 }, (_, n) => `${host}/app:v${String(n)}`);
      for (let n = 0; n < 12; n += 1) server.put('app', `v${String(n)}`, single);
      const lookups = await client({ maxConcurrentRequests: 3 }).resolve(images);
      assert.ok(lookups.every((lookup) => lookup.digest === single.digest));
      assert.equal(server.maxInFlight, 3);
    });

    it('counts token requests against the same bound', async () => {
      server.delayMs = 30;
      server.auth = { kind: 'bearer', users: {}, publicRepositories: Array.from({ length: 6 }, (_, n) => `repo${String(n)}`) };
      for (let n = 0; n < 6; n += 1) server.put(`repo${String(n)}`, 'v1', single);
      const lookups = await client({ maxConcurrentRequests: 2 }).resolve(Array.from({ length: 6 }, (_, n) => `${host}/repo${String(n)}:v1`));
      assert.ok(lookups.every((lookup) => lookup.digest === single.digest), JSON.stringify(lookups));
      assert.equal(server.tokenRequests().length, 6);
      assert.equal(server.maxInFlight, 2);
    });
  });
});

describe('registry client following redirects', () => {
  const tls = new RegistryServer({ tls: TEST_TLS });
  const plain = new RegistryServer();
  const network = testNetwork();
  let registry = '';
  let other = '';
  const client = (options: Partial<RegistryClientOptions> = {}) => createRegistryClient({ version: '1', dispatcher: network.dispatcher, ...options });
  const to = (host: string) => (request: RegistryRequest) => request.headers.host === host;

  before(async () => {
    await tls.start();
    await plain.start();
    registry = `registry.test:${String(tls.port)}`;
    other = `other.test:${String(tls.port)}`;
  });
  after(async () => {
    await tls.stop();
    await plain.stop();
    await network.close();
  });
  beforeEach(() => {
    tls.reset();
    plain.reset();
    network.refused.length = 0;
  });

  it('follows a redirect within the registry\'s origin with the credentials, and counts each hop', async () => {
    tls.auth = { kind: 'basic', users: { robot: 'right' } };
    tls.put('app', 'v2', single);
    tls.routes = [(request) => (request.path === '/v2/app/manifests/v1' ? { status: 307, headers: { location: '/v2/app/manifests/v2' } } : undefined)];
    const registryClient = client();
    const [lookup] = await registryClient.resolve([`${registry}/app:v1`], offering(credential('robot', 'right')));
    assert.equal(lookup?.digest, single.digest);
    assert.deepEqual(tls.requests.map((request) => `${request.path} ${String(request.headers.authorization)}`), [
      '/v2/app/manifests/v1 undefined', '/v2/app/manifests/v2 undefined', `/v2/app/manifests/v1 ${basic('right')}`, `/v2/app/manifests/v2 ${basic('right')}`,
    ]);
    assert.deepEqual(registryClient.requests(), { total: 4, byHost: { [registry]: { HEAD: 4 } } });
  });

  it('takes the digest from another HTTPS origin the registry sends it to, and sends no credentials there', async () => {
    tls.put('app', 'v1', index);
    tls.routes = [(request): Reply | undefined => {
      if (request.headers.host !== registry) return undefined;
      if (request.headers.authorization !== basic('right')) return { status: 401, headers: { 'www-authenticate': 'Basic realm="test"' } };
      return { status: 307, headers: { location: `https://${other}/v2/app/manifests/v1` } };
    }];
    const [lookup] = await client().resolve([`${registry}/app:v1`], offering(credential('robot', 'right')));
    assert.equal(lookup?.digest, index.digest);
    assert.deepEqual(tls.requests.filter(to(other)).map((request) => request.headers.authorization), [undefined]);
  });

  it('answers no challenge from another origin: the pull secret\'s password goes only to the registry', async () => {
    tls.auth = { kind: 'bearer', users: { robot: 'right' } };
    tls.put('app', 'v1', single);
    tls.routes = [(request): Reply | undefined => {
      if (request.headers.host === registry) return { status: 307, headers: { location: `https://${other}/v2/app/manifests/v1` } };
      if (request.path !== '/token') return { status: 401, headers: { 'www-authenticate': `Bearer realm="https://${other}/token",service="evil"` } };
      return undefined;
    }];
    const [lookup] = await client().resolve([`${registry}/app:v1`], offering(credential('robot', 'right')));
    assert.deepEqual(lookup?.problem, {
      reason: 'unauthorized',
      message: `registry ${registry} sent the request for app:v1 on to https://${other}, which refused it (HTTP 401); credentials go only to the registry itself, so none were sent there`,
    });
    assert.deepEqual(tls.requests.filter((request) => request.headers.authorization !== undefined), []);
    assert.deepEqual(tls.tokenRequests(), []);
  });

  it('sends the password to the token service the registry names, not to another origin that service redirects to', async () => {
    const auth = `auth.test:${String(tls.port)}`;
    tls.auth = { kind: 'bearer', users: { robot: 'right' }, publicRepositories: ['app'], realm: `https://${auth}/token` };
    tls.put('app', 'v1', single);
    tls.routes = [(request) => (request.headers.host === auth ? { status: 307, headers: { location: `https://${other}/token?${request.query.toString()}` } } : undefined)];
    const [lookup] = await client().resolve([`${registry}/app:v1`], offering(credential('robot', 'right')));
    assert.equal(lookup?.digest, single.digest);
    assert.deepEqual(tls.tokenRequests().map((request) => [request.headers.host, request.headers.authorization]), [[auth, basic('right')], [other, undefined]]);
  });

  it('does not follow an HTTPS registry to plain HTTP, where anybody on the path could answer', async () => {
    plain.put('app', 'v1', single);
    const downgrade = `other.test:${String(plain.port)}`;
    tls.routes = [() => ({ status: 307, headers: { location: `http://${downgrade}/v2/app/manifests/v1` } })];
    const [lookup] = await client().resolve([`${registry}/app:v1`], offering(credential('robot', 'right')));
    assert.deepEqual(lookup?.problem, {
      reason: 'error',
      message: `${registry} redirected the manifest of app:v1 (HTTP 307), but http://${downgrade} is plain HTTP, which only loopback registries and PLAIN_HTTP_REGISTRIES are asked over; the redirect was not followed`,
    });
    assert.equal(plain.requests.length, 0);
  });

  it('sends the credentials to a registry whose name is not written as URL writes its origin', async () => {
    plain.auth = { kind: 'basic', users: { robot: 'right' } };
    plain.put('private', 'v1', single);
    const [lookup] = await client({ plainHttpRegistries: ['registry.test'] }).resolve([`Registry.TEST:${String(plain.port)}/private:v1`], offering(credential('robot', 'right')));
    assert.equal(lookup?.digest, single.digest);
  });

  it('ends a redirect loop after 10 redirects, and counts every hop', async () => {
    plain.routes = [(request) => ({ status: 307, headers: { location: request.path } })];
    const registryClient = client();
    const [lookup] = await registryClient.resolve([`${plain.host}/app:v1`]);
    assert.deepEqual(lookup?.problem, { reason: 'error', message: `registry ${plain.host} redirected the manifest of app:v1 more than 10 times (the last to http://${plain.host}); the redirects were not followed further` });
    assert.deepEqual(registryClient.requests(), { total: 11, byHost: { [plain.host]: { HEAD: 11 } } });
  });

  it('does not ask a plain-HTTP token service on another origin, even anonymously: its token could be anyone\'s', async () => {
    const auth = `auth.test:${String(plain.port)}`;
    tls.auth = { kind: 'bearer', users: {}, publicRepositories: ['app'], realm: `http://${auth}/token` };
    tls.put('app', 'v1', single);
    const [lookup] = await client().resolve([`${registry}/app:v1`], offering(credential('robot', 'right')));
    assert.deepEqual(lookup?.problem, {
      reason: 'error',
      message: `registry ${registry} named its token service at http://${auth}/token: plain HTTP on another origin, which anybody on the path could answer; it was not asked (list ${auth} in PLAIN_HTTP_REGISTRIES to trust it)`,
    });
    assert.deepEqual(plain.requests, []);
  });

  it('asks a plain-HTTP token service on another origin anonymously when PLAIN_HTTP_REGISTRIES lists it', async () => {
    const auth = `auth.test:${String(plain.port)}`;
    const lan = `registry.test:${String(plain.port)}`;
    plain.auth = { kind: 'bearer', users: { robot: 'right' }, publicRepositories: ['app'], realm: `http://${auth}/token` };
    plain.put('app', 'v1', single);
    const [lookup] = await client({ plainHttpRegistries: ['registry.test', 'auth.test'] }).resolve([`${lan}/app:v1`], offering(credential('robot', 'right')));
    assert.equal(lookup?.digest, single.digest);
    assert.deepEqual(plain.tokenRequests().map((request) => [request.headers.host, request.headers.authorization]), [[auth, undefined]]);
  });

  it('does not ask a token service on a loopback address for a registry elsewhere', async () => {
    const lan = `registry.test:${String(plain.port)}`;
    plain.auth = { kind: 'bearer', users: {}, publicRepositories: ['app'], realm: `http://localhost:${String(plain.port)}/token` };
    plain.put('app', 'v1', single);
    const [lookup] = await client({ plainHttpRegistries: ['registry.test'] }).resolve([`${lan}/app:v1`]);
    assert.deepEqual(lookup?.problem, {
      reason: 'error',
      message: `registry ${lan} named its token service at http://localhost:${String(plain.port)}/token, but http://localhost:${String(plain.port)} is a loopback address, and only a registry on such an address may send the pass there; it was not asked`,
    });
    assert.deepEqual(plain.tokenRequests(), []);
  });

  it('does not follow a redirect to the cloud metadata address, nor a token service there', async () => {
    const lan = `registry.test:${String(plain.port)}`;
    const metadata = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
    const routes: Route[] = [
      () => ({ status: 302, headers: { location: metadata } }),
      () => ({ status: 401, headers: { 'www-authenticate': `Bearer realm="${metadata}"` } }),
    ];
    for (const route of routes) {
      plain.routes = [route];
      const [lookup] = await client({ plainHttpRegistries: ['registry.test'] }).resolve([`${lan}/app:v1`]);
      assert.equal(lookup?.problem?.reason, 'error');
      assert.match(lookup?.problem?.message ?? '', /http:\/\/169\.254\.169\.254 is a cloud metadata address, and only a registry on such an address may send the pass there/);
    }
    assert.deepEqual(network.refused, []);
  });
});

describe('registry client behind a proxy', () => {
  const proxy = new ProxyServer();
  const plain = new RegistryServer();
  const tls = new RegistryServer({ tls: TEST_TLS });
  const saved = { ...process.env };
  const proxyVariables = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

  /** The client as main.ts makes it, no dispatcher given, with these variables set while it works. */
  async function resolveWith(variables: Record<string, string>, image: string) {
    for (const name of proxyVariables) Reflect.deleteProperty(process.env, name);
    Object.assign(process.env, variables);
    try {
      return (await createRegistryClient({ version: '1' }).resolve([image]))[0];
    } finally {
      for (const name of proxyVariables) Reflect.deleteProperty(process.env, name);
      Object.assign(process.env, Object.fromEntries(proxyVariables.filter((name) => saved[name] !== undefined).map((name) => [name, saved[name]])));
    }
  }

  /**
   * A lookup in a pass of its own: NODE_EXTRA_CA_CERTS is read when Node starts, so the CA is
   * given to a child process, as the chart gives it to the pass's container.
   */
  async function resolveInChild(env: Record<string, string>, image: string): Promise<{ digest?: string; problem?: { message: string } }> {
    const client = fileURLToPath(new URL('../src/registry/client.ts', import.meta.url));
    const script = `const { createRegistryClient } = await import(${JSON.stringify(client)}); const [lookup] = await createRegistryClient({ version: '1' }).resolve([${JSON.stringify(image)}]); console.log(JSON.stringify(lookup));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', ...env } });
    return JSON.parse(stdout) as { digest?: string; problem?: { message: string } };
  }

  before(async () => {
    await proxy.start();
    await plain.start();
    await tls.start();
    plain.put('app', 'v1', single);
    tls.put('app', 'v1', index);
  });
  after(async () => {
    await proxy.stop();
    await plain.stop();
    await tls.stop();
  });
  beforeEach(() => {
    proxy.asked.length = 0;
  });

  it('asks a plain-HTTP registry through HTTP_PROXY', async () => {
    const lookup = await resolveWith({ HTTP_PROXY: proxy.url }, `${plain.host}/app:v1`);
    assert.equal(lookup?.digest, single.digest);
    assert.deepEqual(proxy.asked, [`HEAD http://${plain.host}/v2/app/manifests/v1`]);
  });

  it('asks the hosts NO_PROXY names directly', async () => {
    for (const noProxy of ['127.0.0.1', `localhost,127.0.0.1:${String(plain.port)}`, '*']) {
      const lookup = await resolveWith({ HTTP_PROXY: proxy.url, NO_PROXY: noProxy }, `${plain.host}/app:v1`);
      assert.equal(lookup?.digest, single.digest);
    }
    assert.deepEqual(proxy.asked, []);
  });

  it('asks an HTTPS registry through HTTPS_PROXY, trusting the private CA NODE_EXTRA_CA_CERTS names', async () => {
    const image = `registry.test:${String(tls.port)}/app:v1`;
    const ca = fileURLToPath(new URL('./support/tls/ca.pem', import.meta.url));
    const lookup = await resolveInChild({ HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: ca }, image);
    assert.equal(lookup.digest, index.digest);
    assert.deepEqual(proxy.asked, [`CONNECT registry.test:${String(tls.port)}`]);
  });

  it('says the certificate was not accepted when no CA bundle trusts it', async () => {
    const lookup = await resolveInChild({ HTTPS_PROXY: proxy.url }, `registry.test:${String(tls.port)}/app:v1`);
    assert.match(lookup.problem?.message ?? '', new RegExp(`^the TLS certificate of registry\\.test:${String(tls.port)} was not accepted \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE`));
  });
});

describe('registry client without a registry', () => {
  it('reports a refused connection as unreachable', async () => {
    const server = new RegistryServer();
    const host = await server.start();
    await server.stop();
    const [lookup] = await createRegistryClient({ version: '1' }).resolve([`${host}/app:v1`]);
    assert.deepEqual(lookup?.problem, { reason: 'unreachable', message: `cannot reach ${host} (ECONNREFUSED) (asked for the manifest of app:v1): check that the registry is up and that this pod's network may reach it` });
  });
});

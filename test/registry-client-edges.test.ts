// The registry client's rarer answers, each with the exact problem it gives: oversized bodies, a
// redirect to no URL, token services that answer badly or are named badly, anonymous entries among
// the credentials, a credentials callback that throws, and counts a caller cannot change.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createRegistryClient } from '../src/registry/client.ts';
import type { CredentialsFor, RegistryClientOptions } from '../src/registry/client.ts';
import type { RegistryCredential } from '../src/registry/credentials.ts';
import { DOCKER_MANIFEST, RegistryServer, manifestOf } from './support/registry-server.ts';
import type { RegistryRequest, Reply } from './support/registry-server.ts';

const single = manifestOf(DOCKER_MANIFEST, { config: { digest: 'sha256:3' }, layers: [] });
const MANIFEST_LIMIT = 4 * 1024 * 1024;
const ROBOT: RegistryCredential = { username: 'robot', password: 's3cret', source: 'pull secret "regcred", key "registry"' };
const ANONYMOUS: RegistryCredential = { username: '', password: '', source: 'pull secret "empty", key "registry"' };
const offering = (...credentials: RegistryCredential[]): CredentialsFor => () => credentials;
const isManifest = (request: RegistryRequest): boolean => request.path.startsWith('/v2/');
/** A 401 sending the client to a token service at `realm`. */
const bearerChallenge = (realm: string) => ({ status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}",service="edge"` } });

describe('registry client, rarer answers', () => {
  const server = new RegistryServer();
  let host = '';
  const client = (options: Partial<RegistryClientOptions> = {}) => createRegistryClient({ version: '1', ...options });
  const problemOf = async (image: string, credentialsFor?: CredentialsFor, options?: Partial<RegistryClientOptions>) => (await client(options).resolve([image], credentialsFor))[0]?.problem;

  before(async () => {
    host = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => server.reset());

  it('refuses a manifest larger than 4 MiB, naming the limit', async () => {
    server.routes = [(request) => (request.method === 'HEAD' ? { status: 405 } : { status: 200, headers: { 'content-type': DOCKER_MANIFEST }, body: 'x'.repeat(MANIFEST_LIMIT + 1) })];
    assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `the manifest of app:v1 is larger than ${String(MANIFEST_LIMIT)} bytes; no registry sends that` });
  });

  it('takes a manifest of exactly 4 MiB', async () => {
    const body = 'x'.repeat(MANIFEST_LIMIT);
    server.routes = [(request) => (request.method === 'HEAD' ? { status: 405 } : { status: 200, headers: { 'content-type': DOCKER_MANIFEST, 'docker-content-digest': single.digest }, body })];
    const [lookup] = await client().resolve([`${host}/app:v1`]);
    assert.deepEqual(lookup, { image: `${host}/app:v1`, digest: single.digest });
  });

  it('reads only the first MiB of a huge error page and still reports its status', async () => {
    server.routes = [(request) => (request.method === 'HEAD' ? { status: 405 } : { status: 502, body: 'y'.repeat(3 * 1024 * 1024) })];
    assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `registry ${host} answered HTTP 502 for app:v1` });
  });

  it('stops at a redirect to something that is not a URL, quoting it', async () => {
    server.routes = [() => ({ status: 302, headers: { location: 'http://[::1' } })];
    assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `${host} answered the manifest of app:v1 with a redirect (HTTP 302) to something that is not a URL ("http://[::1")` });
  });

  it('follows a redirect with no Location as the answer it is', async () => {
    server.routes = [() => ({ status: 301 })];
    assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `registry ${host} answered HTTP 301 for app:v1` });
    assert.equal(server.requests.length, 1);
  });

  describe('a token service', () => {
    const realm = () => `http://${host}/token`;
    const withToken = (token: { status: number; headers?: Record<string, string>; body?: string }) => {
      server.routes = [(request) => (request.path === '/token' ? token : isManifest(request) && request.headers.authorization === undefined ? bearerChallenge(realm()) : undefined)];
    };

    it('that answers with something other than JSON', async () => {
      withToken({ status: 200, body: '<html>login</html>' });
      assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `the token service http://${host}/token answered with something other than JSON` });
    });

    it('that answers JSON without a token, or with empty ones', async () => {
      for (const body of ['{}', '{"token":"","access_token":""}', '{"token":7}', 'null', '"a-token"', '["a-token"]']) {
        withToken({ status: 200, body });
        assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `the token service http://${host}/token answered without a token` }, body);
      }
    });

    it('whose token is empty but whose access_token is not: the access_token is used', async () => {
      server.put('app', 'v1', single);
      server.routes = [(request) => {
        if (request.path === '/token') return { status: 200, body: '{"token":"","access_token":"t-access"}' };
        if (isManifest(request) && request.headers.authorization !== 'Bearer t-access') return bearerChallenge(realm());
        return undefined;
      }];
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.equal(lookup?.digest, single.digest);
    });

    it('that limits requests', async () => {
      withToken({ status: 429, headers: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' } });
      const problem = await problemOf(`${host}/app:v1`);
      assert.equal(problem?.reason, 'rate-limited');
      assert.equal(problem?.message, `the token service http://${host}/token is limiting requests (HTTP 429); the next pass tries again`);
    });

    it('that fails, with the registry\'s own message', async () => {
      withToken({ status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'database down' }] }) });
      const problem = await problemOf(`${host}/app:v1`);
      assert.equal(problem?.reason, 'error');
      assert.match(problem?.message ?? '', new RegExp(`^the token service http://${host}/token answered HTTP 500.*database down`));
    });

    it('named by something that is not a URL', async () => {
      server.routes = [() => bearerChallenge('not a url')];
      assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `registry ${host} named a token service that is not a URL ("not a url")` });
    });

    it('named with another scheme than HTTP or HTTPS', async () => {
      server.routes = [() => bearerChallenge(`ftp://${host}/token`)];
      assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `registry ${host} named a token service that is not HTTP or HTTPS (ftp:)` });
      assert.equal(server.requests.length, 1, 'nothing is asked of it');
    });

    it('is asked with the scope and the service the challenge names', async () => {
      server.put('team/app', 'v1', single);
      server.auth = { kind: 'bearer', users: { robot: 's3cret' } };
      await client().resolve([`${host}/team/app:v1`], offering(ROBOT));
      const [token] = server.tokenRequests();
      assert.equal(token?.query.get('scope'), 'repository:team/app:pull');
      assert.equal(token?.query.get('service'), 'test-registry');
    });
  });

  it('skips anonymous entries among the credentials for Basic and sends the next real one', async () => {
    server.put('app', 'v1', single);
    server.auth = { kind: 'basic', users: { robot: 's3cret' } };
    const [lookup] = await client().resolve([`${host}/app:v1`], offering(ANONYMOUS, ANONYMOUS, ROBOT));
    assert.equal(lookup?.digest, single.digest);
    assert.equal(server.requests.length, 2, 'one anonymous request, then one with the robot');
    assert.equal(server.requests[1]?.headers.authorization, `Basic ${Buffer.from('robot:s3cret').toString('base64')}`);
  });

  it('says no pull secret has credentials when the only ones are anonymous', async () => {
    server.auth = { kind: 'basic', users: { robot: 's3cret' } };
    const problem = await problemOf(`${host}/app:v1`, offering(ANONYMOUS));
    assert.equal(problem?.reason, 'unauthorized');
    assert.match(problem?.message ?? '', /refused anonymous access .*no pull secret has a key for/);
    assert.equal(server.requests.length, 1);
  });

  describe('problems, word for word', () => {
    const OTHER: RegistryCredential = { username: 'deploy', password: 'also-wrong', source: 'pull secret "backup", key "registry"' };

    it('a password refused: every pull secret tried is named once', async () => {
      server.auth = { kind: 'basic', users: { robot: 'right' } };
      const problem = await problemOf(`${host}/app:v1`, offering(ROBOT, OTHER, ROBOT));
      assert.deepEqual(problem, { reason: 'unauthorized', message: `registry ${host} refused the credentials from ${ROBOT.source} and ${OTHER.source} for app:v1 (HTTP 401): check the username and password, and that the repository exists` });
      assert.equal(server.requests.length, 4, 'anonymous, then each of the three');
    });

    it('anonymous access refused, outside Docker Hub: no Docker Hub hint', async () => {
      server.auth = { kind: 'basic', users: { robot: 'right' } };
      assert.deepEqual(await problemOf(`${host}/team/app:v1`), { reason: 'unauthorized', message: `registry ${host} refused anonymous access to team/app:v1 (HTTP 401): the repository does not exist or needs credentials, and no pull secret has a key for ${host}/team/app` });
    });

    it('a 403 to anonymous requests', async () => {
      server.routes = [() => ({ status: 403 })];
      assert.deepEqual(await problemOf(`${host}/team/app:v1`), { reason: 'forbidden', message: `registry ${host} forbids anonymous requests to pull team/app:v1 (HTTP 403): grant pull access to team/app` });
    });

    it('a 403 to the last credential ends the lookup; a 403 with another left moves on to it', async () => {
      server.put('app', 'v1', single);
      server.routes = [(request) => {
        const authorization = request.headers.authorization;
        if (authorization === undefined) return { status: 401, headers: { 'www-authenticate': 'Basic realm="edge"' } };
        return authorization === `Basic ${Buffer.from('robot:s3cret').toString('base64')}` ? undefined : { status: 403 };
      }];
      const [moved] = await client().resolve([`${host}/app:v1`], offering(OTHER, ROBOT));
      assert.equal(moved?.digest, single.digest);
      assert.equal(server.requests.length, 3);
      server.requests.length = 0;
      assert.deepEqual(await problemOf(`${host}/app:v1`, offering(OTHER)), { reason: 'forbidden', message: `registry ${host} forbids the credentials from ${OTHER.source} to pull app:v1 (HTTP 403): grant pull access to app` });
      assert.equal(server.requests.length, 2);
    });

    it('a 429 with credentials gives no advice to add a pull secret, nor a window or Retry-After it was not told', async () => {
      server.auth = { kind: 'basic', users: { robot: 's3cret' } };
      server.routes = [(request) => (request.headers.authorization === undefined ? undefined : { status: 429, headers: { 'ratelimit-limit': '100', 'ratelimit-remaining': '3' } })];
      const [lookup] = await client().resolve([`${host}/app:v1`], offering(ROBOT));
      assert.deepEqual(lookup, {
        image: `${host}/app:v1`,
        problem: { reason: 'rate-limited', message: `registry ${host} is limiting requests (HTTP 429; 3 of 100 left) for app:v1: the next pass tries again` },
        rateLimit: { limit: 100, remaining: 3 },
      });
    });

    it('a 429 with no rate-limit headers', async () => {
      server.routes = [() => ({ status: 429 })];
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup, { image: `${host}/app:v1`, problem: { reason: 'rate-limited', message: `registry ${host} is limiting requests (HTTP 429) for app:v1: the next pass tries again; a pull secret for it usually raises the limit` } });
    });

    it('a digest computed from the manifest keeps the rate limit the answer gave', async () => {
      server.put('app', 'v1', single);
      server.head = 'no-digest-header';
      server.manifestHeaders = { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '75;w=21600' };
      const [lookup] = await client().resolve([`${host}/app:v1`]);
      assert.deepEqual(lookup, { image: `${host}/app:v1`, digest: single.digest, rateLimit: { limit: 100, remaining: 75, windowSeconds: 21600 } });
    });

    it('an interrupted pass asks nothing and says so', async () => {
      const interrupted = new AbortController();
      interrupted.abort();
      assert.deepEqual(await problemOf(`${host}/app:v1`, undefined, { signal: interrupted.signal }), { reason: 'error', message: `${host} was not asked for the manifest of app:v1: the pass was interrupted` });
      assert.equal(server.requests.length, 0);
    });

    it('a deadline already gone asks nothing and says so', async () => {
      assert.deepEqual(await problemOf(`${host}/app:v1`, undefined, { deadline: () => Date.now() - 1 }), { reason: 'timeout', message: `${host} was not asked for the manifest of app:v1: the pass's deadline came first` });
      assert.equal(server.requests.length, 0);
    });
  });

  describe('tokens kept for the pass', () => {
    const realm = () => `http://${host}/token`;
    /**
     * A token service answering `body`, and a registry that challenges the first request for each
     * tag whatever it carries (so the second tag asks for a token again: the cache answers or the
     * service does), then takes any Bearer token.
     */
    const tokenService = (body: Record<string, unknown> | (() => Reply)) => {
      const challenged = new Set<string>();
      server.routes = [(request) => {
        if (request.path === '/token') return typeof body === 'function' ? body() : { status: 200, body: JSON.stringify(body) };
        const first = !challenged.has(request.path);
        challenged.add(request.path);
        return !first && request.headers.authorization?.startsWith('Bearer ') === true ? undefined : { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm()}"` } };
      }];
    };
    const twoTags = async (registry = client()) => {
      server.put('app', 'v1', single);
      server.put('app', 'v2', single);
      return [...await registry.resolve([`${host}/app:v1`]), ...await registry.resolve([`${host}/app:v2`])];
    };

    it('is asked with no service when the challenge names none', async () => {
      tokenService({ token: 't' });
      await twoTags();
      assert.deepEqual([...(server.tokenRequests()[0]?.query.keys() ?? [])], ['scope']);
    });

    for (const [what, body] of [['an expires_in of 300', { token: 't', expires_in: 300 }], ['no expires_in', { token: 't' }], ['an expires_in of 0', { token: 't', expires_in: 0 }], ['a negative expires_in', { token: 't', expires_in: -5 }], ['an expires_in that is text', { token: 't', expires_in: '300' }]] as const) {
      it(`is kept for the second tag when it comes with ${what} (the spec's 60 s where none is given)`, async () => {
        tokenService(body);
        const lookups = await twoTags();
        assert.deepEqual(lookups.map(({ digest }) => digest), [single.digest, single.digest]);
        assert.equal(server.tokenRequests().length, 1);
      });
    }

    it('is asked for again when it comes with a life too short to use', async () => {
      tokenService({ token: 't', expires_in: 0.001 });
      const lookups = await twoTags();
      assert.deepEqual(lookups.map(({ digest }) => digest), [single.digest, single.digest]);
      assert.equal(server.tokenRequests().length, 2);
    });

    it('remembers a refusal for the pass: a refused credential is not offered again', async () => {
      tokenService(() => ({ status: 401 }));
      const lookups = await twoTags();
      assert.deepEqual(lookups.map(({ problem }) => problem?.reason), ['unauthorized', 'unauthorized']);
      assert.equal(server.tokenRequests().length, 1);
    });
  });

  describe('edges the mutation run found unpinned', () => {
    const other = new RegistryServer();
    before(async () => {
      await other.start();
    });
    after(() => other.stop());
    beforeEach(() => other.reset());
    const OTHER: RegistryCredential = { username: 'deploy', password: 'wrong', source: 'pull secret "backup", key "registry"' };

    it('takes a 300 for no success', async () => {
      server.routes = [() => ({ status: 300, body: 'choose' })];
      assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `registry ${host} answered HTTP 300 for app:v1` });
    });

    it('keeps one request in flight when told 1', async () => {
      server.delayMs = 30;
      for (let index = 0; index < 4; index += 1) server.put(`app${String(index)}`, '1', single);
      await client({ maxConcurrentRequests: 1 }).resolve(Array.from({ length: 4 }, (_, index) => `${host}/app${String(index)}:1`));
      assert.equal(server.maxInFlight, 1);
    });

    it('sends nothing when less than a millisecond is left', async () => {
      assert.deepEqual(await problemOf(`${host}/app:v1`, undefined, { deadline: () => Date.now() + 0.5 }), { reason: 'timeout', message: `${host} was not asked for the manifest of app:v1: the pass's deadline came first` });
      assert.equal(server.requests.length, 0);
    });

    for (const [what, credential] of [['no username', { username: '', password: 'pw', source: 'pull secret "token", key "registry"' }], ['no password', { username: 'robot', password: '', source: 'pull secret "user", key "registry"' }]] as const) {
      it(`sends a credential with ${what}: only one with neither is anonymous`, async () => {
        server.put('app', 'v1', single);
        server.auth = { kind: 'basic', users: { [credential.username]: credential.password } };
        const [lookup] = await client().resolve([`${host}/app:v1`], offering(credential));
        assert.equal(lookup?.digest, single.digest);
        assert.equal(server.requests[1]?.headers.authorization, `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`);
      });
    }

    it('names every credential the token service refused', async () => {
      server.auth = { kind: 'bearer', users: { robot: 'right' } };
      assert.deepEqual(await problemOf(`${host}/app:v1`, offering(OTHER, ROBOT)), { reason: 'unauthorized', message: `registry ${host} refused the credentials from ${OTHER.source} and ${ROBOT.source} for app:v1 (HTTP 401): check the username and password, and that the repository exists` });
    });

    it('names no anonymous entry among the refused credentials', async () => {
      server.auth = { kind: 'basic', users: { robot: 'right' } };
      assert.deepEqual(await problemOf(`${host}/app:v1`, offering(ANONYMOUS, ROBOT)), { reason: 'unauthorized', message: `registry ${host} refused the credentials from ${ROBOT.source} for app:v1 (HTTP 401): check the username and password, and that the repository exists` });
    });

    it('takes a refused token service answering 403 as a refused credential', async () => {
      server.routes = [(request) => (request.path === '/token' ? { status: 403 } : { status: 401, headers: { 'www-authenticate': `Bearer realm="http://${host}/token"` } })];
      const problem = await problemOf(`${host}/app:v1`, offering(ROBOT));
      assert.equal(problem?.reason, 'unauthorized');
      assert.equal(server.tokenRequests().length, 1);
    });

    /** For each request of a second lookup on the same client, whether it went without an Authorization. */
    const anonymousAfter = async (first: string, second: string): Promise<boolean[]> => {
      const registry = client();
      await registry.resolve([first], offering(ROBOT));
      server.requests.length = 0;
      await registry.resolve([second], offering(ROBOT));
      return server.requests.map((request) => request.headers.authorization === undefined);
    };

    it('starts the next tag anonymously when the credential failed for the first', async () => {
      server.auth = { kind: 'basic', users: { robot: 'right' } };
      assert.deepEqual(await anonymousAfter(`${host}/app:v1`, `${host}/app:v2`), [true, false]);
    });

    it('keeps what worked for one repository to that repository', async () => {
      server.put('one', 'v1', single);
      server.put('two', 'v1', single);
      server.auth = { kind: 'basic', users: { robot: 's3cret' } };
      assert.deepEqual(await anonymousAfter(`${host}/one:v1`, `${host}/two:v1`), [true, false]);
    });

    it('takes a Bearer challenge without a realm as no way to authenticate', async () => {
      server.routes = [() => ({ status: 401, headers: { 'www-authenticate': 'Bearer service="edge"' } })];
      assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'unauthorized', message: `registry ${host} refused anonymous access to app:v1 (HTTP 401): the repository does not exist or needs credentials, and no pull secret has a key for ${host}/app` });
      assert.equal(server.requests.length, 1);
    });

    for (const status of [401, 403]) {
      it(`says a ${String(status)} came from the origin the registry sent the request on to, where no credential goes`, async () => {
        server.routes = [() => ({ status: 307, headers: { location: `http://${other.host}/blobs/app` } })];
        other.routes = [() => ({ status })];
        const problem = await problemOf(`${host}/app:v1`, offering(ROBOT));
        assert.deepEqual(problem, { reason: status === 401 ? 'unauthorized' : 'forbidden', message: `registry ${host} sent the request for app:v1 on to http://${other.host}, which refused it (HTTP ${String(status)}); credentials go only to the registry itself, so none were sent there` });
        assert.equal(other.requests.length, 1);
      });
    }

    it('reports a 404 from the origin the registry sent the request on to as not found', async () => {
      server.routes = [() => ({ status: 307, headers: { location: `http://${other.host}/blobs/app` } })];
      assert.equal((await problemOf(`${host}/app:v1`))?.reason, 'not-found');
    });

    it('names no anonymous entry among the credentials a token service refused', async () => {
      server.auth = { kind: 'bearer', users: { robot: 'right' } };
      assert.deepEqual(await problemOf(`${host}/app:v1`, offering(ANONYMOUS, OTHER)), { reason: 'unauthorized', message: `registry ${host} refused the credentials from ${OTHER.source} for app:v1 (HTTP 401): check the username and password, and that the repository exists` });
    });

    it('says the credentials were withheld from a plain-HTTP token service elsewhere, an anonymous entry first or not', async () => {
      server.auth = { kind: 'bearer', users: { robot: 's3cret' }, realm: `http://${host.replace('127.0.0.1', 'localhost')}/token` };
      const problem = await problemOf(`${host}/app:v1`, offering(ANONYMOUS, ROBOT));
      assert.match(problem?.message ?? '', /is neither HTTPS nor the registry itself, so the pull secret's credentials were not sent to it$/);
    });

    it('asks for no anonymous token once every credential was refused', async () => {
      server.auth = { kind: 'bearer', users: { robot: 'right' }, publicRepositories: ['app'] };
      await problemOf(`${host}/app:v1`, offering(OTHER));
      assert.deepEqual(server.tokenRequests().map((request) => request.headers.authorization === undefined), [false]);
    });

    it('sends an anonymous entry to the token service as no credential at all', async () => {
      server.put('app', 'v1', single);
      server.auth = { kind: 'bearer', users: {}, publicRepositories: ['app'] };
      const [lookup] = await client().resolve([`${host}/app:v1`], offering(ANONYMOUS));
      assert.equal(lookup?.digest, single.digest);
      assert.deepEqual(server.tokenRequests().map((request) => request.headers.authorization), [undefined]);
    });

    it('sends no credential to a 401 that offers no way to authenticate', async () => {
      server.routes = [() => ({ status: 401 })];
      assert.equal((await problemOf(`${host}/app:v1`, offering(ROBOT)))?.reason, 'unauthorized');
      assert.deepEqual(server.requests.map((request) => request.headers.authorization), [undefined]);
    });

    it('computes the digest with no rate limit when the answer names none', async () => {
      server.put('app', 'v1', single);
      server.head = 'no-digest-header';
      assert.deepEqual(await client().resolve([`${host}/app:v1`]), [{ image: `${host}/app:v1`, digest: single.digest }]);
    });

    it('falls back to GET when HEAD is not implemented (501)', async () => {
      server.put('app', 'v1', single);
      server.routes = [(request) => (request.method === 'HEAD' ? { status: 501 } : undefined)];
      assert.deepEqual(await client().resolve([`${host}/app:v1`]), [{ image: `${host}/app:v1`, digest: single.digest }]);
      assert.deepEqual(server.requests.map((request) => request.method), ['HEAD', 'GET']);
    });

    it('says it was asking for a token when the token service does not answer', async () => {
      server.routes = [(request) => (request.path === '/token' ? { status: 200, hang: true } : { status: 401, headers: { 'www-authenticate': `Bearer realm="http://${host}/token"` } })];
      assert.deepEqual(await problemOf(`${host}/app:v1`, undefined, { requestTimeoutMs: 300 }), { reason: 'timeout', message: `${host} did not answer within 300 ms (asked for a token for repository:app:pull); the next pass asks again` });
    });

    it('quotes the first 200 characters of a redirect that is not a URL', async () => {
      const location = `http://[${'x'.repeat(300)}`;
      server.routes = [() => ({ status: 302, headers: { location } })];
      assert.deepEqual(await problemOf(`${host}/app:v1`), { reason: 'error', message: `${host} answered the manifest of app:v1 with a redirect (HTTP 302) to something that is not a URL (${JSON.stringify(location.slice(0, 200))})` });
    });
  });

  for (const [kind, thrown, said] of [['an Error', new Error('keyring broke'), 'keyring broke'], ['a string', 'keyring broke', 'keyring broke']] as const) {
    it(`costs only its image a lookup when the credentials callback throws ${kind}`, async () => {
      server.put('app', 'v1', single);
      const credentialsFor: CredentialsFor = (name) => {
        // A callback that throws what it likes: the client must survive a non-Error too.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        if (name.endsWith('/broken')) throw thrown;
        return [];
      };
      const lookups = await client().resolve([`${host}/broken:v1`, `${host}/app:v1`], credentialsFor);
      assert.deepEqual(lookups, [
        { image: `${host}/broken:v1`, problem: { reason: 'error', message: `looking up ${host}/broken:v1 failed unexpectedly: ${said}` } },
        { image: `${host}/app:v1`, digest: single.digest },
      ]);
    });
  }

  it('says what is wrong with an image it cannot read, and asks nothing', async () => {
    const [lookup] = await client().resolve(['UPPER/Case:1']);
    assert.equal(lookup?.problem?.reason, 'error');
    assert.match(lookup?.problem?.message ?? '', /^image UPPER\/Case:1 /);
    assert.equal(server.requests.length, 0);
  });

  it('hands out counts a caller cannot change', async () => {
    server.put('app', 'v1', single);
    const asking = client();
    await asking.resolve([`${host}/app:v1`]);
    const counts = asking.requests();
    assert.deepEqual(counts, { total: 1, byHost: { [host]: { HEAD: 1 } } });
    counts.total = 99;
    Object.assign(counts.byHost[host] ?? {}, { HEAD: 99 });
    assert.deepEqual(asking.requests(), { total: 1, byHost: { [host]: { HEAD: 1 } } });
  });

  for (const bound of [0, -3, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`keeps 8 requests in flight when told ${String(bound)}`, async () => {
      server.delayMs = 50;
      for (let index = 0; index < 12; index += 1) server.put(`app${String(index)}`, '1', single);
      await client({ maxConcurrentRequests: bound }).resolve(Array.from({ length: 12 }, (_, index) => `${host}/app${String(index)}:1`));
      assert.equal(server.maxInFlight, 8);
    });
  }
});

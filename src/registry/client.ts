// The program's second I/O edge, beside kube.ts: it asks registries which digest each tag points
// at, once per pass, so nodes re-pull only what moved. One HEAD per tag (Docker Hub does not count
// HEADs against its pull limit), authenticated as the kubelet would: anonymously first, then with
// each candidate credential from the pull secrets, through Basic or a Bearer token. Every request
// is bounded in time and in number at once, and counted; a failure becomes the image's problem,
// never an exception. Redirects are followed by hand, each hop counted and judged: credentials go
// only to the origin they are for, and no hop downgrades to plain HTTP or turns to an internal address.
import { createHash } from 'node:crypto';
import type { Dispatcher, Headers, Response } from 'undici';
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import { findChallenge, parseChallenges } from './challenge.ts';
import type { Challenge } from './challenge.ts';
import type { RegistryCredential } from './credentials.ts';
import { internalTargetRefusal, mayReceiveCredentials, redirectRefusal, registryOrigin, usesPlainHttp } from './endpoint.ts';
import { LookupFailure, describeNetworkFailure, registryErrorDetail } from './failure.ts';
import { isDigest, parseRateLimit } from './lookup.ts';
import { MANIFEST_MEDIA_TYPES, isObject, manifestBodyProblem } from './manifest.ts';
import type { DigestLookup, LookupProblem, RateLimit } from './lookup.ts';
import { DOCKER_HUB_DOMAIN, describeReference, normalizeReference } from './reference.ts';
import type { TaggedReference } from './reference.ts';

export type { DigestLookup, LookupProblem, LookupProblemReason, RateLimit } from './lookup.ts';

const ACCEPT_MANIFESTS = MANIFEST_MEDIA_TYPES.join(', ');
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONCURRENT_REQUESTS = 8;
/** The distribution project refuses manifests larger than 4 MiB; a registry sending more is broken. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Tokens and error documents: enough for any JWT, not enough to exhaust memory. */
const MAX_SMALL_BODY_BYTES = 1024 * 1024;
/** The distribution token spec's lifetime for a token whose response names none. */
const DEFAULT_TOKEN_SECONDS = 60;
/** As Go's net/http (so containerd and Docker) allows; fetch's own 20 would be counted as one request. */
const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * undici, the fetch and the proxy support Node's own fetch lacks (Node's global fetch ignores
 * HTTPS_PROXY), loaded with the first request: a pass that asks no registry does not pay for it.
 */
let undici: Promise<typeof import('undici')> | undefined;
function loadUndici(): Promise<typeof import('undici')> {
  return (undici ??= import('undici').then(namedExports));
}

/**
 * Node gives an import() of CommonJS its exports by name; the bundle's chunk of undici (a chunk
 * since the bundle is split) gives them only as the default export.
 */
function namedExports(module: typeof import('undici')): typeof import('undici') {
  return 'fetch' in module ? module : (module as unknown as { default: typeof import('undici') }).default;
}

/** Candidate credentials for a canonical image name (docker.io/library/nginx), in the order to try them. */
export type CredentialsFor = (name: string) => readonly RegistryCredential[];

export interface RegistryClientOptions {
  /** Sent in the User-Agent, as kube.ts does. */
  version: string;
  /** Registries (host or host:port) that serve plain HTTP; loopback ones always do. */
  plainHttpRegistries?: readonly string[];
  /** A request may take this long at most (default 10 s); the deadline shortens it. */
  requestTimeoutMs?: number;
  /** Aborted on SIGTERM: requests in flight end and no new one starts. */
  signal?: AbortSignal;
  /** When the pass stops waiting (epoch ms): no request outlives it. */
  deadline?: () => number;
  /** Requests in flight at once, token requests included (default 8). */
  maxConcurrentRequests?: number;
  /**
   * How requests reach the network. By default undici's EnvHttpProxyAgent: HTTPS_PROXY (or
   * https_proxy) for HTTPS, HTTP_PROXY for plain HTTP, NO_PROXY for the hosts asked directly.
   */
  dispatcher?: Dispatcher;
}

export interface RegistryRequestCounts {
  total: number;
  /** host[:port] → HTTP method → requests sent. */
  byHost: Record<string, Record<string, number>>;
}

export interface RegistryClient {
  /**
   * The digest each image's tag points at, one lookup per image in the order given. Images that
   * name the same manifest are asked for once; an image pinned by digest is answered without a
   * request. A failure is reported in the lookup's problem, never thrown.
   */
  resolve(images: readonly string[], credentialsFor?: CredentialsFor): Promise<DigestLookup[]>;
  requests(): RegistryRequestCounts;
}

interface Exchange {
  status: number;
  headers: Headers;
  body: Buffer | undefined;
  /** Where the answer came from: the last hop of the redirects followed. */
  url: URL;
}

/** Who sent the pass where it asks: the registry's name for its rules, and the origin credentials are for. */
interface Trust {
  registry: string;
  /** Only requests to this origin carry the Authorization given. */
  origin: string;
}

interface CachedToken {
  /** The token, or undefined when the token service refused the credential. */
  token: Promise<string | undefined>;
  /** When to stop using it (epoch ms), known once the token has come. */
  expiresAt: number;
}

interface Outcome {
  digest?: string;
  problem?: LookupProblem;
  rateLimit?: RateLimit;
}

/** Up to `limit` bytes of the body; past it, the rest is dropped (truncate) or the lookup fails. */
async function readBody(response: Response, limit: number, truncate: boolean, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body === null) return Buffer.alloc(0);
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    const bytes = Buffer.from(chunk);
    size += bytes.length;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      if (truncate) break;
      throw new LookupFailure('error', `${what} is larger than ${String(limit)} bytes; no registry sends that`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** A slot per request: at most `max` in flight, the rest waiting in order. */
function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active < max) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so `active` stays within the bound.
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next();
    }
  };
}

function basic(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
}

function isAnonymous(credential: RegistryCredential): boolean {
  return credential.username === '' && credential.password === '';
}

function digestHeader(headers: Headers): string | undefined {
  const value = headers.get('docker-content-digest')?.trim();
  return value !== undefined && isDigest(value) ? value : undefined;
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const plainHttpRegistries = options.plainHttpRegistries ?? [];
  let dispatcher: Dispatcher | undefined = options.dispatcher;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const concurrency = Math.floor(options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS);
  const limit = createLimiter(Number.isFinite(concurrency) && concurrency >= 1 ? concurrency : DEFAULT_MAX_CONCURRENT_REQUESTS);
  const userAgent = `${PROGRAM_NAME}/${options.version}`;
  const counts: RegistryRequestCounts = { total: 0, byHost: {} };
  /** One token per (realm, service, scope, credential) per client, asked for again only once it expires. */
  const tokens = new Map<string, CachedToken>();
  /** The Authorization that last worked for a repository, so its other tags skip the 401 round trip. */
  const working = new Map<string, string>();

  /** The time this request may take, or the reason it must not be sent at all. */
  function requestBudget(host: string, what: string): { signal: AbortSignal; timeoutMs: number } {
    if (options.signal?.aborted === true) throw new LookupFailure('error', `${host} was not asked for ${what}: the pass was interrupted`);
    const untilDeadline = options.deadline === undefined ? Infinity : options.deadline() - Date.now();
    // Whole milliseconds: AbortSignal.timeout refuses a fraction, and a share of the pass is one.
    const timeoutMs = Math.floor(Math.min(requestTimeoutMs, untilDeadline));
    if (timeoutMs <= 0) throw new LookupFailure('timeout', `${host} was not asked for ${what}: the pass's deadline came first`);
    const timeout = AbortSignal.timeout(timeoutMs);
    return { signal: options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]), timeoutMs };
  }

  /** One HTTP exchange, one hop, within a concurrency slot; the body is read for GETs (up to a bound). */
  async function send(url: URL, method: 'HEAD' | 'GET', headers: Record<string, string>, maxBody: number, what: string): Promise<Exchange> {
    const { fetch, EnvHttpProxyAgent } = await loadUndici();
    dispatcher ??= new EnvHttpProxyAgent();
    const through = dispatcher;
    return limit(async () => {
      const { signal, timeoutMs } = requestBudget(url.host, what);
      counts.total += 1;
      const byMethod = (counts.byHost[url.host] ??= {});
      byMethod[method] = (byMethod[method] ?? 0) + 1;
      try {
        const response = await fetch(url, { method, headers: { 'user-agent': userAgent, ...headers }, signal, redirect: 'manual', dispatcher: through });
        const readsBody = method === 'GET' && !REDIRECT_STATUSES.has(response.status);
        const body = readsBody ? await readBody(response, isSuccess(response.status) ? maxBody : MAX_SMALL_BODY_BYTES, !isSuccess(response.status), what) : undefined;
        if (!readsBody) await response.body?.cancel().catch(() => undefined);
        return { status: response.status, headers: response.headers, body, url };
      } catch (error) {
        if (error instanceof LookupFailure) throw error;
        throw describeNetworkFailure(error, { host: url.host, what, timeoutMs, interrupted: options.signal?.aborted === true });
      }
    });
  }

  /**
   * An exchange with its redirects followed by hand, each hop a request of its own. The
   * Authorization goes only to hops on `trust.origin`; a hop that the endpoint rules refuse (plain
   * HTTP after HTTPS, an internal address) or one hop too many ends the lookup instead.
   */
  async function followed(url: URL, method: 'HEAD' | 'GET', headers: Record<string, string>, maxBody: number, what: string, trust: Trust): Promise<Exchange> {
    const { authorization, ...anonymous } = headers;
    let hop = url;
    for (let redirects = 0; ; redirects += 1) {
      const answer = await send(hop, method, hop.origin === trust.origin || authorization === undefined ? headers : anonymous, maxBody, what);
      const location = answer.headers.get('location');
      if (!REDIRECT_STATUSES.has(answer.status) || location === null) return answer;
      let next: URL;
      try {
        next = new URL(location, hop);
      } catch {
        throw new LookupFailure('error', `${hop.host} answered ${what} with a redirect (HTTP ${String(answer.status)}) to something that is not a URL (${JSON.stringify(location.slice(0, 200))})`);
      }
      if (redirects === MAX_REDIRECTS) {
        throw new LookupFailure('error', `registry ${trust.registry} redirected ${what} more than ${String(MAX_REDIRECTS)} times (the last to ${next.origin}); the redirects were not followed further`);
      }
      const refusal = redirectRefusal(next, trust.registry, plainHttpRegistries);
      if (refusal !== undefined) throw new LookupFailure('error', `${hop.host} redirected ${what} (HTTP ${String(answer.status)}), but ${refusal}; the redirect was not followed`);
      hop = next;
    }
  }

  /**
   * A Bearer token from the realm for pulling `repository`, fetched once per pass for each
   * credential; undefined when the token service turned the credential down (401, 403).
   */
  function bearerToken(realm: URL, challenge: Challenge, repository: string, credential: RegistryCredential | undefined, registry: string): Promise<string | undefined> {
    const service = challenge.params.service;
    const scope = `repository:${repository}:pull`;
    const key = [realm.href, service ?? '', scope, credential === undefined ? '' : `${credential.username}\u0000${credential.password}`].join('\u0001');
    const cached = tokens.get(key);
    if (cached !== undefined && Date.now() < cached.expiresAt) return cached.token;
    const asked = Date.now();
    const entry: CachedToken = { token: Promise.resolve(undefined), expiresAt: Infinity };
    entry.token = fetchToken(realm, service, scope, credential, registry).then((answer) => {
      // A tenth of its life is kept in hand, so a token is not sent just as it expires.
      if (answer !== undefined) entry.expiresAt = asked + answer.lifetimeSeconds * 900;
      return answer?.token;
    });
    tokens.set(key, entry);
    return entry.token;
  }

  async function fetchToken(realm: URL, service: string | undefined, scope: string, credential: RegistryCredential | undefined, registry: string): Promise<{ token: string; lifetimeSeconds: number } | undefined> {
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const authorization: Record<string, string> = credential === undefined ? {} : { authorization: basic(credential) };
    const answer = await followed(url, 'GET', authorization, MAX_SMALL_BODY_BYTES, `a token for ${scope}`, { registry, origin: realm.origin });
    if (answer.status === 401 || answer.status === 403) return undefined;
    const tokenService = `the token service ${realm.origin}${realm.pathname}`;
    if (answer.status === 429) throw new LookupFailure('rate-limited', `${tokenService} is limiting requests (HTTP 429); the next pass tries again`, parseRateLimit(answer.headers));
    if (!isSuccess(answer.status)) throw new LookupFailure('error', `${tokenService} answered HTTP ${String(answer.status)}${registryErrorDetail(answer.body)}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body?.toString('utf8') ?? '');
    } catch {
      throw new LookupFailure('error', `${tokenService} answered with something other than JSON`);
    }
    // JSON that is no object (null, a string, a list) holds no token either.
    const document: { token?: unknown; access_token?: unknown; expires_in?: unknown } = isObject(parsed) ? parsed : {};
    const token = typeof document.token === 'string' && document.token !== '' ? document.token : document.access_token;
    if (typeof token !== 'string' || token === '') throw new LookupFailure('error', `${tokenService} answered without a token`);
    const lifetimeSeconds = typeof document.expires_in === 'number' && document.expires_in > 0 ? document.expires_in : DEFAULT_TOKEN_SECONDS;
    return { token, lifetimeSeconds };
  }

  /**
   * One image's authentication, as containerd negotiates it for the kubelet: the request goes out
   * anonymously (or with what last worked for the repository); a 401's challenge says how to
   * authenticate, and each candidate credential is tried in turn until one is accepted.
   */
  function session(reference: TaggedReference, origin: string, credentials: readonly RegistryCredential[]) {
    const remaining = [...credentials];
    const refused: RegistryCredential[] = [];
    const workingKey = `${origin}/${reference.repository}`;
    let authorization = working.get(workingKey);
    let current: RegistryCredential | undefined;
    let anonymousTokenTried = false;
    let withheldFrom: string | undefined;
    /** The last 401's challenges: a 403 carries none, yet the next credential goes through the same scheme. */
    let challenges: Challenge[] = [];

    async function nextAuthorization(): Promise<string | undefined> {
      const bearer = findChallenge(challenges, 'bearer');
      const realmText = bearer?.params.realm;
      if (bearer !== undefined && realmText !== undefined) {
        let realm: URL;
        try {
          realm = new URL(realmText);
        } catch {
          throw new LookupFailure('error', `registry ${reference.registry} named a token service that is not a URL (${JSON.stringify(realmText)})`);
        }
        if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
          throw new LookupFailure('error', `registry ${reference.registry} named a token service that is not HTTP or HTTPS (${realm.protocol})`);
        }
        const internal = internalTargetRefusal(realm, reference.registry);
        if (internal !== undefined) throw new LookupFailure('error', `registry ${reference.registry} named its token service at ${realm.origin}${realm.pathname}, but ${internal}; it was not asked`);
        // A token from a plain-HTTP service elsewhere could come from anybody on the path, and the
        // registry would then answer with what that token allows: only a service the operator
        // listed as plain HTTP is asked (anonymously, as mayReceiveCredentials decides).
        if (realm.protocol === 'http:' && realm.origin !== new URL(origin).origin && !usesPlainHttp(realm.host, plainHttpRegistries)) {
          throw new LookupFailure('error', `registry ${reference.registry} named its token service at ${realm.origin}${realm.pathname}: plain HTTP on another origin, which anybody on the path could answer; it was not asked (list ${realm.host} in PLAIN_HTTP_REGISTRIES to trust it)`);
        }
        const mayUseCredentials = mayReceiveCredentials(realm, origin);
        if (!mayUseCredentials && remaining.some((credential) => !isAnonymous(credential))) withheldFrom = realm.origin;
        for (;;) {
          const credential = mayUseCredentials ? remaining.shift() : undefined;
          if (credential === undefined) {
            // No credential (or none that may go to this realm): one anonymous token, as containerd asks.
            if (anonymousTokenTried || (mayUseCredentials && credentials.length > 0)) return undefined;
            anonymousTokenTried = true;
            remaining.length = 0;
          }
          current = credential;
          const sent = credential === undefined || isAnonymous(credential) ? undefined : credential;
          const token = await bearerToken(realm, bearer, reference.repository, sent, reference.registry);
          if (token !== undefined) return `Bearer ${token}`;
          if (credential !== undefined) refused.push(credential);
        }
      }
      if (findChallenge(challenges, 'basic') !== undefined) {
        let credential = remaining.shift();
        while (credential !== undefined && isAnonymous(credential)) credential = remaining.shift();
        current = credential;
        return credential === undefined ? undefined : basic(credential);
      }
      return undefined;
    }

    async function request(url: URL, method: 'HEAD' | 'GET'): Promise<Exchange> {
      const headers = () => ({ accept: ACCEPT_MANIFESTS, ...(authorization === undefined ? {} : { authorization }) });
      const what = `the manifest of ${describeReference(reference)}`;
      const trust = { registry: reference.registry, origin };
      let exchange = await followed(url, method, headers(), MAX_MANIFEST_BYTES, what, trust);
      // 403 counts as a refusal of the credential, as the kubelet moves to the next on any failure.
      // Only the registry's own challenge is answered: another origin it redirected to gets no credential.
      while (exchange.url.origin === origin && (exchange.status === 401 || (exchange.status === 403 && current !== undefined && remaining.length > 0))) {
        if (current !== undefined && authorization !== undefined) refused.push(current);
        const offered = parseChallenges(exchange.headers.get('www-authenticate'));
        if (offered.length > 0) challenges = offered;
        const next = await nextAuthorization();
        if (next === undefined) break;
        authorization = next;
        exchange = await followed(url, method, headers(), MAX_MANIFEST_BYTES, what, trust);
      }
      if (isSuccess(exchange.status) && authorization !== undefined) working.set(workingKey, authorization);
      return exchange;
    }

    /** Who was turned away, for a message: the pull secrets' keys, or anonymous requests. */
    function who(): string {
      const tried = [...new Set([...refused, ...(current === undefined ? [] : [current])].filter((credential) => !isAnonymous(credential)).map((credential) => credential.source))];
      return tried.length === 0 ? 'anonymous requests' : `the credentials from ${tried.join(' and ')}`;
    }

    return { request, who, hadCredentials: () => credentials.some((credential) => !isAnonymous(credential)), withheldFrom: () => withheldFrom };
  }

  function problemFor(exchange: Exchange, reference: TaggedReference, auth: ReturnType<typeof session>): LookupFailure {
    const registry = `registry ${reference.registry}`;
    const image = describeReference(reference);
    const status = exchange.status;
    const detail = registryErrorDetail(exchange.body);
    const rateLimit = parseRateLimit(exchange.headers);
    if ((status === 401 || status === 403) && exchange.url.origin !== new URL(registryOrigin(reference.registry, plainHttpRegistries)).origin) {
      return new LookupFailure(status === 401 ? 'unauthorized' : 'forbidden', `${registry} sent the request for ${image} on to ${exchange.url.origin}, which refused it (HTTP ${String(status)})${detail}; credentials go only to the registry itself, so none were sent there`, rateLimit);
    }
    if (status === 401) {
      if (auth.withheldFrom() !== undefined) {
        return new LookupFailure('unauthorized', `${registry} refused anonymous access to ${image} (HTTP 401)${detail}; its token service ${String(auth.withheldFrom())} is neither HTTPS nor the registry itself, so the pull secret's credentials were not sent to it`, rateLimit);
      }
      if (!auth.hadCredentials()) {
        const hub = reference.domain === DOCKER_HUB_DOMAIN ? ' (for Docker Hub the key is docker.io or https://index.docker.io/v1/)' : '';
        return new LookupFailure('unauthorized', `${registry} refused anonymous access to ${image} (HTTP 401)${detail}: the repository does not exist or needs credentials, and no pull secret has a key for ${reference.name}${hub}`, rateLimit);
      }
      return new LookupFailure('unauthorized', `${registry} refused ${auth.who()} for ${image} (HTTP 401)${detail}: check the username and password, and that the repository exists`, rateLimit);
    }
    if (status === 403) return new LookupFailure('forbidden', `${registry} forbids ${auth.who()} to pull ${image} (HTTP 403)${detail}: grant pull access to ${reference.repository}`, rateLimit);
    if (status === 404) return new LookupFailure('not-found', `${registry} has no ${image} (HTTP 404)${detail}: check the image's repository and tag`, rateLimit);
    if (status === 429) {
      const left = rateLimit === undefined ? '' : `; ${String(rateLimit.remaining)} of ${String(rateLimit.limit)} left${rateLimit.windowSeconds === undefined ? '' : ` per ${String(rateLimit.windowSeconds)} s`}`;
      const retryAfter = exchange.headers.get('retry-after');
      const advice = auth.hadCredentials() ? 'the next pass tries again' : 'the next pass tries again; a pull secret for it usually raises the limit';
      return new LookupFailure('rate-limited', `${registry} is limiting requests (HTTP 429${left}${retryAfter === null ? '' : `, retry after ${retryAfter} s`}) for ${image}: ${advice}`, rateLimit);
    }
    return new LookupFailure('error', `${registry} answered HTTP ${String(status)} for ${image}${detail}`, rateLimit);
  }

  async function lookupTag(reference: TaggedReference, credentials: readonly RegistryCredential[]): Promise<Outcome> {
    // As URL writes an origin (lower-case, no default port), so each hop's origin compares with it.
    const origin = new URL(registryOrigin(reference.registry, plainHttpRegistries)).origin;
    const url = new URL(`/v2/${reference.repository}/manifests/${reference.tag}`, origin);
    const auth = session(reference, origin, credentials);
    let exchange = await auth.request(url, 'HEAD');
    // Some registries answer HEAD with 405 or 501, or without the digest: the manifest itself tells it.
    if (exchange.status === 405 || exchange.status === 501 || (isSuccess(exchange.status) && digestHeader(exchange.headers) === undefined)) {
      exchange = await auth.request(url, 'GET');
    }
    if (!isSuccess(exchange.status)) throw problemFor(exchange, reference, auth);
    const rateLimit = parseRateLimit(exchange.headers);
    const named = digestHeader(exchange.headers);
    if (named !== undefined) return { digest: named, ...(rateLimit === undefined ? {} : { rateLimit }) };
    if (exchange.body === undefined) throw new LookupFailure('error', `registry ${reference.registry} answered ${describeReference(reference)} without a digest or a manifest`, rateLimit);
    const notManifest = manifestBodyProblem(exchange.headers.get('content-type'), exchange.body);
    if (notManifest !== undefined) {
      throw new LookupFailure('error', `registry ${reference.registry} answered the manifest of ${describeReference(reference)} with ${notManifest}, and no digest: a proxy or login page may stand in front of it, so no digest was taken`, rateLimit);
    }
    return { digest: `sha256:${createHash('sha256').update(exchange.body).digest('hex')}`, ...(rateLimit === undefined ? {} : { rateLimit }) };
  }

  async function lookupImage(image: string, credentialsFor: CredentialsFor | undefined, started: Map<string, Promise<Outcome>>): Promise<Outcome> {
    const reference = normalizeReference(image);
    if (typeof reference === 'string') return { problem: { reason: 'error', message: `image ${image} ${reference}` } };
    if (reference.kind === 'digest') return { digest: reference.digest };
    const key = `${reference.registry}/${reference.repository}:${reference.tag}`;
    let outcome = started.get(key);
    if (outcome === undefined) {
      outcome = (async () => {
        try {
          return await lookupTag(reference, credentialsFor?.(reference.name) ?? []);
        } catch (error) {
          if (!(error instanceof LookupFailure)) throw error;
          return { problem: { reason: error.reason, message: error.message }, ...(error.rateLimit === undefined ? {} : { rateLimit: error.rateLimit }) };
        }
      })();
      started.set(key, outcome);
    }
    return outcome;
  }

  return {
    async resolve(images, credentialsFor) {
      const started = new Map<string, Promise<Outcome>>();
      return Promise.all(images.map(async (image) => {
        try {
          return { image, ...(await lookupImage(image, credentialsFor, started)) };
        } catch (error) {
          // A bug here (or in credentialsFor) costs this image its lookup, not the pass.
          return { image, problem: { reason: 'error' as const, message: `looking up ${image} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}` } };
        }
      }));
    },
    requests() {
      return { total: counts.total, byHost: Object.fromEntries(Object.entries(counts.byHost).map(([host, byMethod]) => [host, { ...byMethod }])) };
    },
  };
}

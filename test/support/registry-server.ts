// A loopback registry speaking as much of the distribution API as a digest lookup needs: manifests
// by tag (HEAD and GET), Basic or Bearer authentication with a token endpoint on the same server,
// and whatever failure a test asks for. Like api-server.ts, each test states what the server
// holds and answers; the server records what it was asked and how many requests it held at once.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export interface RegistryRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface StoredManifest {
  mediaType: string;
  body: string;
  digest: string;
}

/** A manifest as a registry stores it: its bytes and their sha256. */
export function manifestOf(mediaType: string, content: Record<string, unknown>): StoredManifest {
  const body = JSON.stringify({ schemaVersion: 2, mediaType, ...content });
  return { mediaType, body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` };
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'basic'; users: Record<string, string> }
  | {
    kind: 'bearer';
    users: Record<string, string>;
    /** Repositories an anonymous token may pull. */
    publicRepositories?: string[];
    /** Where the challenge sends clients for a token; this server's /token by default. */
    realm?: string;
    /** The field of the token response that carries the token (Docker Hub sends both). */
    tokenField?: 'token' | 'access_token';
    /** expires_in of the tokens it issues; the registry refuses them after that. */
    tokenSeconds?: number;
  };

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Accept the request and never answer: a hung registry. */
  hang?: boolean;
}

export type Route = (request: RegistryRequest) => Reply | undefined;

const SERVICE = 'test-registry';
const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;

function errors(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}

function basicUser(headers: IncomingHttpHeaders): { user: string; password: string } | undefined {
  const match = /^Basic (.+)$/i.exec(headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class RegistryServer {
  readonly requests: RegistryRequest[] = [];
  auth: RegistryAuth = { kind: 'none' };
  /** How HEAD is answered: like GET without a body, with 405, or (HEAD and GET) without Docker-Content-Digest. */
  head: 'standard' | 'not-allowed' | 'no-digest-header' = 'standard';
  /** Headers added to every manifest answer (rate limits). */
  manifestHeaders: Record<string, string> = {};
  /** Milliseconds to wait before each answer, so requests overlap. */
  delayMs = 0;
  /** Checked before the protocol: a test's own answers. */
  routes: Route[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #manifests = new Map<string, StoredManifest>();
  #tokens = new Map<string, { user: string | undefined; repository: string; expiresAt: number }>();
  /** Counts requests in flight since the last reset only: a hung one from an earlier test ends whenever its client gives up. */
  #epoch = 0;
  #server: Server;
  #host = '';

  /** With `tls`, it serves HTTPS with that key and certificate (test/support/test-network.ts has one). */
  constructor(options: { tls?: { key: string; cert: string } } = {}) {
    const handle = (incoming: IncomingMessage, response: ServerResponse): void => {
      const url = new URL(incoming.url ?? '/', 'http://localhost');
      const request = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers };
      this.requests.push(request);
      const epoch = this.#epoch;
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      response.on('close', () => {
        if (epoch === this.#epoch) this.inFlight -= 1;
      });
      incoming.resume();
      setTimeout(() => {
        this.#answer(request, response);
      }, this.delayMs);
    };
    this.#server = options.tls === undefined ? createServer(handle) : createTlsServer(options.tls, handle);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** host:port, as an image names this registry. */
  get host(): string {
    return this.#host;
  }

  put(repository: string, tag: string, manifest: StoredManifest): void {
    this.#manifests.set(`${repository}:${tag}`, manifest);
  }

  /** Forgets what the last test set up and recorded. */
  reset(): void {
    this.requests.length = 0;
    this.routes = [];
    this.auth = { kind: 'none' };
    this.head = 'standard';
    this.manifestHeaders = {};
    this.delayMs = 0;
    this.#epoch += 1;
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.#manifests.clear();
    this.#tokens.clear();
  }

  tokenRequests(): RegistryRequest[] {
    return this.requests.filter((request) => request.path === '/token');
  }

  manifestRequests(): RegistryRequest[] {
    return this.requests.filter((request) => MANIFEST_PATH.test(request.path));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#host = `127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
    return this.#host;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #answer(request: RegistryRequest, response: ServerResponse): void {
    const reply = this.routes.reduce<Reply | undefined>((found, route) => found ?? route(request), undefined) ?? this.#protocol(request);
    if (reply.hang === true) return;
    response.writeHead(reply.status, reply.headers);
    response.end(request.method === 'HEAD' ? undefined : reply.body);
  }

  #protocol(request: RegistryRequest): Reply {
    if (request.path === '/token') return this.#token(request);
    const match = MANIFEST_PATH.exec(request.path);
    if (!match) return { status: 404, body: errors('NOT_FOUND', 'no such endpoint') };
    const [, repository = '', reference = ''] = match;
    const refused = this.#refusal(request, repository);
    if (refused) return refused;
    const manifest = this.#manifests.get(`${repository}:${reference}`);
    if (manifest === undefined) return { status: 404, headers: { 'content-type': 'application/json' }, body: errors('MANIFEST_UNKNOWN', 'manifest unknown') };
    if (request.method === 'HEAD' && this.head === 'not-allowed') return { status: 405 };
    return {
      status: 200,
      headers: {
        'content-type': manifest.mediaType,
        'content-length': String(Buffer.byteLength(manifest.body)),
        ...(this.head === 'no-digest-header' ? {} : { 'docker-content-digest': manifest.digest }),
        ...this.manifestHeaders,
      },
      body: manifest.body,
    };
  }

  /** A 401 with the challenge, or nothing when the request may read the repository. */
  #refusal(request: RegistryRequest, repository: string): Reply | undefined {
    const auth = this.auth;
    if (auth.kind === 'none') return undefined;
    if (auth.kind === 'basic') {
      const given = basicUser(request.headers);
      if (given !== undefined && auth.users[given.user] === given.password) return undefined;
      return { status: 401, headers: { 'www-authenticate': `Basic realm="${SERVICE}"` }, body: errors('UNAUTHORIZED', 'authentication required') };
    }
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const grant = token === undefined ? undefined : this.#tokens.get(token);
    if (grant?.repository === repository && Date.now() < grant.expiresAt) return undefined;
    const realm = auth.realm ?? `http://${this.#host}/token`;
    return {
      status: 401,
      headers: { 'www-authenticate': `Bearer realm="${realm}",service="${SERVICE}",scope="repository:${repository}:pull"` },
      body: errors('UNAUTHORIZED', 'authentication required'),
    };
  }

  #token(request: RegistryRequest): Reply {
    const auth = this.auth;
    if (auth.kind !== 'bearer') return { status: 404 };
    const given = basicUser(request.headers);
    if (given !== undefined && auth.users[given.user] !== given.password) {
      return { status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ details: 'incorrect username or password' }) };
    }
    const repository = /^repository:(.+):pull$/.exec(request.query.get('scope') ?? '')?.[1] ?? '';
    const token = `token-${String(this.#tokens.size + 1)}`;
    // Like a real token service, an anonymous token for a private repository is issued without access.
    const mayPull = given !== undefined || (auth.publicRepositories ?? []).includes(repository);
    const seconds = auth.tokenSeconds ?? 300;
    this.#tokens.set(token, { user: given?.user, repository: mayPull ? repository : '', expiresAt: Date.now() + seconds * 1000 });
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [auth.tokenField ?? 'token']: token, expires_in: seconds }) };
  }
}

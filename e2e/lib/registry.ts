// A real OCI registry (distribution v3, built from Go modules by e2e/cluster/build-binaries.sh) for
// the digest-refresh tests: started per test with the auth it needs, images pushed with crane, and
// its own access log read back to count what the pass asked.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cluster.ts';

let cachedRegistryBinDir: string | undefined;

/** Where build-binaries.sh put crane and the registry, as pinned in versions.sh. */
export function registryBinDir(): string {
  cachedRegistryBinDir ??=
    process.env.REGISTRY_BIN_DIR !== undefined && process.env.REGISTRY_BIN_DIR !== ''
      ? process.env.REGISTRY_BIN_DIR
      : execFileSync('bash', ['-c', 'source "$1" && printf %s "$REGISTRY_BIN_DIR"', 'versions', join(repoRoot, 'e2e', 'cluster', 'versions.sh')], {
          encoding: 'utf8',
        });
  return cachedRegistryBinDir;
}

function binary(name: 'registry' | 'crane'): string {
  const path = join(registryBinDir(), name);
  if (!existsSync(path)) throw new Error(`${path} is missing; run: bash e2e/cluster/build-binaries.sh registry crane`);
  return path;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The status of a GET over HTTPS, trusting only the CA in `caFile`. */
function httpsStatus(url: string, caFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca: readFileSync(caFile) }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
}

export type RegistryAuth = { kind: 'none' } | { kind: 'htpasswd' } | { kind: 'token'; token: TokenAuth };

/** One request the registry answered, from its access log. */
export interface AccessLine {
  method: string;
  path: string;
  status: number;
  userAgent: string;
}

/** The requests in a registry's access log (distribution's combined log format), oldest first. */
export function parseAccessLog(text: string): AccessLine[] {
  const lines: AccessLine[] = [];
  for (const line of text.split('\n')) {
    const match = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"/.exec(line);
    if (match) lines.push({ method: match[1] ?? '', path: match[2] ?? '', status: Number(match[3]), userAgent: match[4] ?? '' });
  }
  return lines;
}

/** One registry process over a storage directory; restarting it with other auth keeps the images. */
export class LocalRegistry {
  readonly dir: string;
  address = '';
  /** The provisioned Basic user's password, with htpasswd auth. */
  password = '';
  #process: ChildProcess | undefined;

  constructor(dir = mkdtempSync(join(tmpdir(), 'kip-registry-'))) {
    this.dir = dir;
    mkdirSync(join(dir, 'data'), { recursive: true });
  }

  /**
   * Serves on 127.0.0.1 (a free port unless given), over HTTPS with `tls` (PEM files), else plain HTTP.
   */
  async start(auth: RegistryAuth = { kind: 'none' }, port?: number, tls?: { certificate: string; key: string; ca: string }): Promise<string> {
    const listen = port ?? (await freePort());
    const authConfig = auth.kind === 'none'
      ? ''
      : auth.kind === 'htpasswd'
        ? `auth: {htpasswd: {realm: kip-e2e, path: ${join(this.dir, 'htpasswd')}}}\n`
        : `auth: {token: {realm: "${auth.token.realm}", service: ${auth.token.service}, issuer: ${auth.token.issuer}, rootcertbundle: ${auth.token.certFile}}}\n`;
    const config = join(this.dir, 'config.yml');
    writeFileSync(config, `version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: ${join(this.dir, 'data')}}, delete: {enabled: true}}
http: {addr: 127.0.0.1:${String(listen)}${tls === undefined ? '' : `, tls: {certificate: ${tls.certificate}, key: ${tls.key}}`}}
${authConfig}`);
    // Straight into a file, not through a pipe: a pipe nobody drains (the tests call crane
    // synchronously) would fill and stall the registry mid-request.
    const logFile = join(this.dir, 'registry.log');
    const out = openSync(logFile, 'a');
    const child = spawn(binary('registry'), ['serve', config], { stdio: ['ignore', out, out] });
    closeSync(out);
    this.#process = child;
    const log = (): string => readFileSync(logFile, 'utf8');
    this.address = `127.0.0.1:${String(listen)}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const status = tls === undefined ? (await fetch(`http://${this.address}/v2/`)).status : await httpsStatus(`https://${this.address}/v2/`, tls.ca);
        if (status === 200 || status === 401) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the registry did not start on ${this.address}:\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (auth.kind === 'htpasswd') {
      const provisioned = /password=(\S+)/.exec(log())?.[1];
      if (provisioned !== undefined) this.password = provisioned.replace(/^"|"$/g, '');
    }
    return this.address;
  }

  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Requests in the registry's access log, oldest first. */
  accessLog(): AccessLine[] {
    const path = join(this.dir, 'registry.log');
    if (!existsSync(path)) return [];
    return parseAccessLog(readFileSync(path, 'utf8'));
  }

  /** Pushes an image whose single layer holds one file with this content; returns its digest. */
  push(reference: string, content: string): string {
    return pushImage(this.address, reference, content);
  }
}

/**
 * Pushes to `registry` (host:port) an image whose single layer holds one file with this content,
 * for this machine's platform (containerd pulls only images whose config names one); returns the
 * digest the tag now points at.
 */
export function pushImage(registry: string, reference: string, content: string): string {
  const work = mkdtempSync(join(tmpdir(), 'kip-layer-'));
  mkdirSync(join(work, 'root'));
  writeFileSync(join(work, 'root', 'content.txt'), content);
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', join(work, 'root'), '-cf', join(work, 'layer.tar'), 'content.txt']);
  const target = `${registry}/${reference}`;
  const crane = (args: string[]): string => execFileSync(binary('crane'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  crane(['append', '--insecure', '--oci-empty-base', '-f', join(work, 'layer.tar'), '-t', target]);
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const output = crane(['mutate', '--insecure', '--set-platform', `linux/${arch}`, '-t', target, target]);
  const digest = /@(sha256:[0-9a-f]{64})/.exec(output)?.[1];
  if (digest === undefined) throw new Error(`crane printed no digest for ${target}: ${output}`);
  return digest;
}

/** Manifest requests by the puller (its User-Agent), as "METHOD path". */
export function pullerManifestRequests(lines: readonly AccessLine[]): string[] {
  return lines.filter((line) => line.userAgent.startsWith('kubernetes-image-puller/') && line.path.includes('/manifests/')).map((line) => `${line.method} ${line.path}`);
}

/**
 * The token service a registry with `auth: token` sends clients to (Docker Hub, GHCR and Quay work
 * this way): checks Basic credentials and answers with an RS256 JWT the registry verifies against
 * the certificate. Not part of the registry; the registry itself is real.
 */
export class TokenIssuer {
  readonly requests: { scope: string; user: string | undefined }[] = [];
  readonly service = 'kip-e2e';
  readonly issuer = 'kip-e2e-issuer';
  readonly users = new Map<string, string>();
  #server: Server | undefined;
  #key = '';
  #certDer = '';
  certFile = '';
  realm = '';

  async start(): Promise<TokenAuth> {
    const dir = mkdtempSync(join(tmpdir(), 'kip-token-'));
    // One certificate signs the tokens and serves HTTPS: the pass sends credentials only to an HTTPS
    // token service (or the registry's own origin). The pass trusts it through NODE_EXTRA_CA_CERTS.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2'], { stdio: 'ignore' });
    this.#key = readFileSync(join(dir, 'key.pem'), 'utf8');
    this.certFile = join(dir, 'cert.pem');
    this.#certDer = new X509Certificate(readFileSync(this.certFile)).raw.toString('base64');
    this.#server = createHttpsServer({ key: this.#key, cert: readFileSync(this.certFile) }, (request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const scope = url.searchParams.get('scope') ?? '';
      const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const [user, password] = basic === undefined ? [undefined, undefined] : Buffer.from(basic, 'base64').toString().split(':');
      this.requests.push({ scope, user });
      if (user !== undefined && this.users.get(user) !== password) {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"wrong password"}]}');
        return;
      }
      // Anonymous clients get a token with no access, as Docker Hub gives for a private repository.
      const access = user === undefined ? [] : scope.split(' ').filter((s) => s.startsWith('repository:')).map((s) => {
        const [, name = '', actions = ''] = s.split(':');
        return { type: 'repository', name, actions: actions.split(',') };
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: this.#jwt(user ?? 'anonymous', access), expires_in: 300 }));
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.realm = `https://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}/token`;
    return { realm: this.realm, service: this.service, issuer: this.issuer, certFile: this.certFile };
  }

  #jwt(subject: string, access: unknown[]): string {
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = encode({ alg: 'RS256', typ: 'JWT', x5c: [this.#certDer] });
    const claims = encode({ iss: this.issuer, sub: subject, aud: this.service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access });
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(this.#key).toString('base64url');
    return `${header}.${claims}.${signature}`;
  }

  stop(): void {
    this.#server?.close();
  }
}

/** A kubernetes.io/dockerconfigjson Secret for one registry. */
export function dockerConfigSecret(name: string, namespace: string, registry: string, username: string, password: string): object {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [registry]: { auth } } })).toString('base64') },
  };
}

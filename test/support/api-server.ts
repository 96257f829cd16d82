// A loopback HTTP server that answers the few Kubernetes API paths a pass calls, so the adapter
// (kube.ts) and the command line can be tested over a real socket without a control plane. Each
// test states what the server answers; the server records what it was asked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Accept the request and never answer: a hung API server. */
  hang?: boolean;
}

export type Route = (request: RecordedRequest) => Reply | undefined;

export function status(code: number, reason: string, message: string, headers?: Record<string, string>): Reply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }, ...(headers ? { headers } : {}) };
}

export class ApiServer {
  readonly requests: RecordedRequest[] = [];
  routes: Route[] = [];
  #server: Server;
  #url = '';

  constructor() {
    this.#server = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const url = new URL(incoming.url ?? '/', 'http://localhost');
        const request = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(request);
        const reply = this.routes.reduce<Reply | undefined>((found, route) => found ?? route(request), undefined)
          ?? status(404, 'NotFound', `no route for ${request.method} ${request.path}`);
        if (reply.hang === true) return;
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A kubeconfig file naming this server (plain HTTP needs insecure-skip-tls-verify in client-node). */
  writeKubeconfig(): string {
    const file = join(mkdtempSync(join(tmpdir(), 'kip-api-')), 'kubeconfig');
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: this.#url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'tester', user: { token: 'test-token' } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'tester' } }],
      'current-context': 'local',
    }));
    return file;
  }

  /** Requests that are not GETs, as "METHOD path". */
  writes(): string[] {
    return this.requests.filter((request) => request.method !== 'GET').map((request) => `${request.method} ${request.path}`);
  }
}

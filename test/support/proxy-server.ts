// A forward proxy on loopback, as a corporate network puts in front of registries: CONNECT
// tunnels for HTTPS and absolute-URI requests for plain HTTP. Like test-network.ts it reaches
// only this machine (.test names and loopback go to 127.0.0.1, anything else gets a 502), and it
// records what it was asked, so a test can tell whether a lookup went through it.
import { createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

function reachable(hostname: string): boolean {
  return hostname.endsWith('.test') || hostname === 'localhost' || /^127\./.test(hostname);
}

export class ProxyServer {
  /** "CONNECT registry.test:8443", "GET http://127.0.0.1:5000/v2/…": one line per request. */
  readonly asked: string[] = [];
  #server: Server;
  #sockets = new Set<Socket>();

  constructor() {
    this.#server = createServer((incoming, response) => {
      this.asked.push(`${incoming.method ?? ''} ${incoming.url ?? ''}`);
      const target = new URL(incoming.url ?? '');
      if (!reachable(target.hostname)) {
        response.writeHead(502).end();
        return;
      }
      const upstream = httpRequest({ host: '127.0.0.1', port: target.port, method: incoming.method, path: `${target.pathname}${target.search}`, headers: incoming.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', () => response.writeHead(502).end());
      incoming.pipe(upstream);
    });
    this.#server.on('connect', (incoming: { url?: string }, client: Socket, head: Buffer) => {
      this.asked.push(`CONNECT ${incoming.url ?? ''}`);
      const [hostname = '', port = ''] = (incoming.url ?? '').split(':');
      if (!reachable(hostname)) {
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
        return;
      }
      const upstream = connect(Number(port), '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
    });
  }

  /** http://127.0.0.1:port, as HTTPS_PROXY names it. */
  get url(): string {
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

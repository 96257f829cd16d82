// The network the registry tests run on: names under .test (registry.test, other.test,
// auth.test) reach 127.0.0.1, HTTPS is trusted through the test CA in ./tls, and nothing else is
// reached. An address outside loopback (a metadata address a test expects refused) is recorded and
// never dialled, so a test of that refusal cannot send traffic off this machine even when it fails.
import { readFileSync } from 'node:fs';
import type { LookupAddress } from 'node:dns';
import { Agent, buildConnector } from 'undici';

const file = (name: string) => readFileSync(new URL(`./tls/${name}`, import.meta.url), 'utf8');

export const TEST_CA = file('ca.pem');
/** The certificate of registry.test, other.test and auth.test, signed by TEST_CA. */
export const TEST_TLS = { key: file('registry-key.pem'), cert: file('registry.pem') };

function reachable(hostname: string): boolean {
  return hostname.endsWith('.test') || hostname === 'localhost' || /^127\./.test(hostname) || hostname === '[::1]' || hostname === '::1';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function lookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  if (!reachable(hostname)) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
    return;
  }
  if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}

export interface TestNetwork {
  dispatcher: Agent;
  /** Hosts the client tried to reach that this network does not, in order. */
  refused: string[];
  close(): Promise<void>;
}

export function testNetwork(): TestNetwork {
  const refused: string[] = [];
  const connector = buildConnector({ ca: TEST_CA, lookup });
  const dispatcher = new Agent({
    connect: (options, callback) => {
      if (!reachable(options.hostname)) {
        refused.push(options.hostname);
        callback(Object.assign(new Error(`connect ECONNREFUSED ${options.hostname} (the test network reaches only loopback)`), { code: 'ECONNREFUSED' }), null);
        return;
      }
      connector(options, callback);
    },
  });
  return { dispatcher, refused, close: () => dispatcher.close() };
}

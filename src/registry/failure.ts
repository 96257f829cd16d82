// How a failed exchange with a registry is told to a person: one problem per image, with a
// reason the pass can count and a sentence naming the host and what to do.
import type { LookupProblemReason, RateLimit } from './lookup.ts';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);
const TLS_CODE = /^(CERT_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_SSL_(?!WRONG_VERSION))/;
const NOT_TLS_CODE = /^(EPROTO|ERR_SSL_WRONG_VERSION_NUMBER)$/;

/** Ends one image's lookup with a problem; caught where the lookup is turned into a DigestLookup. */
export class LookupFailure extends Error {
  readonly reason: LookupProblemReason;
  readonly rateLimit: RateLimit | undefined;
  constructor(reason: LookupProblemReason, message: string, rateLimit?: RateLimit) {
    super(message);
    this.name = 'LookupFailure';
    this.reason = reason;
    this.rateLimit = rateLimit;
  }
}

function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 6; current = (current as { cause?: unknown }).cause) chain.push(current);
  return chain;
}

/**
 * A request that got no HTTP answer, by what fetch threw: its own timeout, the pass's interrupt,
 * or the socket's error code somewhere down the chain of causes.
 */
export function describeNetworkFailure(error: unknown, request: { host: string; what: string; timeoutMs: number; interrupted: boolean }): LookupFailure {
  const { host, timeoutMs } = request;
  const asked = ` (asked for ${request.what})`;
  const chain = errorChain(error);
  const names = chain.map((link) => (link as { name?: unknown }).name);
  if (names.includes('TimeoutError')) return new LookupFailure('timeout', `${host} did not answer within ${String(timeoutMs)} ms${asked}; the next pass asks again`);
  if (request.interrupted || names.includes('AbortError')) return new LookupFailure('error', `the request to ${host} was cancelled${asked}: the pass was interrupted`);
  const code = chain.map((link) => (link as { code?: unknown }).code).find((value): value is string => typeof value === 'string');
  const detail = chain.map((link) => (link instanceof Error ? link.message.split('\n')[0] : undefined)).filter((text) => text !== undefined).at(-1) ?? String(error);
  if (code !== undefined && DNS_CODES.has(code)) return new LookupFailure('unreachable', `cannot resolve ${host} (${code})${asked}: check the registry's name and the cluster's DNS`);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return new LookupFailure('unreachable', `cannot reach ${host} (${code})${asked}: check that the registry is up and that this pod's network may reach it`);
  if (code !== undefined && NOT_TLS_CODE.test(code)) {
    return new LookupFailure('error', `${host} did not answer in TLS (${code})${asked}: if it serves plain HTTP, list it among the plain-HTTP registries`);
  }
  if (code !== undefined && TLS_CODE.test(code)) return new LookupFailure('error', `the TLS certificate of ${host} was not accepted (${code}: ${detail})${asked}`);
  return new LookupFailure('error', `cannot talk to ${host} (${code === undefined ? detail : `${code}: ${detail}`})${asked}`);
}

/** The "errors" document a registry or token service may answer with: its first message. */
export function registryErrorDetail(body: Buffer | undefined): string {
  if (body === undefined || body.length === 0) return '';
  try {
    const document = JSON.parse(body.toString('utf8')) as { errors?: { message?: unknown }[]; details?: unknown; error?: unknown };
    const message = document.errors?.[0]?.message ?? document.details ?? document.error;
    return typeof message === 'string' && message !== '' ? `: "${message.slice(0, 200)}"` : '';
  } catch {
    return '';
  }
}

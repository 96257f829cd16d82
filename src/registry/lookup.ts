// What a digest lookup tells the pass: the digest a tag points at now, or why it could not be
// had, and the registry's rate limit as it stood. The client produces these; moved.ts reads them.

/**
 * The digests a registry may name: sha256 and sha512 in lower-case hex, the two algorithms OCI
 * registers. Anything else (an unknown algorithm, capitals, 15,000 characters) is no digest: the
 * annotation that remembers digests must stay small, and a registry cannot choose its bytes.
 */
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export type LookupProblemReason = 'unreachable' | 'unauthorized' | 'forbidden' | 'not-found' | 'rate-limited' | 'timeout' | 'error';

export interface LookupProblem {
  reason: LookupProblemReason;
  /** A sentence naming the registry and the image, and what to do about it. */
  message: string;
}

/** The registry's RateLimit headers: Docker Hub counts pulls per window (w= seconds). */
export interface RateLimit {
  limit: number;
  remaining: number;
  windowSeconds?: number;
}

export interface DigestLookup {
  /** The image as it was asked for. */
  image: string;
  digest?: string;
  problem?: LookupProblem;
  rateLimit?: RateLimit;
}

interface Quota {
  count: number;
  windowSeconds: number | undefined;
}

/** "100;w=21600" (or the first of several policies, "100, 5000;w=3600"). */
function parseQuota(value: string | null): Quota | undefined {
  if (value === null) return undefined;
  const [count = '', ...params] = (value.split(',')[0] ?? '').split(';').map((part) => part.trim());
  if (!/^\d+$/.test(count)) return undefined;
  const window = params.find((param) => /^w=\d+$/.test(param))?.slice(2);
  return { count: Number(count), windowSeconds: window === undefined ? undefined : Number(window) };
}

/** The rate limit from ratelimit-limit and ratelimit-remaining, when a registry sends both. */
export function parseRateLimit(headers: { get(name: string): string | null }): RateLimit | undefined {
  const limit = parseQuota(headers.get('ratelimit-limit'));
  const remaining = parseQuota(headers.get('ratelimit-remaining'));
  if (limit === undefined || remaining === undefined) return undefined;
  const windowSeconds = limit.windowSeconds ?? remaining.windowSeconds;
  return { limit: limit.count, remaining: remaining.count, ...(windowSeconds === undefined ? {} : { windowSeconds }) };
}

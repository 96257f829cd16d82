// Which API failures are worth another try, and how long to wait before it.
import { ApiError } from './cluster.ts';

const TRANSIENT_STATUSES = new Set([0, 429, 500, 502, 503, 504]);

export function isTransient(error: unknown): boolean {
  return error instanceof ApiError && TRANSIENT_STATUSES.has(error.status);
}

/** Exponential backoff from 250 ms to 8 s; the server's Retry-After wins when it gives one. */
export function backoffMs(attempt: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, 60_000);
  return Math.min(250 * 2 ** attempt, 8000);
}

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Retries transient failures until the deadline; anything else, or the deadline, rethrows. */
export async function withRetry<T>(
  operation: () => Promise<T>,
  options: { deadline: number; now: () => number; sleep: Sleep; signal: AbortSignal },
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || options.signal.aborted) throw error;
      const wait = backoffMs(attempt, error instanceof ApiError ? error.retryAfterSeconds : undefined);
      if (options.now() + wait >= options.deadline) throw error;
      await options.sleep(wait, options.signal);
    }
  }
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

// Which API failures are worth another try, and how long to wait before it.
import { ApiError } from '../kube/cluster.ts';

const TRANSIENT_STATUSES = new Set([0, 429, 500, 502, 503, 504]);

export function isTransient(error: unknown): boolean {
  return error instanceof ApiError && (error.retryable ?? TRANSIENT_STATUSES.has(error.status));
}

const LONGEST_WAIT_MS = 60_000;

/**
 * Exponential backoff from 250 ms to 8 s. The server's Retry-After may lengthen the wait (up to 60 s)
 * but not shorten it: "Retry-After: 0" from an overloaded server would otherwise make a busy loop.
 */
export function backoffMs(attempt: number, retryAfterSeconds: number | undefined): number {
  const backoff = Math.min(250 * 2 ** attempt, 8000);
  if (retryAfterSeconds === undefined) return backoff;
  return Math.min(Math.max(retryAfterSeconds * 1000, backoff), LONGEST_WAIT_MS);
}

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Retries transient failures until the deadline; anything else, or the deadline, rethrows. */
export async function withRetry<T>(
  operation: () => Promise<T>,
  options: { deadline: number; now: () => number; sleep: Sleep; signal: AbortSignal },
): Promise<T> {
  // The waits asked for count towards the deadline even if the clock did not move while sleeping
  // (now and sleep are injected), so the loop ends whatever the clock does.
  let resumeAt = options.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || options.signal.aborted) throw error;
      const wait = backoffMs(attempt, error instanceof ApiError ? error.retryAfterSeconds : undefined);
      resumeAt = Math.max(options.now(), resumeAt) + wait;
      if (resumeAt >= options.deadline) throw error;
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

// Pushes one pass's metrics to a Pushgateway. It never throws and never changes the pass's exit
// code: a push that fails comes back as one warning line naming the URL and the cause.
import { renderExposition } from './exposition.ts';
import type { PassMetrics } from './exposition.ts';

/** The job label of every push; namespace and daemonset complete the grouping key. */
export const PUSH_JOB = 'kubernetes-image-puller';

/** A push waits at most this long (and never past the deadline it is given). */
export const PUSH_TIMEOUT_MS = 5000;

/**
 * One grouping label as a path segment. A value with a `/`, or an empty one, cannot be a segment: the
 * Pushgateway takes it as `<name>@base64/<base64url>` (an empty value is `=`).
 */
export function groupingSegment(name: string, value: string): string {
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/')) return `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
  return `${name}/${encodeURIComponent(value)}`;
}

/** `<base>/metrics/job/kubernetes-image-puller/namespace/<ns>/daemonset/<ds>`; base has no trailing slash. */
export function pushUrl(base: string, namespace: string, daemonSet: string): string {
  const path = [groupingSegment('job', PUSH_JOB), groupingSegment('namespace', namespace), groupingSegment('daemonset', daemonSet)].join('/');
  return `${base.replace(/\/+$/, '')}/metrics/${path}`;
}

export interface PushOptions {
  /** Epoch milliseconds: no request outlives it. */
  deadline?: number;
  /** Default PUSH_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default the global fetch. */
  fetch?: typeof fetch;
  now?: () => number;
}

function causeOf(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Pushes the pass: PUT (every metric; the group's previous metrics are replaced) when it succeeded,
 * POST (only the metrics sent are replaced, so kip_last_success_timestamp_seconds stays) when it
 * failed. Resolves to undefined when the Pushgateway accepted it, else to a warning.
 */
export async function pushPassMetrics(baseUrl: string, metrics: PassMetrics, options: PushOptions = {}): Promise<string | undefined> {
  const url = pushUrl(baseUrl, metrics.namespace, metrics.daemonSet);
  const now = options.now ?? Date.now;
  const timeoutMs = Math.min(options.timeoutMs ?? PUSH_TIMEOUT_MS, options.deadline === undefined ? Infinity : options.deadline - now());
  const failed = (cause: string): string => `metrics were not pushed to ${url}: ${cause}; the pass's outcome is unchanged`;
  if (timeoutMs <= 0) return failed("the pass's deadline had passed");
  const method = metrics.succeeded ? 'PUT' : 'POST';
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      body: renderExposition(metrics),
      signal: AbortSignal.timeout(Math.ceil(timeoutMs)),
      redirect: 'error',
    });
    if (response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const text = (await response.text().catch(() => '')).trim().replace(/\s+/g, ' ').slice(0, 200);
    return failed(`${method} answered HTTP ${response.status}${text === '' ? '' : `: ${text}`}`);
  } catch (error) {
    return failed(`${method} failed: ${causeOf(error)}`);
  }
}

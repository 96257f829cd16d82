// How the benchmark measures one process: wall time from spawn to exit (taken here), peak RSS (the
// kernel's own figure, through /usr/bin/time), exit code, and the puller's JSON summary line. Also
// the small statistics (min / median / max) every row of the report quotes, and the bucketing of
// audit-log events into the time windows of the runs that made them.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditLogPath } from '../lib/audit.ts';
import type { AuditEvent } from '../lib/audit.ts';
import { kubectl, waitFor } from '../lib/cluster.ts';

const TIME = '/usr/bin/time';

export type Summary = {
  action?: string;
  desired?: number;
  ready?: number;
  updated?: number;
  available?: number;
  durationMs?: number;
  waitedMs?: number;
  diagnosisMs?: number;
  requests?: { total: number; byVerb: Record<string, number> };
  exitCode?: number;
  diagnosis?: string[];
  error?: string;
};

export type Measured = {
  command: string;
  code: number;
  wallMs: number;
  peakRssKiB: number;
  /** user + system CPU time of the process, from the kernel's accounting. */
  cpuMs: number;
  startedAt: number;
  endedAt: number;
  stdout: string;
  stderr: string;
  summary: Summary | undefined;
};

/** Runs argv[0] with argv[1..] under /usr/bin/time in exactly the given environment. */
export function measure(argv: string[], env: Record<string, string>, timeoutMs = 600_000): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'kip-bench-'));
  const rssFile = join(dir, 'rss');
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const child = spawn(TIME, ['-f', '%M %U %S', '-o', rssFile, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`cannot start ${TIME} ${argv.join(' ')}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const endedAt = Date.now();
      let peakRssKiB = Number.NaN;
      let cpuMs = Number.NaN;
      try {
        // /usr/bin/time writes "Command exited with non-zero status N" before the figures on failure.
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
        const [rss = '', user = '', system = ''] = (lines[lines.length - 1] ?? '').split(' ');
        peakRssKiB = Number(rss);
        cpuMs = (Number(user) + Number(system)) * 1000;
      } catch {
        // killed before /usr/bin/time could write it
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        command: argv.join(' '),
        code: code ?? (signal === null ? 1 : 128),
        wallMs,
        peakRssKiB,
        cpuMs,
        startedAt,
        endedAt,
        stdout,
        stderr,
        summary: summaryLine(stdout),
      });
    });
  });
}

/** The last JSON line on stdout with an `action` field: the puller's one summary per pass. */
export function summaryLine(stdout: string): Summary | undefined {
  for (const line of stdout.split('\n').reverse()) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(text) as Summary & { action?: unknown };
      if (typeof parsed === 'object' && 'action' in parsed) return parsed;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

export type Stats = { min: number; median: number; max: number; n: number };

export function stats(values: number[]): Stats {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN, n: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** Runs `times` times after `warmup` uncounted runs; fails loudly if a run exits with an unexpected code. */
export async function repeat(
  label: string,
  times: number,
  warmup: number,
  once: () => Promise<Measured>,
  expectCode = 0,
): Promise<Measured[]> {
  const runs: Measured[] = [];
  for (let i = 0; i < warmup + times; i += 1) {
    const result = await once();
    if (result.code !== expectCode) {
      throw new Error(`${label}: run ${i + 1} exited ${result.code}, expected ${expectCode}\n${result.stdout}\n${result.stderr}`);
    }
    if (i >= warmup) runs.push(result);
  }
  return runs;
}

/** Splits audit events into the runs whose [startedAt, endedAt] window holds their receive time. */
export function eventsPerRun(events: AuditEvent[], runs: Measured[]): AuditEvent[][] {
  return runs.map((run) =>
    events.filter((event) => {
      const at = Date.parse(event.requestReceivedTimestamp);
      return at >= run.startedAt && at <= run.endedAt;
    }),
  );
}

/** verb → count, sorted by verb, e.g. "get 1, update 1". */
export function byVerb(events: AuditEvent[]): string {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.verb, (counts.get(event.verb) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([verb, n]) => `${verb} ${n}`).join(', ') || 'none';
}

/** The audit event's stageTimestamp: when the API server finished the response. */
export type TimedEvent = AuditEvent & { stageTimestamp?: string };

/** Time the API server spent answering these requests (receipt → response complete), summed. */
export function serverMs(events: TimedEvent[]): number {
  return events.reduce((sum, event) => {
    const done = Date.parse(event.stageTimestamp ?? '');
    return Number.isNaN(done) ? sum : sum + (done - Date.parse(event.requestReceivedTimestamp));
  }, 0);
}

export const mib = (kib: number): number => kib / 1024;

/**
 * The audit log's requests made by `agent` in `namespace` so far. A marker request is made first and
 * waited for, so every request before it has reached the log.
 */
export async function auditedRequests(namespace: string, agent: string, timeoutMs = 30_000): Promise<TimedEvent[]> {
  const marker = `kip-bench-marker-${String(Date.now())}`;
  await kubectl(['get', 'configmap', marker, '-n', 'default', '--ignore-not-found']);
  const read = (): string => readFileSync(auditLogPath(), 'utf8');
  await waitFor('the audit marker', () => Promise.resolve(read().includes(marker)), { timeoutMs, intervalMs: 200 });
  return read().split('\n').flatMap((line) => {
    if (!line.includes(agent) || !line.includes(namespace)) return [];
    try {
      const event = JSON.parse(line) as TimedEvent;
      return (event.userAgent ?? '').startsWith(agent) && event.objectRef?.namespace === namespace ? [event] : [];
    } catch {
      return [];
    }
  });
}

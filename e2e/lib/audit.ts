// The API server's audit log of the local kwok cluster, read to count the requests one pass made
// (by the puller's User-Agent and namespace), and whether a test can make those checks here.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { clusterName, inCi, kubeconfigPath, kubectl, waitFor } from './cluster.ts';

export type AuditEvent = {
  verb: string;
  requestURI: string;
  userAgent?: string;
  requestReceivedTimestamp: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  responseStatus?: { code?: number };
  user?: { username?: string };
};

export const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
export const pullerUserAgent = 'kubernetes-image-puller/';

export function auditLogPath(): string {
  const workdir = process.env.KWOK_WORKDIR ?? join(homedir(), '.kwok');
  return join(workdir, 'clusters', clusterName(), 'logs', 'audit.log');
}

function serverOf(kubeconfig: string): string | undefined {
  if (!existsSync(kubeconfig)) return undefined;
  return /server:\s*(\S+)/.exec(readFileSync(kubeconfig, 'utf8'))?.[1];
}

/**
 * True when the cluster under test is the local kwok cluster named by KIP_CLUSTER, whose audit log
 * the suite can read; false for any other cluster given in $KUBECONFIG.
 */
export function hasAuditLog(): boolean {
  const clusterDir = dirname(dirname(auditLogPath()));
  const server = serverOf(kubeconfigPath());
  return existsSync(auditLogPath()) && server !== undefined && server === serverOf(join(clusterDir, 'kubeconfig.yaml'));
}

/**
 * Whether the test can make its audit-log checks. Without the log they would prove nothing, so
 * under CI the test fails; elsewhere it is skipped with a warning. The caller returns on false.
 */
export function auditLogOrSkip(t: TestContext): boolean {
  if (hasAuditLog()) return true;
  const why = `no audit log to check: ${auditLogPath()} is missing or ${kubeconfigPath()} is not kwok cluster "${clusterName()}"`;
  if (inCi()) throw new Error(`${why}; CI is set, so the audit checks must run`);
  console.warn(`[kip-e2e] WARNING: skipping "${t.name}": ${why}`);
  t.skip(why);
  return false;
}

// Byte offsets of the audit log and when they were read. An event received after `readAt` is
// written after `offset`, so a query for events since T can skip everything before an offset read
// before T instead of parsing the whole log again.
const auditCheckpoints: Array<{ offset: number; readAt: number }> = [];

function readAudit(since: number): AuditEvent[] {
  const path = auditLogPath();
  const readAt = Date.now();
  const size = statSync(path).size;
  let start = 0;
  for (const c of auditCheckpoints) {
    if (c.readAt < since - 1000 && c.offset <= size && c.offset > start) start = c.offset;
  }
  auditCheckpoints.push({ offset: size, readAt });
  if (auditCheckpoints.length > 400) auditCheckpoints.splice(0, 200);
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  const events: AuditEvent[] = [];
  for (const line of buffer.toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // a line cut at the offset, or still being written
    }
  }
  return events;
}

/**
 * Requests recorded since `since` whose User-Agent starts with `userAgent` (default: the puller's),
 * optionally only those in `namespace`. The API server writes an event just after answering, so this
 * first makes a marker request and waits for it to appear: everything before it is then on disk.
 */
export async function auditRequests(filter: { since: Date; namespace?: string; userAgent?: string }): Promise<AuditEvent[]> {
  const marker = `kip-audit-marker-${randomBytes(4).toString('hex')}`;
  const markedAt = Date.now();
  await kubectl(['get', 'configmap', marker, '-n', 'default', '--ignore-not-found']);
  await waitFor(
    'the audit marker in the audit log',
    () => Promise.resolve(readAudit(markedAt).some((e) => e.objectRef?.name === marker)),
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  const prefix = filter.userAgent ?? pullerUserAgent;
  const since = filter.since.getTime();
  return readAudit(since).filter(
    (e) =>
      Date.parse(e.requestReceivedTimestamp) >= since &&
      (e.userAgent ?? '').startsWith(prefix) &&
      (filter.namespace === undefined || e.objectRef?.namespace === filter.namespace),
  );
}

export function writesIn(events: AuditEvent[]): AuditEvent[] {
  return events.filter((e) => writeVerbs.has(e.verb));
}

/** Writes that change something: a dry run (dryRun=All) is audited as an update but stores nothing. */
export function realWrites(events: AuditEvent[]): AuditEvent[] {
  return writesIn(events).filter((event) => !event.requestURI.includes('dryRun=All'));
}

/** One line per request, for assertion messages. */
export function formatRequests(events: AuditEvent[]): string {
  return events.map((e) => `${e.verb} ${e.requestURI} -> ${e.responseStatus?.code ?? '?'}`).join('\n') || '(none)';
}

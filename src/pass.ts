// One reconcile pass: read the DaemonSet, decide, act, verify the rollout, report. It never sleeps
// beyond the rollout deadline and never deletes a DaemonSet because it is slow or unhealthy.
import { ApiError } from './cluster.ts';
import type { Cluster, EventType } from './cluster.ts';
import type { Config } from './config.ts';
import { decide, ownedByCronJob } from './decide.ts';
import type { Decision } from './decide.ts';
import { desiredDaemonSet, hasMutableImages, selectorLabels } from './desired.ts';
import { ExitCode } from './exit-codes.ts';
import { Diagnosis, rolloutOf, summarize } from './health.ts';
import type { Rollout } from './health.ts';
import type { DaemonSet, OwnerReference } from './k8s-types.ts';
import { withRetry } from './retry.ts';
import type { Sleep } from './retry.ts';

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

export interface PassDependencies {
  config: Config;
  cluster: Cluster;
  log: Logger;
  now: () => Date;
  sleep: Sleep;
  signal: AbortSignal;
}

export type Action = 'created' | 'updated' | 'restarted' | 'recreated' | 'unchanged' | 'refused' | 'failed';

export interface PassOutcome {
  exitCode: ExitCode;
  action: Action;
  changed: string[];
  rollout: Rollout | undefined;
  diagnosis: string[];
  error: string | undefined;
  /** Time spent waiting for controllers (rollout polling), as opposed to the pass's own work. */
  waitedMs: number;
  diagnosisMs: number;
}

const MAX_CONFLICTS = 5;
const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 3000;
const MAX_CHANGED_IN_SUMMARY = 20;

class PassError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function describeApiError(error: ApiError, namespace: string): string {
  if (error.status === 401) return `the API server rejected the credentials (401 Unauthorized) on ${error.verb} ${error.resource}: ${error.message}`;
  if (error.status === 403) {
    return `the ServiceAccount may not "${error.verb}" ${error.resource} in namespace ${namespace}; grant that verb in the Role (403 Forbidden: ${error.message})`;
  }
  if (error.status === 0) return `${error.message} on ${error.verb} ${error.resource}; nothing further was changed`;
  return `${error.verb} ${error.resource} failed with HTTP ${String(error.status)}${error.reason === undefined ? '' : ` ${error.reason}`}: ${error.message}`;
}

function isConflict(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 409 || (error.status === 404 && error.verb === 'update'));
}

export async function runPass(deps: PassDependencies): Promise<PassOutcome> {
  const { config, cluster, log, signal } = deps;
  const deadline = deps.now().getTime() + config.rolloutTimeoutSeconds * 1000;
  const retrying = <T>(operation: () => Promise<T>): Promise<T> =>
    withRetry(operation, { deadline, now: () => deps.now().getTime(), sleep: deps.sleep, signal });
  const desired = desiredDaemonSet(config);
  const done: { action: Action; changed: string[] } = { action: 'unchanged', changed: [] };
  const timing = { waitedMs: 0, diagnosisMs: 0 };
  let current: DaemonSet | undefined;
  const interrupted = (): boolean => signal.aborted;
  // Polls are at least FIRST_POLL_MS apart, so the deadline alone ends both loops; the budget also
  // ends them when the clock does not move (a sleep that returns at once), instead of spinning.
  let pollsLeft = Math.ceil((config.rolloutTimeoutSeconds * 1000) / FIRST_POLL_MS) + 1;
  const mayPoll = (): boolean => !interrupted() && deps.now().getTime() < deadline && pollsLeft-- > 0;

  async function ownerReference(cronJobName: string): Promise<OwnerReference | undefined> {
    const uid = await retrying(() => cluster.readCronJobUid(cronJobName));
    if (uid === undefined) {
      log.warn('the CronJob named by CRONJOB_NAME was not found; the DaemonSet gets no owner', { cronJob: cronJobName });
      return undefined;
    }
    return { apiVersion: 'batch/v1', kind: 'CronJob', name: cronJobName, uid, controller: false, blockOwnerDeletion: false };
  }

  async function withOwner(body: DaemonSet): Promise<DaemonSet> {
    const cronJobName = config.cronJobName;
    if (cronJobName === undefined || ownedByCronJob(body, cronJobName)) return body;
    const owner = await ownerReference(cronJobName);
    if (owner === undefined) return body;
    const existing = body.metadata.ownerReferences ?? [];
    return { ...body, metadata: { ...body.metadata, ownerReferences: [...existing.filter((ref) => ref.kind !== 'CronJob'), owner] } };
  }

  async function record(daemonSet: DaemonSet, type: EventType, reason: string, message: string): Promise<void> {
    try {
      await cluster.recordEvent(daemonSet, type, reason, message);
    } catch (error) {
      log.warn('could not record an Event on the DaemonSet', { reason, error: error instanceof Error ? error.message : String(error) });
    }
  }

  async function act(decision: Decision): Promise<DaemonSet | undefined> {
    switch (decision.action) {
      case 'none':
        return current;
      case 'refuse':
        throw new PassError(decision.reason, ExitCode.refused);
      case 'wait-for-deletion':
        await deps.sleep(FIRST_POLL_MS, signal);
        return undefined;
      case 'create': {
        const created = await cluster.createDaemonSet(await withOwner(decision.body));
        done.action = 'created';
        done.changed = ['daemonset'];
        await record(created, 'Normal', 'Created', `created with ${String(config.images.length)} image(s)`);
        return created;
      }
      case 'update': {
        const updated = await cluster.replaceDaemonSet(await withOwner(decision.body));
        done.action = decision.changed.length === 0 ? 'restarted' : 'updated';
        done.changed = decision.changed;
        if (decision.changed.length > 0) await record(updated, 'Normal', 'Updated', `changed: ${decision.changed.slice(0, MAX_CHANGED_IN_SUMMARY).join(', ')}`);
        if (decision.restart) {
          await record(updated, 'Normal', 'Restarted', `rolling restart to re-pull tagged images (every ${String(config.intervalHours)}h)`);
        }
        return updated;
      }
      case 'recreate': {
        try {
          await cluster.deleteDaemonSet(decision.uid);
        } catch (error) {
          // Gone already (an earlier attempt of this retry deleted it before the create failed).
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        }
        const created = await cluster.createDaemonSet(await withOwner(decision.body));
        done.action = 'recreated';
        done.changed = decision.changed;
        await record(created, 'Normal', 'Recreated', `recreated because ${decision.changed.join(', ')} cannot change in place`);
        return created;
      }
    }
  }

  async function reconcile(): Promise<DaemonSet> {
    let conflicts = 0;
    while (mayPoll()) {
      current = await retrying(() => cluster.readDaemonSet());
      const decision = decide({
        desired,
        live: current,
        now: deps.now(),
        intervalHours: config.intervalHours,
        hasMutableImages: hasMutableImages(config),
        owner: config.cronJobName === undefined ? undefined : { kind: 'CronJob', name: config.cronJobName },
      });
      log.debug('decision', { action: decision.action, ...('changed' in decision ? { changed: decision.changed } : {}) });
      try {
        const result = await retrying(() => act(decision));
        if (result !== undefined) return result;
      } catch (error) {
        // Another writer got there first (a concurrent pass, a hand edit): look again.
        if (!isConflict(error) || ++conflicts >= MAX_CONFLICTS) throw error;
        log.debug('conflict, reading again', { error: (error as Error).message });
      }
    }
    throw new PassError(
      interrupted() ? 'interrupted before the DaemonSet was reconciled' : 'the old DaemonSet was still being deleted at the deadline; the next pass creates it',
      interrupted() ? ExitCode.unhealthy : ExitCode.error,
    );
  }

  async function awaitRollout(daemonSet: DaemonSet): Promise<Rollout> {
    let rollout = rolloutOf(daemonSet);
    let poll = FIRST_POLL_MS;
    const waitFrom = deps.now().getTime();
    // Poll until complete; the last look happens at the deadline itself, not a poll before it.
    while (!rollout.complete && mayPoll()) {
      await deps.sleep(Math.min(poll, deadline - deps.now().getTime()), signal);
      if (interrupted()) break;
      poll = Math.min(poll * 1.5, MAX_POLL_MS);
      const latest = await retrying(() => cluster.readDaemonSet());
      if (latest === undefined) throw new PassError('the DaemonSet was deleted while this pass waited for its rollout', ExitCode.error);
      current = latest;
      rollout = rolloutOf(latest);
    }
    // Status polls are waiting on the controllers too, not the pass's own work.
    timing.waitedMs = deps.now().getTime() - waitFrom;
    return rollout;
  }

  async function diagnose(daemonSet: DaemonSet, rollout: Rollout): Promise<string[]> {
    const diagnosis = new Diagnosis();
    const selector = Object.entries(selectorLabels(config)).map(([key, value]) => `${key}=${value}`).join(',');
    try {
      for await (const page of cluster.listPods(selector)) diagnosis.add(page);
    } catch (error) {
      return [`could not list the DaemonSet's pods: ${error instanceof Error ? error.message : String(error)}`];
    }
    const lines = summarize(diagnosis.groups(), rollout);
    await record(daemonSet, 'Warning', 'Unhealthy', `${String(rollout.available)}/${String(rollout.desired)} available: ${lines.join('; ')}`);
    return lines;
  }

  try {
    const daemonSet = await reconcile();
    const rollout = await awaitRollout(daemonSet);
    if (rollout.complete) {
      if (rollout.desired === 0) log.warn('no node matches the DaemonSet\'s node selector, affinity and tolerations; nothing is cached', { daemonset: config.daemonSetName });
      return { exitCode: ExitCode.healthy, ...done, rollout, diagnosis: [], error: undefined, ...timing };
    }
    const diagnosedFrom = deps.now().getTime();
    const diagnosis = await diagnose(current ?? daemonSet, rollout);
    timing.diagnosisMs = deps.now().getTime() - diagnosedFrom;
    const error = interrupted() ? 'interrupted (SIGTERM) before the rollout completed' : `not healthy after ${String(config.rolloutTimeoutSeconds)}s (ROLLOUT_TIMEOUT_SECONDS)`;
    return { exitCode: ExitCode.unhealthy, ...done, rollout, diagnosis, error, ...timing };
  } catch (error) {
    if (error instanceof PassError) {
      return { exitCode: error.exitCode, action: error.exitCode === ExitCode.refused ? 'refused' : 'failed', changed: done.changed, rollout: undefined, diagnosis: [], error: error.message, ...timing };
    }
    if (error instanceof ApiError) {
      return { exitCode: ExitCode.error, action: done.action === 'unchanged' ? 'failed' : done.action, changed: done.changed, rollout: undefined, diagnosis: [], error: describeApiError(error, config.namespace), ...timing };
    }
    throw error;
  }
}

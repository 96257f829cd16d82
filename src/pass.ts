// One reconcile pass: reconcile (the only step that writes), wait for the rollout, diagnose what
// is not healthy, and return the outcome the command line reports. It never sleeps beyond its
// deadline and never deletes a DaemonSet because it is slow or unhealthy.
import { ApiError } from './cluster.ts';
import { ExitCode } from './exit-codes.ts';
import type { Rollout } from './health.ts';
import { PassError, createContext } from './pass/context.ts';
import type { DigestRefresh } from './pass/digests.ts';
import type { PassDependencies, RejectedValue } from './pass/context.ts';
import { diagnose } from './pass/diagnose.ts';
import { reconcile } from './pass/reconcile.ts';
import type { Action } from './pass/reconcile.ts';
import { awaitRollout } from './pass/rollout.ts';

export type { Logger, PassDependencies, RejectedValue } from './pass/context.ts';
export type { Action } from './pass/reconcile.ts';

export interface PassOutcome {
  exitCode: ExitCode;
  action: Action;
  changed: string[];
  /** Local differences the API server showed to be no change (what admission or defaults put back). */
  tolerated: string[];
  rollout: Rollout | undefined;
  diagnosis: string[];
  error: string | undefined;
  /** Values the API server rejected (exit 2), each traced to its variable. */
  rejected: RejectedValue[];
  /** What the registries said this pass (REFRESH_MODE=digest), when they were asked. */
  refresh: DigestRefresh | undefined;
  /** Time spent waiting for controllers (rollout polling), as opposed to the pass's own work. */
  waitedMs: number;
  diagnosisMs: number;
}

export function describeApiError(error: ApiError, namespace: string): string {
  if (error.status === 401) return `the API server rejected the credentials (401 Unauthorized) on ${error.verb} ${error.resource}: ${error.message}`;
  if (error.status === 403) {
    return `the ServiceAccount may not "${error.verb}" ${error.resource} in namespace ${namespace}; grant that verb in the Role (403 Forbidden: ${error.message})`;
  }
  if (error.status === 0) return `${error.message} on ${error.verb} ${error.resource}; nothing further was changed`;
  return `${error.verb} ${error.resource} failed with HTTP ${String(error.status)}${error.reason === undefined ? '' : ` ${error.reason}`}: ${error.message}`;
}

/**
 * @param waitSeconds how long the pass may wait for its rollout before reporting; defaults to
 *   ROLLOUT_TIMEOUT_SECONDS.
 */
export async function runPass(deps: PassDependencies, waitSeconds = deps.config.rolloutTimeoutSeconds): Promise<PassOutcome> {
  const ctx = createContext(deps, waitSeconds);
  const outcome = { action: 'unchanged' as Action, changed: [] as string[], tolerated: [] as string[], rejected: [] as RejectedValue[], refresh: undefined as DigestRefresh | undefined, waitedMs: 0, diagnosisMs: 0 };
  try {
    const reconciled = await reconcile(ctx);
    Object.assign(outcome, { action: reconciled.action, changed: reconciled.changed, tolerated: reconciled.tolerated, refresh: reconciled.refresh });
    const { rollout, latest, waitedMs } = await awaitRollout(ctx, reconciled.daemonSet);
    outcome.waitedMs = waitedMs;
    if (rollout.complete) {
      if (rollout.desired === 0) deps.log.warn('no node matches the DaemonSet\'s node selector, affinity and tolerations; nothing is cached', { daemonset: deps.config.daemonSetName });
      return { exitCode: ExitCode.healthy, ...outcome, rollout, diagnosis: [], error: undefined };
    }
    const diagnosedFrom = ctx.nowMs();
    const diagnosis = await diagnose(ctx, latest, rollout);
    outcome.diagnosisMs = ctx.nowMs() - diagnosedFrom;
    const error = ctx.interrupted() ? 'interrupted (SIGTERM) before the rollout completed' : `not healthy after ${String(waitSeconds)}s (${waitSeconds < deps.config.rolloutTimeoutSeconds ? 'the Job\'s deadline, JOB_DEADLINE_SECONDS, less time to report' : 'ROLLOUT_TIMEOUT_SECONDS'})`;
    return { exitCode: ExitCode.unhealthy, ...outcome, rollout, diagnosis, error };
  } catch (error) {
    if (error instanceof PassError) {
      const action: Action = error.exitCode === ExitCode.refused ? 'refused' : 'failed';
      return { exitCode: error.exitCode, ...outcome, action, rollout: undefined, diagnosis: [], error: error.message, rejected: error.rejected };
    }
    if (error instanceof ApiError) {
      return { exitCode: ExitCode.error, ...outcome, action: outcome.action === 'unchanged' ? 'failed' : outcome.action, rollout: undefined, diagnosis: [], error: describeApiError(error, deps.config.namespace) };
    }
    throw error;
  }
}

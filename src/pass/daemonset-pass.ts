// One DaemonSet's part of a pass, in two steps so that the pass can act between them on all of
// its DaemonSets at once: reconcile (the writes), then wait for the rollout. What is not healthy
// is diagnosed afterwards from the pass's census of its pods (census.ts).
import { ApiError } from '../kube/cluster.ts';
import type { Cluster } from '../kube/cluster.ts';
import type { PlannedDaemonSet } from '../plan/daemonset-plan.ts';
import type { Decision } from './decide.ts';
import { ExitCode } from './exit-codes.ts';
import type { Rollout } from './health.ts';
import type { SetField } from '../config/image-sets.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { describeApiError } from './api-errors.ts';
import { PassError } from './context.ts';
import type { PassContext, RejectedValue } from './context.ts';
import type { Unhealthy } from './diagnose.ts';
import type { DigestRefresh } from './digests.ts';
import { previewUnderSpareName, reconcile, validated } from './reconcile.ts';
import type { Action, ReconcileResult } from './reconcile.ts';
import { awaitRollout } from './rollout.ts';
import { writes } from './write-gate.ts';
import type { WriteGate } from './write-gate.ts';

/** What happened to one DaemonSet: a section of the pass's summary. */
export interface DaemonSetOutcome {
  name: string;
  /** Its set ("default" for IMAGES), and its chunk of that set. */
  set: string;
  chunk: number;
  chunks: number;
  images: number;
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
  /** What the registries said (REFRESH_MODE=digest), when they were asked. */
  refresh: DigestRefresh | undefined;
  /** Time spent waiting for controllers (rollout polling), as opposed to the pass's own work. */
  waitedMs: number;
  diagnosisMs: number;
}

/** After the first step: reconciled and to be waited for, or already finished (refused, failed). */
export interface Reconciling {
  ctx: PassContext;
  planned: PlannedDaemonSet;
  partial: DaemonSetOutcome;
  reconciled: ReconcileResult | undefined;
}

/** A set's own field and the top-level variable a set without it inherits. */
const INHERITED: Record<string, SetField> = {
  IMAGES: 'images',
  NODE_SELECTOR: 'nodeSelector',
  TOLERATIONS: 'tolerations',
  AFFINITY: 'affinity',
  PRIORITY_CLASS_NAME: 'priorityClassName',
};

/** A rejected value of a set's own field is IMAGE_SETS's, named by set and field; an inherited one stays the variable's. */
export function tracedToSet(rejected: readonly RejectedValue[], planned: PlannedDaemonSet): RejectedValue[] {
  return rejected.map(({ variable, problem }) => {
    const field = INHERITED[variable];
    if (field === undefined || !planned.overrides.includes(field)) return { variable, problem };
    return { variable: 'IMAGE_SETS', problem: `set "${planned.set}": "${field}": ${problem}` };
  });
}

/**
 * Holds this DaemonSet's writes until every DaemonSet of the pass has decided. Every write is
 * judged by the API server first (a dry run), so that a rejection is known before anyone writes.
 */
export function gatedDecisions(cluster: Cluster, name: string, gate: WriteGate): (decision: Decision) => Promise<void> {
  return async (decision) => {
    if (!writes(decision)) {
      gate.settle(name, false);
      return;
    }
    if (decision.action === 'create') await validated(() => cluster.previewCreate(decision.body));
    if (decision.action === 'recreate' || decision.action === 'take-over') await validated(() => previewUnderSpareName(cluster, decision.body));
    // A metadata-only update or a timed restart had no dry run yet (a spec update had one; judging it
    // again costs one request, only when several DaemonSets write in one pass).
    if (decision.action === 'update') await validated(() => cluster.previewReplace(decision.body));
    const rejected = await gate.mayWrite(name);
    if (rejected.length > 0) {
      throw new PassError(`not written: the API server rejected the DaemonSet ${rejected.join(', ')} of this pass, and a pass that exits 2 writes nothing`, ExitCode.invalidConfig);
    }
  };
}

function failure(partial: DaemonSetOutcome, error: unknown, planned: PlannedDaemonSet, namespace: string): DaemonSetOutcome {
  if (error instanceof PassError) {
    const action: Action = error.exitCode === ExitCode.refused ? 'refused' : 'failed';
    return { ...partial, exitCode: error.exitCode, action, rollout: undefined, diagnosis: [], error: error.message, rejected: tracedToSet(error.rejected, planned) };
  }
  if (error instanceof ApiError) {
    return { ...partial, exitCode: ExitCode.error, action: partial.action === 'unchanged' ? 'failed' : partial.action, rollout: undefined, diagnosis: [], error: describeApiError(error, namespace) };
  }
  throw error;
}

export async function reconcileDaemonSet(ctx: PassContext, planned: PlannedDaemonSet, live: DaemonSet | undefined, gate: WriteGate | undefined): Promise<Reconciling> {
  const { config } = planned;
  const partial: DaemonSetOutcome = {
    name: config.daemonSetName, set: planned.set, chunk: planned.chunk, chunks: planned.chunks, images: config.images.length,
    exitCode: ExitCode.healthy, action: 'unchanged', changed: [], tolerated: [], rollout: undefined, diagnosis: [], error: undefined,
    rejected: [], refresh: undefined, waitedMs: 0, diagnosisMs: 0,
  };
  try {
    const reconciled = await reconcile(ctx, live);
    gate?.settle(config.daemonSetName, false);
    return { ctx, planned, partial: { ...partial, action: reconciled.action, changed: reconciled.changed, tolerated: reconciled.tolerated, refresh: reconciled.refresh }, reconciled };
  } catch (error) {
    const failed = failure(partial, error, planned, config.namespace);
    gate?.settle(config.daemonSetName, failed.exitCode === ExitCode.invalidConfig);
    return { ctx, planned, partial: failed, reconciled: undefined };
  }
}

/**
 * A DaemonSet's outcome and the DaemonSet as last read, when the pass got that far (its coverage is
 * measured from it); `unhealthy` when its rollout did not complete, its outcome then still without
 * a diagnosis.
 */
export interface Finished {
  outcome: DaemonSetOutcome;
  latest: DaemonSet | undefined;
  unhealthy?: Unhealthy;
}

export async function finishDaemonSet(step: Reconciling, waitSeconds: number): Promise<Finished> {
  let latest: DaemonSet | undefined = step.reconciled?.daemonSet;
  let unhealthy: Unhealthy | undefined;
  const outcome = await finishing(step, waitSeconds, (read) => { latest = read; }, (found) => { unhealthy = found; });
  return { outcome, latest, ...(unhealthy === undefined ? {} : { unhealthy }) };
}

async function finishing({ ctx, planned, partial, reconciled }: Reconciling, waitSeconds: number, lastRead: (daemonSet: DaemonSet) => void, toDiagnose: (unhealthy: Unhealthy) => void): Promise<DaemonSetOutcome> {
  if (reconciled === undefined) return partial;
  const { config } = ctx;
  try {
    const { rollout, latest, waitedMs } = await awaitRollout(ctx, reconciled.daemonSet);
    lastRead(latest);
    if (rollout.complete) {
      if (rollout.desired === 0) ctx.log.warn('no node matches the DaemonSet\'s node selector, affinity and tolerations; nothing is cached', { daemonset: config.daemonSetName });
      return { ...partial, rollout, waitedMs };
    }
    toDiagnose({ ctx, daemonSet: latest, rollout });
    const error = ctx.interrupted() ? 'interrupted (SIGTERM) before the rollout completed' : `not healthy after ${String(waitSeconds)}s (${waitSeconds < config.rolloutTimeoutSeconds ? 'the Job\'s deadline, JOB_DEADLINE_SECONDS, less time to report' : 'ROLLOUT_TIMEOUT_SECONDS'})`;
    return { ...partial, exitCode: ExitCode.unhealthy, rollout, error, waitedMs };
  } catch (error) {
    return failure(partial, error, planned, config.namespace);
  }
}

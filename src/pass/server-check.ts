// `--dry-run=server`: the desired DaemonSet, judged by the API server (strict field validation,
// admission) without storing anything. What `helm test` runs, so that a value only the server can
// judge (an unknown field nested in AFFINITY, tolerationSeconds on NoSchedule) fails the test.
import { ApiError } from '../kube/cluster.ts';
import type { Cluster } from '../kube/cluster.ts';
import type { Config } from '../config/config.ts';
import { desiredDaemonSet } from '../plan/desired.ts';
import { ExitCode } from './exit-codes.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import type { PlannedDaemonSet } from '../plan/daemonset-plan.ts';
import { worstExitCode } from './exit-codes.ts';
import { describeApiError } from './api-errors.ts';
import { tracedToSet } from './daemonset-pass.ts';
import { PassError } from './context.ts';
import type { RejectedValue } from './context.ts';
import { previewUnderSpareName, validated } from './reconcile.ts';

export interface ServerCheck {
  exitCode: ExitCode;
  /** The object as the server would store it, when it accepted it. */
  accepted: DaemonSet | undefined;
  rejected: RejectedValue[];
  error: string | undefined;
}

export async function checkWithServer(cluster: Cluster, config: Config): Promise<ServerCheck> {
  try {
    const desired = desiredDaemonSet(config);
    const accepted = await validated(() => previewUnderSpareName(cluster, desired));
    return { exitCode: ExitCode.healthy, accepted: { ...accepted, metadata: { ...accepted.metadata, name: desired.metadata.name } }, rejected: [], error: undefined };
  } catch (error) {
    if (error instanceof PassError) return { exitCode: error.exitCode, accepted: undefined, rejected: error.rejected, error: error.message };
    if (error instanceof ApiError) return { exitCode: ExitCode.error, accepted: undefined, rejected: [], error: describeApiError(error, config.namespace) };
    throw error;
  }
}

export interface PlanCheck {
  exitCode: ExitCode;
  /** Every DaemonSet as the server would store it, when it accepted all of them. */
  accepted: DaemonSet[];
  rejected: RejectedValue[];
  error: string | undefined;
}

/** Every DaemonSet of the install judged by the API server, a rejection traced to its set. */
export async function checkPlanWithServer(cluster: Cluster, plan: readonly PlannedDaemonSet[]): Promise<PlanCheck> {
  const accepted: DaemonSet[] = [];
  const rejected: RejectedValue[] = [];
  const errors: string[] = [];
  const codes: ExitCode[] = [];
  for (const planned of plan) {
    const check = await checkWithServer(cluster, planned.config);
    codes.push(check.exitCode);
    if (check.accepted !== undefined) accepted.push(check.accepted);
    rejected.push(...tracedToSet(check.rejected, planned));
    if (check.error !== undefined) errors.push(plan.length === 1 ? check.error : `${planned.config.daemonSetName}: ${check.error}`);
  }
  const exitCode = worstExitCode(codes);
  return { exitCode, accepted: exitCode === ExitCode.healthy ? accepted : [], rejected, error: errors.length === 0 ? undefined : errors.join('; ') };
}

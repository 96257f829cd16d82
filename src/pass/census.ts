// The pass's one read of its own pods, after the rollouts: one paged LIST of the install's pods,
// each handed as it arrives to the coverage counter of its DaemonSet and, for a DaemonSet whose
// rollout did not complete, to its diagnosis. A pass reads its pods once, healthy or not, and the
// selector (OWN_SELECTOR) leaves out the Job's own pods, which share the DaemonSet's name and
// instance labels when the Helm release is named like the DaemonSet.
import { measureCoverage } from '../coverage/measure.ts';
import type { MeasuredDaemonSet } from '../coverage/measure.ts';
import type { DaemonSetCoverage } from '../coverage/report.ts';
import { Diagnosis } from './health.ts';
import type { PassContext } from './context.ts';
import type { CensusOf } from './diagnose.ts';

export interface Census {
  /** One entry per measured DaemonSet, in their order. */
  coverage: DaemonSetCoverage[];
  /** What each diagnosed DaemonSet's pods report, by its name. */
  diagnoses: Map<string, Diagnosis>;
}

/** Throws when the pods cannot be listed (after the pass's retries). */
export async function takeCensus(ctx: PassContext, measured: readonly MeasuredDaemonSet[], diagnosed: readonly string[]): Promise<Census> {
  if (measured.length === 0 && diagnosed.length === 0) return { coverage: [], diagnoses: new Map() };
  // Each attempt counts afresh, so a retried LIST counts no pod twice.
  return ctx.retrying(async () => {
    const diagnoses = new Map(diagnosed.map((name) => [name, new Diagnosis()]));
    const coverage = await measureCoverage(ctx.cluster, measured, (pod, daemonSet) => { diagnoses.get(daemonSet)?.addPod(pod); });
    return { coverage, diagnoses };
  });
}

export function censusOf(census: Census | { error: unknown }, daemonSet: string): CensusOf {
  if ('error' in census) return census;
  return { diagnosis: census.diagnoses.get(daemonSet) ?? new Diagnosis() };
}

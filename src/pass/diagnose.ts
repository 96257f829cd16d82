// Why a rollout is not complete: what the pods report (image pull errors, scheduling) and, when
// pods are missing altogether, what the DaemonSet controller said when it could not create them
// (a ResourceQuota, a LimitRange, a missing PriorityClass, PodSecurity). The pods come from the
// pass's census (census.ts), which read them with the coverage's.
import { summarize, summarizeWarningEvents } from './health.ts';
import type { Diagnosis, Rollout } from './health.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import type { PassContext } from './context.ts';

/** A DaemonSet whose rollout did not complete in time, as last read, with its own context. */
export interface Unhealthy {
  ctx: PassContext;
  daemonSet: DaemonSet;
  rollout: Rollout;
}

/** What the census gave one DaemonSet: its pods' findings, or why the pods could not be listed. */
export type CensusOf = { diagnosis: Diagnosis } | { error: unknown };

function describeFailure(what: string, error: unknown): string {
  return `could not ${what}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The diagnosis lines, also recorded as an Unhealthy Event on the DaemonSet when its pods were read. */
export async function diagnose({ ctx, daemonSet, rollout }: Unhealthy, census: CensusOf): Promise<string[]> {
  if ('error' in census) return [describeFailure('list the DaemonSet\'s pods', census.error)];
  const { diagnosis } = census;
  let controllerLines: string[] = [];
  const uid = daemonSet.metadata.uid;
  if (diagnosis.podsSeen < rollout.desired && uid !== undefined) {
    try {
      controllerLines = summarizeWarningEvents(await ctx.cluster.listWarningEvents(uid));
    } catch (error) {
      controllerLines = [describeFailure('read the DaemonSet\'s Events', error)];
    }
  }
  const lines = summarize(diagnosis.groups(), rollout, controllerLines);
  await ctx.record(daemonSet, 'Warning', 'Unhealthy', `${String(rollout.available)}/${String(rollout.desired)} available: ${lines.join('; ')}`);
  return lines;
}

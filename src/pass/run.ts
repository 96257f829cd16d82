// One reconcile pass over every DaemonSet of the install (one per set, or per chunk of a set):
// one LIST of its own DaemonSets, then, side by side under one deadline, reconcile each (the only
// step that writes), delete those of sets no longer configured, wait for the rollouts (one LIST per
// poll for all of them), then read their pods once, to diagnose what is not healthy and to measure
// the coverage. It never sleeps beyond its deadline and never deletes a DaemonSet because it is slow
// or unhealthy, nor one that is not this install's.
import { ApiError } from '../kube/cluster.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { DEFAULT_SET } from '../config/image-sets.ts';
import { SET_LABEL, planDaemonSets } from '../plan/daemonset-plan.ts';
import { ExitCode } from './exit-codes.ts';
import { describeApiError } from './api-errors.ts';
import { createContext } from './context.ts';
import type { PassDependencies } from './context.ts';
import { finishDaemonSet, gatedDecisions, reconcileDaemonSet } from './daemonset-pass.ts';
import { overallOutcome } from './overall.ts';
import type { PassOutcome } from './overall.ts';
import { readOwnDaemonSets } from './own-daemonsets.ts';
import type { OwnDaemonSets } from './own-daemonsets.ts';
import { removeDaemonSets } from './remove.ts';
import { shareCluster } from './shared-cluster.ts';
import { lookupDeadline, spareHosts } from './registry-hosts.ts';
import { shareRegistry } from './shared-registry.ts';
import { createWriteGate } from './write-gate.ts';
import { coverPass } from './coverage.ts';
import { censusOf, takeCensus } from './census.ts';
import { diagnose } from './diagnose.ts';
import { sharedStatusReader } from './status-reader.ts';

export type { Logger, PassDependencies, RejectedValue } from './context.ts';
export type { DaemonSetOutcome } from './daemonset-pass.ts';
export type { OverallAction, PassOutcome } from './overall.ts';
export type { Action } from './reconcile.ts';
export { describeApiError } from './api-errors.ts';

function failedBeforeAnyDaemonSet(error: string): PassOutcome {
  return {
    exitCode: ExitCode.error, action: 'failed', changed: [], tolerated: [], rollout: undefined, diagnosis: [], error,
    rejected: [], refresh: undefined, waitedMs: 0, diagnosisMs: 0, daemonSets: [], removed: [], warnings: [], coverage: [],
  };
}

/** The sets whose every DaemonSet this pass deleted and that no planned DaemonSet belongs to. */
function retiredSets(removable: readonly DaemonSet[], removed: readonly string[], plan: readonly { set: string }[]): Set<string> {
  const setOf = (daemonSet: DaemonSet): string => daemonSet.metadata.labels?.[SET_LABEL] ?? DEFAULT_SET;
  const kept = new Set([...plan.map(({ set }) => set), ...removable.filter(({ metadata }) => !removed.includes(metadata.name ?? '')).map(setOf)]);
  return new Set(removable.map(setOf).filter((set) => !kept.has(set)));
}

/**
 * @param waitSeconds how long the pass may wait for its rollouts before reporting; defaults to
 *   ROLLOUT_TIMEOUT_SECONDS.
 */
export async function runPass(deps: PassDependencies, waitSeconds = deps.config.rolloutTimeoutSeconds): Promise<PassOutcome> {
  const startMs = deps.now().getTime();
  const deadline = deps.deadline ?? startMs + waitSeconds * 1000;
  const lookupsUntil = deps.lookupDeadline ?? lookupDeadline(startMs, deadline);
  const shared: PassDependencies = {
    ...deps,
    deadline,
    cluster: shareCluster(deps.cluster),
    ...(deps.registry === undefined ? {} : { registry: shareRegistry(spareHosts(deps.registry, { until: lookupsUntil, now: () => deps.now().getTime() })) }),
  };
  const pass = createContext(shared, waitSeconds);
  const plan = planDaemonSets(deps.config);
  let own: OwnDaemonSets;
  try {
    own = await readOwnDaemonSets(pass, plan);
  } catch (error) {
    if (error instanceof ApiError) return failedBeforeAnyDaemonSet(describeApiError(error, deps.config.namespace));
    throw error;
  }
  // One DaemonSet needs no gate: its own rejection already comes before its write.
  const gate = plan.length > 1 ? createWriteGate(plan.map(({ config }) => config.daemonSetName)) : undefined;
  // Several DaemonSets poll their status through one reader, one LIST per poll for all; one alone keeps its GET.
  const readStatus = plan.length > 1 ? { readStatus: sharedStatusReader(pass, own.listed) } : {};
  const reconciling = await Promise.all(plan.map((planned) => {
    const name = planned.config.daemonSetName;
    const onDecision = gate === undefined ? {} : { onDecision: gatedDecisions(shared.cluster, name, gate) };
    const ctx = createContext({ ...shared, ...onDecision, ...readStatus, config: planned.config, deadline: pass.deadline }, waitSeconds);
    return reconcileDaemonSet(ctx, planned, own.live.get(name), gate);
  }));
  const rejected = reconciling.some(({ partial }) => partial.exitCode === ExitCode.invalidConfig);
  const removal = rejected ? { removed: [], failures: [] } : await removeDaemonSets(pass, own.removable);
  const finished = await Promise.all(reconciling.map((step) => finishDaemonSet(step, waitSeconds)));
  // A pass that exits 2 writes nothing, the status ConfigMap included, so it measures nothing.
  const measured = rejected ? [] : finished.flatMap(({ outcome: section, latest }) => (latest === undefined ? [] : [{ daemonSet: latest, unconfirmed: new Set(section.refresh?.unresolved.map(({ image }) => image)) }]));
  const unhealthy = finished.flatMap(({ unhealthy: found }) => (found === undefined ? [] : [found]));
  const censusFrom = pass.nowMs();
  const census = await takeCensus(pass, measured, unhealthy.map(({ daemonSet }) => daemonSet.metadata.name ?? '')).catch((error: unknown) => ({ error }));
  const sections = await Promise.all(finished.map(async ({ outcome: section, unhealthy: found }) => {
    if (found === undefined) return section;
    const diagnosis = await diagnose(found, censusOf(census, section.name));
    return { ...section, diagnosis, diagnosisMs: pass.nowMs() - censusFrom };
  }));
  const outcome = overallOutcome(sections, removal, own.warnings);
  if (rejected) return outcome;
  const unmeasuredSets = new Set(finished.filter(({ latest }) => latest === undefined).map(({ outcome: section }) => section.set));
  const { coverage, nodeLabels, warnings } = await coverPass(pass, { finished: measured, census, unmeasuredSets, retiredSets: retiredSets(own.removable, removal.removed, plan) });
  return { ...outcome, coverage, ...(nodeLabels.length === 0 ? {} : { nodeLabels }), warnings: [...outcome.warnings, ...warnings] };
}

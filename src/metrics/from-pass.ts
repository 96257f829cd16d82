// PassMetrics from what main has at the end of a pass. Per-node coverage (which images each node
// holds) comes from the coverage step when there is one; until then the sets' figures are derived
// from the DaemonSets' rollouts, and there are no per-image figures.
import type { Config } from '../config.ts';
import type { PassOutcome } from '../pass.ts';
import type { RegistryRequestCounts } from '../registry/client.ts';
import type { ImageCoverage, PassMetrics, SetCoverage } from './exposition.ts';

export interface PassFigures {
  config: Pick<Config, 'namespace' | 'daemonSetName'>;
  /** Undefined when the pass ended before it had one (invalid configuration, no cluster). */
  outcome: Pick<PassOutcome, 'daemonSets'> | undefined;
  exitCode: number;
  durationMs: number;
  registryRequests?: RegistryRequestCounts | undefined;
  finishedAt: Date;
  /** Per set and per image, from the coverage step; replaces the estimate from the rollouts. */
  coverage?: { sets: SetCoverage[]; images: ImageCoverage[] } | undefined;
}

/**
 * A set's figures from its DaemonSets' rollouts: each chunk runs on every node of the set, so the set
 * expects the most any chunk is scheduled on, and is complete on at most as many nodes as its least
 * complete chunk has updated, available pods. A set with a chunk that has no rollout is left out.
 */
export function setsFromRollouts(outcome: Pick<PassOutcome, 'daemonSets'>): SetCoverage[] {
  const bySet = new Map<string, Array<PassOutcome['daemonSets'][number]['rollout']>>();
  for (const section of outcome.daemonSets) bySet.set(section.set, [...(bySet.get(section.set) ?? []), section.rollout]);
  const sets: SetCoverage[] = [];
  for (const [set, rollouts] of bySet) {
    if (rollouts.some((rollout) => rollout === undefined)) continue;
    const known = rollouts.filter((rollout) => rollout !== undefined);
    sets.push({
      set,
      nodesExpected: Math.max(...known.map(({ desired }) => desired)),
      nodesComplete: Math.min(...known.map(({ updated, available }) => Math.min(updated, available))),
    });
  }
  return sets;
}

export function passMetricsFrom(figures: PassFigures): PassMetrics {
  const registryRequests: Record<string, number> = {};
  for (const [host, methods] of Object.entries(figures.registryRequests?.byHost ?? {})) {
    registryRequests[host] = Object.values(methods).reduce((total, count) => total + count, 0);
  }
  return {
    namespace: figures.config.namespace,
    daemonSet: figures.config.daemonSetName,
    sets: figures.coverage?.sets ?? (figures.outcome === undefined ? [] : setsFromRollouts(figures.outcome)),
    images: figures.coverage?.images ?? [],
    durationSeconds: figures.durationMs / 1000,
    exitCode: figures.exitCode,
    registryRequests,
    succeeded: figures.exitCode === 0,
    finishedAt: figures.finishedAt,
  };
}

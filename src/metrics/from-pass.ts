// PassMetrics from what main has at the end of a pass. Per-node coverage (which images each node
// holds) comes from the coverage step when it measured; when it did not (a pass that ended early),
// the sets' figures are derived from the DaemonSets' rollouts, and there are no per-image figures.
import type { Config } from '../config/config.ts';
import type { PassOutcome } from '../pass/run.ts';
import type { RegistryRequestCounts } from '../registry/client.ts';
import { warmNodesBySet } from '../coverage/node-labels.ts';
import type { DaemonSetCoverage } from '../coverage/report.ts';
import type { ImageCoverage, ImageState, PassMetrics, SetCoverage } from './exposition.ts';

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

/**
 * The coverage step's figures as metrics: a set is complete on the nodes complete in all of its
 * DaemonSets; per image and state the nodes add up over the set's DaemonSets. An image pulled with
 * no digest reported counts as current, as it counts as complete.
 */
export function metricsCoverage(coverage: readonly DaemonSetCoverage[]): { sets: SetCoverage[]; images: ImageCoverage[] } {
  const warm = warmNodesBySet(coverage, new Set());
  const expected = new Map<string, number>();
  const images = new Map<string, ImageCoverage>();
  const count = (set: string, image: string, state: ImageState, nodes: number): void => {
    if (nodes === 0) return;
    const key = `${set}\u0000${image}\u0000${state}`;
    const entry = images.get(key) ?? { set, image, state, nodes: 0 };
    entry.nodes += nodes;
    images.set(key, entry);
  };
  for (const { set, coverage: measured } of coverage) {
    expected.set(set, Math.max(expected.get(set) ?? 0, measured.expected));
    for (const image of measured.images) {
      count(set, image.image, 'current', image.current + image.unverified);
      count(set, image.image, 'other-digest', image.otherDigests.reduce((sum, other) => sum + other.nodes, 0));
      count(set, image.image, 'pulling', image.pulling.reduce((sum, reason) => sum + reason.nodes, 0));
      count(set, image.image, 'failing', image.failing.reduce((sum, reason) => sum + reason.nodes, 0));
    }
  }
  return {
    sets: [...expected].map(([set, nodesExpected]) => ({ set, nodesExpected, nodesComplete: warm.get(set)?.size ?? 0 })),
    images: [...images.values()],
  };
}

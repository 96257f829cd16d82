// Warm-node labels (NODE_LABELS=true): a node that holds every image of a set at its current
// digest carries `kubernetes-image-puller.io/<set>=ready`, so workloads can prefer warm nodes with
// node affinity; a node that stops holding them loses it. Pure: which nodes to label and unlabel.
import type { DaemonSetCoverage } from './report.ts';

export const NODE_LABEL_PREFIX = 'kubernetes-image-puller.io/';
export const WARM = 'ready';

export function warmLabel(set: string): string {
  return `${NODE_LABEL_PREFIX}${set}`;
}

/**
 * The warm nodes of each set: complete in every DaemonSet of the set (its chunks). A set with a
 * DaemonSet not measured this pass is left out, so its labels stay as they are. A retired set (its
 * DaemonSets deleted this pass, the set gone from the configuration) has no warm node left.
 */
export function warmNodesBySet(measured: readonly DaemonSetCoverage[], unmeasuredSets: ReadonlySet<string>, retiredSets: Iterable<string> = []): Map<string, Set<string>> {
  const warm = new Map<string, Set<string>>();
  for (const set of retiredSets) warm.set(set, new Set());
  for (const { set, coverage } of measured) {
    if (unmeasuredSets.has(set)) continue;
    const complete = new Set(coverage.completeNodeNames);
    const sofar = warm.get(set);
    warm.set(set, sofar === undefined ? complete : new Set([...sofar].filter((node) => complete.has(node))));
  }
  return warm;
}

export interface LabelChanges {
  add: string[];
  remove: string[];
}

export function labelChanges(warm: ReadonlySet<string>, labeled: ReadonlySet<string>): LabelChanges {
  return {
    add: [...warm].filter((node) => !labeled.has(node)).sort(),
    remove: [...labeled].filter((node) => !warm.has(node)).sort(),
  };
}

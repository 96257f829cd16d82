// Warm-node labels, the pass's part (NODE_LABELS=true): for each set whose DaemonSets were all
// measured, one LIST of the nodes that carry its label, then a patch per node to label or unlabel,
// at most MAX_LABEL_CHANGES a pass (the shared cluster keeps a few in flight). Failing to label is
// a warning; labels never change the exit code.
import { ApiError } from '../kube/cluster.ts';
import { WARM, labelChanges, warmLabel, warmNodesBySet } from '../coverage/node-labels.ts';
import type { DaemonSetCoverage } from '../coverage/report.ts';
import type { PassContext } from './context.ts';

export const MAX_LABEL_CHANGES = 500;

export interface NodeLabelOutcome {
  label: string;
  /** Nodes carrying the label after the pass. */
  nodes: number;
  added: number;
  removed: number;
}

function describe(error: unknown): string {
  if (error instanceof ApiError && error.status === 403) {
    return `the ServiceAccount may not ${error.verb} nodes (403 Forbidden), so warm-node labels are not kept; NODE_LABELS=true needs a ClusterRole with nodes list and patch (the chart's nodeLabels.enabled makes it)`;
  }
  return `could not keep the warm-node labels: ${error instanceof Error ? error.message : String(error)}`;
}

export async function labelWarmNodes(ctx: PassContext, coverage: readonly DaemonSetCoverage[], unmeasuredSets: ReadonlySet<string>, retiredSets: ReadonlySet<string> = new Set()): Promise<{ labels: NodeLabelOutcome[]; warnings: string[] }> {
  const labels: NodeLabelOutcome[] = [];
  const warnings: string[] = [];
  let budget = MAX_LABEL_CHANGES;
  try {
    for (const [set, warm] of warmNodesBySet(coverage, unmeasuredSets, retiredSets)) {
      const label = warmLabel(set);
      const labeled = new Set(await ctx.retrying(() => ctx.cluster.listNodeNames(label)));
      const changes = labelChanges(warm, labeled);
      const remove = changes.remove.slice(0, budget);
      const add = changes.add.slice(0, budget - remove.length);
      budget -= remove.length + add.length;
      await Promise.all([
        ...remove.map((node) => ctx.retrying(() => ctx.cluster.patchNodeLabel(node, label, null))),
        ...add.map((node) => ctx.retrying(() => ctx.cluster.patchNodeLabel(node, label, WARM))),
      ]);
      const left = changes.add.length + changes.remove.length - add.length - remove.length;
      if (left > 0) warnings.push(`${String(left)} node label change(s) for ${label} are left to the next pass (at most ${String(MAX_LABEL_CHANGES)} a pass)`);
      labels.push({ label, nodes: labeled.size + add.length - remove.length, added: add.length, removed: remove.length });
    }
  } catch (error) {
    warnings.push(describe(error));
  }
  return { labels, warnings };
}

// The pass's last step: how far each of its DaemonSets covers the nodes, from the pass's census of
// its pods (census.ts); a warning and an Event for nodes at another digest; and the status ConfigMap,
// written only when the coverage changed, so a quiet pass still writes nothing. None of it changes
// the exit code: a pass that cannot measure says so and ends as it would have.
import { ApiError } from '../kube/cluster.ts';
import type { MeasuredDaemonSet } from '../coverage/measure.ts';
import { staleDigestWarnings, statusData } from '../coverage/report.ts';
import type { DaemonSetCoverage } from '../coverage/report.ts';
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import type { PassContext } from './context.ts';
import { labelWarmNodes } from './node-labels.ts';
import type { NodeLabelOutcome } from './node-labels.ts';

export interface CoverageStep {
  coverage: DaemonSetCoverage[];
  /** Warm-node labels kept this pass (NODE_LABELS=true), one entry per set. */
  nodeLabels: NodeLabelOutcome[];
  warnings: string[];
}

/** One per install, whatever the number of its image sets and chunks. */
export function statusConfigMapName(install: string): string {
  return `${install}-status`;
}

export const STALE_DIGEST_REASON = 'StaleDigest';
const MAX_EVENT_MESSAGE = 1000;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function writeStatus(ctx: PassContext, coverage: readonly DaemonSetCoverage[]): Promise<string[]> {
  const name = statusConfigMapName(ctx.config.daemonSetName);
  const data = statusData(coverage);
  try {
    const live = await ctx.retrying(() => ctx.cluster.readConfigMap(name));
    if (live !== undefined && Object.keys(data).every((key) => live.data[key] === data[key]) && Object.keys(live.data).length === Object.keys(data).length) return [];
    await ctx.retrying(() => ctx.cluster.writeConfigMap(name, data, { 'app.kubernetes.io/managed-by': PROGRAM_NAME, 'app.kubernetes.io/name': PROGRAM_NAME }, live?.resourceVersion));
    return [];
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      return [`the ServiceAccount may not write the status ConfigMap ${name} (403 Forbidden), so it holds an older coverage or none; the chart's Role grants get and update on it and the chart creates it (helm upgrade, or process openshift/serviceaccount.yaml again)`];
    }
    return [`could not write the status ConfigMap ${name}: ${reason(error)}`];
  }
}

export interface CoverageInput {
  /** The DaemonSets the pass finished with (as last read), in the order of `census.coverage`. */
  finished: readonly MeasuredDaemonSet[];
  /** Their coverage from the census, or why the pods could not be listed. */
  census: { coverage: DaemonSetCoverage[] } | { error: unknown };
  /** Sets with a DaemonSet the pass could not measure: their labels stay as they are. */
  unmeasuredSets?: ReadonlySet<string>;
  /** Sets whose DaemonSets this pass deleted: their labels go from every node. */
  retiredSets?: ReadonlySet<string>;
}

/** Reports the coverage and writes the status ConfigMap; with NODE_LABELS, keeps the warm-node labels. */
export async function coverPass(ctx: PassContext, { finished, census, unmeasuredSets = new Set(), retiredSets = new Set() }: CoverageInput): Promise<CoverageStep> {
  if (finished.length === 0) return { coverage: [], nodeLabels: [], warnings: [] };
  if ('error' in census) return { coverage: [], nodeLabels: [], warnings: [`could not list the caching pods to measure coverage: ${reason(census.error)}`] };
  const { coverage } = census;
  const warnings: string[] = [];
  for (const [index, entry] of coverage.entries()) {
    const stale = staleDigestWarnings(entry);
    warnings.push(...stale);
    const daemonSet: DaemonSet | undefined = finished[index]?.daemonSet;
    if (stale.length > 0 && daemonSet !== undefined) await ctx.record(daemonSet, 'Warning', STALE_DIGEST_REASON, stale.join('; ').slice(0, MAX_EVENT_MESSAGE));
  }
  warnings.push(...await writeStatus(ctx, coverage));
  if (!ctx.config.nodeLabels) return { coverage, nodeLabels: [], warnings };
  const labelled = await labelWarmNodes(ctx, coverage, unmeasuredSets, retiredSets);
  return { coverage, nodeLabels: labelled.labels, warnings: [...warnings, ...labelled.warnings] };
}

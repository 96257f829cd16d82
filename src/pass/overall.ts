// The outcome of a pass from those of its DaemonSets: the worst verdict, and figures that add up.
// With one DaemonSet and nothing removed it is that DaemonSet's outcome, field for field, so an
// install without image sets reports exactly what it always did.
import type { DaemonSetCoverage } from '../coverage/report.ts';
import type { NodeLabelOutcome } from './node-labels.ts';
import { ExitCode, worstExitCode } from './exit-codes.ts';
import type { Rollout } from './health.ts';
import type { RejectedValue } from './context.ts';
import type { DaemonSetOutcome } from './daemonset-pass.ts';
import type { DigestRefresh } from './digests.ts';
import type { Action } from './reconcile.ts';
import type { Removal } from './remove.ts';

/** With several DaemonSets, `changed` says that a pass wrote without one action saying it all. */
export type OverallAction = Action | 'changed';

export interface PassOutcome extends Omit<DaemonSetOutcome, 'name' | 'set' | 'chunk' | 'chunks' | 'images' | 'action'> {
  action: OverallAction;
  /** One section per DaemonSet, in the order of the sets and their chunks. */
  daemonSets: DaemonSetOutcome[];
  /** DaemonSets deleted because their sets are no longer configured. */
  removed: string[];
  /** Sentences for the log and the summary about the pass as a whole. */
  warnings: string[];
  /** How far each DaemonSet covers its nodes, as measured at the end of the pass; empty when it was not. */
  coverage: DaemonSetCoverage[];
  /** Warm-node labels kept this pass, when NODE_LABELS=true. */
  nodeLabels?: NodeLabelOutcome[];
}

function overallAction(sections: readonly DaemonSetOutcome[], removed: readonly string[], exitCode: ExitCode): OverallAction {
  if (exitCode === ExitCode.refused) return 'refused';
  if (exitCode === ExitCode.error || exitCode === ExitCode.invalidConfig) return 'failed';
  const written = new Set(sections.map(({ action }) => action).filter((action) => action !== 'unchanged'));
  if (written.size === 0 && removed.length === 0) return 'unchanged';
  const [only] = written;
  return written.size === 1 && removed.length === 0 && only !== undefined ? only : 'changed';
}

function totalRollout(rollouts: readonly (Rollout | undefined)[]): Rollout | undefined {
  const known = rollouts.filter((rollout) => rollout !== undefined);
  if (known.length === 0) return undefined;
  const sum = (field: 'desired' | 'updated' | 'ready' | 'available'): number => known.reduce((total, rollout) => total + rollout[field], 0);
  return {
    complete: known.every((rollout) => rollout.complete),
    observed: known.every((rollout) => rollout.observed),
    desired: sum('desired'),
    updated: sum('updated'),
    ready: sum('ready'),
    available: sum('available'),
  };
}

function unique<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

/** What the registries said to all DaemonSets, each image and registry once. */
function mergedRefresh(refreshes: readonly (DigestRefresh | undefined)[]): DigestRefresh | undefined {
  const known = refreshes.filter((refresh) => refresh !== undefined);
  if (known.length === 0) return undefined;
  return {
    templateAnnotations: {},
    moved: unique(known.flatMap((refresh) => refresh.moved), (image) => image),
    firstSeen: unique(known.flatMap((refresh) => refresh.firstSeen), (image) => image),
    unresolved: unique(known.flatMap((refresh) => refresh.unresolved), ({ image }) => image),
    // The lowest remaining budget seen is the one that counts.
    rateLimits: unique(known.flatMap((refresh) => refresh.rateLimits).sort((a, b) => a.remaining - b.remaining), ({ registry }) => registry),
    warnings: unique(known.flatMap((refresh) => refresh.warnings), (warning) => warning),
  };
}

const named = (section: DaemonSetOutcome, lines: readonly string[]): string[] => lines.map((line) => `${section.name}: ${line}`);

export function overallOutcome(sections: readonly DaemonSetOutcome[], removal: Removal, warnings: readonly string[]): PassOutcome {
  const exitCode = worstExitCode([...sections.map((section) => section.exitCode), ...(removal.failures.length === 0 ? [] : [ExitCode.error])]);
  const [only] = sections;
  if (sections.length === 1 && only !== undefined && removal.removed.length === 0 && removal.failures.length === 0) {
    const { action, changed, tolerated, rollout, diagnosis, error, rejected, refresh, waitedMs, diagnosisMs } = only;
    return { exitCode, action, changed, tolerated, rollout, diagnosis, error, rejected, refresh, waitedMs, diagnosisMs, daemonSets: [only], removed: [], warnings: [...warnings], coverage: [] };
  }
  const errors = [...sections.flatMap((section) => (section.error === undefined ? [] : named(section, [section.error]))), ...removal.failures];
  return {
    exitCode,
    action: overallAction(sections, removal.removed, exitCode),
    changed: sections.flatMap((section) => named(section, section.changed)),
    tolerated: sections.flatMap((section) => named(section, section.tolerated)),
    rollout: totalRollout(sections.map((section) => section.rollout)),
    diagnosis: sections.flatMap((section) => named(section, section.diagnosis)),
    error: errors.length === 0 ? undefined : errors.join('; '),
    rejected: unique(sections.flatMap((section) => section.rejected), ({ variable, problem }: RejectedValue) => `${variable}\u0000${problem}`),
    refresh: mergedRefresh(sections.map((section) => section.refresh)),
    // The DaemonSets wait side by side: the pass waited as long as the longest of them.
    waitedMs: Math.max(0, ...sections.map((section) => section.waitedMs)),
    diagnosisMs: Math.max(0, ...sections.map((section) => section.diagnosisMs)),
    daemonSets: [...sections],
    removed: removal.removed,
    warnings: [...warnings],
    coverage: [],
  };
}

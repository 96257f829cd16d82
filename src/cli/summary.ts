// The one summary line a pass ends with: pure, from the outcome and the figures main measured. An
// install without image sets gets the line it always got; with them, totals on top and a section
// per DaemonSet.
import type { RequestCounts } from '../kube/cluster.ts';
import type { Config } from '../config/config.ts';
import { coverageSummary } from '../coverage/report.ts';
import { ExitCode } from '../pass/exit-codes.ts';
import type { DaemonSetOutcome, PassOutcome } from '../pass/run.ts';
import type { RegistryRequestCounts } from '../registry/client.ts';

/** What the registries said: only present when they were asked (REFRESH_MODE=digest, tag images). */
function registrySection(outcome: PassOutcome, requests: RegistryRequestCounts): Record<string, unknown> {
  const refresh = outcome.refresh;
  if (refresh === undefined || (requests.total === 0 && refresh.unresolved.length === 0)) return {};
  return {
    registry: {
      requests: requests.byHost,
      ...(refresh.moved.length === 0 ? {} : { moved: refresh.moved }),
      ...(refresh.firstSeen.length === 0 ? {} : { firstSeen: refresh.firstSeen }),
      ...(refresh.unresolved.length === 0 ? {} : { unresolved: refresh.unresolved.map(({ image, reason, message }) => ({ image, reason, message })) }),
      ...(refresh.rateLimits.length === 0 ? {} : { rateLimits: refresh.rateLimits.map(({ registry, limit, remaining, windowSeconds }) => ({ registry, limit, remaining, ...(windowSeconds === undefined ? {} : { windowSeconds }) })) }),
    },
  };
}

function coverageOf(outcome: PassOutcome, daemonSet: string): Record<string, unknown> {
  const measured = outcome.coverage.find((entry) => entry.daemonSet === daemonSet);
  return measured === undefined ? {} : { coverage: coverageSummary(measured.coverage) };
}

/** The summary is read at a glance: with many failing DaemonSets, each section's Event holds the rest. */
export const MAX_SUMMARY_DIAGNOSIS_LINES = 20;

/**
 * Each section's diagnosis, cut so that all of them fit MAX_SUMMARY_DIAGNOSIS_LINES: in order, each
 * keeps what fits while leaving a line for every failing section after it, and ends with where the
 * rest is. Past as many failing sections as there are lines, the last line that fits speaks for
 * itself and every one after it.
 */
function diagnosesWithinBudget(sections: readonly DaemonSetOutcome[], namespace: string): string[][] {
  let budget = MAX_SUMMARY_DIAGNOSIS_LINES;
  let failingAfter = sections.filter((section) => section.diagnosis.length > 0).length;
  return sections.map(({ name, diagnosis }) => {
    if (diagnosis.length === 0 || budget === 0) return [];
    failingAfter -= 1;
    if (budget === 1 && failingAfter > 0) {
      budget = 0;
      return [`${String(failingAfter + 1)} failing DaemonSets, ${name} and the ${String(failingAfter)} after it: kubectl get events -n ${namespace} --field-selector involvedObject.kind=DaemonSet,reason=Unhealthy`];
    }
    const allowed = Math.max(1, budget - failingAfter);
    const where = `kubectl describe daemonset ${name} (its Unhealthy Event)`;
    let kept: string[];
    if (diagnosis.length <= allowed) kept = [...diagnosis];
    else if (allowed === 1) kept = [`${String(diagnosis.length)} lines of diagnosis: ${where}`];
    else kept = [...diagnosis.slice(0, allowed - 1), `and ${String(diagnosis.length - allowed + 1)} more lines: ${where}`];
    budget -= kept.length;
    return kept;
  });
}

function daemonSetSection(section: DaemonSetOutcome, outcome: PassOutcome, diagnosis: string[]): Record<string, unknown> {
  return {
    daemonset: section.name,
    set: section.set,
    ...(section.chunks === 1 ? {} : { chunk: `${String(section.chunk)}/${String(section.chunks)}` }),
    action: section.rejected.length > 0 ? 'invalid-config' : section.action,
    changed: section.changed,
    ...(section.tolerated.length === 0 ? {} : { tolerated: section.tolerated }),
    images: section.images,
    desired: section.rollout?.desired,
    ready: section.rollout?.ready,
    updated: section.rollout?.updated,
    available: section.rollout?.available,
    ...coverageOf(outcome, section.name),
    exitCode: section.exitCode,
    ...(diagnosis.length === 0 ? {} : { diagnosis }),
    ...(section.error === undefined ? {} : { error: section.error }),
    ...(section.rejected.length === 0 ? {} : { invalid: section.rejected.map((rejected) => rejected.variable) }),
  };
}

function sectionsOf(outcome: PassOutcome, namespace: string): Record<string, unknown>[] {
  const diagnoses = diagnosesWithinBudget(outcome.daemonSets, namespace);
  return outcome.daemonSets.map((section, index) => daemonSetSection(section, outcome, diagnoses[index] ?? []));
}

/** Sections are needed once the install is more than the one DaemonSet named DAEMONSET_NAME. */
function hasSections(config: Config, outcome: PassOutcome): boolean {
  return outcome.removed.length > 0 || outcome.daemonSets.some((section) => section.name !== config.daemonSetName);
}

function imageCount(config: Config): number {
  return config.images.length + config.imageSets.reduce((total, set) => total + set.images.length, 0);
}

export function passSummary(
  config: Config,
  outcome: PassOutcome,
  figures: { durationMs: number; requests: RequestCounts; registryRequests?: RegistryRequestCounts; warnings: string[] },
): Record<string, unknown> {
  const sections = hasSections(config, outcome);
  const warnings = [...figures.warnings, ...(outcome.refresh?.warnings ?? []), ...outcome.warnings];
  return {
    action: outcome.exitCode === ExitCode.invalidConfig ? 'invalid-config' : outcome.action,
    daemonset: config.daemonSetName,
    namespace: config.namespace,
    ...(sections ? {} : { changed: outcome.changed }),
    ...(sections || outcome.tolerated.length === 0 ? {} : { tolerated: outcome.tolerated }),
    images: imageCount(config),
    desired: outcome.rollout?.desired,
    ready: outcome.rollout?.ready,
    updated: outcome.rollout?.updated,
    available: outcome.rollout?.available,
    ...(sections ? {} : coverageOf(outcome, config.daemonSetName)),
    durationMs: figures.durationMs,
    waitedMs: outcome.waitedMs,
    ...(outcome.diagnosisMs === 0 ? {} : { diagnosisMs: outcome.diagnosisMs }),
    requests: figures.requests,
    ...registrySection(outcome, figures.registryRequests ?? { total: 0, byHost: {} }),
    exitCode: outcome.exitCode,
    ...(sections || outcome.diagnosis.length === 0 ? {} : { diagnosis: outcome.diagnosis }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(outcome.rejected.length === 0 ? {} : { invalid: [...new Set(outcome.rejected.map((rejected) => rejected.variable))] }),
    ...(warnings.length === 0 ? {} : { warnings }),
    ...(outcome.removed.length === 0 ? {} : { removed: outcome.removed }),
    ...(outcome.nodeLabels === undefined ? {} : { nodeLabels: outcome.nodeLabels }),
    ...(sections ? { daemonSets: sectionsOf(outcome, config.namespace) } : {}),
  };
}

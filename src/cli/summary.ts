// The one summary line a pass ends with: pure, from the outcome and the figures main measured.
import type { RequestCounts } from '../cluster.ts';
import type { Config } from '../config.ts';
import { ExitCode } from '../exit-codes.ts';
import type { PassOutcome } from '../pass.ts';
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

export function passSummary(
  config: Config,
  outcome: PassOutcome,
  figures: { durationMs: number; requests: RequestCounts; registryRequests?: RegistryRequestCounts; warnings: string[] },
): Record<string, unknown> {
  return {
    action: outcome.exitCode === ExitCode.invalidConfig ? 'invalid-config' : outcome.action,
    daemonset: config.daemonSetName,
    namespace: config.namespace,
    changed: outcome.changed,
    ...(outcome.tolerated.length === 0 ? {} : { tolerated: outcome.tolerated }),
    images: config.images.length,
    desired: outcome.rollout?.desired,
    ready: outcome.rollout?.ready,
    updated: outcome.rollout?.updated,
    available: outcome.rollout?.available,
    durationMs: figures.durationMs,
    waitedMs: outcome.waitedMs,
    ...(outcome.diagnosisMs === 0 ? {} : { diagnosisMs: outcome.diagnosisMs }),
    requests: figures.requests,
    ...registrySection(outcome, figures.registryRequests ?? { total: 0, byHost: {} }),
    exitCode: outcome.exitCode,
    ...(outcome.diagnosis.length === 0 ? {} : { diagnosis: outcome.diagnosis }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(outcome.rejected.length === 0 ? {} : { invalid: outcome.rejected.map((rejected) => rejected.variable) }),
    ...(figures.warnings.length + (outcome.refresh?.warnings.length ?? 0) === 0 ? {} : { warnings: [...figures.warnings, ...(outcome.refresh?.warnings ?? [])] }),
  };
}

// The one summary line a pass ends with: pure, from the outcome and the figures main measured.
import type { RequestCounts } from '../cluster.ts';
import type { Config } from '../config.ts';
import { ExitCode } from '../exit-codes.ts';
import type { PassOutcome } from '../pass.ts';

export function passSummary(config: Config, outcome: PassOutcome, figures: { durationMs: number; requests: RequestCounts; warnings: string[] }): Record<string, unknown> {
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
    exitCode: outcome.exitCode,
    ...(outcome.diagnosis.length === 0 ? {} : { diagnosis: outcome.diagnosis }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(outcome.rejected.length === 0 ? {} : { invalid: outcome.rejected.map((rejected) => rejected.variable) }),
    ...(figures.warnings.length === 0 ? {} : { warnings: figures.warnings }),
  };
}

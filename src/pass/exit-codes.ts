// The exit code is the pass's verdict; the CronJob's podFailurePolicy and operators read it.
export const ExitCode = {
  healthy: 0,
  error: 1,
  invalidConfig: 2,
  unhealthy: 3,
  refused: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Worst first: invalid configuration (nothing was written, and retrying cannot help), a refusal (a
 * person must act), an error (a retry may help), an unhealthy rollout (the writes are done).
 */
const SEVERITY: readonly ExitCode[] = [ExitCode.invalidConfig, ExitCode.refused, ExitCode.error, ExitCode.unhealthy, ExitCode.healthy];

/** The verdict of a pass over several DaemonSets: the worst of theirs. */
export function worstExitCode(codes: readonly ExitCode[]): ExitCode {
  return SEVERITY.find((code) => codes.includes(code)) ?? ExitCode.healthy;
}

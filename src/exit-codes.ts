// The exit code is the pass's verdict; the CronJob's podFailurePolicy and operators read it.
export const ExitCode = {
  healthy: 0,
  error: 1,
  invalidConfig: 2,
  unhealthy: 3,
  refused: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

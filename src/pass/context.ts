// What every step of a pass shares: its inputs, the deadline, the poll budget and the retry
// policy. The steps (reconcile, rollout, diagnose) take a PassContext and return plain values.
import type { Cluster, EventType } from '../kube/cluster.ts';
import type { Config } from '../config/config.ts';
import type { Decision } from './decide.ts';
import type { ExitCode } from './exit-codes.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import type { RegistryClient } from '../registry/client.ts';
import { withRetry } from './retry.ts';
import type { Sleep } from './retry.ts';

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

export interface PassDependencies {
  config: Config;
  cluster: Cluster;
  log: Logger;
  now: () => Date;
  sleep: Sleep;
  signal: AbortSignal;
  /** When the pass stops waiting (epoch ms), if the caller already fixed it; else now + the wait. */
  deadline?: number;
  /** Asks registries for digests (REFRESH_MODE=digest); without it tags are not refreshed by digest. */
  registry?: RegistryClient;
  /**
   * The pass runs in a pod (KUBERNETES_SERVICE_HOST is set), so its loopback is the pod's and no
   * node's: images on loopback registries are not looked up (digests.ts). False on a host.
   */
  runsInPod?: boolean;
  /** When registry lookups stop (epoch ms), the same moment the registry client was given; else lookupDeadline of the pass. */
  lookupDeadline?: number;
  /**
   * Told each decision before it is acted on; it may hold a write back or stop it by throwing (the
   * write gate of a pass over several DaemonSets).
   */
  onDecision?: (decision: Decision) => Promise<void>;
  /**
   * How the rollout wait reads the DaemonSet's status (retries included): the pass's shared reader
   * when it has several DaemonSets, one LIST answering all the polls made together; else a GET.
   */
  readStatus?: (name: string) => Promise<DaemonSet | undefined>;
}

/** A value the API server rejected, traced back to the variable that produced it. */
export interface RejectedValue {
  variable: string;
  problem: string;
}

/** Ends the pass with this exit code and message; nothing after it runs. */
export class PassError extends Error {
  readonly exitCode: ExitCode;
  readonly rejected: RejectedValue[];
  constructor(message: string, exitCode: ExitCode, rejected: RejectedValue[] = []) {
    super(message);
    this.name = 'PassError';
    this.exitCode = exitCode;
    this.rejected = rejected;
  }
}

export const FIRST_POLL_MS = 500;
export const MAX_POLL_MS = 3000;

export interface PassContext extends PassDependencies {
  /** Epoch ms when the pass stops waiting and reports. */
  deadline: number;
  nowMs(): number;
  interrupted(): boolean;
  /** Whether another poll may start: before the deadline, not interrupted, within the poll budget. */
  mayPoll(): boolean;
  retrying<T>(operation: () => Promise<T>): Promise<T>;
  /** Records an Event on the DaemonSet; failing to is logged, never fatal. */
  record(daemonSet: DaemonSet, type: EventType, reason: string, message: string): Promise<void>;
}

export function createContext(deps: PassDependencies, waitSeconds: number): PassContext {
  const nowMs = (): number => deps.now().getTime();
  const deadline = deps.deadline ?? nowMs() + waitSeconds * 1000;
  const interrupted = (): boolean => deps.signal.aborted;
  // Polls are at least FIRST_POLL_MS apart, so the deadline alone ends every loop; the budget also
  // ends them when the clock does not move (a sleep that returns at once), instead of spinning.
  let pollsLeft = Math.ceil((waitSeconds * 1000) / FIRST_POLL_MS) + 1;
  return {
    ...deps,
    deadline,
    nowMs,
    interrupted,
    mayPoll: () => !interrupted() && nowMs() < deadline && pollsLeft-- > 0,
    retrying: (operation) => withRetry(operation, { deadline, now: nowMs, sleep: deps.sleep, signal: deps.signal }),
    async record(daemonSet, type, reason, message) {
      try {
        await deps.cluster.recordEvent(daemonSet, type, reason, message);
      } catch (error) {
        deps.log.warn('could not record an Event on the DaemonSet', { reason, error: error instanceof Error ? error.message : String(error) });
      }
    },
  };
}

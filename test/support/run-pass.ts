// What the runPass tests share: a logger that says nothing and a clock that moves only when the
// pass sleeps, so a rollout wait takes no real time.
import type { Logger } from '../../src/pass/run.ts';

/** The instant every test pass starts at. */
export const START = Date.parse('2026-11-24T12:00:00Z');

export const silent: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/** A sleep that takes no time but lets timers run, so a runaway loop meets the test timeout instead of starving it. */
export function yieldToTimers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock fixed at START that moves forward by each sleep's length; each sleep takes no real time.
 * onSleep runs once the clock has moved, before the sleep yields (e.g. to deliver a SIGTERM mid-wait).
 */
export function fixedClock(onSleep?: () => void): { now: () => Date; sleep: (ms: number) => Promise<void> } {
  let clock = START;
  return {
    now: () => new Date(clock),
    sleep: (ms) => {
      clock += ms;
      onSleep?.();
      return yieldToTimers();
    },
  };
}

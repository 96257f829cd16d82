// What the config tests share: the problems loadConfig reports for an environment it rejects.
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import type { Environment } from '../../src/config/config.ts';

/** Each variable loadConfig names as wrong, with what it says about it; fails the test if it accepts env. */
export function problemsOf(env: Environment): Record<string, string> {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return Object.fromEntries(error.problems.map((problem) => [problem.variable, problem.problem]));
  }
  assert.fail(`expected ${JSON.stringify(env)} to be rejected`);
}

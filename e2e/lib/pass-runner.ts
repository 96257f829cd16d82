// One pass of the puller as a real process (node dist/main.mjs), and what the tests read of it:
// its summary line and, for assertion messages, all it printed.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigPath, repoRoot, run } from './cluster.ts';
import type { ProcessResult } from './cluster.ts';

/**
 * One pass of the puller: `node dist/main.mjs` as a real process with only PATH, HOME, KUBECONFIG and
 * the given variables in its environment.
 */
export function runPass(
  env: Record<string, string>,
  opts: { kubeconfig?: string; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  const main = join(repoRoot, 'dist', 'main.mjs');
  if (!existsSync(main)) {
    return Promise.reject(new Error(`${main} does not exist; run npm run build first`));
  }
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? homedir(),
    KUBECONFIG: opts.kubeconfig ?? kubeconfigPath(),
    ...env,
  };
  return run(process.execPath, [main], { env: childEnv, timeoutMs: opts.timeoutMs ?? 180_000 });
}

export type PassSummary = {
  action?: string;
  desired?: number;
  ready?: number;
  updated?: number;
  requests?: number | { total?: number; byVerb?: Record<string, number> };
  error?: string;
  /** Why the rollout is not healthy: one line per (image, reason), the largest group first. */
  diagnosis?: string[];
  [key: string]: unknown;
};

/** The pass's summary: the last JSON line on stdout that carries an `action` field. */
export function summaryOf(result: ProcessResult): PassSummary | undefined {
  const lines = result.stdout.split('\n').reverse();
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(trimmed) as PassSummary;
      if (typeof parsed === 'object' && parsed !== null && 'action' in parsed) return parsed;
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

/** Everything a pass printed, for assertion messages. */
export function explain(result: ProcessResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout.trim()}\n--- stderr\n${result.stderr.trim()}`;
}

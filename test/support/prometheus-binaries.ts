// promtool and the Pushgateway, built from Go modules by `npm run binaries` (e2e/cluster/build-binaries.sh
// promtool pushgateway) into PROMETHEUS_BIN_DIR (e2e/cluster/versions.sh). A test that needs one fails
// when it is missing, with the command that builds it: CI builds it first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../e2e/packaging/fixtures.ts';

export function prometheusBinDir(): string {
  if (process.env['PROMETHEUS_BIN_DIR']) return process.env['PROMETHEUS_BIN_DIR'];
  const res = spawnSync('bash', ['-c', 'source e2e/cluster/versions.sh && printf %s "$PROMETHEUS_BIN_DIR"'], { cwd: repoRoot, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`cannot read PROMETHEUS_BIN_DIR from e2e/cluster/versions.sh: ${res.stderr}`);
  return res.stdout;
}

export function prometheusBinary(name: 'promtool' | 'pushgateway'): string {
  const path = join(prometheusBinDir(), name);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist; \`npm run binaries\` builds it (or only it: bash e2e/cluster/build-binaries.sh ${name}); CI builds it first`);
  }
  return path;
}

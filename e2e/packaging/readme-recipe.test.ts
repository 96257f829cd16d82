// The README's recipe for checking a Go puller's ConfigMap before switching, run as written (only the
// namespace changes): kubectl | jq into the environment of `node dist/main.mjs --dry-run`, and `--dry-run=server`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apply, binDir, createTestNamespace, kubeconfigPath, releaseNamespace, repoRoot, run } from '../lib/cluster.ts';
import { explain } from '../lib/pass-runner.ts';
import { goPullerConfigMap } from './go-puller.ts';

/** The README block that checks a ConfigMap, from reading it to the end (the build before it is done). */
function readmeRecipe(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((match) => match[1] ?? '').find((text) => text.includes('get configmap') && text.includes('--dry-run'));
  assert.ok(block, 'the README has no block that checks a ConfigMap with --dry-run');
  return block.slice(block.indexOf('mapfile'));
}

function runRecipe(namespace: string, dryRun: '--dry-run' | '--dry-run=server') {
  const script = readmeRecipe().replace('-n k8s-image-puller', `-n ${namespace}`).replace('--dry-run', dryRun);
  return run('bash', ['-euo', 'pipefail', '-c', script], {
    env: {
      PATH: `${dirname(process.execPath)}:${binDir()}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? '/root',
      KUBECONFIG: kubeconfigPath(),
    },
  }).then((result) => ({ ...result, script }));
}

let ns = '';
before(async () => {
  ns = await createTestNamespace('kip-readme-recipe');
});
after(async () => {
  if (ns !== '') await releaseNamespace(ns);
});

describe('the README\'s check of a Go puller ConfigMap', { timeout: 120_000 }, () => {
  test('lists every value the Go puller let through, and exits 2', async () => {
    const configMap = goPullerConfigMap(ns, 'che-code=quay.io/che-incubator/che-code:next;che-code=quay.io/che-incubator/che-code:7.99') as { data: Record<string, string> };
    configMap.data['TOLERATIONS'] = '[{"key":"gpu","efect":"NoSchedule"}]';
    configMap.data['CACHING_INTERVAL_HOURS'] = '1h';
    await apply([configMap]);
    const result = await runRecipe(ns, '--dry-run');
    assert.equal(result.code, 2, `${result.script}\n${explain(result)}`);
    for (const variable of ['IMAGES', 'TOLERATIONS', 'CACHING_INTERVAL_HOURS']) assert.match(result.stdout, new RegExp(`ERROR invalid ${variable}=`), result.stdout);
  });

  test('passes a valid one, locally and with the API server, and the helper is this program\'s image', async () => {
    await apply([goPullerConfigMap(ns, 'che-code=quay.io/che-incubator/che-code:next;\nbase=quay.io/devfile/base-developer-image:ubi9-latest;\n')]);
    const local = await runRecipe(ns, '--dry-run');
    assert.equal(local.code, 0, `${local.script}\n${explain(local)}`);
    assert.match(local.stdout, /kind: DaemonSet/);
    assert.match(local.stdout, /image: quay\.io\/eclipse\/kubernetes-image-puller:latest/);
    const server = await runRecipe(ns, '--dry-run=server');
    assert.equal(server.code, 0, `${server.script}\n${explain(server)}`);
    assert.match(server.stdout, /accepted by the API server/);
  });
});

// The refresh benchmark (part of npm run bench): what refreshing 20 tags costs the registry and the
// nodes, at 10, 100 and 1,000 nodes, with a real registry (distribution v3) and the real control
// plane. Measured for REFRESH_MODE=digest when nothing moved and when 1 of 20 tags moved; the timed
// restart and the Go puller's hourly delete-and-recreate restart every pod by design, so their row
// is that design's arithmetic (every pod × every tag), not a measurement.
//   env: KUBECONFIG, KIP_CLUSTER (run.sh's cluster), KIP_BENCH_NODES (default 10,100,1000)
import { createTestNamespace, deleteNamespace, pullerPods, scaleNodes } from '../lib/cluster.ts';
import { runPass, summaryOf } from '../lib/pass-runner.ts';
import { passEnv } from '../lib/puller.ts';
import { LocalRegistry, pullerManifestRequests } from '../lib/registry.ts';

const SIZES = (process.env.KIP_BENCH_NODES ?? '10,100,1000').split(',').map(Number);
const TAGS = 20;

function progress(message: string): void {
  process.stderr.write(`[bench refresh] ${message}\n`);
}

interface PassCost {
  registryRequests: number;
  daemonSetWrites: number;
  podsRestarted: number;
}

async function measuredPass(registry: LocalRegistry, namespace: string, env: Record<string, string>): Promise<PassCost> {
  const before = new Set((await pullerPods(namespace)).map((pod) => pod.metadata.uid));
  const asked = registry.accessLog().length;
  const result = await runPass(env, { timeoutMs: 900_000 });
  const summary = summaryOf(result);
  if (result.code !== 0 || summary === undefined) throw new Error(`pass failed (exit ${String(result.code)}):\n${result.stdout}\n${result.stderr}`);
  const after = (await pullerPods(namespace)).map((pod) => pod.metadata.uid);
  const writes = (summary.requests as { byVerb?: Record<string, number> } | undefined)?.byVerb?.PUT ?? 0;
  return {
    registryRequests: pullerManifestRequests(registry.accessLog().slice(asked)).length,
    // A PUT that rolls the pods; the dry run before it is a PUT too.
    daemonSetWrites: summary.action === 'unchanged' ? 0 : Math.max(0, writes - 1),
    podsRestarted: after.filter((uid) => !before.has(uid)).length,
  };
}

async function main(): Promise<void> {
  const registry = new LocalRegistry();
  await registry.start();
  const images = Array.from({ length: TAGS }, (_, i) => {
    registry.push(`bench/image-${String(i)}:latest`, `image ${String(i)} v1`);
    return `image-${String(i)}=${registry.address}/bench/image-${String(i)}:latest`;
  }).join(';');
  const rows: string[] = [];
  try {
    for (const nodes of SIZES) {
      progress(`scaling to ${String(nodes)} nodes`);
      await scaleNodes(nodes, 900_000);
      const namespace = await createTestNamespace(`kip-bench-refresh-${String(nodes)}`);
      const env = passEnv(namespace, { IMAGES: images, REFRESH_MODE: 'digest', ROLLOUT_TIMEOUT_SECONDS: '900', MAX_UNAVAILABLE: '10%' });
      progress(`${String(nodes)} nodes: creating`);
      await measuredPass(registry, namespace, env);
      progress(`${String(nodes)} nodes: a pass with nothing moved`);
      const quiet = await measuredPass(registry, namespace, env);
      registry.push('bench/image-7:latest', `image 7 v${String(nodes)}`);
      progress(`${String(nodes)} nodes: a pass with 1 of ${String(TAGS)} tags moved`);
      const moved = await measuredPass(registry, namespace, env);
      rows.push(
        `| ${String(nodes)} | digest, nothing moved | ${String(quiet.registryRequests)} | ${String(quiet.daemonSetWrites)} | ${String(quiet.podsRestarted)} | ${String(quiet.podsRestarted * TAGS)} |`,
        `| ${String(nodes)} | digest, 1 of ${String(TAGS)} moved | ${String(moved.registryRequests)} | ${String(moved.daemonSetWrites)} | ${String(moved.podsRestarted)} | ${String(moved.podsRestarted * TAGS)} |`,
        `| ${String(nodes)} | timed restart (REFRESH_MODE=restart), per interval, by design | 0 | 1 | ${String(nodes)} | ${String(nodes * TAGS)} |`,
        `| ${String(nodes)} | Go puller, hourly delete and re-create, by design | 0 | 2 | ${String(nodes)} | ${String(nodes * TAGS)} |`,
      );
      await deleteNamespace(namespace);
    }
  } finally {
    await registry.stop();
  }
  process.stdout.write([
    `Refresh cost per pass, ${String(TAGS)} tag images (registry requests from the registry's own access log; pods restarted by UID)`,
    '| nodes | mode | registry manifest requests by the pass | DaemonSet writes | pods restarted | node manifest requests implied |',
    '| --: | -- | --: | --: | --: | --: |',
    ...rows,
    '',
  ].join('\n'));
}

await main();

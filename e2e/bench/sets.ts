// The image-sets benchmark (npm run bench:sets, via e2e/bench/sets.sh): 60 images on a cluster of
// three node pools, once as one DaemonSet on every node and once as a set per pool split into
// chunks. Prints one table comparing them: the cold pass (its own work and the controllers'
// rollout), the no-op pass (requests, wall time, peak RSS) and what each node reserves.
//   env: KUBECONFIG, KIP_CLUSTER (the cluster sets.sh started), KIP_BENCH_RUNS (no-op runs, default 5)
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createTestNamespace, getJson, kubectl, kubectlOk, listJson, repoRoot, waitFor, type Node } from '../lib/cluster.ts';
import type { PodSpec } from '../../src/kube/k8s-types.ts';
import { podReservation, type Reservation } from '../../src/plan/reservation.ts';
import { auditedRequests, byVerb, eventsPerRun, measure, mib, repeat, stats, type Measured, type TimedEvent } from './measure.ts';
import { Report, mibText, ms, quotaText, reservationText, sec, spread } from './report.ts';

const RUNS = Number(process.env.KIP_BENCH_RUNS ?? '5');
const AGENT = 'kubernetes-image-puller/';
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const BUNDLE = [process.execPath, join(repoRoot, 'dist', 'main.mjs')];
const POOLS = ['general', 'gpu', 'batch'] as const;
const POOL_LABEL = 'kip-bench/pool';
const GPU_TAINT = 'kip-bench/gpu';
const IMAGES_PER_POOL = 20;
const CHUNK = 10;
const started = Date.now();
const loadAtStart = loadavg();

function progress(message: string): void {
  process.stderr.write(`[bench:sets +${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s] ${message}\n`);
}

function images(pool: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `${pool}-${String(i + 1)}=quay.io/bench/${pool}-${String(i + 1)}:1`).join(';');
}

const tolerateGpu = JSON.stringify([{ key: GPU_TAINT, operator: 'Exists', effect: 'NoSchedule' }]);

const scenarios = {
  one: {
    title: `one DaemonSet of ${String(POOLS.length * IMAGES_PER_POOL)} images on every node`,
    env: { IMAGES: POOLS.map((pool) => images(pool, IMAGES_PER_POOL)).join(';'), TOLERATIONS: tolerateGpu },
  },
  sets: {
    title: `a set of ${String(IMAGES_PER_POOL)} images per pool, chunks of ${String(CHUNK)}: ${String(POOLS.length * Math.ceil(IMAGES_PER_POOL / CHUNK))} DaemonSets`,
    env: {
      IMAGES: '',
      MAX_IMAGES_PER_DAEMONSET: String(CHUNK),
      IMAGE_SETS: JSON.stringify(POOLS.map((pool) => ({
        name: pool,
        images: images(pool, IMAGES_PER_POOL),
        nodeSelector: { [POOL_LABEL]: pool },
        ...(pool === 'gpu' ? { tolerations: JSON.parse(tolerateGpu) as unknown } : {}),
      }))),
    },
  },
};

type Result = {
  nodes: number;
  cold: Measured;
  coldRequests: TimedEvent[];
  noop: Measured[];
  noopRequests: TimedEvent[][];
  /** Pool → what a node of that pool reserves, summed over the DaemonSets whose pods run there. */
  perNode: Map<string, Reservation>;
  /** limits × pods, over every DaemonSet: what a ResourceQuota would have to allow. */
  total: Reservation;
  daemonSets: number;
  pods: number;
};

function passEnv(namespace: string, extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', KUBECONFIG: process.env.KUBECONFIG ?? '', NAMESPACE: namespace, LOG_FORMAT: 'json', REFRESH_MODE: 'never', ROLLOUT_TIMEOUT_SECONDS: '900', ...extra };
}


/** Labels the nodes into the pools in turn and taints the GPU pool. */
async function makePools(): Promise<Map<string, string[]>> {
  const nodes = (await listJson<Node>('nodes')).map((node) => node.metadata.name).sort();
  const pools = new Map<string, string[]>(POOLS.map((pool) => [pool, nodes.filter((_, index) => POOLS[index % POOLS.length] === pool)]));
  for (const [pool, members] of pools) {
    progress(`labelling ${String(members.length)} nodes ${POOL_LABEL}=${pool} …`);
    await kubectlOk(['label', 'nodes', '--overwrite', ...members, `${POOL_LABEL}=${pool}`]);
    if (pool === 'gpu') await kubectlOk(['taint', 'nodes', '--overwrite', ...members, `${GPU_TAINT}=true:NoSchedule`]);
  }
  return pools;
}

function add(a: Reservation, b: Reservation, times = 1): Reservation {
  return {
    requests: { cpu: a.requests.cpu + b.requests.cpu * times, memory: a.requests.memory + b.requests.memory * times },
    limits: { cpu: a.limits.cpu + b.limits.cpu * times, memory: a.limits.memory + b.limits.memory * times },
  };
}
const NONE: Reservation = { requests: { cpu: 0, memory: 0 }, limits: { cpu: 0, memory: 0 } };

type LiveDaemonSet = { metadata: { name: string }; spec: { template: { spec: PodSpec & { nodeSelector?: Record<string, string> } } }; status?: { desiredNumberScheduled?: number } };

async function run(name: keyof typeof scenarios, pools: Map<string, string[]>): Promise<Result> {
  const scenario = scenarios[name];
  const namespace = await createTestNamespace(`bench-sets-${name}`);
  const env = passEnv(namespace, scenario.env);
  progress(`${scenario.title}: cold pass …`);
  const cold = await measure(BUNDLE, env, 1_200_000);
  if (cold.code !== 0) throw new Error(`cold pass exited ${String(cold.code)}\n${cold.stdout}\n${cold.stderr}`);
  progress(`  ${sec(cold.wallMs)} wall, waited ${ms(cold.summary?.waitedMs ?? Number.NaN)}, ${String(cold.summary?.ready)}/${String(cold.summary?.desired)} pods ready`);
  progress(`${scenario.title}: ${String(RUNS)} no-op passes after a warm-up …`);
  const noop = await repeat('no-op pass', RUNS, 1, () => measure(BUNDLE, env));
  const events = await auditedRequests(namespace, AGENT);
  const daemonSets = await listJson<LiveDaemonSet>('daemonsets', { namespace });
  const perNode = new Map<string, Reservation>(POOLS.map((pool) => [pool, NONE]));
  let total = NONE;
  let pods = 0;
  for (const daemonSet of daemonSets) {
    const reservation = podReservation(daemonSet.spec.template.spec);
    const pool = daemonSet.spec.template.spec.nodeSelector?.[POOL_LABEL];
    for (const each of pool === undefined ? POOLS : [pool]) perNode.set(each, add(perNode.get(each) ?? NONE, reservation));
    const scheduled = daemonSet.status?.desiredNumberScheduled ?? 0;
    pods += scheduled;
    total = add(total, reservation, scheduled);
  }
  const nodes = [...pools.values()].reduce((sum, members) => sum + members.length, 0);
  progress(`deleting namespace ${namespace} …`);
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  await waitFor(`namespace ${namespace} gone`, async () => (await getJson('namespace', namespace)) === undefined, { timeoutMs: 900_000, intervalMs: 2000 });
  return { nodes, cold, coldRequests: eventsPerRun(events, [cold])[0] ?? [], noop, noopRequests: eventsPerRun(events, noop), perNode, total, daemonSets: daemonSets.length, pods };
}

function render(results: Record<keyof typeof scenarios, Result>): string {
  const report = new Report();
  report.header(`kubernetes-image-puller image-sets benchmark — ${new Date().toISOString()}  node ${process.version}  cores: ${String(cpus().length)}`);
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' ');
  report.header(`load average at start ${load(loadAtStart)}, at end ${load(loadavg())}: above ${String(cpus().length)} the machine was shared and times are inflated; bench took ${sec(Date.now() - started)}`);
  for (const name of Object.keys(scenarios) as (keyof typeof scenarios)[]) {
    const r = results[name];
    const s = r.cold.summary;
    report.section(`${scenarios[name].title} — ${String(r.nodes)} nodes in ${String(POOLS.length)} pools, ${String(r.daemonSets)} DaemonSet(s), ${String(r.pods)} pods`);
    report.row('cold pass: wall, process start → exit', sec(r.cold.wallMs));
    report.row('cold pass: waiting for the controllers', ms(s?.waitedMs ?? Number.NaN));
    report.row('cold pass: its own work (duration − waiting)', ms((s?.durationMs ?? Number.NaN) - (s?.waitedMs ?? Number.NaN)));
    report.row('cold pass: peak RSS', mibText(mib(r.cold.peakRssKiB)));
    report.row('cold pass: requests (audit log)', `${String(r.coldRequests.length)} (${byVerb(r.coldRequests)})`);
    const totals = stats(r.noopRequests.map((events) => events.length));
    const writes = r.noopRequests.flat().filter((e) => WRITES.has(e.verb)).length;
    report.check('no-op pass: requests per pass (audit log)', `${totals.min === totals.max ? String(totals.min) : `${String(totals.min)}–${String(totals.max)}`} (${byVerb(r.noopRequests[0] ?? [])}), ${String(writes)} writes`, 'exactly 1, no write', totals.min === 1 && totals.max === 1 && writes === 0);
    report.row('no-op pass: wall', spread(stats(r.noop.map((x) => x.wallMs)), 'ms'));
    report.row('no-op pass: peak RSS', spread(stats(r.noop.map((x) => mib(x.peakRssKiB))), 'MiB'));
    for (const pool of POOLS) {
      const text = reservationText(r.perNode.get(pool) ?? NONE);
      report.row(`reserved on a ${pool} node (requests / limits, cpu/memory)`, `${text.requests} / ${text.limits}`);
    }
    report.row('limits over every pod (a ResourceQuota must allow)', quotaText(r.total, 1));
  }
  return report.render();
}

async function main(): Promise<void> {
  const pools = await makePools();
  const one = await run('one', pools);
  const sets = await run('sets', pools);
  process.stdout.write(`${render({ one, sets })}\n`);
}

await main();

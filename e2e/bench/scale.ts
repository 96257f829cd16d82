// The scale benchmark (npm run bench:scale, via e2e/bench/scale.sh): the pass at 1,000 and 5,000
// simulated nodes (KIP_BENCH_NODES), growing the cluster scale.sh started. At each size: a cold
// pass of 20 images, quiet passes, a drift pass (one image of 20 changed), a broken image on every
// node (20 s deadline), and, at the sizes in KIP_SCALE_SETS_AT, image sets (3 pools, chunks of 10).
// Each row: wall time, the pass's own work (durationMs − waitedMs), requests by verb and the LIST
// pages of pods (the coverage) from the audit log, peak RSS (/usr/bin/time). Also how long the
// cluster took to grow and what its control plane held in memory.
//   env: KUBECONFIG, KIP_CLUSTER, KIP_BENCH_NODES (default 1000,5000), KIP_BENCH_RUNS (quiet passes, default 3),
//        KIP_SCALE_SETS_AT (sizes with the image-sets scenario, default the first size)
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createTestNamespace, getJson, kubectl, kubectlOk, kwokctl, listJson, repoRoot, waitFor, type Node } from '../lib/cluster.ts';
import { auditedRequests, measure, mib, stats, type Measured, type TimedEvent } from './measure.ts';
import { Report, mibText, ms, sec } from './report.ts';

const SIZES = (process.env.KIP_BENCH_NODES ?? '1000,5000').split(',').map(Number);
const RUNS = Number(process.env.KIP_BENCH_RUNS ?? '3');
const SETS_AT = new Set((process.env.KIP_SCALE_SETS_AT ?? String(SIZES[0])).split(',').filter((s) => s !== '').map(Number));
const AGENT = 'kubernetes-image-puller/';
const BUNDLE = [process.execPath, join(repoRoot, 'dist', 'main.mjs')];
const CLUSTER = process.env.KIP_CLUSTER ?? 'kip-bench-scale';
const POOLS = ['general', 'gpu', 'batch'] as const;
const POOL_LABEL = 'kip-bench/pool';
const PAGE = 500;
const started = Date.now();
const loadAtStart = loadavg();

function progress(message: string): void {
  process.stderr.write(`[bench:scale +${String(Math.round((Date.now() - started) / 1000)).padStart(5)}s] ${message}\n`);
}

const images = (prefix: string, count: number, tag = 1, changedFirst = false): string =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1)}=quay.io/bench/${prefix}-${String(i + 1)}:${String(changedFirst && i === 0 ? tag + 1 : tag)}`).join(';');

function passEnv(namespace: string, extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', KUBECONFIG: process.env.KUBECONFIG ?? '', NAMESPACE: namespace, LOG_FORMAT: 'json', REFRESH_MODE: 'never', ROLLOUT_TIMEOUT_SECONDS: '1200', ...extra };
}

type Row = { nodes: number; scenario: string; run: Measured; requests: TimedEvent[]; pods: number };
const rows: Row[] = [];
const growth: { nodes: number; ms: number; controlPlane: string }[] = [];
const skipped: string[] = [];


async function pass(nodes: number, scenario: string, namespace: string, env: Record<string, string>, expectCode = 0): Promise<Measured> {
  progress(`${String(nodes)} nodes: ${scenario} …`);
  const run = await measure(BUNDLE, passEnv(namespace, env), 1_500_000);
  if (run.code !== expectCode) throw new Error(`${scenario}: exited ${String(run.code)}, expected ${String(expectCode)}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
  const events = (await auditedRequests(namespace, AGENT)).filter((event) => {
    const at = Date.parse(event.requestReceivedTimestamp);
    return at >= run.startedAt && at <= run.endedAt;
  });
  const pods = (await kubectlOk(['get', 'pods', '-n', namespace, '--no-headers', '-o', 'name'])).split('\n').filter((l) => l !== '').length;
  rows.push({ nodes, scenario, run, requests: events, pods });
  const s = run.summary;
  progress(`  ${sec(run.wallMs)} wall, own ${ms((s?.durationMs ?? NaN) - (s?.waitedMs ?? NaN))}, ${String(events.length)} requests, ${mibText(mib(run.peakRssKiB))}, ${String(pods)} pods`);
  return run;
}

async function dropNamespace(namespace: string): Promise<void> {
  progress(`deleting namespace ${namespace} …`);
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  await waitFor(`namespace ${namespace} gone`, async () => (await getJson('namespace', namespace)) === undefined, { timeoutMs: 1_200_000, intervalMs: 2000 });
}

/** RSS of this cluster's control-plane processes (their command lines name its directory). */
function controlPlaneMemory(): string {
  const out = execFileSync('ps', ['-eo', 'rss=,args='], { encoding: 'utf8' });
  const byName = new Map<string, number>();
  for (const line of out.split('\n')) {
    if (!line.includes(`clusters/${CLUSTER}/`)) continue;
    const [rss = '0', command = ''] = line.trim().split(/\s+/, 2);
    const name = command.split('/').pop() ?? command;
    byName.set(name, (byName.get(name) ?? 0) + Number(rss));
  }
  return [...byName].map(([name, kib]) => `${name} ${(kib / 1024).toFixed(0)} MiB`).join(', ');
}

async function scaleNodes(size: number): Promise<number> {
  const from = Date.now();
  const scaled = await kwokctl(['scale', 'node', '--replicas', String(size)]);
  if (scaled.code !== 0) throw new Error(`kwokctl scale node --replicas ${String(size)}: ${scaled.stderr}`);
  const template = '{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{.spec.taints[*].key}{"\\n"}{end}';
  let lastReport = Date.now();
  await waitFor(`${String(size)} Ready, untainted nodes`, async () => {
    const lines = (await kubectlOk(['get', 'nodes', '-o', `jsonpath=${template}`])).split('\n').filter((l) => l !== '');
    const settled = lines.filter((l) => l.startsWith('True') && !l.includes('node.kubernetes.io/not-ready')).length;
    if (Date.now() - lastReport > 15_000) {
      progress(`  … ${String(settled)}/${String(size)} nodes Ready and untainted; ${controlPlaneMemory()}`);
      lastReport = Date.now();
    }
    return lines.length === size && settled === size;
  }, { timeoutMs: 1_800_000, intervalMs: 3000 });
  return Date.now() - from;
}

async function labelPools(): Promise<void> {
  const nodes = (await listJson<Node>('nodes')).map((node) => node.metadata.name).sort();
  for (const [index, pool] of POOLS.entries()) {
    const members = nodes.filter((_, i) => i % POOLS.length === index);
    for (let i = 0; i < members.length; i += 500) await kubectlOk(['label', 'nodes', '--overwrite', ...members.slice(i, i + 500), `${POOL_LABEL}=${pool}`]);
  }
}

async function atSize(nodes: number): Promise<void> {
  const main = await createTestNamespace(`scale-${String(nodes)}`);
  const twenty = images('img', 20);
  await pass(nodes, 'cold pass, 20 images', main, { IMAGES: twenty });
  for (let i = 0; i < RUNS; i += 1) await pass(nodes, `quiet pass ${String(i + 1)}`, main, { IMAGES: twenty });
  await pass(nodes, 'drift pass, 1 image of 20 changed', main, { IMAGES: images('img', 20, 1, true), MAX_UNAVAILABLE: '100%' });
  await dropNamespace(main);
  const broken = await createTestNamespace(`scale-broken-${String(nodes)}`);
  await pass(nodes, 'broken image on every node, 20 s deadline', broken, { IMAGES: 'ok=quay.io/x/ok:1;bad=broken.invalid/x:1', ROLLOUT_TIMEOUT_SECONDS: '20' }, 3);
  await dropNamespace(broken);
  if (!SETS_AT.has(nodes)) {
    skipped.push(`image sets at ${String(nodes)} nodes (${String(2 * nodes)} pods)`);
    return;
  }
  await labelPools();
  const sets = await createTestNamespace(`scale-sets-${String(nodes)}`);
  const env = {
    IMAGES: '',
    MAX_IMAGES_PER_DAEMONSET: '10',
    IMAGE_SETS: JSON.stringify(POOLS.map((pool) => ({ name: pool, images: images(pool, 20), nodeSelector: { [POOL_LABEL]: pool } }))),
  };
  await pass(nodes, 'image sets: cold pass, 3 pools × 20 images, chunks of 10 (6 DaemonSets)', sets, env);
  await pass(nodes, 'image sets: quiet pass', sets, env);
  await dropNamespace(sets);
}

function verbs(events: TimedEvent[]): string {
  const counts = new Map<string, number>();
  for (const event of events) {
    const key = `${event.verb} ${event.objectRef?.resource ?? '?'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `${key} ${String(n)}`).join(', ');
}

function render(): string {
  const report = new Report();
  report.header(`kubernetes-image-puller scale benchmark — ${new Date().toISOString()}  node ${process.version}  cores: ${String(cpus().length)}  git ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: repoRoot }).trim()}`);
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' ');
  report.header(`load average at start ${load(loadAtStart)}, at end ${load(loadavg())}; bench took ${sec(Date.now() - started)}`);
  for (const g of growth) report.line(`cluster grown to ${String(g.nodes)} nodes in ${sec(g.ms)}; control plane then: ${g.controlPlane}`);
  report.line('');
  report.line('| nodes | scenario | exit | wall | own work | requests (audit log) | pod LIST pages | peak RSS | diagnosis |');
  report.line('|---|---|---|---|---|---|---|---|---|');
  for (const { nodes, scenario, run, requests, pods } of rows) {
    const s = run.summary;
    const pages = requests.filter((e) => e.verb === 'list' && e.objectRef?.resource === 'pods').length;
    const lines = s?.diagnosis?.length;
    const diagnosis = lines === undefined || lines === 0 ? '' : `${String(lines)} lines in ${ms(s?.diagnosisMs ?? NaN)}`;
    report.line(`| ${String(nodes)} | ${scenario} | ${String(run.code)} | ${sec(run.wallMs)} | ${ms((s?.durationMs ?? NaN) - (s?.waitedMs ?? NaN))} | ${String(requests.length)} (${verbs(requests)}) | ${String(pages)} (ceil(${String(pods)}/${String(PAGE)}) = ${String(Math.ceil(pods / PAGE))}) | ${mibText(mib(run.peakRssKiB))} | ${diagnosis} |`);
  }
  const quiet = (nodes: number): number[] => rows.filter((r) => r.nodes === nodes && r.scenario.startsWith('quiet')).map((r) => mib(r.run.peakRssKiB));
  for (const nodes of SIZES) report.line(`quiet pass peak RSS at ${String(nodes)} nodes: median ${mibText(stats(quiet(nodes)).median)}`);
  for (const row of rows.filter((r) => (r.run.summary?.diagnosis?.length ?? 0) > 0)) {
    report.line(`diagnosis at ${String(row.nodes)} nodes:`);
    for (const line of row.run.summary?.diagnosis ?? []) report.line(`  ${line}`);
  }
  if (skipped.length > 0) report.line(`skipped: ${skipped.join('; ')}`);
  return report.render();
}

async function main(): Promise<void> {
  for (const [index, nodes] of SIZES.entries()) {
    try {
      const took = index === 0 ? NaN : await scaleNodes(nodes);
      growth.push({ nodes, ms: took, controlPlane: controlPlaneMemory() });
      progress(`${String(nodes)} nodes ready (${sec(took)}); ${controlPlaneMemory()}`);
      await atSize(nodes);
    } catch (error) {
      progress(`FAILED at ${String(nodes)} nodes: ${error instanceof Error ? error.message : String(error)}`);
      skipped.push(`the rest at ${String(nodes)} nodes: ${(error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''}`);
      break;
    }
  }
  process.stdout.write(`${render()}\n`);
}

await main();

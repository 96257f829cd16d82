// The release benchmark (npm run bench, via e2e/bench/run.sh): runs the puller as a real process
// against the local kwok cluster that run.sh started, grows the cluster from 10 to 1,000 nodes and
// prints one table to compare release to release. Progress goes to stderr, the table to stdout.
//   env: KUBECONFIG, KIP_CLUSTER (the cluster run.sh started), KIP_BENCH_RUNS (default 10),
//        KIP_BENCH_NODES (default 10,100,1000; the first is the size the cluster starts with).
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { binDir, createTestNamespace, getJson, kubectl, kubectlOk, kwokctl, repoRoot, waitFor } from '../lib/cluster.ts';
import { auditLogPath, type AuditEvent } from '../lib/audit.ts';
import type { PodSpec } from '../../src/kube/k8s-types.ts';
import { podReservation, type Reservation } from '../../src/plan/reservation.ts';
import { byVerb, eventsPerRun, measure, mib, repeat, serverMs, stats, type Measured, type TimedEvent } from './measure.ts';
import { Report, mibText, ms, quotaText, reservationText, sec, spread, upstreamReservation } from './report.ts';

const RUNS = Number(process.env.KIP_BENCH_RUNS ?? '10');
const SIZES = (process.env.KIP_BENCH_NODES ?? '10,100,1000').split(',').map(Number);
const RESERVATION_IMAGES = [1, 10, 30, 60];
const QUOTA_NODES = [20, 1000];
const PULLER_AGENT = 'kubernetes-image-puller/';
const FLOOR_AGENT = 'kip-bench-floor/';
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const NODE = process.execPath;
const BUNDLE = join(repoRoot, 'dist', 'main.mjs');
const SOURCE = join(repoRoot, 'src', 'main.ts');
const bundleArgv = [NODE, BUNDLE];
const sourceArgv = [NODE, '--experimental-strip-types', SOURCE];
const floorArgv = (namespace: string): string[] => [NODE, join(repoRoot, 'e2e', 'bench', 'get-daemonset.mjs'), namespace, 'kubernetes-image-puller'];
const kubeconfig = process.env.KUBECONFIG ?? '';

const started = Date.now();
const loadAtStart = loadavg();
function progress(message: string): void {
  const t = Math.round((Date.now() - started) / 1000);
  process.stderr.write(`[bench +${String(t).padStart(4)}s] ${message}\n`);
}

/** Prints a line every 15 s while `work` runs, so a long pass does not look like a hang. */
async function withTicker<T>(what: string, work: Promise<T>): Promise<T> {
  const from = Date.now();
  const timer = setInterval(() => progress(`  … ${what}: ${Math.round((Date.now() - from) / 1000)} s`), 15_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

function passEnv(namespace: string, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    KUBECONFIG: kubeconfig,
    NAMESPACE: namespace,
    LOG_FORMAT: 'json',
    ...extra,
  };
}

const IMAGES_V1 = 'web=quay.io/bench/web:1;db=quay.io/bench/db:1;tools=quay.io/bench/tools:1';
const IMAGES_V2 = 'web=quay.io/bench/web:2;db=quay.io/bench/db:2;tools=quay.io/bench/tools:2';
const IMAGES_V3 = 'web=quay.io/bench/web:3;db=quay.io/bench/db:3;tools=quay.io/bench/tools:3';
const IMAGES_BROKEN = 'ok=quay.io/x/ok:1;bad=broken.invalid/x:1';

function manyImages(n: number): string {
  return Array.from({ length: n }, (_, i) => `img-${i + 1}=quay.io/bench/img-${i + 1}:1`).join(';');
}

/** One pass of the bundle; fails unless it exits with `expectCode`. */
async function pass(what: string, namespace: string, env: Record<string, string>, expectCode = 0): Promise<Measured> {
  progress(`${what} …`);
  const result = await withTicker(what, measure(bundleArgv, passEnv(namespace, env)));
  if (result.code !== expectCode) {
    throw new Error(`${what}: exited ${result.code}, expected ${expectCode}\n${result.stdout}\n${result.stderr}`);
  }
  const s = result.summary;
  progress(`${what}: ${s?.action ?? '?'} in ${sec(result.wallMs)}, waited ${ms(s?.waitedMs ?? Number.NaN)}, ${s?.ready ?? '?'}/${s?.desired ?? '?'} ready`);
  return result;
}

// --- audit log -----------------------------------------------------------------------------------

/** Requests in `namespace` whose User-Agent starts with `agent`, after a marker shows the log is flushed. */
async function auditedRequests(namespace: string, agent: string): Promise<TimedEvent[]> {
  const marker = `kip-bench-marker-${Date.now()}`;
  await kubectl(['get', 'configmap', marker, '-n', 'default', '--ignore-not-found']);
  const read = (): string => readFileSync(auditLogPath(), 'utf8');
  await waitFor('the audit marker in the audit log', () => Promise.resolve(read().includes(marker)), { timeoutMs: 20_000, intervalMs: 200 });
  const events: TimedEvent[] = [];
  for (const line of read().split('\n')) {
    if (!line.includes(agent) || !line.includes(namespace)) continue;
    try {
      const event = JSON.parse(line) as TimedEvent;
      if ((event.userAgent ?? '').startsWith(agent) && event.objectRef?.namespace === namespace) events.push(event);
    } catch {
      // a line still being written
    }
  }
  return events;
}

async function requestsOf(run: Measured, namespace: string): Promise<TimedEvent[]> {
  return eventsPerRun(await auditedRequests(namespace, PULLER_AGENT), [run])[0] ?? [];
}

// --- cluster -------------------------------------------------------------------------------------

/** Scales the kwok cluster and waits until every node is Ready and has lost the not-ready taint. */
async function scaleNodes(size: number): Promise<number> {
  progress(`scaling to ${size} nodes …`);
  const from = Date.now();
  const scaled = await kwokctl(['scale', 'node', '--replicas', String(size)]);
  if (scaled.code !== 0) throw new Error(`kwokctl scale node --replicas ${size}: ${scaled.stderr}`);
  const template = '{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{.spec.taints[*].key}{"\\n"}{end}';
  let lastReport = Date.now();
  await waitFor(
    `${size} Ready, untainted nodes`,
    async () => {
      const lines = (await kubectlOk(['get', 'nodes', '-o', `jsonpath=${template}`])).split('\n').filter((l) => l !== '');
      const settled = lines.filter((l) => l.startsWith('True') && !l.includes('node.kubernetes.io/not-ready')).length;
      if (Date.now() - lastReport > 10_000) {
        progress(`  … ${settled}/${size} nodes Ready and untainted`);
        lastReport = Date.now();
      }
      return lines.length === size && settled === size;
    },
    { timeoutMs: 900_000, intervalMs: 1000 },
  );
  const took = Date.now() - from;
  progress(`${size} nodes Ready and untainted in ${sec(took)}`);
  return took;
}

/** Deletes a namespace and waits until it (and so every pod in it) is gone, so the next step runs on a quiet cluster. */
async function removeNamespace(namespace: string): Promise<void> {
  progress(`deleting namespace ${namespace} …`);
  await kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
  await withTicker(
    `deleting ${namespace}`,
    waitFor(`namespace ${namespace} gone`, async () => (await getJson('namespace', namespace)) === undefined, { timeoutMs: 900_000, intervalMs: 1000 }),
  );
}

// --- results -------------------------------------------------------------------------------------

type Cold = { nodes: number; run: Measured; settleMs: number; requests: TimedEvent[] };
type Drift = { maxUnavailable: string; run: Measured; requests: TimedEvent[] };
type ReservationRow = { images: number; reservation: Reservation };

const results: {
  startup?: { bundleBytes: number; versionBundle: Measured[]; versionSource: Measured[]; nodeBare: Measured[] };
  noop?: { bundle: Measured[]; source: Measured[]; floor: Measured[]; bundleRequests: AuditEvent[][]; sourceRequests: AuditEvent[][]; floorRequests: AuditEvent[][] };
  cold: Cold[];
  drift: Drift[];
  diagnosis: Array<{ when: string; run: Measured; requests: TimedEvent[] }>;
  reservation: ReservationRow[];
  failures: string[];
} = { cold: [], drift: [], diagnosis: [], reservation: [], failures: [] };

async function step(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`FAILED ${name}: ${message}`);
    results.failures.push(`${name}: ${message.split('\n')[0] ?? ''}`);
  }
}

// --- steps ---------------------------------------------------------------------------------------

async function measureStartup(): Promise<void> {
  progress(`startup: --version and node -e 0, ${RUNS} runs each, interleaved …`);
  const versionBundle: Measured[] = [];
  const versionSource: Measured[] = [];
  const nodeBare: Measured[] = [];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  for (let i = 0; i <= RUNS; i += 1) {
    const a = await repeat('--version (bundle)', 1, 0, () => measure([...bundleArgv, '--version'], env));
    const b = await repeat('--version (node_modules)', 1, 0, () => measure([...sourceArgv, '--version'], env));
    const c = await repeat('node -e 0', 1, 0, () => measure([NODE, '-e', '0'], env));
    if (i === 0) continue; // warm-up: fills the page cache
    versionBundle.push(...a);
    versionSource.push(...b);
    nodeBare.push(...c);
  }
  results.startup = { bundleBytes: statSync(BUNDLE).size, versionBundle, versionSource, nodeBare };
}

async function measureNoop(namespace: string): Promise<void> {
  progress(`no-op pass: bundle, node_modules and the one-GET floor, ${RUNS} runs each after a warm-up, interleaved …`);
  const env = passEnv(namespace, { IMAGES: IMAGES_V1 });
  const bundle: Measured[] = [];
  const source: Measured[] = [];
  const floor: Measured[] = [];
  for (let i = 0; i <= RUNS; i += 1) {
    const a = await repeat('no-op pass (bundle)', 1, 0, () => measure(bundleArgv, env));
    const b = await repeat('no-op pass (node_modules)', 1, 0, () => measure(sourceArgv, env));
    const c = await repeat('one GET (floor)', 1, 0, () => measure(floorArgv(namespace), env));
    if (c[0]?.stdout.trim() !== '200') throw new Error(`the floor GET answered ${c[0]?.stdout.trim() ?? '?'}, expected 200`);
    if (i === 0) continue;
    bundle.push(...a);
    source.push(...b);
    floor.push(...c);
  }
  const puller = await auditedRequests(namespace, PULLER_AGENT);
  const floorEvents = await auditedRequests(namespace, FLOOR_AGENT);
  results.noop = {
    bundle,
    source,
    floor,
    bundleRequests: eventsPerRun(puller, bundle),
    sourceRequests: eventsPerRun(puller, source),
    floorRequests: eventsPerRun(floorEvents, floor),
  };
  progress(`no-op pass: median ${ms(stats(bundle.map((r) => r.wallMs)).median)} (bundle), ${ms(stats(source.map((r) => r.wallMs)).median)} (node_modules)`);
}

async function measureReservation(namespace: string): Promise<void> {
  for (const images of RESERVATION_IMAGES) {
    const name = `kip-reserve-${images}`;
    await pass(`reservation: DaemonSet with ${images} image(s)`, namespace, { IMAGES: manyImages(images), DAEMONSET_NAME: name, ROLLOUT_TIMEOUT_SECONDS: '120' });
    const live = await getJson<{ spec: { template: { spec: PodSpec } } }>('daemonset', name, namespace);
    if (live === undefined) throw new Error(`DaemonSet ${namespace}/${name} not found after the pass created it`);
    results.reservation.push({ images, reservation: podReservation(live.spec.template.spec) });
  }
}

async function measureCold(nodes: number, settleMs: number): Promise<string> {
  const namespace = await createTestNamespace(`bench-cold-${nodes}`);
  const run = await pass(`cold pass on ${nodes} nodes`, namespace, { IMAGES: IMAGES_V1, ROLLOUT_TIMEOUT_SECONDS: '600' });
  results.cold.push({ nodes, run, settleMs, requests: await requestsOf(run, namespace) });
  return namespace;
}

async function measureDrift(namespace: string, nodes: number): Promise<void> {
  for (const [maxUnavailable, images] of [['100%', IMAGES_V2], ['10%', IMAGES_V3]] as const) {
    const run = await pass(`drift pass on ${nodes} nodes, MAX_UNAVAILABLE=${maxUnavailable}`, namespace, {
      IMAGES: images,
      MAX_UNAVAILABLE: maxUnavailable,
      ROLLOUT_TIMEOUT_SECONDS: '600',
    });
    results.drift.push({ maxUnavailable, run, requests: await requestsOf(run, namespace) });
  }
}

/** Pods of the namespace whose status.reason is ImagePullBackOff, out of all its pods. */
async function backedOff(namespace: string): Promise<{ failing: number; pods: number }> {
  const reasons = (await kubectlOk(['get', 'pods', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.status.reason}{"\\n"}{end}'])).split('\n');
  reasons.pop();
  return { failing: reasons.filter((r) => r === 'ImagePullBackOff').length, pods: reasons.length };
}

async function measureDiagnosis(nodes: number): Promise<void> {
  const namespace = await createTestNamespace(`bench-broken-${nodes}`);
  const env = { IMAGES: IMAGES_BROKEN, ROLLOUT_TIMEOUT_SECONDS: '20' };
  const first = await pass(`diagnosis, creating pass on ${nodes} nodes (one broken image, 20 s deadline)`, namespace, env, 3);
  results.diagnosis.push({ when: 'creating pass (controllers still at work)', run: first, requests: await requestsOf(first, namespace) });
  progress(`waiting until all ${nodes} pods are in ImagePullBackOff …`);
  let lastReport = Date.now();
  await waitFor(
    `${nodes} pods in ImagePullBackOff`,
    async () => {
      const { failing, pods } = await backedOff(namespace);
      if (Date.now() - lastReport > 10_000) {
        progress(`  … ${failing}/${nodes} pods in ImagePullBackOff (${pods} pods)`);
        lastReport = Date.now();
      }
      return failing === nodes && pods === nodes;
    },
    { timeoutMs: 900_000, intervalMs: 2000 },
  );
  const steady = await pass(`diagnosis, steady-state pass on ${nodes} nodes (every pod failing, 20 s deadline)`, namespace, env, 3);
  results.diagnosis.push({ when: 'steady state (every pod in ImagePullBackOff)', run: steady, requests: await requestsOf(steady, namespace) });
}

// --- the report ----------------------------------------------------------------------------------

function tool(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', cwd: repoRoot }).trim();
  } catch {
    return '?';
  }
}

function render(totalMs: number): string {
  const report = new Report();
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const dirty = tool('git', ['status', '--porcelain', '--', 'src', 'package.json']) === '' ? '' : ' + uncommitted changes in src/';
  report.header(`kubernetes-image-puller ${version} benchmark — git ${tool('git', ['rev-parse', '--short', 'HEAD'])}${dirty}`);
  report.header(`${new Date().toISOString()}  node ${process.version}  cores (nproc): ${tool('nproc', [])}  cpu: ${cpus()[0]?.model ?? '?'}`);
  report.header(`cluster: kwok ${process.env.KWOK_VERSION ?? '?'}, kube ${process.env.K8S_VERSION ?? '?'} (kwokctl binary runtime, on this machine)  runs per figure: ${RUNS} after 1 warm-up`);
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' ');
  report.header(`load average (1/5/15 min) at start ${load(loadAtStart)}, at end ${load(loadavg())}: above ${cpus().length} the machine was shared and absolute times are inflated`);
  report.header(`peak RSS from /usr/bin/time %M; requests from the API server's audit log (namespace + User-Agent ${PULLER_AGENT}); bench took ${sec(totalMs)}`);

  const wall = (runs: Measured[]) => stats(runs.map((r) => r.wallMs));
  const rss = (runs: Measured[]) => stats(runs.map((r) => mib(r.peakRssKiB)));

  report.section('1. No-op pass (DaemonSet exists and is healthy, 10 nodes)');
  const noop = results.noop;
  if (noop === undefined) report.line('not measured');
  else {
    const w = wall(noop.bundle);
    const r = rss(noop.bundle);
    report.check('wall, process start → exit (bundle)', spread(w, 'ms'), 'median < 500 ms', w.median < 500);
    report.check('peak RSS (bundle)', spread(r, 'MiB'), 'max < 100 MiB', r.max < 100);
    report.row('CPU, user + sys (bundle)', spread(stats(noop.bundle.map((x) => x.cpuMs)), 'ms'));
    const totals = noop.bundleRequests.map((events) => events.length);
    const writes = noop.bundleRequests.flat().filter((e) => WRITE_VERBS.has(e.verb)).length;
    const perRun = stats(totals);
    report.check(
      'API requests per pass (audit log)',
      `${perRun.min === perRun.max ? perRun.min : `${perRun.min}–${perRun.max}`} per pass (${byVerb(noop.bundleRequests[0] ?? [])}), ${noop.bundle.length} runs`,
      'exactly 1',
      perRun.min === 1 && perRun.max === 1,
    );
    report.check('writes', `${writes} in ${noop.bundle.length} runs`, '0', writes === 0);
    const selfReported = noop.bundle[0]?.summary?.requests;
    report.row('requests the pass reported itself', selfReported === undefined ? 'n/a' : `${selfReported.total} (${Object.entries(selfReported.byVerb).map(([v, n]) => `${v} ${n}`).join(', ')})`);
    report.row('durationMs the pass reported (median)', spread(stats(noop.bundle.map((x) => x.summary?.durationMs ?? Number.NaN)), 'ms'));
    if (results.startup !== undefined) {
      report.row('floor: node -e 0, wall', spread(wall(results.startup.nodeBare), 'ms'));
      report.row('floor: node -e 0, peak RSS', spread(rss(results.startup.nodeBare), 'MiB'));
    }
    report.row('floor: node + one GET (node:https, client cert), wall', spread(wall(noop.floor), 'ms'));
    report.row('floor: node + one GET, peak RSS', spread(rss(noop.floor), 'MiB'));
    report.row('floor: requests per run (audit log)', `${stats(noop.floorRequests.map((e) => e.length)).median} (${byVerb(noop.floorRequests[0] ?? [])})`);
    const sw = wall(noop.source);
    const sr = rss(noop.source);
    report.row('from node_modules (node src/main.ts), wall', spread(sw, 'ms'));
    report.row('from node_modules, peak RSS', spread(sr, 'MiB'));
    report.row('bundling ratio, node_modules / bundle', `wall ×${(sw.median / w.median).toFixed(2)}, peak RSS ×${(sr.median / r.median).toFixed(2)} (medians)`);
    report.row('pass cost above the one-GET floor (medians)', `${ms(w.median - wall(noop.floor).median)}, ${mibText(r.median - rss(noop.floor).median)}`);
  }

  report.section('2. Cold pass: no DaemonSet → created → all pods Ready (one run per size)');
  report.line('own work = durationMs − waitedMs; API time = what the API server spent answering the pass (audit log); CPU = user + sys of the process');
  report.line('nodes  wall      durationMs  waitedMs   own work  API time  CPU       peak RSS   requests  nodes settled in');
  for (const cold of results.cold) {
    const s = cold.run.summary ?? {};
    const own = (s.durationMs ?? Number.NaN) - (s.waitedMs ?? Number.NaN);
    report.line(
      `${String(cold.nodes).padStart(5)}  ${sec(cold.run.wallMs).padEnd(8)}  ${ms(s.durationMs ?? Number.NaN).padEnd(10)}  ${ms(s.waitedMs ?? Number.NaN).padEnd(9)}  ${ms(own).padEnd(8)}  ${ms(serverMs(cold.requests)).padEnd(8)}  ${ms(cold.run.cpuMs).padEnd(8)}  ${mibText(mib(cold.run.peakRssKiB)).padEnd(9)}  ${String(cold.requests.length).padEnd(8)}  ${sec(cold.settleMs)}`,
    );
    report.line(`       requests: ${byVerb(cold.requests)}`);
  }
  const coldFirst = results.cold[0];
  const coldLast = results.cold[results.cold.length - 1];
  if (coldFirst !== undefined && coldLast !== undefined) {
    const own = (c: Cold): number => (c.run.summary?.durationMs ?? Number.NaN) - (c.run.summary?.waitedMs ?? Number.NaN);
    report.check(`own work at ${coldLast.nodes} nodes`, `${ms(own(coldLast))} (${ms(own(coldLast) - own(coldFirst))} more than at ${coldFirst.nodes})`, '< 1 s', own(coldLast) < 1000);
    report.row(`  of which API round-trips (server side)`, `${ms(serverMs(coldLast.requests))} over ${coldLast.requests.length} requests`);
    report.row(`  CPU (user + sys) at ${coldFirst.nodes} → ${coldLast.nodes} nodes`, `${ms(coldFirst.run.cpuMs)} → ${ms(coldLast.run.cpuMs)}`);
    const growth = coldLast.run.peakRssKiB / coldFirst.run.peakRssKiB;
    report.check(
      `memory: peak RSS ${coldFirst.nodes} → ${coldLast.nodes} nodes`,
      `${mibText(mib(coldFirst.run.peakRssKiB))} → ${mibText(mib(coldLast.run.peakRssKiB))} (×${growth.toFixed(2)})`,
      'no growth (≤ ×1.10)',
      growth <= 1.1,
    );
  }

  report.section('3. Drift pass: images changed on every node → updated, rollout complete');
  report.line('maxUnavailable  nodes  wall      durationMs  waitedMs   own work  API time  CPU       peak RSS   exit  updated/desired');
  for (const drift of results.drift) {
    const s = drift.run.summary ?? {};
    const own = (s.durationMs ?? Number.NaN) - (s.waitedMs ?? Number.NaN);
    report.line(
      `${drift.maxUnavailable.padEnd(14)}  ${String(s.desired ?? '?').padStart(5)}  ${sec(drift.run.wallMs).padEnd(8)}  ${ms(s.durationMs ?? Number.NaN).padEnd(10)}  ${ms(s.waitedMs ?? Number.NaN).padEnd(9)}  ${ms(own).padEnd(8)}  ${ms(serverMs(drift.requests)).padEnd(8)}  ${ms(drift.run.cpuMs).padEnd(8)}  ${mibText(mib(drift.run.peakRssKiB)).padEnd(9)}  ${String(drift.run.code).padEnd(4)}  ${s.updated ?? '?'}/${s.desired ?? '?'}`,
    );
    report.line(`       requests: ${drift.requests.length} (${byVerb(drift.requests)})`);
  }

  report.section('4. Diagnosis at scale: one broken image (IMAGES=ok=quay.io/x/ok:1;bad=broken.invalid/x:1), ROLLOUT_TIMEOUT_SECONDS=20');
  if (results.diagnosis.length === 0) report.line('not measured');
  for (const diagnosis of results.diagnosis) {
    const s = diagnosis.run.summary ?? {};
    const lines = s.diagnosis ?? [];
    report.line(`${diagnosis.when}:`);
    report.check('  exit code', String(diagnosis.run.code), '3 (unhealthy)', diagnosis.run.code === 3);
    report.row('  nodes (desired / ready)', `${s.desired ?? '?'} / ${s.ready ?? '?'}`);
    report.row('  diagnosisMs (list pods + summarize + Event)', ms(s.diagnosisMs ?? Number.NaN));
    report.row('  wall / durationMs / waitedMs', `${sec(diagnosis.run.wallMs)} / ${ms(s.durationMs ?? Number.NaN)} / ${ms(s.waitedMs ?? Number.NaN)}`);
    report.check('  summary size', `${lines.length} line(s), ${JSON.stringify(lines).length} bytes`, '< 20 lines', lines.length < 20);
    const happy = results.cold.find((c) => c.nodes === s.desired);
    const versus = happy === undefined ? '' : ` (×${(diagnosis.run.peakRssKiB / happy.run.peakRssKiB).toFixed(2)} the happy-path cold pass on as many nodes)`;
    report.row('  peak RSS / CPU (user + sys)', `${mibText(mib(diagnosis.run.peakRssKiB))} / ${ms(diagnosis.run.cpuMs)}${versus}`);
    report.row('  requests (audit log)', `${diagnosis.requests.length} (${byVerb(diagnosis.requests)}), API time ${ms(serverMs(diagnosis.requests))}`);
    const lists = diagnosis.requests.filter((e) => e.verb === 'list');
    report.row('  API time of the pod lists', `${ms(serverMs(lists))} for ${lists.length} page(s)`);
    for (const line of lines) report.line(`    | ${line}`);
  }

  report.section('5. Per-node reservation: effective pod requests/limits (init containers count as their max)');
  const cell = (text: string, width: number): string => text.padEnd(width);
  report.line(
    `${cell('images', 7)}${cell('this design (read back)', 28)}${cell('upstream (container per image)', 32)}` +
      QUOTA_NODES.map((n) => cell(`quota limits @${n} nodes`, 36)).join(''),
  );
  report.line(`${cell('', 7)}${cell('requests     limits', 28)}${cell('requests       limits', 32)}` + QUOTA_NODES.map(() => cell('this         upstream', 36)).join(''));
  for (const row of results.reservation) {
    const ours = reservationText(row.reservation);
    const upstream = upstreamReservation(row.images);
    const theirs = reservationText(upstream);
    const quotas = QUOTA_NODES.map((n) => cell(`${cell(quotaText(row.reservation, n), 13)}${quotaText(upstream, n)}`, 36)).join('');
    report.line(`${cell(String(row.images), 7)}${cell(`${cell(ours.requests, 13)}${ours.limits}`, 28)}${cell(`${cell(theirs.requests, 15)}${theirs.limits}`, 32)}${quotas}`.trimEnd());
  }
  report.line('(cpu / memory; quota = limits.cpu / limits.memory × nodes, what a ResourceQuota on the namespace must allow)');
  if (results.reservation.length > 0) {
    const distinct = new Set(results.reservation.map((r) => JSON.stringify(r.reservation)));
    report.check('this design: reservation vs number of images', distinct.size === 1 ? 'the same for every count' : `${distinct.size} different values`, 'constant', distinct.size === 1);
  }

  report.section('6. Startup');
  const startup = results.startup;
  if (startup === undefined) report.line('not measured');
  else {
    report.row('bundle size, dist/main.mjs', `${(startup.bundleBytes / 2 ** 20).toFixed(2)} MiB (${startup.bundleBytes} bytes)`);
    const vb = wall(startup.versionBundle);
    const vs = wall(startup.versionSource);
    report.row('--version, bundle (wall)', spread(vb, 'ms'));
    report.row('--version, from node_modules (wall)', spread(vs, 'ms'));
    report.row('--version, node_modules / bundle', `×${(vs.median / vb.median).toFixed(2)} wall; peak RSS ${mibText(rss(startup.versionBundle).median)} vs ${mibText(rss(startup.versionSource).median)}`);
    report.row('node -e 0 (wall)', spread(wall(startup.nodeBare), 'ms'));
  }

  if (results.failures.length > 0) {
    report.section('Steps that failed (their rows are missing above)');
    for (const failure of results.failures) report.line(failure);
  }
  return report.render();
}

// --- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (kubeconfig === '') throw new Error('KUBECONFIG is not set; run this through e2e/bench/run.sh');
  progress(`kubectl and kwokctl from ${binDir()}; cluster ${process.env.KIP_CLUSTER ?? '?'}; sizes ${SIZES.join(', ')} nodes`);
  const [first, ...larger] = SIZES;
  if (first === undefined) throw new Error('KIP_BENCH_NODES is empty');

  await step('startup', measureStartup);

  let noopNamespace: string | undefined;
  await step(`cold pass on ${first} nodes`, async () => {
    noopNamespace = await measureCold(first, Number.NaN); // start.sh settled these nodes
  });
  if (noopNamespace !== undefined) {
    const namespace = noopNamespace;
    await step('no-op pass', () => measureNoop(namespace));
  }
  await step('reservation', async () => {
    const namespace = await createTestNamespace('bench-reserve');
    await measureReservation(namespace);
    await removeNamespace(namespace);
  });
  if (noopNamespace !== undefined) await removeNamespace(noopNamespace);

  let largest: { nodes: number; namespace: string } | undefined;
  for (const nodes of larger) {
    // The previous size's DaemonSet would otherwise grow onto the new nodes while we measure.
    if (largest !== undefined) await removeNamespace(largest.namespace);
    const settleMs = await scaleNodes(nodes);
    await step(`cold pass on ${nodes} nodes`, async () => {
      largest = { nodes, namespace: await measureCold(nodes, settleMs) };
    });
  }
  const target = largest ?? (noopNamespace === undefined ? undefined : { nodes: first, namespace: noopNamespace });
  if (target !== undefined && target.namespace !== noopNamespace) {
    await step(`drift pass on ${target.nodes} nodes`, () => measureDrift(target.namespace, target.nodes));
    await removeNamespace(target.namespace);
  }
  await step(`diagnosis on ${target?.nodes ?? first} nodes`, () => measureDiagnosis(target?.nodes ?? first));

  const table = render(Date.now() - started);
  process.stdout.write(`${table}\n`);
  if (results.failures.length > 0) process.exitCode = 1;
}

await main();

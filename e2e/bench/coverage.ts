// The coverage benchmark (npm run bench:coverage): how much memory and how many reads a pass's
// coverage costs with 1,000 and 5,000 of its pods, each of 20 images, in a real API server.
//
// A 2-core machine cannot run 5,000 simulated nodes (see bench:scale), so the pods are made
// directly: copies of a pod the DaemonSet made (test/fixtures/kwok-pod-20-images.json), spread
// over the cluster's nodes and owned by a ConfigMap so that the DaemonSet controller leaves them
// alone; kwok runs them as it runs the DaemonSet's own. The pass lists and reads every one of them,
// page by page, as it would 5,000 nodes' pods; only its per-node table stays at the cluster's few
// nodes (it keeps one entry per node: 5,000 of them are measured apart, as "counter" below).
//
// Run against any cluster by KUBECONFIG (e2e/bench/coverage.sh starts one). KIP_BENCH_PODS sizes
// (default 1000,5000), KIP_BENCH_RUNS quiet passes per size (default 3), KIP_BENCH_BEFORE another
// build's main.mjs to measure beside this one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoverageCounter, expectedImages } from '../../src/coverage/count.ts';
import { podFields } from '../../src/kube/pod-fields.ts';
import type { Pod } from '../../src/kube/k8s-types.ts';
import { pullerUserAgent } from '../lib/audit.ts';
import { apply, createTestNamespace, kubectlOk, repoRoot, waitFor } from '../lib/cluster.ts';
import { auditedRequests, measure, stats } from './measure.ts';
import type { Measured } from './measure.ts';

const SIZES = (process.env.KIP_BENCH_PODS ?? '1000,5000').split(',').map(Number);
const RUNS = Number(process.env.KIP_BENCH_RUNS ?? '3');
const BUILDS: [string, string][] = [['this build', join(repoRoot, 'dist', 'main.mjs')], ...(process.env.KIP_BENCH_BEFORE ? [['before', process.env.KIP_BENCH_BEFORE] as [string, string]] : [])];
const FIXTURE = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'kwok-pod-20-images.json'), 'utf8')) as Pod & { spec: Record<string, unknown> };
const IMAGES = (FIXTURE.spec.initContainers ?? []).map((container) => container.image).filter((image) => !image.includes('kubernetes-image-puller'));
const started = Date.now();

function progress(message: string): void {
  process.stderr.write(`[bench:coverage +${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s] ${message}\n`);
}

function passEnv(namespace: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', KUBECONFIG: process.env.KUBECONFIG ?? '',
    NAMESPACE: namespace, LOG_FORMAT: 'json', REFRESH_MODE: 'never',
    IMAGES: IMAGES.map((image, index) => `img-${String(index + 1)}=${image}`).join(';'),
  };
}

/** Copies of the fixture pod numbered from..to, on the given nodes, owned by the ConfigMap. */
function syntheticPods(namespace: string, from: number, to: number, nodes: string[], owner: { name: string; uid: string }): object[] {
  const spec = { ...FIXTURE.spec };
  delete spec.nodeName;
  return Array.from({ length: to - from }, (_, offset) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `bench-pod-${String(from + offset).padStart(5, '0')}`,
      namespace,
      labels: FIXTURE.metadata.labels,
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.name, uid: owner.uid, controller: true }],
    },
    spec: { ...spec, nodeName: nodes[(from + offset) % nodes.length] },
  }));
}

async function growTo(namespace: string, have: number, want: number, nodes: string[], owner: { name: string; uid: string }): Promise<void> {
  progress(`creating pods ${String(have)}..${String(want)} …`);
  for (let from = have; from < want; from += 250) await apply(syntheticPods(namespace, from, Math.min(from + 250, want), nodes, owner));
  await waitFor(`${String(want)} pods running`, async () => {
    const phases = await kubectlOk(['get', 'pods', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}']);
    return phases.split('\n').filter((phase) => phase === 'Running').length >= want;
  }, { timeoutMs: 1_200_000, intervalMs: 5000 });
}

/** Peak heap of a CoverageCounter fed `nodes` distinct nodes' pods, 500 at a time (run with --expose-gc). */
function counterHeap(nodes: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const counter = new CoverageCounter(expectedImages(IMAGES, {}));
  const template = podFields(FIXTURE);
  for (let from = 0; from < nodes; from += 500) {
    counter.add(Array.from({ length: Math.min(500, nodes - from) }, (_, i) => ({ ...template, spec: { ...template.spec, nodeName: `node-${String(from + i).padStart(6, '0')}` } })));
  }
  gc?.();
  const held = process.memoryUsage().heapUsed - before;
  counter.result(nodes);
  return held;
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const namespace = await createTestNamespace('bench-coverage');
  const nodes = (await kubectlOk(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter((name) => name !== '');
  progress(`namespace ${namespace}, ${String(nodes.length)} nodes; first pass creates the DaemonSet`);
  const first = await measure(['node', BUILDS[0]![1]], passEnv(namespace));
  if (first.code !== 0) throw new Error(`the first pass exited ${String(first.code)}: ${first.stderr}${first.stdout}`);
  await kubectlOk(['create', 'configmap', 'bench-pod-owner', '-n', namespace]);
  const owner = { name: 'bench-pod-owner', uid: await kubectlOk(['get', 'configmap', 'bench-pod-owner', '-n', namespace, '-o', 'jsonpath={.metadata.uid}']) };
  const rows: string[] = ['| pods | build | quiet passes | wall (median) | own work (median) | peak RSS (min / median / max) | requests | pod LIST pages | coverage complete / expected |', '|---|---|---|---|---|---|---|---|---|'];
  let have = nodes.length;
  for (const size of SIZES) {
    await growTo(namespace, have - nodes.length, size - nodes.length, nodes, owner);
    have = size;
    for (const [build, entry] of BUILDS) {
      const runs: Measured[] = [];
      const since = Date.now();
      for (let run = 0; run < RUNS; run += 1) {
        const result = await measure(['node', entry], passEnv(namespace));
        if (result.code !== 0) throw new Error(`a quiet pass (${build}) exited ${String(result.code)}: ${result.stdout.slice(-2000)}`);
        runs.push(result);
      }
      const events = (await auditedRequests(namespace, pullerUserAgent)).filter((event) => Date.parse(event.requestReceivedTimestamp ?? '') >= since);
      const podPages = events.filter((event) => event.verb === 'list' && event.objectRef?.resource === 'pods').length / RUNS;
      const rss = stats(runs.map((run) => run.peakRssKiB));
      const summary = runs[0]?.summary as { requests?: { total: number }; coverage?: { complete?: number; expected?: number } } | undefined;
      const row = `| ${String(size)} | ${build} | ${String(RUNS)} | ${String(Math.round(stats(runs.map((run) => run.wallMs)).median))} ms | ${String(Math.round(stats(runs.map((run) => (run.summary?.durationMs ?? Number.NaN) - (run.summary?.waitedMs ?? 0))).median))} ms | ${mib(rss.min)} / ${mib(rss.median)} / ${mib(rss.max)} | ${String(summary?.requests?.total ?? '?')} | ${String(podPages)} | ${String(summary?.coverage?.complete ?? '?')} / ${String(summary?.coverage?.expected ?? '?')} |`;
      progress(row);
      rows.push(row);
    }
  }
  const counters = SIZES.map((size) => `${String(size)} nodes: ${(counterHeap(size) / 1024 / 1024).toFixed(2)} MiB`).join(', ');
  process.stdout.write(`${rows.join('\n')}\n\ncounter (the per-node table, ${String(IMAGES.length)} images, distinct nodes, heap held): ${counters}\n`);
}

await main();

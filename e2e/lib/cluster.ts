// The e2e suite's hands on the cluster: runs kubectl, kwokctl and any program as real processes
// against the local kwok cluster started by e2e/cluster/start.sh (or any cluster in $KUBECONFIG),
// with the namespace, node, pod and rollout helpers and the waits the tests share. Nothing here
// imports @kubernetes/client-node: the suite observes the cluster the way an operator would.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ProcessResult = {
  code: number;
  stdout: string;
  stderr: string;
  /** When the last stdout chunk arrived and when the process was gone (Date.now()), for checks of how it leaves. */
  lastStdoutAt?: number;
  closedAt: number;
};

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const stateDir = join(repoRoot, 'e2e', '.e2e');

let cachedBinDir: string | undefined;

/** Directory of the built control-plane binaries (kubectl, kwokctl, …), as pinned in versions.sh. */
export function binDir(): string {
  if (cachedBinDir !== undefined) return cachedBinDir;
  const fromEnv = process.env.BIN_DIR;
  cachedBinDir =
    fromEnv !== undefined && fromEnv !== ''
      ? fromEnv
      : execFileSync('bash', ['-c', 'source "$1" && printf %s "$BIN_DIR"', 'versions', join(repoRoot, 'e2e', 'cluster', 'versions.sh')], {
          encoding: 'utf8',
        });
  return cachedBinDir;
}

/** Name of the kwok cluster under test; start.sh and stop.sh read the same variable. */
export function clusterName(): string {
  return process.env.KIP_CLUSTER ?? 'kip-e2e';
}

/** The kubeconfig the suite talks to: $KUBECONFIG if given, else the one start.sh writes. */
export function kubeconfigPath(): string {
  const fromEnv = process.env.KUBECONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return join(stateDir, `${clusterName()}.kubeconfig`);
}

function toolPath(): string {
  return `${binDir()}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

/** Runs a program to completion and reports its exit code and output; never throws on a non-zero exit. */
export function run(
  file: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      env: opts.env ?? { ...process.env, PATH: toolPath() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let lastStdoutAt: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      lastStdoutAt = Date.now();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[harness] ${file} killed after ${opts.timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${file}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: ProcessResult = { code: code ?? (signal !== null ? 128 : 1), stdout, stderr, closedAt: Date.now() };
      if (lastStdoutAt !== undefined) result.lastStdoutAt = lastStdoutAt;
      resolvePromise(result);
    });
    child.stdin.end(opts.input ?? '');
  });
}

export function kubectl(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<ProcessResult> {
  const runOpts: { input?: string } = {};
  if (opts.input !== undefined) runOpts.input = opts.input;
  return run(join(binDir(), 'kubectl'), [`--kubeconfig=${opts.kubeconfig ?? kubeconfigPath()}`, ...args], runOpts);
}

/** kubectl that must succeed: rejects with the command and its stderr otherwise. */
export async function kubectlOk(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<string> {
  const result = await kubectl(args, opts);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

export function kwokctl(args: string[]): Promise<ProcessResult> {
  return run(join(binDir(), 'kwokctl'), ['--name', clusterName(), ...args], { timeoutMs: 180_000 });
}

/** Applies objects given as plain values (kubectl apply, server-side, as the test's field manager). */
export async function apply(objects: object[], opts: { kubeconfig?: string } = {}): Promise<void> {
  const input = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  await kubectlOk(['apply', '--server-side', '--field-manager=kip-e2e', '-f', '-'], { ...opts, input });
}

/** The object as JSON, or undefined when the API server says NotFound. */
export async function getJson<T = KubeObject>(kind: string, name: string, namespace?: string): Promise<T | undefined> {
  const args = ['get', kind, name, '-o', 'json'];
  if (namespace !== undefined) args.push('-n', namespace);
  const result = await kubectl(args);
  if (result.code === 0) return JSON.parse(result.stdout) as T;
  if (/NotFound|not found/.test(result.stderr)) return undefined;
  throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
}

export async function listJson<T = KubeObject>(kind: string, opts: { namespace?: string; selector?: string } = {}): Promise<T[]> {
  const args = ['get', kind, '-o', 'json'];
  if (opts.namespace !== undefined) args.push('-n', opts.namespace);
  if (opts.selector !== undefined) args.push('-l', opts.selector);
  const list = JSON.parse(await kubectlOk(args)) as { items: T[] };
  return list.items;
}

// Just the fields the suite reads; everything else stays untyped.
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  [key: string]: unknown;
};

export type Container = {
  name: string;
  image: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [key: string]: unknown;
};

export type DaemonSet = KubeObject & {
  spec: {
    selector: { matchLabels?: Record<string, string> };
    updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: string | number } };
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        initContainers?: Container[];
        containers: Container[];
        nodeSelector?: Record<string, string>;
        tolerations?: Array<Record<string, unknown>>;
        affinity?: Record<string, unknown>;
        [key: string]: unknown;
      };
    };
  };
  status?: {
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberReady?: number;
    numberAvailable?: number;
    observedGeneration?: number;
  };
};

export type Pod = KubeObject & {
  spec: { nodeName?: string; initContainers?: Container[]; containers: Container[] };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string }>;
  };
};

export type Node = KubeObject & {
  spec: { taints?: Array<{ key: string; value?: string; effect: string }>; unschedulable?: boolean };
  status?: { conditions?: Array<{ type: string; status: string }> };
};

/** A fresh namespace that enforces the restricted Pod Security Standard, with its default ServiceAccount. */
export async function createTestNamespace(prefix: string): Promise<string> {
  const suffix = randomBytes(3).toString('hex');
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+/, '').slice(0, 63 - suffix.length - 1);
  const name = `${base.replace(/-+$/, '') || 'kip'}-${suffix}`;
  await apply([
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'kip-e2e/test': 'true' },
      },
    },
  ]);
  // Pods are refused until the controller-manager has created the namespace's default ServiceAccount.
  await waitFor(`ServiceAccount default in ${name}`, async () => (await getJson('serviceaccount', 'default', name)) !== undefined, {
    timeoutMs: 30_000,
  });
  return name;
}

/** Deletes a test namespace at the end of a suite, unless KIP_E2E_KEEP=1 asks to keep it for a look. */
export async function releaseNamespace(name: string): Promise<void> {
  if (process.env.KIP_E2E_KEEP !== '1') await deleteNamespace(name);
}

/** Deletes a test namespace without waiting for its finalizers. */
export async function deleteNamespace(name: string): Promise<void> {
  await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs ?? 60_000} ms waiting for ${what}`, { cause: lastError });
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** `text` as a regular expression that matches only itself. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

export function nodeIsSchedulable(node: Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  const notReadyTaint = (node.spec.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready');
  return ready && !notReadyTaint && node.spec.unschedulable !== true;
}

export async function nodeNames(): Promise<string[]> {
  return (await listJson<Node>('nodes')).map((n) => n.metadata.name).sort();
}

/** Pods of the puller's DaemonSet, by the instance label it sets. */
export async function pullerPods(namespace: string, daemonSet = 'kubernetes-image-puller'): Promise<Pod[]> {
  const pods = await listJson<Pod>('pods', { namespace, selector: `app.kubernetes.io/instance=${daemonSet}` });
  return pods.filter((p) => p.metadata.deletionTimestamp === undefined);
}

/** The uids of the puller's live pods, sorted: equal before and after a pass when no pod was replaced. */
export async function podUids(namespace: string): Promise<string[]> {
  return (await pullerPods(namespace)).map((pod) => pod.metadata.uid).sort();
}

/** Node name → the Ready pod there; fails if a node has more than one live pod. */
export async function readyPodsByNode(namespace: string, daemonSet = 'kubernetes-image-puller'): Promise<Map<string, Pod>> {
  const byNode = new Map<string, Pod>();
  for (const pod of await pullerPods(namespace, daemonSet)) {
    if (!isReady(pod) || pod.spec.nodeName === undefined) continue;
    if (byNode.has(pod.spec.nodeName)) throw new Error(`two Ready puller pods on node ${pod.spec.nodeName}`);
    byNode.set(pod.spec.nodeName, pod);
  }
  return byNode;
}

/** Waits until the DaemonSet's controller has rolled out its current generation to every node it targets. */
export async function waitForRollout(namespace: string, name = 'kubernetes-image-puller', timeoutMs = 60_000): Promise<DaemonSet> {
  return waitFor(
    `DaemonSet ${namespace}/${name} rolled out`,
    async () => {
      const ds = await getJson<DaemonSet>('daemonset', name, namespace);
      const s = ds?.status;
      if (ds === undefined || s === undefined) return undefined;
      const desired = s.desiredNumberScheduled ?? -1;
      const done =
        (s.observedGeneration ?? 0) >= (ds.metadata.generation ?? 0) &&
        s.updatedNumberScheduled === desired &&
        s.numberReady === desired &&
        s.currentNumberScheduled === desired;
      if (!done) return undefined;
      // Old pods may still be terminating: make sure exactly one pod per node is left.
      const pods = await pullerPods(namespace, name);
      return pods.length === desired ? ds : undefined;
    },
    { timeoutMs },
  );
}

/**
 * A running `kubectl get pods --watch` on the puller's pods. It replays every change in the order
 * the API server made them, so it sees the worst moment of a rollout, which polling could miss.
 */
export type PodWatch = {
  /** Node → UID of the Ready pod there that is not being deleted, as of the latest event. */
  readyByNode(): Map<string, string>;
  /** The most of the watched nodes that were at once without such a pod, since the watch started. */
  maxUnavailable(): number;
  stop(): void;
};

/** Starts a PodWatch over `nodes`; resolves once it has seen a Ready pod on each of them. */
export async function watchPullerPods(namespace: string, nodes: string[], daemonSet = 'kubernetes-image-puller'): Promise<PodWatch> {
  // With --output-watch-events each row is a watch event: its type, and the pod under `.object`.
  const columns = [
    'EVENT:.type',
    'UID:.object.metadata.uid',
    'NODE:.object.spec.nodeName',
    'READY:.object.status.conditions[?(@.type=="Ready")].status',
    'DELETING:.object.metadata.deletionTimestamp',
  ];
  const child = spawn(
    join(binDir(), 'kubectl'),
    [
      `--kubeconfig=${kubeconfigPath()}`, 'get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/instance=${daemonSet}`,
      '--watch', '--output-watch-events', '--no-headers', '-o', `custom-columns=${columns.join(',')}`,
    ],
    { env: { ...process.env, PATH: toolPath() }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pods = new Map<string, { node: string; available: boolean }>();
  let armed = false;
  let worst = 0;
  let pending = '';
  let stderr = '';
  const readyByNode = (): Map<string, string> => {
    const byNode = new Map<string, string>();
    for (const [uid, pod] of pods) if (pod.available) byNode.set(pod.node, uid);
    return byNode;
  };
  const onEvent = (line: string): void => {
    const [event, uid, node, ready, deleting] = line.trim().split(/\s+/);
    if (uid === undefined || node === undefined) return;
    if (event === 'DELETED') pods.delete(uid);
    else pods.set(uid, { node, available: ready === 'True' && deleting === '<none>' });
    const unavailable = nodes.filter((n) => !readyByNode().has(n)).length;
    // The initial listing arrives one pod at a time: count only from the moment every node is covered.
    if (unavailable === 0) armed = true;
    if (armed) worst = Math.max(worst, unavailable);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onEvent(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const watch: PodWatch = { readyByNode, maxUnavailable: () => worst, stop: () => child.kill() };
  try {
    await waitFor(`the pod watch in ${namespace} to list a Ready pod on every node`, () => {
      if (child.exitCode !== null) throw new Error(`kubectl get pods --watch exited ${child.exitCode}: ${stderr.trim()}`);
      return Promise.resolve(armed);
    }, { timeoutMs: 20_000 });
  } catch (err) {
    watch.stop();
    throw err;
  }
  return watch;
}

// --- nodes ---------------------------------------------------------------------------------------

export async function labelNode(node: string, labels: Record<string, string | null>): Promise<void> {
  const args = Object.entries(labels).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`));
  await kubectlOk(['label', 'node', node, '--overwrite', ...args]);
}

export async function taintNode(node: string, taint: string): Promise<void> {
  await kubectlOk(['taint', 'node', node, '--overwrite', taint]);
}

export async function untaintNode(node: string, key: string): Promise<void> {
  const result = await kubectl(['taint', 'node', node, `${key}-`]);
  if (result.code !== 0 && !/not found/.test(result.stderr)) {
    throw new Error(`kubectl taint node ${node} ${key}- exited ${result.code}: ${result.stderr.trim()}`);
  }
}

/** Sets the kwok cluster to `replicas` nodes and waits until all of them can take DaemonSet pods. */
export async function scaleNodes(replicas: number, timeoutMs = 60_000): Promise<string[]> {
  const result = await kwokctl(['scale', 'node', '--replicas', String(replicas)]);
  if (result.code !== 0) throw new Error(`kwokctl scale node --replicas ${replicas} exited ${result.code}: ${result.stderr.trim()}`);
  return waitFor(
    `${replicas} schedulable nodes`,
    async () => {
      const nodes = await listJson<Node>('nodes');
      return nodes.length === replicas && nodes.every(nodeIsSchedulable) ? nodes.map((n) => n.metadata.name).sort() : undefined;
    },
    { timeoutMs },
  );
}

/** Whether this run is CI (the CI variable is set): there a check that cannot run fails instead of skipping. */
export function inCi(): boolean {
  const ci = process.env.CI ?? '';
  return ci !== '' && ci !== 'false' && ci !== '0';
}

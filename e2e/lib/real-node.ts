// What the real-node scenarios observe besides the API server: the local registry (its address, the
// digests it serves, its access log) and the node itself (containerd's image store, the kubelet's
// log). The node and the registry are started and stopped by the scripts in e2e/cluster, the same
// ones a person would run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { clusterName, kubeconfigPath, releaseNamespace, repoRoot, run } from './cluster.ts';
import { explain } from './pass-runner.ts';
import { hasAuditLog } from './audit.ts';
import { parseAccessLog, registryBinDir, type AccessLine } from './registry.ts';

export const realNode = process.env.KIP_REAL_NODE ?? 'kip-real-0';
/** The taint real-node.sh puts on the node, so that only pods that tolerate it land there. */
export const realNodeTaint = 'kip-e2e/real-node';

const clusterDir = (): string => join(repoRoot, 'e2e', '.e2e', clusterName());
const nodeDir = (): string => join(clusterDir(), 'node');
const script = (name: string): string => join(repoRoot, 'e2e', 'cluster', name);

/** Why the real node cannot run here, or undefined when it can. */
export function realNodeUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'a real node needs Linux (containerd, runc)';
  if (process.getuid?.() !== 0) return 'a real node needs root (containerd and the kubelet)';
  if (!hasAuditLog()) return `the real node joins only the local kwok cluster ${clusterName()}, not the cluster in KUBECONFIG`;
  return undefined;
}

async function cluster(scriptName: string, action: 'start' | 'stop'): Promise<void> {
  const result = await run('bash', [script(scriptName), action], {
    env: { ...process.env, KIP_CLUSTER: clusterName(), KUBECONFIG: kubeconfigPath(), KIP_REAL_NODE: realNode },
    timeoutMs: 300_000,
  });
  if (result.code !== 0) throw new Error(`bash e2e/cluster/${scriptName} ${action} failed\n${explain(result)}`);
}

/** The registry with the test images, then the node; both are kept if already running. */
export async function startRealNode(): Promise<void> {
  await cluster('registry.sh', 'start');
  await cluster('real-node.sh', 'start');
}

/** Both, even when the node's stop fails: the registry is not left running either. */
export async function stopRealNode(): Promise<void> {
  const nodeFailure = await cluster('real-node.sh', 'stop').then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  await cluster('registry.sh', 'stop');
  if (nodeFailure !== undefined) throw nodeFailure;
}

/**
 * Registers the file's after() hook: releases its namespaces, then stops the node and the registry
 * (nothing when the node could not run here).
 */
export function stopRealNodeAfterwards(namespaces: readonly string[], unavailable: string | undefined): void {
  after(
    async () => {
      if (unavailable !== undefined) return;
      for (const ns of namespaces) await releaseNamespace(ns);
      await stopRealNode();
    },
    { timeout: 180_000 },
  );
}

/** host:port of the local registry, as registry.sh wrote it. */
export function registryAddress(): string {
  const file = join(repoRoot, 'e2e', '.e2e', `${clusterName()}.registry`);
  if (!existsSync(file)) throw new Error(`${file} is missing: the registry is not running (bash e2e/cluster/registry.sh start)`);
  return readFileSync(file, 'utf8').trim();
}

const manifestTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The digest the registry serves for `repository:tag` (a HEAD, as a pull's first request). */
export async function registryDigest(registry: string, repository: string, tag: string): Promise<string> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: manifestTypes } });
  const digest = response.headers.get('docker-content-digest');
  if (response.status !== 200 || digest === null) {
    throw new Error(`HEAD ${registry}/${repository}:${tag} answered ${String(response.status)} with digest ${String(digest)}`);
  }
  return digest;
}

export type Manifest = { config: { digest: string }; layers: Array<{ digest: string }> };

export async function registryManifest(registry: string, repository: string, reference: string): Promise<Manifest> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${reference}`, { headers: { Accept: manifestTypes } });
  if (response.status !== 200) throw new Error(`GET ${registry}/${repository} manifest ${reference} answered ${String(response.status)}`);
  return (await response.json()) as Manifest;
}

/** Paths in the image's filesystem, as the registry serves it (crane export), sorted. */
export async function imageFiles(reference: string): Promise<string[]> {
  const crane = join(registryBinDir(), 'crane');
  const result = await run('bash', ['-c', 'set -o pipefail; "$1" export --insecure "$2" - | tar -t', 'files', crane, reference]);
  if (result.code !== 0) throw new Error(`crane export ${reference} failed\n${explain(result)}`);
  return result.stdout.split('\n').filter((line) => line !== '').sort();
}

/** The requests the local registry answered, from its access log, oldest first. */
export function registryRequests(): AccessLine[] {
  return parseAccessLog(readFileSync(join(clusterDir(), 'registry', 'access.log'), 'utf8'));
}

/** reference → manifest digest, from containerd's own image store on the node (the CRI's namespace). */
export async function nodeImages(): Promise<Map<string, string>> {
  const result = await ctr(['images', 'ls']);
  const images = new Map<string, string>();
  for (const line of result.split('\n').slice(1)) {
    const [reference, , digest] = line.trim().split(/\s+/);
    if (reference !== undefined && digest !== undefined) images.set(reference, digest);
  }
  return images;
}

/** ctr against the node's containerd, in the namespace the CRI uses. */
export async function ctr(args: string[]): Promise<string> {
  const result = await run('ctr', ['--address', join(nodeDir(), 'containerd.sock'), '--namespace', 'k8s.io', ...args]);
  if (result.code !== 0) throw new Error(`ctr ${args.join(' ')} failed\n${explain(result)}`);
  return result.stdout;
}

export function kubeletLog(): string {
  return readFileSync(join(nodeDir(), 'kubelet.log'), 'utf8');
}

/** When real-node.sh started the kubelet: its image GC runs then and every 5 minutes after. */
export function kubeletStartedAt(): Date {
  return new Date(Number(readFileSync(join(nodeDir(), 'kubelet.started'), 'utf8').trim()) * 1000);
}

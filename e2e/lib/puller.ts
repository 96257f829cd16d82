// What the e2e scenarios know about the puller's contract: its default names, the labels and containers
// of the DaemonSet it owns, and assertions on cluster state shared by several test files.
import assert from 'node:assert/strict';
import { getJson, isReady, listJson, readyPodsByNode, type DaemonSet, type Pod, type ProcessResult } from './cluster.ts';
import { explain, summaryOf, type PassSummary } from './pass-runner.ts';
import { formatRequests, pullerUserAgent, type AuditEvent } from './audit.ts';

export const daemonSetName = 'kubernetes-image-puller';
export const refreshedAtAnnotation = 'kubernetes-image-puller/refreshed-at';
export const helperContainer = 'kip-install-helper';
export const holdContainer = 'kip-hold';

export const managedLabels = {
  'app.kubernetes.io/name': 'kubernetes-image-puller',
  'app.kubernetes.io/instance': daemonSetName,
  'app.kubernetes.io/managed-by': 'kubernetes-image-puller',
} as const;

export const digest = (seed: string): string => `sha256:${seed.repeat(64).slice(0, 64)}`;

/** The variables every pass in the suite gets: the test's namespace, a short rollout deadline, timed refresh. */
export function passEnv(namespace: string, extra: Record<string, string> = {}): Record<string, string> {
  // The images named in these tests live in registries this machine cannot reach, so they are
  // refreshed on the timer; e2e/registry.test.ts covers REFRESH_MODE=digest against a real registry.
  return { NAMESPACE: namespace, ROLLOUT_TIMEOUT_SECONDS: '20', LOG_FORMAT: 'json', REFRESH_MODE: 'restart', ...extra };
}

/** Turns an IMAGES value into name → image pairs, in order. */
export function imageList(images: string): Array<[string, string]> {
  return images.split(';').map((entry) => {
    const at = entry.indexOf('=');
    return [entry.slice(0, at), entry.slice(at + 1)];
  });
}

/** Asserts the exit code and that a summary line was printed; returns the summary. */
export function expectPass(result: ProcessResult, code: number): PassSummary {
  assert.equal(result.code, code, `expected exit ${code}\n${explain(result)}`);
  const summary = summaryOf(result);
  assert.ok(summary !== undefined, `no JSON summary line with an action on stdout\n${explain(result)}`);
  return summary;
}

export async function getPuller(namespace: string, name = daemonSetName): Promise<DaemonSet> {
  const ds = await getJson<DaemonSet>('daemonset', name, namespace);
  assert.ok(ds !== undefined, `DaemonSet ${namespace}/${name} does not exist`);
  return ds;
}

/** The DaemonSet's template caches exactly `images`: helper first, one init container per image, then kip-hold. */
export function assertCaches(ds: DaemonSet, images: string): void {
  const init = ds.spec.template.spec.initContainers ?? [];
  assert.deepEqual(
    init.map((c) => c.name),
    [helperContainer, ...imageList(images).map(([name]) => name)],
    'init containers',
  );
  assert.deepEqual(
    init.slice(1).map((c) => c.image),
    imageList(images).map(([, image]) => image),
    'init container images',
  );
  assert.deepEqual(
    ds.spec.template.spec.containers.map((c) => c.name),
    [holdContainer],
    'containers',
  );
}

/**
 * Every node in `nodes` has exactly one Ready puller pod running the DaemonSet's current template
 * images, and no other node has one.
 */
export async function assertReadyOn(namespace: string, nodes: string[], images?: string): Promise<void> {
  const byNode = await readyPodsByNode(namespace);
  assert.deepEqual([...byNode.keys()].sort(), [...nodes].sort(), 'nodes with a Ready puller pod');
  if (images === undefined) return;
  const expected = imageList(images).map(([, image]) => image);
  for (const [node, pod] of byNode) {
    assert.deepEqual(
      (pod.spec.initContainers ?? []).slice(1).map((c) => c.image),
      expected,
      `images of the pod on ${node}`,
    );
  }
}

/**
 * The pass's own read of its DaemonSets, the LIST by label that starts every pass, is among
 * `events`. A "no writes" check needs this positive control: if the audit filter (by User-Agent)
 * matched nothing at all, it would find no write either.
 */
export function assertSawPassRead(events: AuditEvent[], namespace: string): void {
  const read = events.some((e) => isPassList(e) && e.objectRef?.namespace === namespace);
  assert.ok(read, `no LIST of DaemonSets in ${namespace} with User-Agent ${pullerUserAgent}… in the audit log; it found:\n${formatRequests(events)}`);
}

/** The request a pass starts with: a LIST of the puller's DaemonSets in its namespace, by label. */
export function isPassList(event: AuditEvent): boolean {
  return event.verb === 'list' && event.objectRef?.resource === 'daemonsets' && event.requestURI.includes(`labelSelector=${encodeURIComponent(ownSelector)}`);
}

/** The requests of a pass that has nothing to change, after the LIST: coverage's pods LIST (one page up to 500 pods) and the status ConfigMap's GET. */
export const COVERAGE_READS = ['list pods', 'get configmaps'];

/** `<verb> <resource>` of a request, to compare a pass's requests with what its design says. */
export function verbAndResource(event: AuditEvent): string {
  return `${event.verb} ${event.objectRef?.resource ?? '?'}`;
}

/** The label selector of that LIST. */
const ownSelector = 'app.kubernetes.io/managed-by=kubernetes-image-puller,app.kubernetes.io/name=kubernetes-image-puller';

/** Node → the images its Ready puller pods hold, whichever DaemonSet of the namespace they belong to, sorted. */
export async function cachedImagesByNode(namespace: string): Promise<Map<string, string[]>> {
  const pods = await listJson<Pod>('pods', { namespace, selector: 'app.kubernetes.io/managed-by=kubernetes-image-puller' });
  const byNode = new Map<string, string[]>();
  for (const pod of pods) {
    const node = pod.spec.nodeName;
    if (node === undefined || pod.metadata.deletionTimestamp !== undefined || !isReady(pod)) continue;
    const images = (pod.spec.initContainers ?? []).filter((c) => c.name !== helperContainer).map((c) => c.image);
    byNode.set(node, [...(byNode.get(node) ?? []), ...images].sort());
  }
  return byNode;
}

/** One section of a pass's summary, as the pass prints it when the install has image sets. */
export type DaemonSetSection = { daemonset: string; set: string; chunk?: string; action: string; exitCode: number; desired?: number; ready?: number; diagnosis?: string[]; error?: string };

export function sectionsOf(summary: PassSummary): DaemonSetSection[] {
  return (summary.daemonSets ?? []) as DaemonSetSection[];
}

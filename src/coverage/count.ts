// Which node holds which image at which digest, read from the caching pods themselves: each init
// container's status says whether its image is pulled (the runtime's imageID names the digest), being
// pulled, or failing. Node.status.images is not used: the kubelet cuts it at 50 images.
//
// Pods arrive page by page; per node only a name and one small number per image are kept, so the
// memory is a few bytes per (node, image) whatever the size of the pods.
import { parseImageReference } from '../config/image-ref.ts';
import type { ContainerStatus, Pod } from '../kube/k8s-types.ts';

/**
 * Where "current" comes from: the image's own digest pin, the digest the pass recorded from the
 * registry, or (no digest to compare with: REFRESH_MODE restart or never, an unresolved registry)
 * the digest most nodes hold.
 */
export type CoverageBasis = 'pinned' | 'registry' | 'majority';

export interface ExpectedImage {
  image: string;
  basis: CoverageBasis;
  /** The digest a node should hold; absent for the majority basis until the nodes are counted. */
  digest?: string;
}

/**
 * The expectation for each image: pinned digests first, then the digest recorded on the pod template
 * (the registry's answer), unless this pass could not confirm it (`unconfirmed`).
 */
export function expectedImages(images: readonly string[], recorded: Readonly<Record<string, string>>, unconfirmed: ReadonlySet<string> = new Set()): ExpectedImage[] {
  return [...new Set(images)].map((image) => {
    const reference = parseImageReference(image);
    if (typeof reference !== 'string' && reference.digest !== undefined) return { image, basis: 'pinned', digest: reference.digest };
    const digest = Object.hasOwn(recorded, image) ? recorded[image] : undefined;
    if (digest !== undefined && !unconfirmed.has(image)) return { image, basis: 'registry', digest };
    return { image, basis: 'majority' };
  });
}

export type NodeImageState = 'current' | 'other-digest' | 'unverified' | 'pulling' | 'failing';

export interface ReasonCount {
  reason: string;
  nodes: number;
  /** One node it was seen on, for `kubectl describe`. */
  exampleNode: string;
}

export interface DigestCount {
  digest: string;
  nodes: number;
}

export interface ImageCoverage {
  image: string;
  basis: CoverageBasis;
  /** The digest counted as current; undefined when no node reports one (majority basis). */
  digest: string | undefined;
  current: number;
  /** Nodes holding another digest, the most common first. */
  otherDigests: DigestCount[];
  /** Pulled, but the runtime reported no digest to compare (some runtimes and simulated nodes). */
  unverified: number;
  pulling: ReasonCount[];
  failing: ReasonCount[];
}

export interface IncompleteNode {
  node: string;
  /** Each image not at its current digest on this node, with what it is instead. */
  images: { image: string; state: Exclude<NodeImageState, 'current'>; detail: string }[];
}

export interface Coverage {
  /** Nodes that should run a caching pod (the DaemonSet's desiredNumberScheduled). */
  expected: number;
  /** Nodes with a caching pod that is not going away. */
  withPod: number;
  /** Nodes holding every image at its current digest (or pulled, where no digest is reported). */
  complete: number;
  images: ImageCoverage[];
  /** Nodes that are not complete, at most `listed` of them (by name); `incompleteNodes` counts them all. */
  incomplete: IncompleteNode[];
  incompleteNodes: number;
  /** The complete nodes by name (for warm-node labels); not reported. */
  completeNodeNames: string[];
}

const PULLING = new Set(['PodInitializing', 'ContainerCreating']);
const DIGEST_IN_IMAGE_ID = /@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})$/;

/** What one init container's status says of its image on that node: a value key (state and detail). */
function observe(status: ContainerStatus | undefined): string {
  if (status === undefined) return 'p:not started';
  const waiting = status.state?.waiting;
  if (waiting !== undefined) {
    const reason = waiting.reason ?? 'waiting';
    // A container waiting to run again after a failure has pulled its image; a pull error has not.
    if (PULLING.has(reason)) return `p:${reason}`;
    if (status.imageID === undefined || status.imageID === '' || /pull|image/i.test(reason)) return `f:${reason}`;
  }
  const terminated = status.state?.terminated;
  if (terminated !== undefined && (terminated.exitCode ?? 0) !== 0 && (status.imageID ?? '') === '') return `f:${terminated.reason ?? `exit code ${String(terminated.exitCode)}`}`;
  const imageId = status.imageID ?? '';
  const digest = DIGEST_IN_IMAGE_ID.exec(imageId)?.[1];
  if (digest !== undefined) return `d:${digest}`;
  if (status.state?.running !== undefined || terminated !== undefined || imageId !== '') return 'u:';
  return 'p:not started';
}

interface ImageTally {
  expected: ExpectedImage;
  /** Value key → index, and the nodes counted for each index. */
  values: Map<string, number>;
  keys: string[];
  nodes: number[];
  exampleNodes: string[];
}

export const LISTED_NODES = 20;

/** Accumulates the pods of one DaemonSet, one at a time: it keeps per node one code per image, not the pod. */
export class CoverageCounter {
  readonly #tallies: ImageTally[];
  readonly #nodes = new Map<string, Uint16Array>();

  constructor(expected: readonly ExpectedImage[]) {
    this.#tallies = expected.map((image) => ({ expected: image, values: new Map(), keys: [], nodes: [], exampleNodes: [] }));
  }

  add(pods: readonly Pod[]): void {
    for (const pod of pods) this.addPod(pod);
  }

  addPod(pod: Pod): void {
    const node = pod.spec.nodeName;
    if (node === undefined || node === '' || pod.metadata.deletionTimestamp !== undefined || this.#nodes.has(node)) return;
    const byImage = new Map<string, ContainerStatus | undefined>();
    const statusByName = new Map((pod.status?.initContainerStatuses ?? []).map((status) => [status.name, status]));
    for (const container of pod.spec.initContainers ?? []) {
      if (!byImage.has(container.image) || byImage.get(container.image) === undefined) byImage.set(container.image, statusByName.get(container.name));
    }
    const codes = new Uint16Array(this.#tallies.length);
    this.#tallies.forEach((tally, index) => {
      const key = byImage.has(tally.expected.image) ? observe(byImage.get(tally.expected.image)) : 'p:pod of an earlier revision';
      let code = tally.values.get(key);
      if (code === undefined) {
        code = tally.keys.length;
        tally.values.set(key, code);
        tally.keys.push(key);
        tally.nodes.push(0);
        tally.exampleNodes.push(node);
      }
      tally.nodes[code] = (tally.nodes[code] ?? 0) + 1;
      codes[index] = code;
    });
    this.#nodes.set(node, codes);
  }

  result(expected: number): Coverage {
    const currentKeys = this.#tallies.map((tally) => currentKey(tally));
    const images = this.#tallies.map((tally, index) => imageCoverage(tally, currentKeys[index]));
    const completeNodeNames: string[] = [];
    let incompleteNodes = 0;
    const incomplete: IncompleteNode[] = [];
    for (const [node, codes] of [...this.#nodes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const missing: IncompleteNode['images'] = [];
      this.#tallies.forEach((tally, index) => {
        const key = tally.keys[codes[index] ?? 0] ?? 'p:not started';
        if (key === currentKeys[index] || key === 'u:') return;
        missing.push({ image: tally.expected.image, ...describeKey(key) });
      });
      if (missing.length === 0) {
        completeNodeNames.push(node);
        continue;
      }
      incompleteNodes += 1;
      if (incomplete.length < LISTED_NODES) incomplete.push({ node, images: missing });
    }
    return { expected, withPod: this.#nodes.size, complete: completeNodeNames.length, images, incomplete, incompleteNodes, completeNodeNames };
  }
}

/** The value key that counts as current: the expected digest, or the one most nodes hold. */
function currentKey(tally: ImageTally): string | undefined {
  if (tally.expected.digest !== undefined) return `d:${tally.expected.digest}`;
  let best: string | undefined;
  let bestNodes = 0;
  tally.keys.forEach((key, index) => {
    const nodes = tally.nodes[index] ?? 0;
    if (!key.startsWith('d:')) return;
    if (nodes > bestNodes || (nodes === bestNodes && best !== undefined && key < best)) {
      best = key;
      bestNodes = nodes;
    }
  });
  return best;
}

function describeKey(key: string): { state: Exclude<NodeImageState, 'current'>; detail: string } {
  const detail = key.slice(2);
  if (key.startsWith('d:')) return { state: 'other-digest', detail };
  if (key.startsWith('u:')) return { state: 'unverified', detail: 'no digest reported' };
  if (key.startsWith('f:')) return { state: 'failing', detail };
  return { state: 'pulling', detail };
}

function imageCoverage(tally: ImageTally, current: string | undefined): ImageCoverage {
  const coverage: ImageCoverage = {
    image: tally.expected.image, basis: tally.expected.basis, digest: current?.slice(2), current: 0, otherDigests: [], unverified: 0, pulling: [], failing: [],
  };
  tally.keys.forEach((key, index) => {
    const nodes = tally.nodes[index] ?? 0;
    const exampleNode = tally.exampleNodes[index] ?? '';
    if (key === current) coverage.current += nodes;
    else if (key.startsWith('d:')) coverage.otherDigests.push({ digest: key.slice(2), nodes });
    else if (key === 'u:') coverage.unverified += nodes;
    else if (key.startsWith('f:')) coverage.failing.push({ reason: key.slice(2), nodes, exampleNode });
    else coverage.pulling.push({ reason: key.slice(2), nodes, exampleNode });
  });
  const byNodes = <T extends { nodes: number }>(a: T, b: T, tie: (x: T) => string): number => b.nodes - a.nodes || (tie(a) < tie(b) ? -1 : tie(a) > tie(b) ? 1 : 0);
  coverage.otherDigests.sort((a, b) => byNodes(a, b, (x) => x.digest));
  coverage.pulling.sort((a, b) => byNodes(a, b, (x) => x.reason));
  coverage.failing.sort((a, b) => byNodes(a, b, (x) => x.reason));
  return coverage;
}

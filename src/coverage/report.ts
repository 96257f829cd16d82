// Coverage as people and scripts read it: a compact object for the summary line (only the
// exceptions, so one line at any scale), warnings for nodes at another digest, and the YAML of the
// status ConfigMap. All pure.
import type { Coverage, ImageCoverage, ReasonCount } from './count.ts';

/** One DaemonSet's coverage, named as the summary names its section. */
export interface DaemonSetCoverage {
  daemonSet: string;
  set: string;
  coverage: Coverage;
}

const SHOWN_PER_IMAGE = 3;

/** `sha256:` and the first 12 hex digits: enough to tell digests apart in a line. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 12) : digest.slice(0, colon + 13);
}

function counted<T>(items: readonly T[], key: (item: T) => string, nodes: (item: T) => number): Record<string, number> {
  const shown = Object.fromEntries(items.slice(0, SHOWN_PER_IMAGE).map((item) => [key(item), nodes(item)]));
  const rest = items.slice(SHOWN_PER_IMAGE).reduce((sum, item) => sum + nodes(item), 0);
  return rest === 0 ? shown : { ...shown, other: rest };
}

function isException(image: ImageCoverage, coverage: Coverage): boolean {
  return image.current + image.unverified < coverage.expected || image.otherDigests.length > 0 || image.failing.length > 0;
}

/** The summary's `coverage`: nodes complete of expected, and per image only what is not complete. */
export function coverageSummary(coverage: Coverage): Record<string, unknown> {
  const exceptions = coverage.images.filter((image) => isException(image, coverage)).map((image) => {
    const pulling = image.pulling.reduce((sum, reason) => sum + reason.nodes, 0);
    const noPod = coverage.expected - coverage.withPod;
    return {
      image: image.image,
      basis: image.basis,
      current: image.current,
      ...(image.otherDigests.length === 0 ? {} : { otherDigest: counted(image.otherDigests, (other) => shortDigest(other.digest), (other) => other.nodes) }),
      ...(pulling === 0 ? {} : { pulling: counted(image.pulling, (reason) => reason.reason, (reason) => reason.nodes) }),
      ...(image.failing.length === 0 ? {} : { failing: counted(image.failing, (reason) => reason.reason, (reason) => reason.nodes) }),
      ...(noPod <= 0 ? {} : { noPod }),
      ...(image.unverified === 0 ? {} : { unverified: image.unverified }),
    };
  });
  const bases: Record<string, number> = {};
  for (const image of coverage.images) bases[image.basis] = (bases[image.basis] ?? 0) + 1;
  const unverified = coverage.images.reduce((sum, image) => sum + image.unverified, 0);
  return {
    complete: coverage.complete,
    expected: coverage.expected,
    basis: bases,
    ...(unverified === 0 || exceptions.length > 0 ? {} : { unverified }),
    ...(exceptions.length === 0 ? {} : { images: exceptions }),
  };
}

/** Nodes that hold a tag image at another digest than the current one: true, worth a warning, not a failure. */
export function staleDigestWarnings({ daemonSet, coverage }: DaemonSetCoverage): string[] {
  return coverage.images.filter((image) => image.otherDigests.length > 0).map((image) => {
    const others = image.otherDigests.slice(0, SHOWN_PER_IMAGE).map((other) => `${shortDigest(other.digest)} on ${plural(other.nodes, 'node')}`).join(', ');
    const against = image.basis === 'majority' ? 'the digest most nodes hold' : image.basis === 'pinned' ? 'its pinned digest' : 'the digest the registry gave';
    return `${image.image}: ${String(image.otherDigests.reduce((sum, other) => sum + other.nodes, 0))} of ${String(coverage.expected)} nodes of DaemonSet ${daemonSet} hold another digest than ${against} (${image.digest === undefined ? 'none' : shortDigest(image.digest)}): ${others}; they pull the current one when their pod is next replaced`;
  });
}

export function plural(count: number, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}

/** The most frequent reason an image is not at its digest on some node, for a table's last column. */
export function topReason(image: ImageCoverage): string {
  const reasons: (ReasonCount & { kind: string })[] = [
    ...image.failing.map((reason) => ({ ...reason, kind: 'failing' })),
    ...image.pulling.map((reason) => ({ ...reason, kind: 'pulling' })),
  ];
  const top = reasons.sort((a, b) => b.nodes - a.nodes)[0];
  if (top !== undefined) return `${top.reason} (${plural(top.nodes, 'node')}, e.g. ${top.exampleNode})`;
  const other = image.otherDigests[0];
  if (other !== undefined) return `other digest ${shortDigest(other.digest)} (${plural(other.nodes, 'node')})`;
  return '-';
}

function yamlScalar(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return 'null';
}

const PLAIN_KEY = /^[A-Za-z][A-Za-z0-9]*$/;

/** Block-style YAML of plain data (objects, arrays, strings, numbers), keys in the order given. */
export function toBlockYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []\n';
    return `\n${(value as unknown[]).map((item) => {
      const body = toBlockYaml(item, `${indent}  `);
      return typeof item === 'object' && item !== null && !Array.isArray(item) && Object.keys(item).length > 0
        ? `${indent}- ${body.trimStart()}`
        : `${indent}-${body}`;
    }).join('')}`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    if (entries.length === 0) return ' {}\n';
    return `\n${entries.map(([key, item]) => `${indent}${PLAIN_KEY.test(key) ? key : JSON.stringify(key)}:${toBlockYaml(item, `${indent}  `)}`).join('')}`;
  }
  return ` ${yamlScalar(value)}\n`;
}

/** Other digests the status ConfigMap names per image, the most common first; the rest are counted. */
export const LISTED_DIGESTS = 10;

function otherDigestsOf(image: ImageCoverage, listed: number): Record<string, unknown> {
  if (image.otherDigests.length === 0) return {};
  if (image.otherDigests.length <= listed) return { otherDigests: image.otherDigests };
  const rest = image.otherDigests.slice(listed);
  return {
    otherDigests: image.otherDigests.slice(0, listed),
    otherDigestsNotListed: { digests: rest.length, nodes: rest.reduce((sum, { nodes }) => sum + nodes, 0) },
  };
}

/**
 * Coverage as plain data, every digest in full: the status ConfigMap's and `status -o json`'s
 * content. The ConfigMap names at most LISTED_DIGESTS other digests per image, so that nodes
 * holding hundreds of old digests of a tag cannot push it towards the API server's 1 MiB limit.
 */
export function coverageDocument(entries: readonly DaemonSetCoverage[], listedDigests = Number.POSITIVE_INFINITY): Record<string, unknown> {
  return {
    daemonSets: entries.map(({ daemonSet, set, coverage }) => ({
      name: daemonSet,
      set,
      nodes: { expected: coverage.expected, withPod: coverage.withPod, complete: coverage.complete },
      images: coverage.images.map((image) => ({
        image: image.image,
        basis: image.basis,
        ...(image.digest === undefined ? {} : { digest: image.digest }),
        current: image.current,
        ...otherDigestsOf(image, listedDigests),
        ...(image.unverified === 0 ? {} : { unverified: image.unverified }),
        ...(image.pulling.length === 0 ? {} : { pulling: image.pulling }),
        ...(image.failing.length === 0 ? {} : { failing: image.failing }),
      })),
      incompleteNodes: coverage.incompleteNodes,
      ...(coverage.incomplete.length === 0 ? {} : { incomplete: coverage.incomplete }),
    })),
  };
}

export const STATUS_KEY = 'coverage.yaml';

/** The status ConfigMap's data: no time or anything else that changes by itself, so equal coverage is equal bytes. */
export function statusData(entries: readonly DaemonSetCoverage[]): Record<string, string> {
  return { [STATUS_KEY]: toBlockYaml(coverageDocument(entries, LISTED_DIGESTS)).trimStart() };
}

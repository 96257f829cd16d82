// Which tags moved since the last pass: the digests the registry gives now against those the pod
// template's annotation remembers. The annotation is the pass's memory between runs (a CronJob
// keeps nothing else), so it is written deterministically: the same digests, the same bytes, and
// an unchanged template means no rollout.
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import { isDigest } from './lookup.ts';
import type { LookupProblemReason } from './lookup.ts';

/** On the pod template: tag image → the digest it pointed at when the nodes last pulled it. */
export const DIGESTS_ANNOTATION = `${PROGRAM_NAME}/digests`;

/** Why an image has no digest this pass: its lookup's problem, or `node-local` when the pass could not ask (a loopback registry seen from a pod). */
export type UnresolvedReason = LookupProblemReason | 'node-local';

export interface UnresolvedImage {
  image: string;
  reason: UnresolvedReason;
  message: string;
}

/** A lookup's answer for one image, or why the pass had none (DigestLookup is one). */
export interface DigestAnswer {
  image: string;
  digest?: string;
  problem?: { reason: UnresolvedReason; message: string };
}

export interface DigestDecision {
  /** The annotation's next content: the fresh digest, else the last known one; images no longer configured are dropped. */
  digests: Record<string, string>;
  /** Images whose tag points at another digest than the nodes last pulled: they need pulling again. */
  moved: string[];
  /** Images with a digest now and none remembered (newly configured, or the first pass that records digests). */
  firstSeen: string[];
  /** Images whose digest could not be had this pass; their last known digest, if any, is kept. */
  unresolved: UnresolvedImage[];
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The annotation's value: compact JSON with keys in code-unit order. Written by hand because a
 * JavaScript object puts integer-like keys first whatever order they were added in.
 */
export function serializeDigests(digests: Readonly<Record<string, string>>): string {
  const entries = Object.entries(digests).sort(([a], [b]) => byCodeUnit(a, b));
  return `{${entries.map(([image, digest]) => `${JSON.stringify(image)}:${JSON.stringify(digest)}`).join(',')}}`;
}

/**
 * The digests an annotation remembers. Nothing to remember is no problem; an unreadable value or
 * entry is left out with a sentence saying so, and those images count as first seen.
 */
export function parseDigests(value: string | undefined): { digests: Record<string, string>; problem?: string } {
  if (value === undefined || value.trim() === '') return { digests: {} };
  const where = `annotation ${DIGESTS_ANNOTATION}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { digests: {}, problem: `${where} is not JSON, so no digest is remembered; this pass records them afresh` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { digests: {}, problem: `${where} is not an object of image → digest, so no digest is remembered; this pass records them afresh` };
  }
  const entries = Object.entries(parsed);
  const kept = entries.filter((entry): entry is [string, string] => typeof entry[1] === 'string' && isDigest(entry[1]));
  const dropped = entries.filter((entry) => !kept.includes(entry as [string, string])).map(([image]) => image);
  return {
    digests: Object.fromEntries(kept),
    ...(dropped.length === 0 ? {} : { problem: `${where} has no valid digest for ${dropped.join(', ')}; this pass records them afresh` }),
  };
}

/** Compares each desired tag image's lookup with the digest remembered for it. */
export function decideDigests(
  desiredImages: readonly string[],
  lastKnown: Readonly<Record<string, string>>,
  lookups: readonly DigestAnswer[],
): DigestDecision {
  const lookupOf = new Map(lookups.map((lookup) => [lookup.image, lookup]));
  const digests = new Map<string, string>();
  const decision: DigestDecision = { digests: {}, moved: [], firstSeen: [], unresolved: [] };
  for (const image of new Set(desiredImages)) {
    const lookup = lookupOf.get(image);
    const known = Object.hasOwn(lastKnown, image) ? lastKnown[image] : undefined;
    if (lookup?.digest !== undefined) {
      digests.set(image, lookup.digest);
      if (known === undefined) decision.firstSeen.push(image);
      else if (known !== lookup.digest) decision.moved.push(image);
      continue;
    }
    if (known !== undefined) digests.set(image, known);
    decision.unresolved.push({
      image,
      reason: lookup?.problem?.reason ?? 'error',
      message: lookup?.problem?.message ?? `${image} was not looked up`,
    });
  }
  decision.digests = Object.fromEntries([...digests].sort(([a], [b]) => byCodeUnit(a, b)));
  return decision;
}

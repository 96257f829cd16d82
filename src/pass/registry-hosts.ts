// The registry as one pass asks it, host by host. A host gets one lookup first and the rest of its
// images only once that one is answered; a host that timed out or refused the connection is not
// asked again this pass, and its images are unresolved for that one reason. Lookups also have
// their own share of the pass: once it is used up no lookup starts. So a dead registry costs one
// timeout, not one per image, and the rollout keeps most of the deadline whatever the registries do.
import type { CredentialsFor, RegistryClient } from '../registry/client.ts';
import type { DigestLookup, LookupProblem } from '../registry/lookup.ts';
import { normalizeReference } from '../registry/reference.ts';
import { limiter } from './shared-cluster.ts';

/** The part of the time to the deadline that lookups may take; the rollout keeps the rest. */
export const LOOKUP_SHARE = 1 / 3;
/** Lookups in flight at once, as many as the client's requests (a lookup's requests come one after another). */
export const MAX_LOOKUPS_IN_FLIGHT = 8;

/**
 * When lookups stop (epoch ms) for a pass that starts at `startMs` and reports by `deadlineMs`: a
 * whole millisecond, as the client turns what is left of it into an AbortSignal.timeout.
 */
export function lookupDeadline(startMs: number, deadlineMs: number): number {
  return Math.floor(startMs + Math.max(0, deadlineMs - startMs) * LOOKUP_SHARE);
}

/** Failures that say the host, not the image, is the trouble: nothing else will get an answer from it. */
const HOST_DOWN = new Set<LookupProblem['reason']>(['timeout', 'unreachable']);

interface Host {
  /** Settles once the host's first lookup is answered; the others wait for it. */
  firstAnswer: Promise<unknown>;
  down: LookupProblem | undefined;
}

export interface SpareHostsOptions {
  /** When lookups stop (epoch ms): see lookupDeadline. */
  until: number;
  now: () => number;
  maxInFlight?: number;
}

export function spareHosts(registry: RegistryClient, { until, now, maxInFlight = MAX_LOOKUPS_IN_FLIGHT }: SpareHostsOptions): RegistryClient {
  const turn = limiter(maxInFlight);
  const hosts = new Map<string, Host>();
  const manifests = new Map<string, Promise<DigestLookup>>();
  const shareSeconds = Math.max(0, Math.round((until - now()) / 1000));

  function notAsked(image: string, host: string, down: LookupProblem | undefined): DigestLookup | undefined {
    // First: a host whose request the end of the share cut short is not down, only out of time.
    if (now() >= until) {
      return { image, problem: { reason: 'timeout', message: `${host} was not asked for ${image}: the lookups' share of this pass (${String(shareSeconds)} s) was used up; the next pass asks again` } };
    }
    if (down === undefined) return undefined;
    const what = down.reason === 'timeout' ? 'it did not answer' : 'it could not be reached';
    return { image, problem: { reason: down.reason, message: `${host} was not asked for ${image}: ${what} earlier in this pass (${down.message})` } };
  }

  function ask(image: string, host: string, state: Host, credentialsFor: CredentialsFor | undefined): Promise<DigestLookup> {
    return turn(async () => {
      const skipped = notAsked(image, host, state.down);
      if (skipped !== undefined) return skipped;
      const [answer = { image, problem: { reason: 'error', message: `no answer for ${image}` } }] = await registry.resolve([image], credentialsFor);
      if (answer.problem !== undefined && HOST_DOWN.has(answer.problem.reason)) state.down ??= answer.problem;
      return answer;
    });
  }

  async function lookup(image: string, credentialsFor: CredentialsFor | undefined): Promise<DigestLookup> {
    const reference = normalizeReference(image);
    // The client answers an unreadable name, or one pinned by digest, without a request.
    if (typeof reference === 'string' || reference.kind === 'digest') return (await registry.resolve([image], credentialsFor))[0] ?? { image };
    const host = reference.registry;
    // Two spellings of one manifest (nginx, docker.io/library/nginx:latest) are asked for once.
    const manifest = `${host}/${reference.repository}:${reference.tag}`;
    const asked = manifests.get(manifest);
    if (asked !== undefined) return { ...(await asked), image };
    const answer = lookupTag(image, host, credentialsFor);
    manifests.set(manifest, answer);
    return answer;
  }

  async function lookupTag(image: string, host: string, credentialsFor: CredentialsFor | undefined): Promise<DigestLookup> {
    const known = hosts.get(host);
    if (known === undefined) {
      const state: Host = { firstAnswer: Promise.resolve(), down: undefined };
      hosts.set(host, state);
      const first = ask(image, host, state, credentialsFor);
      // Whatever became of it, the host's other images may go on.
      state.firstAnswer = first.catch(() => undefined);
      return first;
    }
    await known.firstAnswer;
    return ask(image, host, known, credentialsFor);
  }

  return {
    resolve: (images, credentialsFor) => Promise.all(images.map((image) => lookup(image, credentialsFor))),
    requests: () => registry.requests(),
  };
}

// Refresh by digest: once per pass, ask each registry which digest every tag points at (a HEAD
// per tag, whatever the number of nodes), and compare with what the pod template remembers. The
// pod template then carries the new digests, so a moved tag changes the template and the DaemonSet
// rolls once; nothing moved leaves it byte for byte as it was.
import { ApiError } from '../cluster.ts';
import type { DaemonSet } from '../k8s-types.ts';
import type { RegistryClient } from '../registry/client.ts';
import { createKeyring } from '../registry/credentials.ts';
import type { Keyring, PullSecret } from '../registry/credentials.ts';
import type { RateLimit } from '../registry/lookup.ts';
import { DIGESTS_ANNOTATION, decideDigests, parseDigests, serializeDigests } from '../registry/moved.ts';
import type { UnresolvedImage } from '../registry/moved.ts';
import { normalizeReference } from '../registry/reference.ts';
import { isDigestPinned } from '../image-ref.ts';
import type { PassContext } from './context.ts';

export interface RegistryRateLimit extends RateLimit {
  registry: string;
  /** Tag images of this registry in the DaemonSet: a roll makes each node ask for each of them. */
  tagImages: number;
}

export interface DigestRefresh {
  /** Pod-template annotations to add: the digests, or none when digests are not used. */
  templateAnnotations: Record<string, string>;
  moved: string[];
  firstSeen: string[];
  unresolved: UnresolvedImage[];
  rateLimits: RegistryRateLimit[];
  /** Sentences for the log and the summary (pull Secrets that could not be read, a garbled annotation). */
  warnings: string[];
}

const NO_REFRESH: DigestRefresh = { templateAnnotations: {}, moved: [], firstSeen: [], unresolved: [], rateLimits: [], warnings: [] };

/** The tag images of the configuration: the ones whose digest can move. */
export function tagImages(images: readonly { image: string }[]): string[] {
  return [...new Set(images.map(({ image }) => image).filter((image) => !isDigestPinned(image)))];
}

async function readPullSecrets(ctx: PassContext): Promise<{ secrets: PullSecret[]; warnings: string[] }> {
  const secrets: PullSecret[] = [];
  const warnings: string[] = [];
  for (const name of ctx.config.imagePullSecrets) {
    try {
      const secret = await ctx.retrying(() => ctx.cluster.readSecret(name));
      if (secret === undefined) warnings.push(`pull Secret "${name}" (IMAGE_PULL_SECRETS) does not exist in namespace ${ctx.config.namespace}; asking its registries anonymously`);
      else secrets.push({ metadata: { name }, type: secret.type, data: secret.data });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 403) throw error;
      warnings.push(
        `the ServiceAccount may not read pull Secret "${name}"; add to its Role: {apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["${name}"]}. Asking anonymously meanwhile`,
      );
    }
  }
  return { secrets, warnings };
}

function rateLimitsOf(lookups: readonly { image: string; rateLimit?: RateLimit }[], images: readonly string[]): RegistryRateLimit[] {
  const byRegistry = new Map<string, RegistryRateLimit>();
  const registryOf = (image: string): string => {
    const reference = normalizeReference(image);
    return typeof reference === 'string' ? image : reference.registry;
  };
  for (const lookup of lookups) {
    if (lookup.rateLimit === undefined) continue;
    const registry = registryOf(lookup.image);
    const previous = byRegistry.get(registry);
    // The lowest remaining budget seen this pass is the one that counts.
    if (previous === undefined || lookup.rateLimit.remaining < previous.remaining) {
      byRegistry.set(registry, { registry, ...lookup.rateLimit, tagImages: images.filter((image) => registryOf(image) === registry).length });
    }
  }
  return [...byRegistry.values()];
}

/**
 * A function that gives, for each live DaemonSet read during the pass, the digest refresh: the
 * registry is asked once per pass, however many times the pass reads the DaemonSet again.
 */
export function digestRefresher(ctx: PassContext, registry: RegistryClient | undefined): (live: DaemonSet | undefined) => Promise<DigestRefresh> {
  const images = tagImages(ctx.config.images);
  if (ctx.config.refreshMode !== 'digest' || registry === undefined || images.length === 0) return () => Promise.resolve(NO_REFRESH);
  let asked: Promise<{ lookups: Awaited<ReturnType<RegistryClient['resolve']>>; warnings: string[] }> | undefined;
  const ask = async () => {
    const { secrets, warnings } = await readPullSecrets(ctx);
    const { keyring, problems }: { keyring: Keyring; problems: string[] } = createKeyring(secrets);
    const lookups = await registry.resolve(images, (name) => keyring.lookup(name));
    return { lookups, warnings: [...warnings, ...problems] };
  };
  return async (live) => {
    asked ??= ask();
    const { lookups, warnings } = await asked;
    const remembered = parseDigests(live?.spec.template.metadata.annotations?.[DIGESTS_ANNOTATION]);
    const decision = decideDigests(images, remembered.digests, lookups);
    const templateAnnotations: Record<string, string> = Object.keys(decision.digests).length === 0 ? {} : { [DIGESTS_ANNOTATION]: serializeDigests(decision.digests) };
    return {
      templateAnnotations,
      moved: decision.moved,
      firstSeen: decision.firstSeen,
      unresolved: decision.unresolved,
      rateLimits: rateLimitsOf(lookups, images),
      warnings: remembered.problem === undefined ? warnings : [...warnings, remembered.problem],
    };
  };
}

/** A warning when a roll would have every node ask a registry for more manifests than it has left. */
export function rateLimitWarnings(rateLimits: readonly RegistryRateLimit[], nodes: number): string[] {
  return rateLimits
    .filter((limit) => nodes * limit.tagImages > limit.remaining)
    .map((limit) => `a rollout makes ${String(nodes)} nodes ask ${limit.registry} for ${String(limit.tagImages)} tag image(s) each (${String(nodes * limit.tagImages)} manifest requests), but it reports ${String(limit.remaining)} of ${String(limit.limit)} left${limit.windowSeconds === undefined ? '' : ` per ${String(limit.windowSeconds)}s`}; some nodes may be refused until the window resets`);
}

// Refresh by digest: once per pass, ask each registry which digest every tag points at (a HEAD
// per tag, whatever the number of nodes), and compare with what the pod template remembers. The
// pod template then carries the new digests, so a moved tag changes the template and the DaemonSet
// rolls once; nothing moved leaves it byte for byte as it was.
import { ApiError } from '../kube/cluster.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import type { RegistryClient } from '../registry/client.ts';
import { createKeyring } from '../registry/credentials.ts';
import type { Keyring, PullSecret } from '../registry/credentials.ts';
import type { RateLimit } from '../registry/lookup.ts';
import { DIGESTS_ANNOTATION, decideDigests, parseDigests, serializeDigests } from '../registry/moved.ts';
import type { DigestAnswer, UnresolvedImage } from '../registry/moved.ts';
import { isLoopback } from '../registry/endpoint.ts';
import { normalizeReference } from '../registry/reference.ts';
import { isDigestPinned } from '../config/image-ref.ts';
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
 * Why the pass cannot look this image up, when it is on a loopback registry and the pass runs in a
 * pod: a node pulls it from the node's own loopback (a registry on every node, a kind or k3d
 * mirror), and the pod's loopback is neither. On a host the loopback is the host's, which on a
 * one-machine cluster is the node's, so it is asked there.
 */
export function nodeLocalProblem(image: string, runsInPod: boolean): DigestAnswer['problem'] {
  if (!runsInPod) return undefined;
  const reference = normalizeReference(image);
  if (typeof reference === 'string' || !isLoopback(reference.registry)) return undefined;
  return {
    reason: 'node-local',
    message: `${reference.registry} is a loopback address: each node pulls ${image} from itself, and this pass runs in a pod, whose loopback is no node's; its digest is not looked up (the last known one is kept). Name the registry by an address the pods reach too, or pin the image by digest`,
  };
}

/**
 * A function that gives, for each live DaemonSet read during the pass, the digest refresh: the
 * registry is asked once per pass, however many times the pass reads the DaemonSet again.
 */
export function digestRefresher(ctx: PassContext, registry: RegistryClient | undefined): (live: DaemonSet | undefined) => Promise<DigestRefresh> {
  const images = tagImages(ctx.config.images);
  if (ctx.config.refreshMode !== 'digest' || registry === undefined || images.length === 0) return () => Promise.resolve(NO_REFRESH);
  const nodeLocal: DigestAnswer[] = images.flatMap((image) => {
    const problem = nodeLocalProblem(image, ctx.runsInPod === true);
    return problem === undefined ? [] : [{ image, problem }];
  });
  const askable = images.filter((image) => !nodeLocal.some((answer) => answer.image === image));
  let asked: Promise<{ lookups: DigestAnswer[]; rateLimits: RegistryRateLimit[]; warnings: string[] }> | undefined;
  const ask = async () => {
    if (askable.length === 0) return { lookups: nodeLocal, rateLimits: [], warnings: [] };
    const { secrets, warnings } = await readPullSecrets(ctx);
    const { keyring, problems }: { keyring: Keyring; problems: string[] } = createKeyring(secrets);
    const lookups = await registry.resolve(askable, (name) => keyring.lookup(name));
    return { lookups: [...lookups, ...nodeLocal], rateLimits: rateLimitsOf(lookups, images), warnings: [...warnings, ...problems] };
  };
  return async (live) => {
    asked ??= ask();
    const { lookups, rateLimits, warnings } = await asked;
    const remembered = parseDigests(live?.spec.template.metadata.annotations?.[DIGESTS_ANNOTATION]);
    const decision = decideDigests(images, remembered.digests, lookups);
    const templateAnnotations: Record<string, string> = Object.keys(decision.digests).length === 0 ? {} : { [DIGESTS_ANNOTATION]: serializeDigests(decision.digests) };
    return {
      templateAnnotations,
      moved: decision.moved,
      firstSeen: decision.firstSeen,
      unresolved: decision.unresolved,
      rateLimits,
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

// Image references read the way Docker, containerd and the kubelet read them: which registry to
// ask, for which repository, at which tag. The grammar is image-ref.ts's (the configuration is
// validated with it, so both agree on what is an image); this module adds what a short name
// leaves implicit: Docker Hub, its "library/" namespace, the tag "latest", and the host that
// really serves Docker Hub's registry API.
import { parseImageReference } from '../config/image-ref.ts';

/** The domain Docker Hub's images are named under: docker.io/library/nginx. */
export const DOCKER_HUB_DOMAIN = 'docker.io';
/** docker.io serves no registry API; Docker and containerd send Docker Hub's requests here. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
const LEGACY_DOCKER_HUB_DOMAIN = 'index.docker.io';
const OFFICIAL_NAMESPACE = 'library/';
const DEFAULT_TAG = 'latest';
const MAX_NAME_LENGTH = 255;
/** A bare 64-hex string is an image ID to Docker, not a repository named by it. */
const IMAGE_ID = /^[a-f0-9]{64}$/;

interface Located {
  /** The reference as written in the configuration. */
  image: string;
  /** The registry as images name it: docker.io for Docker Hub, else host[:port]. */
  domain: string;
  /** host[:port] that serves the registry API: registry-1.docker.io for Docker Hub. */
  registry: string;
  /** The repository within the registry: library/nginx. */
  repository: string;
  /** domain/repository, e.g. docker.io/library/nginx: the name the kubelet matches pull secrets against. */
  name: string;
}

/** A reference by tag: what it points at can change, so it has to be looked up. */
export interface TaggedReference extends Located {
  kind: 'tag';
  tag: string;
}

/** A reference by digest (with or without a tag): it names its content and needs no lookup. */
export interface PinnedReference extends Located {
  kind: 'digest';
  tag?: string;
  digest: string;
}

export type RegistryReference = TaggedReference | PinnedReference;

/**
 * The first path component names a registry only if it looks like a host: it has a dot or a port,
 * is "localhost", or has capitals (repository paths cannot). Anything else is a Docker Hub
 * namespace: "user/app" is docker.io/user/app.
 */
function splitDomain(name: string): { domain: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const looksLikeHost = slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  let domain = looksLikeHost ? first : DOCKER_HUB_DOMAIN;
  let repository = looksLikeHost ? name.slice(slash + 1) : name;
  if (domain === LEGACY_DOCKER_HUB_DOMAIN) domain = DOCKER_HUB_DOMAIN;
  if (domain === DOCKER_HUB_DOMAIN && !repository.includes('/')) repository = OFFICIAL_NAMESPACE + repository;
  return { domain, repository };
}

/** The normalized reference, or a sentence saying what is wrong with it (as parseImageReference does). */
export function normalizeReference(image: string): RegistryReference | string {
  if (IMAGE_ID.test(image)) return 'is a 64-character image ID, not a reference to a repository';
  const parsed = parseImageReference(image);
  if (typeof parsed === 'string') return parsed;
  const { domain, repository } = splitDomain(parsed.name);
  const name = `${domain}/${repository}`;
  if (name.length > MAX_NAME_LENGTH) return `has a repository name longer than ${String(MAX_NAME_LENGTH)} characters once its registry is spelled out (${name})`;
  const located = { image, domain, registry: domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_REGISTRY : domain, repository, name };
  if (parsed.digest !== undefined) return { ...located, kind: 'digest', ...(parsed.tag === undefined ? {} : { tag: parsed.tag }), digest: parsed.digest };
  return { ...located, kind: 'tag', tag: parsed.tag ?? DEFAULT_TAG };
}

/** "library/nginx:latest", "app@sha256:…": the repository and what is asked of it, for messages. */
export function describeReference(reference: RegistryReference): string {
  return reference.kind === 'tag' ? `${reference.repository}:${reference.tag}` : `${reference.repository}@${reference.digest}`;
}

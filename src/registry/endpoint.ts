// Where a registry's API is and who may see its credentials: plain HTTP for loopback registries
// (as Docker and containerd allow without configuration) and for those configured so, HTTPS for
// every other; which token services may receive a pull secret's password; and where a registry
// may send the pass (its realm, its redirects): not to this machine, the node's link-local network
// or the cloud's metadata service, unless the registry is itself on such an address.

/** host[:port] as images name it, read as a URL reads it: lower-case, IPv6 in brackets. */
function hostOf(registry: string): URL | undefined {
  try {
    return new URL(`http://${registry}`);
  } catch {
    return undefined;
  }
}

/** localhost, 127.0.0.0/8 and ::1: a registry on this machine, which only this machine can reach. */
export function isLoopback(registry: string): boolean {
  const hostname = hostOf(registry)?.hostname;
  if (hostname === undefined) return false;
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Whether to speak plain HTTP to this registry: loopback ones, and those listed ("host" for any
 * port, "host:port" for one), compared case-insensitively; a listed "http://" prefix is ignored.
 */
export function usesPlainHttp(registry: string, plainHttpRegistries: readonly string[]): boolean {
  if (isLoopback(registry)) return true;
  const target = hostOf(registry);
  if (target === undefined) return false;
  return plainHttpRegistries.some((entry) => {
    const listed = hostOf(entry.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, ''));
    if (listed === undefined) return false;
    return listed.port === '' ? listed.hostname === target.hostname : listed.host === target.host;
  });
}

/** "https://quay.io", "http://127.0.0.1:5000": where the registry's /v2/ API is. */
export function registryOrigin(registry: string, plainHttpRegistries: readonly string[]): string {
  return `${usesPlainHttp(registry, plainHttpRegistries) ? 'http' : 'https'}://${registry}`;
}

/**
 * Whether a Bearer realm may receive a pull secret's credentials. A registry names its token
 * service, often on another host (auth.docker.io for registry-1.docker.io, gitlab.com for
 * registry.gitlab.com), so the host alone cannot decide. The rule: an HTTPS realm may (the
 * credentials travel encrypted to a host whose certificate was verified, as Docker and containerd
 * send them); a plain-HTTP realm only when it is the registry's own origin, which already receives
 * the same credentials when it asks for Basic. Anything else is asked anonymously: a plain-HTTP
 * registry, or whoever sits between it and us, could otherwise send the password anywhere in clear text.
 */
export function mayReceiveCredentials(realm: URL, registryOriginUrl: string): boolean {
  if (realm.protocol === 'https:') return true;
  return realm.protocol === 'http:' && realm.origin === new URL(registryOriginUrl).origin;
}

/** Addresses that reach this pod, the node's link-local network, or the cloud's instance metadata. */
export type InternalAddress = 'loopback' | 'link-local' | 'cloud metadata';

/** AWS, GCP, Azure, OpenStack (169.254.169.254), ECS tasks (169.254.170.2), Alibaba (100.100.100.200), AWS over IPv6. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '[fd00:ec2::254]']);
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal']);

/** The four octets of an IPv4 address, dotted or mapped into IPv6 ([::ffff:7f00:1], as URL writes ::ffff:127.0.0.1). */
function ipv4Octets(hostname: string): number[] | undefined {
  const dotted = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (dotted) return dotted.slice(1).map(Number);
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(hostname);
  if (!mapped) return undefined;
  const [high, low] = [parseInt(mapped[1] ?? '', 16), parseInt(mapped[2] ?? '', 16)];
  return [high >> 8, high & 255, low >> 8, low & 255];
}

/**
 * Which internal address a URL's hostname (lower-case, IPv6 in brackets, as URL gives it) names, if
 * any: by the address itself (URL has already read 2130706433 and 0x7f.1 as 127.0.0.1) or by the
 * names that always mean one. A name that merely resolves to one is not caught here.
 */
export function internalAddress(hostname: string): InternalAddress | undefined {
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (METADATA_NAMES.has(name)) return 'cloud metadata';
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  const octets = ipv4Octets(name);
  const dotted = octets?.join('.');
  if (dotted !== undefined && METADATA_ADDRESSES.has(dotted)) return 'cloud metadata';
  if (METADATA_ADDRESSES.has(name)) return 'cloud metadata';
  // 0.0.0.0/8 and :: are "this host": connecting to them reaches this machine.
  if (octets?.[0] === 127 || octets?.[0] === 0 || name === '[::1]' || name === '[::]') return 'loopback';
  if (octets?.[0] === 169 && octets[1] === 254) return 'link-local';
  if (/^\[fe[89ab][0-9a-f]:/.test(name)) return 'link-local';
  return undefined;
}

/**
 * Why the pass may not follow a registry to this URL (a Bearer realm, a redirect), or undefined
 * when it may. An internal address is asked only when the registry itself is on one of the same
 * kind (a loopback registry with its token service beside it): a registry elsewhere has no business
 * sending the pass to this pod, the node's link-local network or the metadata service, whose answers
 * (a cloud credential) would otherwise travel on to the registry as a token.
 */
export function internalTargetRefusal(target: URL, registry: string): string | undefined {
  const kind = internalAddress(target.hostname);
  if (kind === undefined) return undefined;
  const registryHostname = hostOf(registry)?.hostname;
  if (registryHostname !== undefined && internalAddress(registryHostname) === kind) return undefined;
  return `${target.origin} is a ${kind} address, and only a registry on such an address may send the pass there`;
}

/**
 * Why a redirect to this URL is not followed, or undefined when it may be: HTTP or HTTPS only, no
 * internal address (as above), and plain HTTP only to a registry that is asked over plain HTTP
 * anyway (loopback, PLAIN_HTTP_REGISTRIES), so an HTTPS answer cannot be downgraded to one that
 * anybody on the path can write.
 */
export function redirectRefusal(target: URL, registry: string, plainHttpRegistries: readonly string[]): string | undefined {
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return `${target.protocol} is neither HTTP nor HTTPS`;
  const internal = internalTargetRefusal(target, registry);
  if (internal !== undefined) return internal;
  if (target.protocol === 'http:' && !usesPlainHttp(target.host, plainHttpRegistries)) {
    return `${target.origin} is plain HTTP, which only loopback registries and PLAIN_HTTP_REGISTRIES are asked over`;
  }
  return undefined;
}

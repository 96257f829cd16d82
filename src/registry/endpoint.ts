// Where a registry's API is and who may see its credentials: plain HTTP for loopback registries
// (as Docker and containerd allow without configuration) and for those configured so, HTTPS for
// every other; and which token services may receive a pull secret's password.

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

// Pull secrets read the way the kubelet reads them (pkg/credentialprovider: keyring.go, config.go,
// secrets.go), so that a digest lookup authenticates with exactly the credentials a node will pull
// with: the same Secrets, the same keys matching the same images, tried in the same order.
//
// The kubelet's rules, for a canonical image name such as docker.io/library/nginx:
// - A key is a registry host with an optional port and path; a scheme and a leading /v1/ or /v2/
//   are dropped, so "https://index.docker.io/v1/" is the key "index.docker.io".
// - A key matches when the ports are equal, the hosts have as many dot-separated labels and each
//   label matches as a glob, with Go's filepath.Match ("*.example.com", "registry.*.io"; a "*" never
//   spans a dot), and the key's path is a prefix of the image's path (a string prefix: "quay.io/org"
//   matches quay.io/organization/x too).
// - Every matching key counts, most specific first: keys are tried in reverse lexical order,
//   which puts "quay.io/team" before "quay.io" and "registry.example.com" before "*.example.com".
//   Credentials under one key come in the order of the Secrets.
// - Docker Hub images are named docker.io/…: a "docker.io" key matches them directly. An
//   "index.docker.io" key (as "https://index.docker.io/v1/", what `docker login` writes) is used
//   only when no key matched at all. A "registry-1.docker.io" key matches no docker.io image,
//   as in the kubelet: a node would not use it either.
// One deliberate difference: the kubelet also hands the index.docker.io credentials to
// "localhost/…" images (its Docker Hub test predates name normalization); here they go to
// docker.io images only, so a Docker Hub password never reaches another registry.

export interface RegistryCredential {
  username: string;
  password: string;
  /** Where it came from, for messages: pull secret "regcred", key "quay.io". Never the password. */
  source: string;
}

/** The fields of a Secret that matter here, as the API returns them (.data values in base64). */
export interface PullSecret {
  metadata: { name?: string };
  type?: string;
  data?: Record<string, string>;
}

export interface Keyring {
  /** Candidate credentials for a canonical image name (docker.io/library/nginx), in the order to try them; none means anonymous. */
  lookup(name: string): RegistryCredential[];
}

export const DOCKER_CONFIG_JSON = { type: 'kubernetes.io/dockerconfigjson', key: '.dockerconfigjson' } as const;
export const DOCKERCFG = { type: 'kubernetes.io/dockercfg', key: '.dockercfg' } as const;
const DOCKER_HUB_KEY = 'index.docker.io';

/** One credential as a Secret lists it: under a location ("https://index.docker.io/v1/", "quay.io/team"). */
export interface SecretEntry {
  location: string;
  credential: RegistryCredential;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's encoding/json matches field names exactly first, then ignoring case. */
function field(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : object[key];
}

/** Padded or unpadded standard base64, as the kubelet accepts it; anything else is undefined. */
function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  const valid = compact.endsWith('=')
    ? /^[A-Za-z0-9+/]*={1,2}$/.test(compact) && compact.length % 4 === 0
    : /^[A-Za-z0-9+/]*$/.test(compact) && compact.length % 4 !== 1;
  return valid ? Buffer.from(compact, 'base64').toString('utf8') : undefined;
}

function readEntry(location: string, value: unknown, secretName: string): SecretEntry | string {
  const where = `key ${JSON.stringify(location)}`;
  if (!isObject(value)) return `${where} is not an object with auth or username and password`;
  const fields: Record<string, string> = {};
  for (const name of ['username', 'password', 'auth']) {
    const raw = field(value, name);
    if (raw !== undefined && raw !== null && typeof raw !== 'string') return `${where} has a ${name} that is not a string`;
    fields[name] = raw ?? '';
  }
  let username = fields.username ?? '';
  let password = fields.password ?? '';
  const auth = fields.auth ?? '';
  if (auth !== '') {
    const decoded = decodeBase64(auth);
    const colon = decoded?.indexOf(':') ?? -1;
    if (decoded === undefined || colon === -1) return `${where} has an auth that is not base64 of username:password`;
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  return { location, credential: { username, password, source: `pull secret ${JSON.stringify(secretName)}, ${where}` } };
}

/**
 * The credentials one Secret holds, in the order it lists them, or a sentence saying why the
 * kubelet cannot use it. Like the kubelet, one unreadable entry makes the whole Secret unusable.
 */
export function parsePullSecret(secret: PullSecret): SecretEntry[] | string {
  const name = secret.metadata.name ?? '(unnamed)';
  const kind = secret.type === DOCKER_CONFIG_JSON.type ? DOCKER_CONFIG_JSON : secret.type === DOCKERCFG.type ? DOCKERCFG : undefined;
  const prefix = `pull secret ${JSON.stringify(name)}`;
  if (kind === undefined) {
    return `${prefix} is of type ${secret.type ?? '(none)'}; the kubelet pulls only with ${DOCKER_CONFIG_JSON.type} or ${DOCKERCFG.type} Secrets, so it is not used (recreate it with kubectl create secret docker-registry)`;
  }
  const encoded = secret.data?.[kind.key] ?? '';
  if (encoded === '') return `${prefix} has no ${kind.key} in its data, so it is not used`;
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return `${prefix}: ${kind.key} is not JSON; the kubelet cannot pull with it (recreate it with kubectl create secret docker-registry)`;
  }
  const locations = kind === DOCKER_CONFIG_JSON && isObject(document) ? field(document, 'auths') : document;
  if (!isObject(locations)) {
    return `${prefix}: ${kind.key} ${kind === DOCKER_CONFIG_JSON ? 'has no "auths" object' : 'is not an object of registries'}; the kubelet cannot pull with it`;
  }
  const entries: SecretEntry[] = [];
  for (const [location, value] of Object.entries(locations)) {
    const entry = readEntry(location, value, name);
    if (typeof entry === 'string') return `${prefix}: ${entry}; the kubelet cannot pull with this Secret`;
    entries.push(entry);
  }
  return entries;
}

interface Location {
  host: string;
  path: string;
}

/** host[:port] and path of a schemeless location, split as url.Parse("https://" + it) would. */
function splitLocation(text: string): Location {
  const hostEnd = text.search(/[/?#]/);
  const authority = hostEnd === -1 ? text : text.slice(0, hostEnd);
  const rest = hostEnd === -1 ? '' : text.slice(hostEnd);
  const pathEnd = rest.search(/[?#]/);
  return {
    host: authority.slice(authority.lastIndexOf('@') + 1),
    path: rest.startsWith('/') ? (pathEnd === -1 ? rest : rest.slice(0, pathEnd)) : '',
  };
}

/** The keyring key for a Secret's location: no scheme, no /v1/ or /v2/, no lone "/". */
export function keyringKey(location: string): string | undefined {
  const { host, path } = splitLocation(location.replace(/^https?:\/\//, ''));
  if (host === '') return undefined;
  const effective = path.startsWith('/v1/') || path.startsWith('/v2/') ? path.slice(3) : path;
  return effective === '' || effective === '/' ? host : host + effective;
}

/**
 * Go's net.SplitHostPort: the port after the last colon, an IPv6 host in brackets just before it,
 * no other colon and no "[" or "]" elsewhere. Where Go reports an error the kubelet takes the whole
 * text as the host, with no port ("registry-[0-9].example.com:5000" has none).
 */
function splitHostPort(authority: string): { labels: string[]; port: string } {
  const whole = { labels: authority.split('.'), port: '' };
  const colon = authority.lastIndexOf(':');
  if (colon === -1) return whole;
  let host = authority.slice(0, colon);
  // Where a "[" or a "]" may no longer be: after the opening bracket, after the closing one.
  let opened = 0;
  let closed = 0;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close + 1 !== colon) return whole;
    host = authority.slice(1, close);
    opened = 1;
    closed = close + 1;
  } else if (host.includes(':')) return whole;
  if (authority.slice(opened).includes('[') || authority.slice(closed).includes(']')) return whole;
  return { labels: host.split('.'), port: authority.slice(colon + 1) };
}

// Go's filepath.Match, ported line for line (path/filepath/match.go) over code points, as Go reads
// runes for "?" and classes. Each star takes the leftmost place where the text after it fits and is
// never revisited, so the time grows with pattern × name: a key of thirty stars cannot stall the
// pass, as a backtracking RegExp would. Go's ErrBadPattern is BAD here: the kubelet matches nothing.
const SEPARATOR = '/';
const NO_MATCH = -1;
const BAD = -2;

/** The next chunk from `from`: whether stars lead it, and the text up to the next star outside a class. */
function scanChunk(pattern: readonly string[], from: number): { star: boolean; start: number; end: number } {
  let start = from;
  while (pattern[start] === '*') start += 1;
  let inRange = false;
  for (let at = start; at < pattern.length; at += 1) {
    const char = pattern[at];
    if (char === '\\') {
      if (at + 1 < pattern.length) at += 1;
    } else if (char === '[') inRange = true;
    else if (char === ']') inRange = false;
    else if (char === '*' && !inRange) return { star: start > from, start, end: at };
  }
  return { star: start > from, start, end: pattern.length };
}

/** A class member, escaped or not (Go's getEsc); undefined where Go reports a bad pattern. */
function classMember(pattern: readonly string[], at: number, end: number): { codePoint: number; next: number } | undefined {
  let here = at;
  if (here >= end || pattern[here] === '-' || pattern[here] === ']') return undefined;
  if (pattern[here] === '\\') here += 1;
  if (here >= end) return undefined;
  const next = here + 1;
  // The class must go on: a "]" or a range is still to come.
  if (next >= end) return undefined;
  return { codePoint: pattern[here]?.codePointAt(0) ?? 0, next };
}

/** Whether pattern[start, end) (no stars) matches the name at `from`: where the match ends, NO_MATCH or BAD. */
function matchChunk(pattern: readonly string[], start: number, end: number, name: readonly string[], from: number): number {
  let failed = false;
  let at = from;
  let index = start;
  while (index < end) {
    failed ||= at >= name.length;
    const char = pattern[index];
    if (char === '[') {
      const codePoint: number = failed ? 0 : (name[at]?.codePointAt(0) ?? 0);
      if (!failed) at += 1;
      index += 1;
      const negated = pattern[index] === '^' && index < end;
      if (negated) index += 1;
      let matched = false;
      for (let ranges = 0; ; ranges += 1) {
        if (index < end && pattern[index] === ']' && ranges > 0) {
          index += 1;
          break;
        }
        const low = classMember(pattern, index, end);
        if (low === undefined) return BAD;
        let high = low;
        if (pattern[low.next] === '-') {
          const upper = classMember(pattern, low.next + 1, end);
          if (upper === undefined) return BAD;
          high = upper;
        }
        index = high.next;
        matched ||= low.codePoint <= codePoint && codePoint <= high.codePoint;
      }
      failed ||= matched === negated;
    } else if (char === '?') {
      if (!failed) {
        failed = name[at] === SEPARATOR;
        at += 1;
      }
      index += 1;
    } else {
      if (char === '\\') {
        index += 1;
        if (index >= end) return BAD;
      }
      if (!failed) {
        failed = pattern[index] !== name[at];
        at += 1;
      }
      index += 1;
    }
  }
  return failed ? NO_MATCH : at;
}

/** Go's filepath.Match(pattern, name) on Linux; a malformed pattern matches nothing. */
export function filepathMatch(patternText: string, nameText: string): boolean {
  const pattern = Array.from(patternText);
  const name = Array.from(nameText);
  let from = 0;
  let at = 0;
  chunks: while (from < pattern.length) {
    const { star, start, end } = scanChunk(pattern, from);
    from = end;
    const last = from >= pattern.length;
    // A trailing star matches the rest, unless it holds a separator.
    if (star && start === end) return !name.slice(at).includes(SEPARATOR);
    const here = matchChunk(pattern, start, end, name, at);
    // The last chunk must use up the name; otherwise the star may still find a place that does.
    if (here >= 0 && (here === name.length || !last)) {
      at = here;
      continue;
    }
    if (here === BAD) return false;
    if (star) {
      for (let skip = at; skip < name.length && name[skip] !== SEPARATOR; skip += 1) {
        const after = matchChunk(pattern, start, end, name, skip + 1);
        if (after >= 0) {
          if (last && after < name.length) continue;
          at = after;
          continue chunks;
        }
        if (after === BAD) return false;
      }
    }
    return false;
  }
  return at === name.length;
}

/** Whether a keyring key matches a canonical image name (both schemeless). */
export function keyMatches(key: string, name: string): boolean {
  const glob = splitLocation(key);
  const target = splitLocation(name);
  const globHost = splitHostPort(glob.host);
  const targetHost = splitHostPort(target.host);
  if (globHost.port !== targetHost.port || globHost.labels.length !== targetHost.labels.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return globHost.labels.every((label, index) => filepathMatch(label, targetHost.labels[index] ?? ''));
}

function withoutRepeats(credentials: RegistryCredential[]): RegistryCredential[] {
  const seen = new Set<string>();
  return credentials.filter(({ username, password }) => {
    const identity = `${username}\u0000${password}`;
    if (seen.has(identity)) return false;
    seen.add(identity);
    return true;
  });
}

/**
 * A keyring over the pull secrets, as the kubelet builds one for a pod that names them, with a
 * sentence for each Secret (or key) it cannot use. The same username and password under several
 * matching keys is offered once: trying it again would only repeat the answer.
 */
export function createKeyring(secrets: readonly PullSecret[]): { keyring: Keyring; problems: string[] } {
  const byKey = new Map<string, RegistryCredential[]>();
  const problems: string[] = [];
  for (const secret of secrets) {
    const entries = parsePullSecret(secret);
    if (typeof entries === 'string') {
      problems.push(entries);
      continue;
    }
    for (const { location, credential } of entries) {
      const key = keyringKey(location);
      if (key === undefined) {
        problems.push(`${credential.source} names no registry host, so the kubelet ignores it`);
        continue;
      }
      byKey.set(key, [...(byKey.get(key) ?? []), credential]);
    }
  }
  const index = [...byKey.keys()].sort().reverse();
  return {
    keyring: {
      lookup(name) {
        const matched = index.filter((key) => keyMatches(key, name)).flatMap((key) => byKey.get(key) ?? []);
        if (matched.length > 0) return withoutRepeats(matched);
        return name.startsWith('docker.io/') ? withoutRepeats(byKey.get(DOCKER_HUB_KEY) ?? []) : [];
      },
    },
    problems,
  };
}

// Which answers to a manifest request are manifests: a tag's digest is the sha256 of the bytes the
// registry sent only when those bytes are a manifest or an index. Anything else hashed (a proxy's
// login page holding a nonce) would be a new "digest" every pass, and every pass would roll every node.

/** What a tag can point at: a multi-platform index or a single manifest, OCI or Docker. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** A JSON object: not null, not a list. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Schema 2: an index lists manifests; a manifest names its config and layers. */
function isManifestOrIndex(document: unknown): boolean {
  if (!isObject(document) || document.schemaVersion !== 2) return false;
  return Array.isArray(document.manifests) || (isObject(document.config) && Array.isArray(document.layers));
}

/**
 * Undefined when the answer is a manifest or an index by its Content-Type and its JSON; else what
 * came back, for a message: "text/html (1234 bytes), not a manifest".
 */
export function manifestBodyProblem(contentType: string | null, body: Buffer): string | undefined {
  const size = `(${String(body.length)} bytes)`;
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) return `${mediaType === '' ? 'an answer without a Content-Type' : mediaType} ${size}, not a manifest`;
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    return `${mediaType} that is not JSON ${size}`;
  }
  return isManifestOrIndex(document) ? undefined : `${mediaType} whose JSON is neither a manifest nor an index ${size}`;
}

// What a registry's answer must be before its bytes are hashed into a digest: a manifest or an
// index, by its media type and its JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manifestBodyProblem } from '../src/registry/manifest.ts';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { digest: 'sha256:1' }, layers: [] });
const index = JSON.stringify({ schemaVersion: 2, manifests: [] });

describe('manifestBodyProblem', () => {
  const cases: [string, string | null, string, string | undefined][] = [
    ['an OCI manifest', OCI_MANIFEST, manifest, undefined],
    ['an OCI index', OCI_INDEX, index, undefined],
    ['a Docker manifest', DOCKER_MANIFEST, JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: {}, layers: [] }), undefined],
    ['a Docker manifest list', DOCKER_LIST, JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [] }), undefined],
    ['a media type with parameters, in capitals', `${OCI_INDEX.toUpperCase()}; charset=utf-8`, index, undefined],
    ['a login page', 'text/html; charset=utf-8', '<html>sign in</html>', 'text/html (20 bytes), not a manifest'],
    ['no media type', null, manifest, `an answer without a Content-Type (${String(manifest.length)} bytes), not a manifest`],
    ['plain JSON', 'application/json', manifest, `application/json (${String(manifest.length)} bytes), not a manifest`],
    ['a schema 1 manifest', 'application/vnd.docker.distribution.manifest.v1+prettyjws', '{"schemaVersion":1}', 'application/vnd.docker.distribution.manifest.v1+prettyjws (19 bytes), not a manifest'],
    ['a manifest type holding HTML', OCI_MANIFEST, '<html>sign in</html>', `${OCI_MANIFEST} that is not JSON (20 bytes)`],
    ['a manifest type holding other JSON', OCI_MANIFEST, '{"error":"log in"}', `${OCI_MANIFEST} whose JSON is neither a manifest nor an index (18 bytes)`],
    ['a manifest type holding an array', OCI_INDEX, '[]', `${OCI_INDEX} whose JSON is neither a manifest nor an index (2 bytes)`],
    ['a manifest of schema 1 under a schema 2 type', DOCKER_MANIFEST, '{"schemaVersion":1,"config":{},"layers":[]}', `${DOCKER_MANIFEST} whose JSON is neither a manifest nor an index (43 bytes)`],
    ['an empty body', OCI_MANIFEST, '', `${OCI_MANIFEST} that is not JSON (0 bytes)`],
    ['a media type with spaces before its parameters', ` ${OCI_INDEX} ; charset=utf-8`, index, undefined],
    ['an empty Content-Type', '', manifest, `an answer without a Content-Type (${String(manifest.length)} bytes), not a manifest`],
    ['a manifest type holding null', OCI_MANIFEST, 'null', `${OCI_MANIFEST} whose JSON is neither a manifest nor an index (4 bytes)`],
    ['a manifest type holding a string', OCI_MANIFEST, '"manifest"', `${OCI_MANIFEST} whose JSON is neither a manifest nor an index (10 bytes)`],
    ['an index whose manifests are not a list', OCI_INDEX, '{"schemaVersion":2,"manifests":{}}', `${OCI_INDEX} whose JSON is neither a manifest nor an index (34 bytes)`],
    ['a manifest without layers', OCI_MANIFEST, '{"schemaVersion":2,"config":{}}', `${OCI_MANIFEST} whose JSON is neither a manifest nor an index (31 bytes)`],
    ['a manifest without a config', OCI_MANIFEST, '{"schemaVersion":2,"layers":[]}', `${OCI_MANIFEST} whose JSON is neither a manifest nor an index (31 bytes)`],
    ['a manifest whose config is a list', OCI_MANIFEST, '{"schemaVersion":2,"config":[],"layers":[]}', `${OCI_MANIFEST} whose JSON is neither a manifest nor an index (43 bytes)`],
    ['a manifest whose config is null', OCI_MANIFEST, '{"schemaVersion":2,"config":null,"layers":[]}', `${OCI_MANIFEST} whose JSON is neither a manifest nor an index (45 bytes)`],
    ['a schema version written as text', OCI_INDEX, '{"schemaVersion":"2","manifests":[]}', `${OCI_INDEX} whose JSON is neither a manifest nor an index (36 bytes)`],
    ['a body in UTF-8', OCI_INDEX, '{"schemaVersion":2,"manifests":[],"annotations":{"title":"café"}}', undefined],
  ];
  for (const [what, contentType, body, expected] of cases) {
    it(`${expected === undefined ? 'takes' : 'refuses'} ${what}`, () => assert.equal(manifestBodyProblem(contentType, Buffer.from(body)), expected));
  }
});

// Image references normalized as Docker and containerd normalize them: registry, repository, tag.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeReference, normalizeReference } from '../src/registry/reference.ts';

const DIGEST = 'sha256:0000000000000000000000000000000000000000000000000000000000000abc';

describe('normalizeReference', () => {
  const cases: [string, { registry: string; name: string; repository: string; tag?: string; digest?: string }][] = [
    ['nginx', { registry: 'registry-1.docker.io', name: 'docker.io/library/nginx', repository: 'library/nginx', tag: 'latest' }],
    ['nginx:1.27', { registry: 'registry-1.docker.io', name: 'docker.io/library/nginx', repository: 'library/nginx', tag: '1.27' }],
    ['user/app:1', { registry: 'registry-1.docker.io', name: 'docker.io/user/app', repository: 'user/app', tag: '1' }],
    ['docker.io/nginx', { registry: 'registry-1.docker.io', name: 'docker.io/library/nginx', repository: 'library/nginx', tag: 'latest' }],
    ['index.docker.io/user/app:2', { registry: 'registry-1.docker.io', name: 'docker.io/user/app', repository: 'user/app', tag: '2' }],
    ['docker.io/library/nginx:latest', { registry: 'registry-1.docker.io', name: 'docker.io/library/nginx', repository: 'library/nginx', tag: 'latest' }],
    ['quay.io/a/b:2', { registry: 'quay.io', name: 'quay.io/a/b', repository: 'a/b', tag: '2' }],
    ['quay.io/app', { registry: 'quay.io', name: 'quay.io/app', repository: 'app', tag: 'latest' }],
    ['127.0.0.1:5000/app:v1', { registry: '127.0.0.1:5000', name: '127.0.0.1:5000/app', repository: 'app', tag: 'v1' }],
    ['localhost/app', { registry: 'localhost', name: 'localhost/app', repository: 'app', tag: 'latest' }],
    ['localhost:5000/team/app:1.0', { registry: 'localhost:5000', name: 'localhost:5000/team/app', repository: 'team/app', tag: '1.0' }],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', name: '[::1]:5000/app', repository: 'app', tag: 'v1' }],
    ['registry.example.com/org/team/deep/app:v3', { registry: 'registry.example.com', name: 'registry.example.com/org/team/deep/app', repository: 'org/team/deep/app', tag: 'v3' }],
    ['Registry/app', { registry: 'Registry', name: 'Registry/app', repository: 'app', tag: 'latest' }],
    // A single name with a colon is a repository and a tag, not a host and a port.
    ['localhost:5000', { registry: 'registry-1.docker.io', name: 'docker.io/library/localhost', repository: 'library/localhost', tag: '5000' }],
    [`nginx:1.27@${DIGEST}`, { registry: 'registry-1.docker.io', name: 'docker.io/library/nginx', repository: 'library/nginx', tag: '1.27', digest: DIGEST }],
    [`quay.io/a/b@${DIGEST}`, { registry: 'quay.io', name: 'quay.io/a/b', repository: 'a/b', digest: DIGEST }],
  ];
  for (const [image, expected] of cases) {
    it(`reads ${image}`, () => {
      const reference = normalizeReference(image);
      if (typeof reference === 'string') assert.fail(reference);
      const { registry, name, repository } = reference;
      const tag = reference.tag;
      const digest = reference.kind === 'digest' ? reference.digest : undefined;
      assert.deepEqual({ registry, name, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) }, expected);
      assert.equal(reference.kind, expected.digest === undefined ? 'tag' : 'digest');
      assert.equal(reference.image, image);
    });
  }

  it('keeps the registry as named (docker.io) apart from the host that serves it', () => {
    const reference = normalizeReference('busybox');
    assert.ok(typeof reference !== 'string');
    assert.deepEqual([reference.domain, reference.registry], ['docker.io', 'registry-1.docker.io']);
  });

  const invalid: [string, RegExp][] = [
    ['', /empty/],
    ['Nginx', /not a valid image reference/],
    ['quay.io/Team/app', /not a valid image reference/],
    ['nginx:', /not a valid image reference/],
    ['nginx @sha256:abc', /whitespace/],
    ['f'.repeat(64), /image ID/],
    ['a'.repeat(250), /longer than 255 characters once its registry is spelled out/],
  ];
  for (const [image, problem] of invalid) {
    it(`says what is wrong with ${JSON.stringify(image.slice(0, 30))}`, () => {
      const reference = normalizeReference(image);
      assert.equal(typeof reference, 'string');
      assert.match(reference as string, problem);
    });
  }
});

describe('describeReference', () => {
  it('names the repository and the tag or digest', () => {
    const tagged = normalizeReference('nginx');
    const pinned = normalizeReference(`quay.io/a/b:2@${DIGEST}`);
    assert.ok(typeof tagged !== 'string' && typeof pinned !== 'string');
    assert.equal(describeReference(tagged), 'library/nginx:latest');
    assert.equal(describeReference(pinned), `a/b@${DIGEST}`);
  });
});

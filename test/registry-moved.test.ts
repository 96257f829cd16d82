// Which tags moved: fresh lookups against the digests the pod template remembers, and the
// annotation that carries them from one pass to the next.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DigestLookup } from '../src/registry/lookup.ts';
import { DIGESTS_ANNOTATION, decideDigests, parseDigests, serializeDigests } from '../src/registry/moved.ts';
import type { DigestDecision } from '../src/registry/moved.ts';

const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const A = digest(1);
const B = digest(2);
const C = digest(3);

describe('DIGESTS_ANNOTATION', () => {
  it('is named after the program, beside its other annotations', () => assert.equal(DIGESTS_ANNOTATION, 'kubernetes-image-puller/digests'));
});

describe('decideDigests', () => {
  const failure = (image: string): DigestLookup => ({ image, problem: { reason: 'unreachable', message: `cannot reach the registry of ${image}` } });
  const cases: [string, string[], Record<string, string>, DigestLookup[], DigestDecision][] = [
    [
      'nothing moved',
      ['nginx', 'quay.io/a/b:2'],
      { nginx: A, 'quay.io/a/b:2': B },
      [{ image: 'nginx', digest: A }, { image: 'quay.io/a/b:2', digest: B }],
      { digests: { nginx: A, 'quay.io/a/b:2': B }, moved: [], firstSeen: [], unresolved: [] },
    ],
    [
      'one tag moved',
      ['nginx', 'quay.io/a/b:2'],
      { nginx: A, 'quay.io/a/b:2': B },
      [{ image: 'nginx', digest: C }, { image: 'quay.io/a/b:2', digest: B }],
      { digests: { nginx: C, 'quay.io/a/b:2': B }, moved: ['nginx'], firstSeen: [], unresolved: [] },
    ],
    [
      'a new image: first seen, not moved',
      ['nginx', 'redis'],
      { nginx: A },
      [{ image: 'nginx', digest: A }, { image: 'redis', digest: B }],
      { digests: { nginx: A, redis: B }, moved: [], firstSeen: ['redis'], unresolved: [] },
    ],
    [
      'a failed lookup keeps the last known digest',
      ['nginx', 'redis'],
      { nginx: A, redis: B },
      [failure('nginx'), { image: 'redis', digest: C }],
      { digests: { nginx: A, redis: C }, moved: ['redis'], firstSeen: [], unresolved: [{ image: 'nginx', reason: 'unreachable', message: 'cannot reach the registry of nginx' }] },
    ],
    [
      'a failed lookup without a last known digest leaves the image out',
      ['nginx'],
      {},
      [failure('nginx')],
      { digests: {}, moved: [], firstSeen: [], unresolved: [{ image: 'nginx', reason: 'unreachable', message: 'cannot reach the registry of nginx' }] },
    ],
    [
      'images no longer configured are dropped',
      ['nginx'],
      { nginx: A, 'old/app:1': B },
      [{ image: 'nginx', digest: A }, { image: 'old/app:1', digest: C }],
      { digests: { nginx: A }, moved: [], firstSeen: [], unresolved: [] },
    ],
    [
      'an image that was not looked up',
      ['nginx'],
      { nginx: A },
      [],
      { digests: { nginx: A }, moved: [], firstSeen: [], unresolved: [{ image: 'nginx', reason: 'error', message: 'nginx was not looked up' }] },
    ],
    [
      'an image configured twice, once',
      ['nginx', 'nginx'],
      { nginx: A },
      [{ image: 'nginx', digest: B }, { image: 'nginx', digest: B }],
      { digests: { nginx: B }, moved: ['nginx'], firstSeen: [], unresolved: [] },
    ],
    [
      'an image named like an Object property, as data',
      ['constructor'],
      {},
      [{ image: 'constructor', digest: A }],
      { digests: { constructor: A }, moved: [], firstSeen: ['constructor'], unresolved: [] },
    ],
  ];
  for (const [what, desired, lastKnown, lookups, expected] of cases) {
    it(`decides when ${what}`, () => assert.deepEqual(decideDigests(desired, lastKnown, lookups), expected));
  }

  it('says an image without a digest or a problem was not looked up, and keeps its digest', () => {
    assert.deepEqual(decideDigests(['nginx'], { nginx: A }, [{ image: 'nginx' }]), {
      digests: { nginx: A },
      moved: [],
      firstSeen: [],
      unresolved: [{ image: 'nginx', reason: 'error', message: 'nginx was not looked up' }],
    });
  });

  it('keeps the digests in code-unit order, whatever order the images were configured in', () => {
    const images = ['z/app', 'B/app', 'a/app', 'a/app:1'];
    const decision = decideDigests(images, {}, images.map((image) => ({ image, digest: A })));
    assert.deepEqual(Object.keys(decision.digests), ['B/app', 'a/app', 'a/app:1', 'z/app']);
    assert.deepEqual(decision.firstSeen, images);
  });

  it('lists moved images in the configured order', () => {
    const decision = decideDigests(['z/app', 'a/app'], { 'z/app': A, 'a/app': A }, [{ image: 'a/app', digest: B }, { image: 'z/app', digest: B }]);
    assert.deepEqual(decision.moved, ['z/app', 'a/app']);
  });
});

describe('serializeDigests and parseDigests', () => {
  it('writes compact JSON sorted by image, whatever the order it was given', () => {
    assert.equal(serializeDigests({ 'quay.io/a/b:2': B, nginx: A, '9': C, '10': C }), `{"10":"${C}","9":"${C}","nginx":"${A}","quay.io/a/b:2":"${B}"}`);
    assert.equal(serializeDigests({}), '{}');
  });

  it('writes the same bytes for the same digests', () => {
    assert.equal(serializeDigests({ b: B, a: A }), serializeDigests({ a: A, b: B }));
  });

  it('reads back what it wrote', () => {
    const digests = { nginx: A, 'quay.io/a/b:2': B, '127.0.0.1:5000/app:v1': C };
    assert.deepEqual(parseDigests(serializeDigests(digests)), { digests });
  });

  it('remembers nothing, without a problem, when there is no annotation', () => {
    assert.deepEqual(parseDigests(undefined), { digests: {} });
    assert.deepEqual(parseDigests(' '), { digests: {} });
  });

  const unreadable: [string, string, Record<string, string>, RegExp][] = [
    ['not JSON', '{nginx', {}, /^annotation kubernetes-image-puller\/digests is not JSON, so no digest is remembered/],
    ['an array', '["nginx"]', {}, /is not an object of image → digest/],
    ['null', 'null', {}, /^annotation kubernetes-image-puller\/digests is not an object of image → digest, so no digest is remembered; this pass records them afresh$/],
    ['a string', `"${A}"`, {}, /is not an object of image → digest/],
    ['a number', '7', {}, /is not an object of image → digest/],
    ['an entry whose value is a list holding a digest', `{"nginx":"${A}","redis":["${B}"]}`, { nginx: A }, /has no valid digest for redis; this pass records them afresh$/],
    ['entries that are not digests', `{"nginx":"${A}","redis":"latest","app":7}`, { nginx: A }, /has no valid digest for redis, app; this pass records them afresh$/],
    ['digests a registry may no longer name', `{"nginx":"${A}","long":"sha256:${'a'.repeat(15_000)}","md5":"md5:${'0'.repeat(32)}"}`, { nginx: A }, /has no valid digest for long, md5; this pass records them afresh$/],
  ];
  for (const [what, value, digests, problem] of unreadable) {
    it(`keeps what it can of an annotation that is ${what}, and says so`, () => {
      const parsed = parseDigests(value);
      assert.deepEqual(parsed.digests, digests);
      assert.match(parsed.problem ?? '', problem);
    });
  }

  it('reads a "__proto__" key as data, not as a prototype', () => {
    const parsed = parseDigests(`{"__proto__":"${A}"}`);
    assert.equal(Object.getPrototypeOf(parsed.digests), Object.prototype);
    assert.equal(Object.hasOwn(parsed.digests, '__proto__'), true);
  });
});

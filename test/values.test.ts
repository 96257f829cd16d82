import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDigestPinned, parseImageReference } from '../src/config/image-ref.ts';
import { parseQuantity, sameQuantity } from '../src/config/quantity.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('image references', () => {
  const valid = ['nginx', 'nginx:1.27', 'library/nginx', 'quay.io/che-incubator/che-code:next', 'localhost:5000/a/b:c', `nginx@${DIGEST}`, `quay.io/x/y:tag@${DIGEST}`, '[::1]:5000/x:1', 'a.b-c_d__e/f'];
  for (const reference of valid) it(`accepts ${reference}`, () => assert.equal(typeof parseImageReference(reference), 'object'));
  const invalid = ['', 'Nginx', 'nginx:', 'nginx:bad!tag', 'quay.io/x y', 'quay.io//x', '-nginx', 'nginx@sha256:short', ':tag'];
  for (const reference of invalid) it(`rejects ${JSON.stringify(reference)}`, () => assert.equal(typeof parseImageReference(reference), 'string'));
  it('knows a digest pins and a tag does not', () => {
    assert.equal(isDigestPinned(`nginx@${DIGEST}`), true);
    assert.equal(isDigestPinned(`nginx:1@${DIGEST}`), true);
    assert.equal(isDigestPinned('nginx:1'), false);
    assert.equal(isDigestPinned('nginx'), false);
  });
});

describe('quantities', () => {
  const cases: [string, number | undefined][] = [
    ['10Mi', 10 * 2 ** 20], ['1Gi', 2 ** 30], ['.05', 0.05], ['50m', 0.05], ['1e3', 1000], ['1k', 1000], ['0.5Gi', 2 ** 29],
    ['10MB', undefined], ['abc', undefined], ['-1Mi', undefined], ['1mi', undefined], ['', undefined], ['1 Gi', undefined],
  ];
  for (const [text, value] of cases) it(`${JSON.stringify(text)} → ${String(value)}`, () => assert.equal(parseQuantity(text), value));
  it('compares by value', () => {
    assert.equal(sameQuantity('.05', '50m'), true);
    assert.equal(sameQuantity('1024Mi', '1Gi'), true);
    assert.equal(sameQuantity('20Mi', '20M'), false);
  });
});

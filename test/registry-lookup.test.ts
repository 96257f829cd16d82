// Rate-limit headers as Docker Hub sends them, and which digests a registry may name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDigest, parseRateLimit } from '../src/registry/lookup.ts';
import type { RateLimit } from '../src/registry/lookup.ts';

describe('parseRateLimit', () => {
  const cases: [string, Record<string, string>, RateLimit | undefined][] = [
    ['Docker Hub\'s headers', { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' }, { limit: 100, remaining: 76, windowSeconds: 21600 }],
    ['headers without a window', { 'ratelimit-limit': '5000', 'ratelimit-remaining': '4999' }, { limit: 5000, remaining: 4999 }],
    ['the window of the remaining count', { 'ratelimit-limit': '100', 'ratelimit-remaining': '0;w=60' }, { limit: 100, remaining: 0, windowSeconds: 60 }],
    ['the first of several policies', { 'ratelimit-limit': '100, 5000;w=3600', 'ratelimit-remaining': '7' }, { limit: 100, remaining: 7 }],
    ['spaces around the parts', { 'ratelimit-limit': ' 100 ; w=21600', 'ratelimit-remaining': '1' }, { limit: 100, remaining: 1, windowSeconds: 21600 }],
    ['only one of the headers', { 'ratelimit-limit': '100;w=21600' }, undefined],
    ['a count that is not a number', { 'ratelimit-limit': 'lots', 'ratelimit-remaining': '1' }, undefined],
    ['no headers', {}, undefined],
    ['the limit\'s window over the remaining count\'s', { 'ratelimit-limit': '100;w=3600', 'ratelimit-remaining': '5;w=60' }, { limit: 100, remaining: 5, windowSeconds: 3600 }],
    ['the window among other parameters', { 'ratelimit-limit': '100;comment="pulls";w=21600', 'ratelimit-remaining': '9' }, { limit: 100, remaining: 9, windowSeconds: 21600 }],
    ['a window that is not a number, as none', { 'ratelimit-limit': '100;w=soon', 'ratelimit-remaining': '9;w=6h' }, { limit: 100, remaining: 9 }],
    ['a window with something after it, as none', { 'ratelimit-limit': '100;w=60s', 'ratelimit-remaining': '9;xw=60' }, { limit: 100, remaining: 9 }],
    ['a count with letters after it', { 'ratelimit-limit': '100x', 'ratelimit-remaining': '1' }, undefined],
    ['a count with letters before it', { 'ratelimit-limit': '100', 'ratelimit-remaining': 'x1' }, undefined],
    ['an empty count', { 'ratelimit-limit': ';w=60', 'ratelimit-remaining': '1' }, undefined],
  ];
  for (const [what, headers, expected] of cases) it(`reads ${what}`, () => assert.deepEqual(parseRateLimit(new Headers(headers)), expected));
});

describe('isDigest', () => {
  const cases: [string, string, boolean][] = [
    ['sha256 in lower-case hex', `sha256:${'0a'.repeat(32)}`, true],
    ['sha512 in lower-case hex', `sha512:${'0a'.repeat(64)}`, true],
    ['capitals', `sha256:${'0A'.repeat(32)}`, false],
    ['a sha256 too short', `sha256:${'0'.repeat(63)}`, false],
    ['a sha256 of 15,000 characters', `sha256:${'0'.repeat(15_000)}`, false],
    ['a sha512 the length of a sha256', `sha512:${'0'.repeat(64)}`, false],
    ['another algorithm', `md5:${'0'.repeat(32)}`, false],
    ['a digest with a trailing newline', `sha256:${'0'.repeat(64)}\n`, false],
    ['nothing', '', false],
    ['every hex digit', `sha256:${'0123456789abcdef'.repeat(4)}`, true],
    ['a letter past f', `sha256:${'0'.repeat(63)}g`, false],
    ['text before the algorithm', `x sha256:${'0'.repeat(64)}`, false],
    ['a sha512 with one character more', `sha512:${'0'.repeat(129)}`, false],
    ['a sha512 with a character past f', `sha512:${'0'.repeat(127)}g`, false],
    ['a sha512 with text before it', `xsha512:${'0'.repeat(128)}`, false],
    ['a sha512 with a trailing newline', `sha512:${'0'.repeat(128)}\n`, false],
    ['an algorithm without its hex', 'sha256:', false],
  ];
  for (const [what, value, expected] of cases) it(`${expected ? 'takes' : 'refuses'} ${what}`, () => assert.equal(isDigest(value), expected));
});

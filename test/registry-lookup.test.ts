// Rate-limit headers as Docker Hub sends them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRateLimit } from '../src/registry/lookup.ts';
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
  ];
  for (const [what, headers, expected] of cases) it(`reads ${what}`, () => assert.deepEqual(parseRateLimit(new Headers(headers)), expected));
});

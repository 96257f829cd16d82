// Which compile cache a run of the bundle uses: the user's choice, then the image's shipped one, then Node's default.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCacheDirectory } from '../src/cli/compile-cache.ts';

const SHIPPED = '/app/compile-cache';

describe('compileCacheDirectory', () => {
  const cases: { name: string; env: Record<string, string | undefined>; shipped: boolean; expected: string | undefined }[] = [
    { name: 'the image: the shipped cache', env: {}, shipped: true, expected: SHIPPED },
    { name: 'no shipped cache: Node\'s default', env: {}, shipped: false, expected: undefined },
    { name: 'NODE_COMPILE_CACHE wins over the shipped cache', env: { NODE_COMPILE_CACHE: '/tmp/cache' }, shipped: true, expected: undefined },
    { name: 'NODE_DISABLE_COMPILE_CACHE wins over the shipped cache', env: { NODE_DISABLE_COMPILE_CACHE: '1' }, shipped: true, expected: undefined },
    { name: 'an empty NODE_COMPILE_CACHE is no choice', env: { NODE_COMPILE_CACHE: '' }, shipped: true, expected: SHIPPED },
    { name: 'an empty NODE_DISABLE_COMPILE_CACHE is no choice', env: { NODE_DISABLE_COMPILE_CACHE: '' }, shipped: true, expected: SHIPPED },
  ];
  for (const { name, env, shipped, expected } of cases) {
    it(name, () => assert.equal(compileCacheDirectory({ env, shipped, shippedPath: SHIPPED }), expected));
  }
});

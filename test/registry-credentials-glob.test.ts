// Pull-secret keys match image hosts label by label with Go's filepath.Match, as the kubelet's
// URLsMatch does. Go's Match takes each star's leftmost fit and never backtracks across stars, so
// its time grows with pattern × label, never exponentially; a key full of stars cannot stall the pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyring, filepathMatch, keyMatches } from '../src/registry/credentials.ts';

function dockerConfigJson(name: string, auths: Record<string, { auth: string }>) {
  return { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') } };
}

describe('filepathMatch: Go\'s path/filepath match_test.go table (a bad pattern matches nothing)', () => {
  const cases: [string, string, boolean][] = [
    ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true],
    ['a*', 'ab/c', false], ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false],
    ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false],
    // ErrBadPattern in Go: the kubelet treats the key as not matching.
    ['[]a]', ']', false], ['[-]', '-', false], ['[x-]', 'x', false], ['[x-]', '-', false], ['[x-]', 'z', false],
    ['[-x]', 'x', false], ['[-x]', '-', false], ['[-x]', 'a', false], ['\\', 'a', false], ['[a-b-c]', 'a', false],
    ['[', 'a', false], ['[^', 'a', false], ['[^bc', 'a', false], ['a[', 'a', false], ['a[', 'ab', false],
    ['a[', 'x', false], ['a/b[', 'x', false], ['*x', 'xxx', true],
    // Beyond Go's table: a reversed range matches nothing, astral code points count as one character.
    ['[c-a]', 'b', false], ['[^c-a]', 'b', true], ['?', '😀', true], ['[😀-😂]', '😁', true],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => assert.equal(filepathMatch(pattern, name), expected));
  }
});

describe('a pull-secret key full of stars', () => {
  const label = 'a'.repeat(40);
  for (const stars of [8, 12, 30]) {
    it(`${String(stars)} stars before x.example.com are judged against a 40-character label in milliseconds`, () => {
      const key = `${'*'.repeat(stars)}x.example.com`;
      const started = performance.now();
      assert.equal(keyMatches(key, `${label}.example.com/app`), false);
      assert.equal(keyMatches(key, `${label}x.example.com/app`), true);
      assert.ok(performance.now() - started < 50, `took ${String(performance.now() - started)} ms`);
    });
  }

  it('stars between letters (*a*a*…) cost no backtracking either', () => {
    const key = `${'*a'.repeat(30)}*b.example.com`;
    const started = performance.now();
    assert.equal(keyMatches(key, `${label}.example.com/app`), false);
    assert.ok(performance.now() - started < 50, `took ${String(performance.now() - started)} ms`);
  });

  it('in a Secret, leaves the keyring lookup quick and offers its credential only where it matches', () => {
    const auth = { auth: Buffer.from('glob:pw').toString('base64') };
    const { keyring } = createKeyring([dockerConfigJson('s', { [`${'*'.repeat(30)}x.example.com`]: auth })]);
    const started = performance.now();
    assert.deepEqual(keyring.lookup(`${label}.example.com/app`), []);
    assert.deepEqual(keyring.lookup(`${label}x.example.com/app`).map(({ username }) => username), ['glob']);
    assert.ok(performance.now() - started < 50, `took ${String(performance.now() - started)} ms`);
  });
});

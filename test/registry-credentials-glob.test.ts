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
      assert.ok(performance.now() - started < 500, `took ${String(performance.now() - started)} ms`);
    });
  }

  it('stars between letters (*a*a*…) cost no backtracking either', () => {
    const key = `${'*a'.repeat(30)}*b.example.com`;
    const started = performance.now();
    assert.equal(keyMatches(key, `${label}.example.com/app`), false);
    assert.ok(performance.now() - started < 500, `took ${String(performance.now() - started)} ms`);
  });

  it('in a Secret, leaves the keyring lookup quick and offers its credential only where it matches', () => {
    const auth = { auth: Buffer.from('glob:pw').toString('base64') };
    const { keyring } = createKeyring([dockerConfigJson('s', { [`${'*'.repeat(30)}x.example.com`]: auth })]);
    const started = performance.now();
    assert.deepEqual(keyring.lookup(`${label}.example.com/app`), []);
    assert.deepEqual(keyring.lookup(`${label}x.example.com/app`).map(({ username }) => username), ['glob']);
    assert.ok(performance.now() - started < 500, `took ${String(performance.now() - started)} ms`);
  });
});

describe('filepathMatch: answers Go\'s filepath.Match gave (go1.26.8) for classes, escapes and stars at the edges', () => {
  // Each row was run through Go's path/filepath.Match; a pattern Go calls bad matches nothing here.
  const cases: [string, string, boolean][] = [
    ['[*]', '*', true],
    ['[*]', 'a', false],
    ['[*]x', '*x', true],
    ['a[*]*', 'a*bc', true],
    ['bc', 'abc', false],
    ['c', 'abc', false],
    ['[^]', 'a', false],
    ['[^a]', 'b', true],
    ['[^a]', 'a', false],
    ['[]', 'a', false],
    ['[a]b', 'ab', true],
    ['a\\', 'a', false],
    ['ab\\', 'ab', false],
    ['\\a', 'a', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'a/c', false],
    ['?', '', false],
    ['??', 'a', false],
    ['?a', 'a', false],
    ['a?', 'a', false],
    ['*a', 'ba', true],
    ['*a', 'b', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axbyc', true],
    ['a*b*c', 'axbyd', false],
    ['a*b*c', 'ab/c', false],
    ['*[', 'a', false],
    ['*[a', 'a', false],
    ['a*[', 'ab', false],
    ['*\\', 'a', false],
    ['*?', '', false],
    ['*?', 'a', true],
    ['**', 'a/b', false],
    ['**', 'ab', true],
    ['a**b', 'axxb', true],
    ['[a-]', 'a', false],
    ['[\\', 'a', false],
    ['[a\\]', 'a', false],
    ['[a-\\', 'a', false],
    ['[^-a]', 'b', false],
    ['[!a]', 'b', false],
    ['[!a]', '!', true],
    ['*x*', 'axb', true],
    ['*x*', 'ab', false],
    ['x*', 'x', true],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['[a-c]*', 'cz', true],
    ['*[a-c]', 'zc', true],
    ['*[a-c]', 'zd', false],
    ['a[^b]c', 'a/c', true],
    ['a[/]c', 'a/c', true],
    ['*c', 'ab/c', false],
    ['a*', 'a/', false],
    ['*', '/', false],
    ['[\\]]', ']', true],
    ['[]]', ']', false],
    ['[^]]', 'a', false],
    ['[a-c-e]', 'd', false],
    ['[a-]b', 'ab', false],
    ['[^a-c]', 'd', true],
    ['[^a-c]', 'b', false],
    ['[ab', 'a', false],
    ['a[b', 'a', false],
    ['*a[', 'xa', false],
    ['*ab', 'aab', true],
    ['*ab', 'abab', true],
    ['*ab', 'abb', false],
    ['*aa', 'aaa', true],
    ['a*a', 'aa', true],
    ['a*a', 'a', false],
    ['*a*', 'a', true],
    ['*a*a', 'aa', true],
    ['*?c', 'abc', true],
    ['*?c', 'c', false],
    ['?*', '', false],
    ['?*', 'a/', false],
    ['*/', 'a/', true],
    ['*/b', 'a/b', true],
    ['*/*', 'a/b', true],
    ['a/*', 'a/', true],
    ['[a-z]', '/', false],
    ['[\\a-\\c]', 'b', true],
    ['[\\^a]', '^', true],
    ['[^^]', '^', false],
    ['[a^]', '^', true],
    ['\\[a]', '[a]', true],
    ['\\[a]', 'a', false],
    ['\\?', '?', true],
    ['\\?', 'a', false],
    ['\\\\', '\\', true],
    ['[\\\\]', '\\', true],
    ['x[', 'x', false],
    ['*x[', 'ax', false],
    ['*[]', 'a', false],
    ['*[a-]', 'a', false],
    ['a*[^', 'ab', false],
    ['*\\*', 'a*', true],
    ['*\\*', 'ab', false],
    ['[x]*[y]', 'xay', true],
    ['[x]*[y]', 'xaz', false],
    ['*[x', 'ax', false],
    ['?[', 'a', false],
    ['?\\', 'a', false],
    ['a*b', 'ab/b', false],
    ['a*/b', 'a/b', true],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)} (Go)`, () => assert.equal(filepathMatch(pattern, name), expected));
  }
});

// WWW-Authenticate headers as registries send them, and as RFC 9110 allows them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findChallenge, parseChallenges } from '../src/registry/challenge.ts';
import type { Challenge } from '../src/registry/challenge.ts';

describe('parseChallenges', () => {
  const cases: [string, string | null | undefined, Challenge[]][] = [
    ['Basic with a quoted realm', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Docker Hub\'s Bearer challenge',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } }],
    ],
    [
      'commas inside quotes, spaces around "=" and ","',
      'Bearer realm = "https://r.example/token" , scope="repository:a/b:pull,push" ,service="r"',
      [{ scheme: 'bearer', params: { realm: 'https://r.example/token', scope: 'repository:a/b:pull,push', service: 'r' } }],
    ],
    ['a case-insensitive scheme and parameter names', 'BEARER Realm="x",SERVICE="y"', [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }]],
    ['unquoted values, a URL among them', 'Bearer realm=https://r.example/token?x=1,service=r', [{ scheme: 'bearer', params: { realm: 'https://r.example/token?x=1', service: 'r' } }]],
    ['escaped quotes in a quoted value', 'Basic realm="say \\"hi\\""', [{ scheme: 'basic', params: { realm: 'say "hi"' } }]],
    [
      'two challenges in one header, as fetch joins repeated headers',
      'Basic realm="a, b", Bearer realm="https://r.example/token",service="r"',
      [{ scheme: 'basic', params: { realm: 'a, b' } }, { scheme: 'bearer', params: { realm: 'https://r.example/token', service: 'r' } }],
    ],
    ['a token68 before another challenge', 'Negotiate abc+/==, Basic realm="r"', [{ scheme: 'negotiate', params: {} }, { scheme: 'basic', params: { realm: 'r' } }]],
    ['a scheme without parameters before another', 'Basic, Bearer realm="r"', [{ scheme: 'basic', params: {} }, { scheme: 'bearer', params: { realm: 'r' } }]],
    ['the first of a repeated parameter', 'Bearer realm="first",realm="second"', [{ scheme: 'bearer', params: { realm: 'first' } }]],
    ['an unterminated quote, up to the end', 'Bearer realm="https://r.example/tok', [{ scheme: 'bearer', params: { realm: 'https://r.example/tok' } }]],
    ['nothing', '', []],
    ['no header', null, []],
    ['no header (undefined)', undefined, []],
    ['only separators', ' , ,', []],
  ];
  for (const [what, header, expected] of cases) {
    it(`reads ${what}`, () => assert.deepEqual(parseChallenges(header), expected));
  }
});

describe('findChallenge', () => {
  it('finds the challenge of a scheme among several', () => {
    const challenges = parseChallenges('Basic realm="a", Bearer realm="b"');
    assert.equal(findChallenge(challenges, 'bearer')?.params.realm, 'b');
    assert.equal(findChallenge(challenges, 'digest'), undefined);
  });
});

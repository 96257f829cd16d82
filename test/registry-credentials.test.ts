// Pull secrets matched to images as the kubelet matches them: which credentials, in which order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyring, keyringKey, keyMatches, parsePullSecret } from '../src/registry/credentials.ts';
import type { PullSecret } from '../src/registry/credentials.ts';

const base64 = (text: string) => Buffer.from(text).toString('base64');
const auth = (username: string, password = 'secret') => ({ auth: base64(`${username}:${password}`) });

function dockerConfigJson(name: string, auths: Record<string, unknown>): PullSecret {
  return { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': base64(JSON.stringify({ auths })) } };
}

function dockercfg(name: string, registries: Record<string, unknown>): PullSecret {
  return { metadata: { name }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': base64(JSON.stringify(registries)) } };
}

/** The usernames the keyring offers for each name, in order. */
function usernamesFor(secrets: PullSecret[], names: string[]): string[][] {
  const { keyring, problems } = createKeyring(secrets);
  assert.deepEqual(problems, []);
  return names.map((name) => keyring.lookup(name).map((credential) => credential.username));
}

describe('parsePullSecret', () => {
  it('reads auth, or username and password, under each location', () => {
    const entries = parsePullSecret(dockerConfigJson('regcred', { 'quay.io': auth('robot', 'pa:ss'), 'ghcr.io': { username: 'me', password: 'token' } }));
    assert.deepEqual(entries, [
      { location: 'quay.io', credential: { username: 'robot', password: 'pa:ss', source: 'pull secret "regcred", key "quay.io"' } },
      { location: 'ghcr.io', credential: { username: 'me', password: 'token', source: 'pull secret "regcred", key "ghcr.io"' } },
    ]);
  });

  it('prefers auth to username and password, and reads it unpadded too', () => {
    const unpadded = base64('from-auth:pw').replace(/=+$/, '');
    const entries = parsePullSecret(dockerConfigJson('s', { 'quay.io': { username: 'ignored', password: 'ignored', auth: unpadded } }));
    assert.ok(Array.isArray(entries));
    assert.deepEqual([entries[0]?.credential.username, entries[0]?.credential.password], ['from-auth', 'pw']);
  });

  it('reads the older kubernetes.io/dockercfg layout, without "auths"', () => {
    const entries = parsePullSecret(dockercfg('old', { 'https://index.docker.io/v1/': auth('hub') }));
    assert.ok(Array.isArray(entries));
    assert.deepEqual(entries.map((entry) => [entry.location, entry.credential.username]), [['https://index.docker.io/v1/', 'hub']]);
  });

  it('reads field names in any case, as Go\'s JSON decoder does', () => {
    const entries = parsePullSecret(dockerConfigJson('s', { 'quay.io': { Username: 'u', PASSWORD: 'p' } }));
    assert.ok(Array.isArray(entries));
    assert.deepEqual([entries[0]?.credential.username, entries[0]?.credential.password], ['u', 'p']);
  });

  const unusable: [string, PullSecret, RegExp][] = [
    ['an Opaque Secret', { metadata: { name: 'plain' }, type: 'Opaque', data: { '.dockerconfigjson': base64('{}') } }, /^pull secret "plain" is of type Opaque; the kubelet pulls only with kubernetes\.io\/dockerconfigjson or kubernetes\.io\/dockercfg Secrets/],
    ['a Secret without its key', { metadata: { name: 'empty' }, type: 'kubernetes.io/dockerconfigjson', data: {} }, /^pull secret "empty" has no \.dockerconfigjson in its data/],
    ['data that is not JSON', { metadata: { name: 'bad' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': base64('{auths') } }, /^pull secret "bad": \.dockerconfigjson is not JSON/],
    ['JSON without auths', { metadata: { name: 'flat' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': base64('{"quay.io":{}}') } }, /has no "auths" object/],
    ['an auth that is not base64', dockerConfigJson('s', { 'quay.io': { auth: 'not base64!' } }), /^pull secret "s": key "quay.io" has an auth that is not base64 of username:password/],
    ['an auth without a colon', dockerConfigJson('s', { 'quay.io': { auth: base64('justauser') } }), /key "quay.io" has an auth that is not base64 of username:password/],
    ['a password that is not a string', dockerConfigJson('s', { 'quay.io': { username: 'u', password: 7 } }), /key "quay.io" has a password that is not a string/],
  ];
  for (const [what, secret, problem] of unusable) {
    it(`says why it cannot use ${what}`, () => {
      const entries = parsePullSecret(secret);
      assert.equal(typeof entries, 'string');
      assert.match(entries as string, problem);
    });
  }

  it('never puts a password in a source or a problem', () => {
    const entries = parsePullSecret(dockerConfigJson('s', { 'quay.io': auth('u', 'hunter2'), 'ghcr.io': { username: 'me', password: 'hunter3' } }));
    assert.ok(Array.isArray(entries));
    assert.deepEqual(entries.map(({ credential }) => credential.password), ['hunter2', 'hunter3'], 'the passwords were read');
    for (const { credential } of entries) assert.doesNotMatch(credential.source, /hunter|aHVudGVy/, credential.source);
    const problem = parsePullSecret(dockerConfigJson('s', { 'quay.io': auth('u', 'hunter2'), bad: { auth: base64('x') } }));
    assert.equal(typeof problem, 'string');
    assert.doesNotMatch(problem as string, /hunter2|aHVudGVy/);
    const { problems } = createKeyring([dockerConfigJson('s', { 'quay.io': auth('u', 'hunter2'), 'https://': { username: 'u', password: 'hunter4' } })]);
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems.join('\n'), /hunter|aHVudGVy/);
  });
});

describe('keyringKey', () => {
  const cases: [string, string | undefined][] = [
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['index.docker.io/v2/', 'index.docker.io'],
    ['docker.io', 'docker.io'],
    ['http://registry.example.com:8443/', 'registry.example.com:8443'],
    ['quay.io/team', 'quay.io/team'],
    ['https://quay.io/v2/team/app', 'quay.io/team/app'],
    ['https://', undefined],
  ];
  for (const [location, key] of cases) it(`keys ${location} as ${String(key)}`, () => assert.equal(keyringKey(location), key));
});

describe('keyMatches', () => {
  const cases: [string, string, boolean][] = [
    ['quay.io', 'quay.io/a/b', true],
    ['quay.io/a', 'quay.io/a/b', true],
    ['quay.io/a/b/c', 'quay.io/a/b', false],
    ['quay.io', 'other.io/a', false],
    // A key matches hosts of exactly as many labels: never a longer name that merely starts like it.
    ['quay.io', 'quay.io.attacker.example/a/b', false],
    ['quay.io', 'quay.io.attacker.example', false],
    ['registry.example.com', 'registry.example.com.evil/x', false],
    ['quay.io:443', 'quay.io.attacker.example:443/a', false],
    ['*.io', 'quay.io.attacker.io/a', false],
    ['*.example.com', 'registry.example.com/app', true],
    ['*.example.com', 'example.com/app', false],
    ['*.example.com', 'a.b.example.com/app', false],
    ['registry.*.io', 'registry.eu.io/app', true],
    ['app*.example.com', 'app-1.example.com/x', true],
    ['app?.example.com', 'app12.example.com/x', false],
    ['[ab].example.com', 'b.example.com/x', true],
    ['[^ab].example.com', 'b.example.com/x', false],
    ['[a-c].example.com', 'c.example.com/x', true],
    ['[.example.com', '[.example.com/x', false],
    // Go's filepath.Match reads a reversed range as matching nothing, where a RegExp would throw.
    ['[c-a].example.com', 'b.example.com/x', false],
    ['[^c-a].example.com', 'b.example.com/x', true],
    ['127.0.0.1:5000', '127.0.0.1:5000/app', true],
    ['127.0.0.1:5000', '127.0.0.1:5001/app', false],
    ['127.0.0.1', '127.0.0.1:5000/app', false],
    ['localhost:5000', 'localhost:5000/team/app', true],
    ['[::1]:5000', '[::1]:5000/app', true],
  ];
  for (const [key, name, expected] of cases) it(`${expected ? 'matches' : 'does not match'} ${name} with ${key}`, () => assert.equal(keyMatches(key, name), expected));
});

describe('createKeyring', () => {
  it('uses the key `docker login` writes for Docker Hub images, and for no other registry', () => {
    const secrets = [dockerConfigJson('hub', { 'https://index.docker.io/v1/': auth('hub') })];
    assert.deepEqual(usernamesFor(secrets, ['docker.io/library/nginx', 'docker.io/user/app', 'quay.io/a/b', 'localhost/app', 'localhost:5000/app']), [['hub'], ['hub'], [], [], []]);
  });

  it('matches a docker.io key to Docker Hub images directly, and then leaves index.docker.io out', () => {
    const secrets = [dockerConfigJson('s', { 'https://index.docker.io/v1/': auth('index'), 'docker.io': auth('direct') })];
    assert.deepEqual(usernamesFor(secrets, ['docker.io/library/nginx']), [['direct']]);
  });

  it('does not match a registry-1.docker.io key to docker.io images, as the kubelet does not', () => {
    const secrets = [dockerConfigJson('s', { 'registry-1.docker.io': auth('api-host') })];
    assert.deepEqual(usernamesFor(secrets, ['docker.io/library/nginx', 'registry-1.docker.io/library/nginx']), [[], ['api-host']]);
  });

  it('offers the most specific key first: longer paths, then exact hosts before globs', () => {
    const secrets = [dockerConfigJson('s', { 'quay.io': auth('org-wide'), 'quay.io/team': auth('team'), '*.example.com': auth('glob'), 'registry.example.com': auth('exact') })];
    assert.deepEqual(usernamesFor(secrets, ['quay.io/team/app', 'quay.io/other/app', 'registry.example.com/app', 'mirror.example.com/app']), [['team', 'org-wide'], ['org-wide'], ['exact', 'glob'], ['glob']]);
  });

  it('keeps the order of the Secrets under one key, and offers a repeated credential once', () => {
    const secrets = [
      dockerConfigJson('first', { 'quay.io': auth('a') }),
      dockercfg('second', { 'https://quay.io': auth('b') }),
      dockerConfigJson('third', { 'quay.io/v1/': auth('a') }),
    ];
    const { keyring } = createKeyring(secrets);
    assert.deepEqual(keyring.lookup('quay.io/x/y').map((credential) => [credential.username, credential.source]), [
      ['a', 'pull secret "first", key "quay.io"'],
      ['b', 'pull secret "second", key "https://quay.io"'],
    ]);
  });

  it('offers a key\'s credentials to no host that only starts like it', () => {
    const secrets = [dockerConfigJson('s', { 'quay.io': auth('robot'), 'https://index.docker.io/v1/': auth('hub') })];
    assert.deepEqual(usernamesFor(secrets, ['quay.io/a/b', 'quay.io.attacker.example/a/b', 'docker.io.attacker.example/library/nginx']), [['robot'], [], []]);
  });

  it('matches ports exactly', () => {
    const secrets = [dockerConfigJson('s', { '127.0.0.1:5000': auth('five'), localhost: auth('plain') })];
    assert.deepEqual(usernamesFor(secrets, ['127.0.0.1:5000/app', '127.0.0.1:5001/app', 'localhost/app', 'localhost:5000/app']), [['five'], [], ['plain'], []]);
  });

  it('uses the Secrets it can read and says what is wrong with the others', () => {
    const { keyring, problems } = createKeyring([
      { metadata: { name: 'opaque' }, type: 'Opaque', data: {} },
      dockerConfigJson('broken', { 'quay.io': { auth: '%%%' } }),
      dockerConfigJson('good', { 'quay.io': auth('robot'), 'https://': auth('nobody') }),
    ]);
    assert.deepEqual(keyring.lookup('quay.io/a/b').map((credential) => credential.username), ['robot']);
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /^pull secret "opaque" is of type Opaque/);
    assert.match(problems[1] ?? '', /^pull secret "broken": key "quay.io" has an auth that is not base64/);
    assert.equal(problems[2], 'pull secret "good", key "https://" names no registry host, so the kubelet ignores it');
  });
});

describe('parsePullSecret: auth as the kubelet decodes it (standard base64, padded or not, line breaks ignored)', () => {
  const credentialOf = (authText: string) => {
    const entries = parsePullSecret(dockerConfigJson('s', { 'quay.io': { auth: authText } }));
    return Array.isArray(entries) ? [entries[0]?.credential.username, entries[0]?.credential.password] : entries;
  };
  const readable: [auth: string, username: string, password: string, why: string][] = [
    ['dTpw', 'u', 'p', 'no padding needed'],
    ['YWI6Yw==', 'ab', 'c', 'two padding characters'],
    ['YWI6Yw', 'ab', 'c', 'the same without padding'],
    ['dTp+fn4=', 'u', '~~~', 'one padding character, and a "+"'],
    ['dTpwPz8/', 'u', 'p???', 'a "/"'],
    ['dTpw\nPz8/', 'u', 'p???', 'a line break'],
    ['dTpw\r\nPz8/\n', 'u', 'p???', 'CR LF and a trailing line break'],
    [base64(':p'), '', 'p', 'an empty username'],
    [base64('u:'), 'u', '', 'an empty password'],
    [base64('u:p:q'), 'u', 'p:q', 'the first colon splits'],
  ];
  for (const [text, username, password, why] of readable) {
    it(`reads ${JSON.stringify(text)} as ${username}:${password} (${why})`, () => assert.deepEqual(credentialOf(text), [username, password]));
  }

  const problem = 'pull secret "s": key "quay.io" has an auth that is not base64 of username:password; the kubelet cannot pull with this Secret';
  const unreadable: [auth: string, why: string][] = [
    ['dTpwPj4-', 'URL-safe base64 ("-")'],
    ['dTpwPz8_', 'URL-safe base64 ("_")'],
    ['dTpwcA=', 'padding that does not fill the last group'],
    ['dTpw====', 'four padding characters'],
    ['dTp===', 'three padding characters'],
    ['dT=wcA==', 'padding in the middle'],
    ['dTpwc', 'one character left over, without padding'],
    ['dTpw cA==', 'a space'],
    [`x${base64('u:p')}`, 'a character too many in front'],
  ];
  for (const [text, why] of unreadable) {
    it(`refuses ${JSON.stringify(text)} (${why})`, () => assert.equal(credentialOf(text), problem));
  }
});

describe('parsePullSecret: fields as Go\'s JSON decoder reads them', () => {
  const entriesOf = (value: unknown) => parsePullSecret(dockerConfigJson('s', { 'quay.io': value }));
  const credentialOf = (value: unknown) => {
    const entries = entriesOf(value);
    return Array.isArray(entries) ? entries.map(({ credential }) => [credential.username, credential.password]) : entries;
  };

  it('prefers a field named exactly over one that differs in case', () => {
    assert.deepEqual(credentialOf({ Username: 'other', username: 'exact', password: 'p' }), [['exact', 'p']]);
    assert.deepEqual(credentialOf({ username: 'exact', USERNAME: 'other', password: 'p' }), [['exact', 'p']]);
  });

  it('reads a null field as empty, and an empty auth as no auth', () => {
    assert.deepEqual(credentialOf({ username: null, password: 'p' }), [['', 'p']]);
    assert.deepEqual(credentialOf({ username: 'u', password: 'p', auth: null }), [['u', 'p']]);
    assert.deepEqual(credentialOf({ username: 'u', password: 'p', auth: '' }), [['u', 'p']]);
    assert.deepEqual(credentialOf({}), [['', '']]);
    assert.deepEqual(credentialOf({ Auth: base64('a:b') }), [['a', 'b']]);
  });

  const refusals: [value: unknown, problem: string][] = [
    [{ username: 7, password: 'p' }, 'has a username that is not a string'],
    [{ username: 'u', password: ['p'] }, 'has a password that is not a string'],
    [{ auth: true }, 'has a auth that is not a string'],
    ['u:p', 'is not an object with auth or username and password'],
    [['u', 'p'], 'is not an object with auth or username and password'],
    [null, 'is not an object with auth or username and password'],
  ];
  for (const [value, problem] of refusals) {
    it(`refuses ${JSON.stringify(value)}: ${problem}`, () => {
      assert.equal(entriesOf(value), `pull secret "s": key "quay.io" ${problem}; the kubelet cannot pull with this Secret`);
    });
  }
});

describe('parsePullSecret: the whole sentence for a Secret the kubelet cannot use', () => {
  const encoded = (text: string) => base64(text);
  const cases: [what: string, secret: PullSecret, problem: string][] = [
    [
      'no type',
      { metadata: { name: 'untyped' }, data: {} },
      'pull secret "untyped" is of type (none); the kubelet pulls only with kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg Secrets, so it is not used (recreate it with kubectl create secret docker-registry)',
    ],
    [
      'no name, no data',
      { metadata: {}, type: 'kubernetes.io/dockercfg' },
      'pull secret "(unnamed)" has no .dockercfg in its data, so it is not used',
    ],
    [
      'an empty key',
      { metadata: { name: 'e' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': '' } },
      'pull secret "e" has no .dockerconfigjson in its data, so it is not used',
    ],
    [
      'the other type\'s key',
      { metadata: { name: 'mixed' }, type: 'kubernetes.io/dockercfg', data: { '.dockerconfigjson': encoded('{"auths":{}}') } },
      'pull secret "mixed" has no .dockercfg in its data, so it is not used',
    ],
    [
      'not JSON',
      { metadata: { name: 'bad' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': encoded('quay.io') } },
      'pull secret "bad": .dockercfg is not JSON; the kubelet cannot pull with it (recreate it with kubectl create secret docker-registry)',
    ],
    [
      'a dockercfg that is an array',
      { metadata: { name: 'list' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': encoded('[{"quay.io":{}}]') } },
      'pull secret "list": .dockercfg is not an object of registries; the kubelet cannot pull with it',
    ],
    [
      'a dockerconfigjson that is an array',
      { metadata: { name: 'list' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': encoded('[{"auths":{}}]') } },
      'pull secret "list": .dockerconfigjson has no "auths" object; the kubelet cannot pull with it',
    ],
    [
      'auths that is an array',
      { metadata: { name: 'list' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': encoded('{"auths":[]}') } },
      'pull secret "list": .dockerconfigjson has no "auths" object; the kubelet cannot pull with it',
    ],
    [
      'auths that is null',
      { metadata: { name: 'null' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': encoded('{"auths":null}') } },
      'pull secret "null": .dockerconfigjson has no "auths" object; the kubelet cannot pull with it',
    ],
  ];
  for (const [what, secret, problem] of cases) it(what, () => assert.equal(parsePullSecret(secret), problem));

  it('reads "auths" in any case, and a Secret with no registries as none', () => {
    const secret: PullSecret = { metadata: { name: 's' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': encoded(JSON.stringify({ Auths: { 'quay.io': auth('robot') } })) } };
    const entries = parsePullSecret(secret);
    assert.ok(Array.isArray(entries));
    assert.deepEqual(entries.map(({ location, credential }) => [location, credential.username]), [['quay.io', 'robot']]);
    assert.deepEqual(parsePullSecret(dockerConfigJson('s', {})), []);
  });

  it('reads a dockercfg whose registries are the whole document', () => {
    const entries = parsePullSecret(dockercfg('old', { 'quay.io': auth('robot'), auths: auth('a-host-named-auths') }));
    assert.ok(Array.isArray(entries));
    assert.deepEqual(entries.map(({ location, credential }) => [location, credential.username]), [['quay.io', 'robot'], ['auths', 'a-host-named-auths']]);
  });
});

describe('createKeyring: lookups', () => {
  it('offers the same username with two passwords twice, in the order of the keys', () => {
    const secrets = [dockerConfigJson('s', { 'quay.io/team': auth('robot', 'one'), 'quay.io': auth('robot', 'two') })];
    const { keyring } = createKeyring(secrets);
    assert.deepEqual(keyring.lookup('quay.io/team/app').map(({ username, password }) => `${username}:${password}`), ['robot:one', 'robot:two']);
  });

  it('offers nothing when no key matches and the image is not on Docker Hub, and Docker Hub\'s credentials once', () => {
    const secrets = [
      dockerConfigJson('a', { 'https://index.docker.io/v1/': auth('hub'), 'quay.io': auth('robot') }),
      dockerConfigJson('b', { 'index.docker.io': auth('hub') }),
    ];
    const { keyring } = createKeyring(secrets);
    assert.deepEqual(keyring.lookup('ghcr.io/x/y'), []);
    assert.deepEqual(keyring.lookup('docker.io/library/nginx').map(({ source }) => source), ['pull secret "a", key "https://index.docker.io/v1/"']);
    assert.deepEqual(createKeyring([]).keyring.lookup('docker.io/library/nginx'), []);
  });
});

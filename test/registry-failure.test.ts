// Failures without an HTTP answer, as fetch reports them, told as problems a person can act on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LookupFailure, describeNetworkFailure, registryErrorDetail } from '../src/registry/failure.ts';
import type { LookupProblemReason } from '../src/registry/lookup.ts';

/** What fetch throws: a TypeError whose cause carries the socket's code. */
function fetchFailed(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

describe('describeNetworkFailure', () => {
  const cases: [string, unknown, boolean, LookupProblemReason, string][] = [
    ['its own timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), false, 'timeout', 'quay.io did not answer within 2500 ms (asked for the manifest of a/b:1); the next pass asks again'],
    ['the pass\'s interrupt', new DOMException('This operation was aborted', 'AbortError'), false, 'error', 'the request to quay.io was cancelled (asked for the manifest of a/b:1): the pass was interrupted'],
    ['an interrupt with a reason of its own', new Error('SIGTERM'), true, 'error', 'the request to quay.io was cancelled (asked for the manifest of a/b:1): the pass was interrupted'],
    ['a name that does not resolve', fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND quay.io'), false, 'unreachable', 'cannot resolve quay.io (ENOTFOUND) (asked for the manifest of a/b:1): check the registry\'s name and the cluster\'s DNS'],
    ['a refused connection', fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 1.2.3.4:443'), false, 'unreachable', 'cannot reach quay.io (ECONNREFUSED) (asked for the manifest of a/b:1): check that the registry is up and that this pod\'s network may reach it'],
    ['a reset connection', fetchFailed('UND_ERR_SOCKET', 'other side closed'), false, 'unreachable', 'cannot reach quay.io (UND_ERR_SOCKET) (asked for the manifest of a/b:1): check that the registry is up and that this pod\'s network may reach it'],
    [
      'a plain-HTTP registry asked in TLS',
      fetchFailed('ERR_SSL_WRONG_VERSION_NUMBER', '405D6514C37F0000:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number'),
      false,
      'error',
      'quay.io did not answer in TLS (ERR_SSL_WRONG_VERSION_NUMBER) (asked for the manifest of a/b:1): if it serves plain HTTP, list it among the plain-HTTP registries',
    ],
    ['a self-signed certificate', fetchFailed('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), false, 'error', 'the TLS certificate of quay.io was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate) (asked for the manifest of a/b:1)'],
    ['a certificate for another name', fetchFailed('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match certificate\'s altnames'), false, 'error', 'the TLS certificate of quay.io was not accepted (ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate\'s altnames) (asked for the manifest of a/b:1)'],
    ['anything else, by its code and message', fetchFailed('EWHATEVER', 'something odd\nsecond line'), false, 'error', 'cannot talk to quay.io (EWHATEVER: something odd) (asked for the manifest of a/b:1)'],
    ['an error without a code', new TypeError('fetch failed', { cause: new Error('unexpected') }), false, 'error', 'cannot talk to quay.io (unexpected) (asked for the manifest of a/b:1)'],
    ['a name the DNS cannot resolve yet', fetchFailed('EAI_AGAIN', 'getaddrinfo EAI_AGAIN quay.io'), false, 'unreachable', 'cannot resolve quay.io (EAI_AGAIN) (asked for the manifest of a/b:1): check the registry\'s name and the cluster\'s DNS'],
    ...['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED'].map((code): [string, unknown, boolean, LookupProblemReason, string] => [
      `an unreachable registry by ${code}`, fetchFailed(code, 'socket trouble'), false, 'unreachable',
      `cannot reach quay.io (${code}) (asked for the manifest of a/b:1): check that the registry is up and that this pod's network may reach it`,
    ]),
    ['a protocol error as not TLS', fetchFailed('EPROTO', 'write EPROTO'), false, 'error', 'quay.io did not answer in TLS (EPROTO) (asked for the manifest of a/b:1): if it serves plain HTTP, list it among the plain-HTTP registries'],
    ['a code that only starts with EPROTO as something else', fetchFailed('EPROTONOSUPPORT', 'protocol not supported'), false, 'error', 'cannot talk to quay.io (EPROTONOSUPPORT: protocol not supported) (asked for the manifest of a/b:1)'],
    ['a code that only ends with EPROTO as something else', fetchFailed('UV_EPROTO', 'odd'), false, 'error', 'cannot talk to quay.io (UV_EPROTO: odd) (asked for the manifest of a/b:1)'],
    ['a code with a TLS word inside it as something else', fetchFailed('ERR_UNKNOWN_CERT_STORE', 'odd'), false, 'error', 'cannot talk to quay.io (ERR_UNKNOWN_CERT_STORE: odd) (asked for the manifest of a/b:1)'],
    ['another OpenSSL failure as a TLS one', fetchFailed('ERR_SSL_DECRYPTION_FAILED', 'decryption failed'), false, 'error', 'the TLS certificate of quay.io was not accepted (ERR_SSL_DECRYPTION_FAILED: decryption failed) (asked for the manifest of a/b:1)'],
    ['the deepest message of a longer chain', new TypeError('fetch failed', { cause: new Error('middle', { cause: Object.assign(new Error('deepest'), { code: 'EWHATEVER' }) }) }), false, 'error', 'cannot talk to quay.io (EWHATEVER: deepest) (asked for the manifest of a/b:1)'],
    ['the message of the last Error when a cause is not one', new TypeError('fetch failed', { cause: { code: 'EWHATEVER' } }), false, 'error', 'cannot talk to quay.io (EWHATEVER: fetch failed) (asked for the manifest of a/b:1)'],
    ['an error whose cause is null', new TypeError('fetch failed', { cause: null }), false, 'error', 'cannot talk to quay.io (fetch failed) (asked for the manifest of a/b:1)'],
  ];
  for (const [what, error, interrupted, reason, message] of cases) {
    it(`tells ${what}`, () => {
      const failure = describeNetworkFailure(error, { host: 'quay.io', what: 'the manifest of a/b:1', timeoutMs: 2500, interrupted });
      assert.deepEqual([failure.reason, failure.message], [reason, message]);
    });
  }
});

describe('describeNetworkFailure and the chain of causes', () => {
  it('names the failure LookupFailure', () => {
    const failure = describeNetworkFailure(fetchFailed('ECONNREFUSED', 'refused'), { host: 'quay.io', what: 'x', timeoutMs: 1, interrupted: false });
    assert.ok(failure instanceof LookupFailure);
    assert.equal(failure.name, 'LookupFailure');
  });
  it('reads no more than six links of the chain', () => {
    let error: Error = Object.assign(new Error('link 7'), { code: 'ECONNREFUSED' });
    for (let link = 6; link >= 1; link--) error = new Error(`link ${String(link)}`, { cause: error });
    const failure = describeNetworkFailure(error, { host: 'quay.io', what: 'x', timeoutMs: 1, interrupted: false });
    assert.deepEqual([failure.reason, failure.message], ['error', 'cannot talk to quay.io (link 6) (asked for x)']);
  });
  it('ends on a chain that causes itself', () => {
    const error = new Error('loop');
    Object.assign(error, { cause: error });
    const failure = describeNetworkFailure(error, { host: 'quay.io', what: 'x', timeoutMs: 1, interrupted: false });
    assert.equal(failure.message, 'cannot talk to quay.io (loop) (asked for x)');
  });
});

describe('registryErrorDetail', () => {
  const cases: [string, string | undefined, string][] = [
    ['the distribution errors document', '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}', ': "requested access to the resource is denied"'],
    ['a token service\'s details', '{"details":"incorrect username or password"}', ': "incorrect username or password"'],
    ['an OAuth error', '{"error":"invalid_grant"}', ': "invalid_grant"'],
    ['an HTML page', '<html>502 Bad Gateway</html>', ''],
    ['an empty body', '', ''],
    ['no body', undefined, ''],
    ['details when the errors list is empty', '{"errors":[],"details":"quota exceeded"}', ': "quota exceeded"'],
    ['an empty message as none', '{"errors":[{"message":""}]}', ''],
    ['a message that is not a string as none', '{"errors":[{"message":42}]}', ''],
    ['a long message cut at 200 characters', JSON.stringify({ errors: [{ message: 'x'.repeat(250) }] }), `: "${'x'.repeat(200)}"`],
  ];
  for (const [what, body, expected] of cases) {
    it(`reads ${what}`, () => assert.equal(registryErrorDetail(body === undefined ? undefined : Buffer.from(body)), expected));
  }
});

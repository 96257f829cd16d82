// Failures without an HTTP answer, as fetch reports them, told as problems a person can act on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeNetworkFailure, registryErrorDetail } from '../src/registry/failure.ts';
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
  ];
  for (const [what, error, interrupted, reason, message] of cases) {
    it(`tells ${what}`, () => {
      const failure = describeNetworkFailure(error, { host: 'quay.io', what: 'the manifest of a/b:1', timeoutMs: 2500, interrupted });
      assert.deepEqual([failure.reason, failure.message], [reason, message]);
    });
  }
});

describe('registryErrorDetail', () => {
  const cases: [string, string | undefined, string][] = [
    ['the distribution errors document', '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}', ': "requested access to the resource is denied"'],
    ['a token service\'s details', '{"details":"incorrect username or password"}', ': "incorrect username or password"'],
    ['an OAuth error', '{"error":"invalid_grant"}', ': "invalid_grant"'],
    ['an HTML page', '<html>502 Bad Gateway</html>', ''],
    ['an empty body', '', ''],
    ['no body', undefined, ''],
  ];
  for (const [what, body, expected] of cases) {
    it(`reads ${what}`, () => assert.equal(registryErrorDetail(body === undefined ? undefined : Buffer.from(body)), expected));
  }
});

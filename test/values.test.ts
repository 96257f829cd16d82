import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDigestPinned, parseImageReference } from '../src/image-ref.ts';
import { parseQuantity, sameQuantity } from '../src/quantity.ts';
import { backoffMs, isTransient, withRetry } from '../src/retry.ts';
import { ApiError } from '../src/cluster.ts';

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

describe('retry', () => {
  const error = (status: number, retryAfterSeconds?: number) =>
    new ApiError({ status, message: 'x', verb: 'get', resource: 'daemonsets.apps', ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });

  it('retries connection failures, 429 and 5xx, but not 4xx', () => {
    for (const status of [0, 429, 500, 503]) assert.equal(isTransient(error(status)), true, String(status));
    for (const status of [400, 401, 403, 404, 409, 422]) assert.equal(isTransient(error(status)), false, String(status));
  });

  it('backs off exponentially, capped, and honours Retry-After', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((attempt) => backoffMs(attempt, undefined)), [250, 500, 1000, 2000, 8000]);
    assert.equal(backoffMs(0, 7), 7000);
  });

  it('keeps trying until success within the deadline', async () => {
    let clock = 0;
    let calls = 0;
    const waits: number[] = [];
    const result = await withRetry(
      () => {
        calls += 1;
        return calls < 3 ? Promise.reject(error(503)) : Promise.resolve('ok');
      },
      { deadline: 10_000, now: () => clock, sleep: (ms) => { waits.push(ms); clock += ms; return Promise.resolve(); }, signal: new AbortController().signal },
    );
    assert.equal(result, 'ok');
    assert.deepEqual(waits, [250, 500]);
  });

  it('gives up at the deadline and on errors retrying cannot fix', async () => {
    let clock = 0;
    const sleep = (ms: number) => { clock += ms; return Promise.resolve(); };
    const options = { deadline: 1000, now: () => clock, sleep, signal: new AbortController().signal };
    await assert.rejects(withRetry(() => Promise.reject(error(503)), options), /x/);
    assert.ok(clock < 1000);
    let calls = 0;
    await assert.rejects(withRetry(() => { calls += 1; return Promise.reject(error(403)); }, { ...options, deadline: 100_000 }));
    assert.equal(calls, 1);
  });
});

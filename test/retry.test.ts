import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/kube/cluster.ts';
import { backoffMs, isTransient, withRetry } from '../src/pass/retry.ts';
import type { Sleep } from '../src/pass/retry.ts';

function apiError(status: number, retryAfterSeconds?: number): ApiError {
  return new ApiError({ status, message: `HTTP ${String(status)}`, verb: 'get', resource: 'daemonsets.apps', ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
}

/** A clock that only sleeping moves, recording every wait asked for. */
function fakeClock() {
  const clock = { now: 0, waits: [] as number[] };
  const sleep: Sleep = (ms) => {
    clock.waits.push(ms);
    clock.now += ms;
    return Promise.resolve();
  };
  return { clock, sleep, now: () => clock.now };
}

const NEVER_ABORTED = new AbortController().signal;

describe('isTransient', () => {
  it('retries connection failures, 429 and 5xx, but not 4xx', () => {
    for (const status of [0, 429, 500, 503]) assert.equal(isTransient(apiError(status)), true, String(status));
    for (const status of [400, 401, 403, 404, 409, 422]) assert.equal(isTransient(apiError(status)), false, String(status));
  });
});

describe('backoffMs', () => {
  it('backs off exponentially from 250 ms, capped at 8 s', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((attempt) => backoffMs(attempt, undefined)), [250, 500, 1000, 2000, 8000]);
  });

  it('waits longer when Retry-After asks for it, up to 60 s', () => {
    assert.equal(backoffMs(0, 7), 7000);
    assert.equal(backoffMs(0, 3600), 60_000);
  });

  it('never waits less than the backoff, even for Retry-After: 0', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((attempt) => backoffMs(attempt, 0)), [250, 500, 1000, 2000, 8000]);
    assert.equal(backoffMs(4, 1), 4000);
  });
});

describe('withRetry', () => {
  it('keeps trying until success within the deadline', async () => {
    const { clock, sleep, now } = fakeClock();
    let calls = 0;
    const result = await withRetry(
      () => {
        calls += 1;
        return calls < 3 ? Promise.reject(apiError(503)) : Promise.resolve('ok');
      },
      { deadline: 10_000, now, sleep, signal: NEVER_ABORTED },
    );
    assert.equal(result, 'ok');
    assert.deepEqual(clock.waits, [250, 500]);
  });

  it('backs off between retries when the server says Retry-After: 0', async () => {
    const { clock, sleep, now } = fakeClock();
    let calls = 0;
    await withRetry(
      () => {
        calls += 1;
        return calls < 4 ? Promise.reject(apiError(429, 0)) : Promise.resolve('ok');
      },
      { deadline: 60_000, now, sleep, signal: NEVER_ABORTED },
    );
    assert.deepEqual(clock.waits, [250, 500, 1000]);
  });

  it('gives up at the deadline and on errors retrying cannot fix', async () => {
    const { clock, sleep, now } = fakeClock();
    await assert.rejects(withRetry(() => Promise.reject(apiError(503)), { deadline: 1000, now, sleep, signal: NEVER_ABORTED }), /HTTP 503/);
    assert.ok(clock.now < 1000);
    let calls = 0;
    await assert.rejects(withRetry(() => { calls += 1; return Promise.reject(apiError(403)); }, { deadline: 100_000, now, sleep, signal: NEVER_ABORTED }));
    assert.equal(calls, 1);
  });

  for (const retryAfterSeconds of [undefined, 0]) {
    it(`ends by the deadline even when sleeping does not move the clock (Retry-After: ${String(retryAfterSeconds)})`, async () => {
      const deadline = 300_000;
      const waits: number[] = [];
      let calls = 0;
      const result = withRetry(
        () => {
          calls += 1;
          // Fails the test instead of hanging it: a loop bounded by the deadline is far below this.
          if (calls > 10_000) return Promise.reject(new Error('withRetry never gave up'));
          return Promise.reject(apiError(503, retryAfterSeconds));
        },
        { deadline, now: () => 0, sleep: (ms) => { waits.push(ms); return Promise.resolve(); }, signal: NEVER_ABORTED },
      );
      await assert.rejects(result, /HTTP 503/);
      const planned = waits.reduce((sum, ms) => sum + ms, 0);
      assert.ok(planned < deadline, `planned ${String(planned)} ms of waiting, past the ${String(deadline)} ms deadline`);
      assert.ok(planned + 8000 >= deadline, `gave up after ${String(planned)} ms of waiting, well before the deadline`);
    });
  }
});

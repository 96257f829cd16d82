// An API failure as the sentence the summary and the log carry (src/pass/api-errors.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/kube/cluster.ts';
import { describeApiError } from '../src/pass/api-errors.ts';

describe('describeApiError', () => {
  const cases: [ConstructorParameters<typeof ApiError>[0], string][] = [
    [{ status: 401, reason: 'Unauthorized', message: 'token expired', verb: 'get', resource: 'daemonsets.apps' }, 'the API server rejected the credentials (401 Unauthorized) on get daemonsets.apps: token expired'],
    [{ status: 403, reason: 'Forbidden', message: 'denied', verb: 'list', resource: 'daemonsets.apps' }, 'the ServiceAccount may not "list" daemonsets.apps in namespace cache; grant that verb in the Role (403 Forbidden: denied)'],
    [{ status: 0, message: 'cannot reach the API server (ECONNREFUSED)', verb: 'get', resource: 'daemonsets.apps' }, 'cannot reach the API server (ECONNREFUSED) on get daemonsets.apps; nothing further was changed'],
    [{ status: 500, reason: 'InternalError', message: 'etcd', verb: 'update', resource: 'daemonsets.apps' }, 'update daemonsets.apps failed with HTTP 500 InternalError: etcd'],
    [{ status: 502, message: 'bad gateway', verb: 'create', resource: 'events' }, 'create events failed with HTTP 502: bad gateway'],
  ];
  for (const [fields, sentence] of cases) it(`${String(fields.status)} → ${sentence}`, () => assert.equal(describeApiError(new ApiError(fields), 'cache'), sentence));
});

// The adapter over @kubernetes/client-node, over a real socket: what it sends (User-Agent, field
// manager, paging) and how it turns answers into values and ApiErrors.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../src/cluster.ts';
import type { Cluster } from '../src/cluster.ts';
import { createCluster } from '../src/kube.ts';
import { ApiServer, status } from './support/api-server.ts';

const DAEMONSET_PATH = '/apis/apps/v1/namespaces/cache/daemonsets/kip';

function kubeConfigFor(url: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'local', server: url, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 'test-token' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'tester' }],
    currentContext: 'local',
  });
  return kubeConfig;
}

const liveDaemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'kip', namespace: 'cache', uid: 'uid-7', resourceVersion: '12', creationTimestamp: '2026-11-01T00:00:00Z' },
  spec: { selector: { matchLabels: { app: 'kip' } }, template: { metadata: { labels: { app: 'kip' } }, spec: { containers: [{ name: 'hold', image: 'kip:1' }] } } },
};

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('kube adapter', () => {
  const server = new ApiServer();
  let cluster: Cluster;

  before(async () => {
    cluster = createCluster(kubeConfigFor(await server.start()), 'cache', 'kip', '9.8.7');
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.routes = [];
  });

  it('reads a DaemonSet as plain data, dates as the server wrote them', async () => {
    server.routes = [(request) => (request.path === DAEMONSET_PATH ? { status: 200, body: liveDaemonSet } : undefined)];
    const read = await cluster.readDaemonSet();
    assert.equal(Object.getPrototypeOf(read), Object.prototype);
    assert.equal(read?.metadata.uid, 'uid-7');
    assert.equal(read?.metadata.creationTimestamp, '2026-11-01T00:00:00.000Z');
  });

  it('reads 404 as absent', async () => {
    assert.equal(await cluster.readDaemonSet(), undefined);
    assert.equal(await cluster.readCronJobUid('puller'), undefined);
    assert.deepEqual(server.requests.map((request) => request.path), [DAEMONSET_PATH, '/apis/batch/v1/namespaces/cache/cronjobs/puller']);
  });

  it('sends its own User-Agent on every request', async () => {
    await cluster.readDaemonSet();
    await cluster.readCronJobUid('puller');
    assert.deepEqual(server.requests.map((request) => request.headers['user-agent']), ['kubernetes-image-puller/9.8.7', 'kubernetes-image-puller/9.8.7']);
  });

  it('maps a Status answer to an ApiError with the verb, the resource and the server\'s reason and message', async () => {
    server.routes = [() => status(403, 'Forbidden', 'daemonsets.apps "kip" is forbidden: User "x" cannot get resource')];
    const error = await rejection(cluster.readDaemonSet());
    assert.deepEqual(
      [error.status, error.reason, error.message, error.verb, error.resource, error.retryAfterSeconds],
      [403, 'Forbidden', 'daemonsets.apps "kip" is forbidden: User "x" cannot get resource', 'get', 'daemonsets.apps', undefined],
    );
  });

  it('keeps the server\'s Retry-After', async () => {
    server.routes = [() => status(429, 'TooManyRequests', 'slow down', { 'Retry-After': '7' })];
    const error = await rejection(cluster.readDaemonSet());
    assert.deepEqual([error.status, error.retryAfterSeconds], [429, 7]);
  });

  it('ignores a Retry-After that is not a number of seconds', async () => {
    server.routes = [() => status(503, 'ServiceUnavailable', 'busy', { 'Retry-After': 'Wed, 21 Oct 2026 07:28:00 GMT' })];
    const error = await rejection(cluster.readDaemonSet());
    assert.deepEqual([error.status, error.retryAfterSeconds], [503, undefined]);
  });

  it('reports an answer without a Status body by its HTTP code', async () => {
    server.routes = [() => ({ status: 502 })];
    const error = await rejection(cluster.readDaemonSet());
    assert.deepEqual([error.status, error.message], [502, 'HTTP 502']);
  });

  it('writes with its field manager and returns what the server stored', async () => {
    server.routes = [(request) => {
      if (request.method === 'POST') return { status: 201, body: { ...JSON.parse(request.body) as object, metadata: { ...liveDaemonSet.metadata, resourceVersion: '1' } } };
      if (request.method === 'PUT') return { status: 200, body: { ...JSON.parse(request.body) as object, metadata: { ...liveDaemonSet.metadata, resourceVersion: '2' } } };
      return undefined;
    }];
    const created = await cluster.createDaemonSet(liveDaemonSet);
    const replaced = await cluster.replaceDaemonSet(created);
    assert.deepEqual([created.metadata.resourceVersion, replaced.metadata.resourceVersion], ['1', '2']);
    assert.deepEqual(server.writes(), ['POST /apis/apps/v1/namespaces/cache/daemonsets', `PUT ${DAEMONSET_PATH}`]);
    assert.deepEqual(server.requests.map((request) => request.query.get('fieldManager')), ['kubernetes-image-puller', 'kubernetes-image-puller']);
  });

  it('deletes with the UID as a precondition, leaving pods to the garbage collector', async () => {
    server.routes = [(request) => (request.method === 'DELETE' ? { status: 200, body: { kind: 'Status', status: 'Success' } } : undefined)];
    await cluster.deleteDaemonSet('uid-7');
    const body = JSON.parse(server.requests[0]?.body ?? '{}') as { preconditions?: { uid?: string }; propagationPolicy?: string };
    assert.deepEqual([body.preconditions?.uid, body.propagationPolicy], ['uid-7', 'Background']);
  });

  it('lists pods page by page with the continue token', async () => {
    server.routes = [(request) => {
      if (request.path !== '/api/v1/namespaces/cache/pods') return undefined;
      const next = request.query.get('continue');
      const pod = (name: string) => ({ metadata: { name }, spec: { containers: [] } });
      return next === null
        ? { status: 200, body: { metadata: { continue: 'page-2' }, items: [pod('a'), pod('b')] } }
        : { status: 200, body: { metadata: {}, items: [pod('c')] } };
    }];
    const names: string[] = [];
    for await (const page of cluster.listPods('app=kip')) names.push(...page.map((pod) => pod.metadata.name ?? ''));
    assert.deepEqual(names, ['a', 'b', 'c']);
    assert.deepEqual(server.requests.map((request) => [request.query.get('labelSelector'), request.query.get('limit'), request.query.get('continue')]), [['app=kip', '250', null], ['app=kip', '250', 'page-2']]);
  });

  it('counts its requests by HTTP verb', async () => {
    const before = cluster.requests();
    await cluster.readDaemonSet();
    await cluster.readCronJobUid('puller');
    await rejection(cluster.deleteDaemonSet('uid-7'));
    const now = cluster.requests();
    assert.equal(now.total - before.total, 3);
    assert.equal((now.byVerb.GET ?? 0) - (before.byVerb.GET ?? 0), 2);
    assert.equal((now.byVerb.DELETE ?? 0) - (before.byVerb.DELETE ?? 0), 1);
  });
});

describe('kube adapter without a server', () => {
  it('reports a refused connection as status 0 naming the cause', async () => {
    const server = new ApiServer();
    const url = await server.start();
    await server.stop();
    const error = await rejection(createCluster(kubeConfigFor(url), 'cache', 'kip', '1').readDaemonSet());
    assert.deepEqual([error.status, error.message], [0, 'cannot reach the API server (ECONNREFUSED)']);
  });
});

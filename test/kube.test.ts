// The adapter over @kubernetes/client-node, over a real socket: what it sends (User-Agent, field
// manager, paging) and how it turns answers into values and ApiErrors.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError, ClusterConfigError } from '../src/kube/cluster.ts';
import type { Cluster } from '../src/kube/cluster.ts';
import { createCluster, loadKubeConfig } from '../src/kube/kube.ts';
import type { DaemonSet } from '../src/kube/k8s-types.ts';
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
    cluster = createCluster(kubeConfigFor(await server.start()), { namespace: 'cache', version: '9.8.7' });
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.routes = [];
  });

  it('reads the status ConfigMap, creates it with its labels, and patches only its data under the version read', async () => {
    const path = '/api/v1/namespaces/cache/configmaps';
    server.routes = [(request) => {
      if (request.method === 'GET' && request.path === `${path}/kip-status`) return { status: 200, body: { metadata: { name: 'kip-status', resourceVersion: '41', labels: { 'app.kubernetes.io/managed-by': 'Helm' } }, data: { 'coverage.yaml': 'old' } } };
      if (request.method === 'GET') return status(404, 'NotFound', 'configmaps "none" not found');
      if (request.method === 'POST') return { status: 201, body: JSON.parse(request.body) as object };
      return { status: 200, body: { metadata: { name: 'kip-status', resourceVersion: '42' }, data: { 'coverage.yaml': 'new' } } };
    }];
    assert.deepEqual(await cluster.readConfigMap('kip-status'), { data: { 'coverage.yaml': 'old' }, resourceVersion: '41' });
    assert.equal(await cluster.readConfigMap('none'), undefined);
    await cluster.writeConfigMap('kip-status', { 'coverage.yaml': 'new' }, { a: 'b' });
    await cluster.writeConfigMap('kip-status', { 'coverage.yaml': 'new' }, { a: 'b' }, '41');
    const [, , created, patched] = server.requests;
    assert.deepEqual([created?.method, created?.path, JSON.parse(created?.body ?? '{}')], ['POST', path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kip-status', namespace: 'cache', labels: { a: 'b' } }, data: { 'coverage.yaml': 'new' } }]);
    assert.deepEqual([patched?.method, patched?.path, patched?.headers['content-type'], JSON.parse(patched?.body ?? '{}')], [
      'PATCH', `${path}/kip-status`, 'application/merge-patch+json', { metadata: { resourceVersion: '41' }, data: { 'coverage.yaml': 'new' } },
    ]);
  });

  it('reads a DaemonSet as plain data, dates as the server wrote them', async () => {
    server.routes = [(request) => (request.path === DAEMONSET_PATH ? { status: 200, body: liveDaemonSet } : undefined)];
    const read = await cluster.readDaemonSet('kip');
    assert.equal(Object.getPrototypeOf(read), Object.prototype);
    assert.equal(read?.metadata.uid, 'uid-7');
    assert.equal(read?.metadata.creationTimestamp, '2026-11-01T00:00:00.000Z');
  });

  it('reads 404 as absent', async () => {
    assert.equal(await cluster.readDaemonSet('kip'), undefined);
    assert.equal(await cluster.readCronJobUid('puller'), undefined);
    assert.deepEqual(server.requests.map((request) => request.path), [DAEMONSET_PATH, '/apis/batch/v1/namespaces/cache/cronjobs/puller']);
  });

  it('reads a Deployment\'s UID, whether it is being deleted and its finalizers, or that it is absent', async () => {
    const path = '/apis/apps/v1/namespaces/cache/deployments/';
    const deployment = (name: string, deletionTimestamp?: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'cache', uid: `uid-${name}`, ...(deletionTimestamp ? { deletionTimestamp, finalizers: ['orphan'] } : {}) }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } } });
    server.routes = [
      (request) => (request.path === `${path}running` ? { status: 200, body: deployment('running') } : undefined),
      (request) => (request.path === `${path}going` ? { status: 200, body: deployment('going', '2026-11-24T12:00:00Z') } : undefined),
    ];
    assert.deepEqual(await cluster.readDeployment('running'), { uid: 'uid-running', deleting: false, finalizers: [] });
    assert.deepEqual(await cluster.readDeployment('going'), { uid: 'uid-going', deleting: true, finalizers: ['orphan'] });
    assert.equal(await cluster.readDeployment('gone'), undefined);
    assert.deepEqual(server.requests.map((request) => `${request.method} ${request.path}`), [`GET ${path}running`, `GET ${path}going`, `GET ${path}gone`]);
    server.routes = [() => status(403, 'Forbidden', 'deployments.apps "x" is forbidden')];
    const error = await rejection(cluster.readDeployment('x'));
    assert.equal(error.status, 403);
    assert.equal(error.resource, 'deployments.apps');
  });

  it('sends its own User-Agent on every request', async () => {
    await cluster.readDaemonSet('kip');
    await cluster.readCronJobUid('puller');
    assert.deepEqual(server.requests.map((request) => request.headers['user-agent']), ['kubernetes-image-puller/9.8.7', 'kubernetes-image-puller/9.8.7']);
  });

  it('maps a Status answer to an ApiError with the verb, the resource and the server\'s reason and message', async () => {
    server.routes = [() => status(403, 'Forbidden', 'daemonsets.apps "kip" is forbidden: User "x" cannot get resource')];
    const error = await rejection(cluster.readDaemonSet('kip'));
    assert.deepEqual(
      [error.status, error.reason, error.message, error.verb, error.resource, error.retryAfterSeconds],
      [403, 'Forbidden', 'daemonsets.apps "kip" is forbidden: User "x" cannot get resource', 'get', 'daemonsets.apps', undefined],
    );
  });

  it('keeps the server\'s Retry-After', async () => {
    server.routes = [() => status(429, 'TooManyRequests', 'slow down', { 'Retry-After': '7' })];
    const error = await rejection(cluster.readDaemonSet('kip'));
    assert.deepEqual([error.status, error.retryAfterSeconds], [429, 7]);
  });

  it('ignores a Retry-After that is not a number of seconds', async () => {
    server.routes = [() => status(503, 'ServiceUnavailable', 'busy', { 'Retry-After': 'Wed, 21 Oct 2026 07:28:00 GMT' })];
    const error = await rejection(cluster.readDaemonSet('kip'));
    assert.deepEqual([error.status, error.retryAfterSeconds], [503, undefined]);
  });

  it('reports an answer without a Status body by its HTTP code', async () => {
    server.routes = [() => ({ status: 502 })];
    const error = await rejection(cluster.readDaemonSet('kip'));
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
    await cluster.deleteDaemonSet('kip', 'uid-7');
    const body = JSON.parse(server.requests[0]?.body ?? '{}') as { preconditions?: { uid?: string }; propagationPolicy?: string };
    assert.deepEqual([body.preconditions?.uid, body.propagationPolicy], ['uid-7', 'Background']);
  });

  it('deletes the DaemonSet it names', async () => {
    server.routes = [(request) => (request.method === 'DELETE' ? { status: 200, body: { kind: 'Status', status: 'Success' } } : undefined)];
    await cluster.deleteDaemonSet('kip-gpu', 'uid-9');
    assert.deepEqual(server.writes(), ['DELETE /apis/apps/v1/namespaces/cache/daemonsets/kip-gpu']);
  });

  it('lists DaemonSets by label, page by page, as plain data', async () => {
    server.routes = [(request) => {
      if (request.path !== '/apis/apps/v1/namespaces/cache/daemonsets') return undefined;
      const item = (name: string) => ({ ...liveDaemonSet, metadata: { ...liveDaemonSet.metadata, name } });
      return request.query.get('continue') === null
        ? { status: 200, body: { metadata: { continue: 'page-2' }, items: [item('kip'), item('kip-gpu')] } }
        : { status: 200, body: { metadata: {}, items: [item('kip-gpu-2')] } };
    }];
    const listed = await cluster.listDaemonSets('app.kubernetes.io/managed-by=kubernetes-image-puller');
    assert.deepEqual(listed.map((daemonSet) => daemonSet.metadata.name), ['kip', 'kip-gpu', 'kip-gpu-2']);
    assert.equal(Object.getPrototypeOf(listed[0]), Object.prototype);
    assert.equal(listed[0]?.metadata.creationTimestamp, '2026-11-01T00:00:00.000Z');
    assert.deepEqual(server.requests.map((request) => [request.method, request.query.get('labelSelector'), request.query.get('continue')]), [
      ['GET', 'app.kubernetes.io/managed-by=kubernetes-image-puller', null],
      ['GET', 'app.kubernetes.io/managed-by=kubernetes-image-puller', 'page-2'],
    ]);
  });

  it('names a failed list by its verb', async () => {
    server.routes = [() => status(403, 'Forbidden', 'cannot list')];
    const error = await rejection(cluster.listDaemonSets('a=b'));
    assert.deepEqual([error.verb, error.resource], ['list', 'daemonsets.apps']);
  });

  it('records an Event about the DaemonSet it is given', async () => {
    server.routes = [(request) => (request.method === 'POST' ? { status: 201, body: JSON.parse(request.body) as object } : undefined)];
    await cluster.recordEvent({ ...liveDaemonSet, metadata: { ...liveDaemonSet.metadata, name: 'kip-gpu' } }, 'Normal', 'Created', 'created');
    const event = JSON.parse(server.requests[0]?.body ?? '{}') as { metadata: { generateName: string }; involvedObject: { name: string; uid: string } };
    assert.deepEqual([event.metadata.generateName, event.involvedObject.name, event.involvedObject.uid], ['kip-gpu.', 'kip-gpu', 'uid-7']);
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
    await cluster.visitPods('app=kip', (pod) => names.push(pod.metadata.name ?? ''));
    assert.deepEqual(names, ['a', 'b', 'c']);
    assert.deepEqual(server.requests.map((request) => [request.query.get('labelSelector'), request.query.get('limit'), request.query.get('continue')]), [['app=kip', '500', null], ['app=kip', '500', 'page-2']]);
  });

  it('sends objects as they are, unknown fields included, with strict field validation', async () => {
    server.routes = [(request) => ({ status: request.method === 'POST' ? 201 : 200, body: JSON.parse(request.body) as object })];
    const body = structuredClone(liveDaemonSet) as unknown as DaemonSet;
    (body.spec.template.spec as unknown as Record<string, unknown>).affinity = { nodeAffinity: { hostPath: { path: '/' } } };
    await cluster.createDaemonSet(body);
    await cluster.replaceDaemonSet(body);
    for (const request of server.requests) {
      assert.deepEqual((JSON.parse(request.body) as DaemonSet).spec.template.spec.affinity, { nodeAffinity: { hostPath: { path: '/' } } });
      assert.equal(request.query.get('fieldValidation'), 'Strict');
      assert.equal(request.query.get('dryRun'), null, 'a real write is not a dry run');
    }
  });

  it('previews a create and an update as dry runs that return what the server would store', async () => {
    server.routes = [(request) => ({ status: 200, body: { ...JSON.parse(request.body) as object, metadata: { ...liveDaemonSet.metadata, labels: { 'policy.example/team': 'platform' } } } })];
    const created = await cluster.previewCreate(liveDaemonSet);
    const replaced = await cluster.previewReplace(liveDaemonSet);
    assert.deepEqual([created.metadata.labels, replaced.metadata.labels], [{ 'policy.example/team': 'platform' }, { 'policy.example/team': 'platform' }]);
    assert.deepEqual(server.requests.map((request) => [request.method, request.query.get('dryRun'), request.query.get('fieldValidation')]), [['POST', 'All', 'Strict'], ['PUT', 'All', 'Strict']]);
  });

  it('names the fields the server rejected: strict decoding errors and 422 causes', async () => {
    server.routes = [() => status(400, 'BadRequest', '.spec.template.spec.affinity.nodeAffinity: strict decoding error: unknown field "spec.template.spec.affinity.nodeAffinity.hostPath"')];
    assert.deepEqual((await rejection(cluster.previewReplace(liveDaemonSet as unknown as DaemonSet))).fields, ['spec.template.spec.affinity.nodeAffinity.hostPath']);
    server.routes = [() => ({
      status: 422,
      body: { kind: 'Status', reason: 'Invalid', message: 'DaemonSet.apps "kip" is invalid', details: { causes: [{ field: 'spec.template.spec.tolerations[0].effect' }, { field: 'spec.template.spec.tolerations[0].key' }] } },
    })];
    const invalid = await rejection(cluster.previewReplace(liveDaemonSet));
    assert.deepEqual([invalid.status, invalid.fields], [422, ['spec.template.spec.tolerations[0].effect', 'spec.template.spec.tolerations[0].key']]);
  });

  it('reads a named Secret\'s type and data as stored, and 404 as absent', async () => {
    server.routes = [(request) => (request.path === '/api/v1/namespaces/cache/secrets/pull'
      ? { status: 200, body: { metadata: { name: 'pull' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'e30=' } } }
      : undefined)];
    assert.deepEqual(await cluster.readSecret('pull'), { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'e30=' } });
    assert.equal(await cluster.readSecret('missing'), undefined);
  });

  it('lists the Warning Events of one DaemonSet by UID', async () => {
    server.routes = [(request) => (request.path === '/api/v1/namespaces/cache/events'
      ? { status: 200, body: { metadata: {}, items: [{ metadata: { name: 'e1' }, involvedObject: {}, reason: 'FailedCreate', message: 'exceeded quota', count: 4 }] } }
      : undefined)];
    assert.deepEqual(await cluster.listWarningEvents('uid-7'), [{ reason: 'FailedCreate', message: 'exceeded quota', count: 4 }]);
    assert.equal(server.requests[0]?.query.get('fieldSelector'), 'involvedObject.uid=uid-7,type=Warning');
  });

  it('counts its requests by HTTP verb', async () => {
    const before = cluster.requests();
    await cluster.readDaemonSet('kip');
    await cluster.readCronJobUid('puller');
    await rejection(cluster.deleteDaemonSet('kip', 'uid-7'));
    const now = cluster.requests();
    assert.equal(now.total - before.total, 3);
    assert.equal((now.byVerb.GET ?? 0) - (before.byVerb.GET ?? 0), 2);
    assert.equal((now.byVerb.DELETE ?? 0) - (before.byVerb.DELETE ?? 0), 1);
  });
});

describe('kube adapter with a server that never answers', () => {
  const server = new ApiServer();
  let url = '';
  before(async () => {
    url = await server.start();
    server.routes = [() => ({ status: 200, hang: true })];
  });
  after(() => server.stop());

  it('gives up on a request when the pass\'s deadline comes, as a retryable failure', async () => {
    const started = Date.now();
    const cluster = createCluster(kubeConfigFor(url), { namespace: 'cache', version: '1', deadline: () => started + 2500 });
    const error = await rejection(cluster.readDaemonSet('kip'));
    const took = Date.now() - started;
    assert.deepEqual([error.status, error.message, error.retryable], [0, 'the API server did not answer in time', true]);
    assert.ok(took >= 2000 && took < 5000, `took ${String(took)} ms`);
  });

  it('cancels a request in flight when the pass is interrupted, and does not retry it', async () => {
    const interrupt = new AbortController();
    const cluster = createCluster(kubeConfigFor(url), { namespace: 'cache', version: '1', signal: interrupt.signal });
    setTimeout(() => interrupt.abort(), 200);
    const started = Date.now();
    const error = await rejection(cluster.readDaemonSet('kip'));
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual([error.status, error.retryable], [0, false]);
  });
});

describe('loadKubeConfig', () => {
  const empty = mkdtempSync(join(tmpdir(), 'kip-home-'));

  it('names a KUBECONFIG that points at no file', () => {
    assert.throws(() => loadKubeConfig({ KUBECONFIG: '/nonexistent/kubeconfig', HOME: empty }), (error: unknown) =>
      error instanceof ClusterConfigError && error.message === 'KUBECONFIG=/nonexistent/kubeconfig names no file that exists; point it at a kubeconfig or unset it');
  });

  it('says what is missing when there is no kubeconfig and no ServiceAccount', () => {
    assert.throws(() => loadKubeConfig({ HOME: empty }), (error: unknown) =>
      error instanceof ClusterConfigError && error.message.startsWith(`no cluster configuration: KUBECONFIG is not set, ${empty}/.kube/config does not exist`));
  });

  it('reads the file KUBECONFIG names', () => {
    const file = join(empty, 'config');
    writeFileSync(file, JSON.stringify({ clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443' } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }));
    assert.equal(loadKubeConfig({ KUBECONFIG: file, HOME: empty }).getCurrentCluster()?.server, 'https://10.0.0.1:6443');
  });
});

describe('kube adapter without a server', () => {
  it('reports a refused connection as status 0 naming the cause', async () => {
    const server = new ApiServer();
    const url = await server.start();
    await server.stop();
    const error = await rejection(createCluster(kubeConfigFor(url), { namespace: 'cache', version: '1' }).readDaemonSet('kip'));
    assert.deepEqual([error.status, error.message, error.retryable], [0, 'cannot reach the API server (ECONNREFUSED)', true]);
  });
});

// The pass's coverage step against the in-memory cluster: measured from the pods after the
// rollout, in the summary, a status ConfigMap written only when it changes, a warning and an Event
// for nodes at another digest, and never a different exit code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../src/kube/cluster.ts';
import { passSummary } from '../src/cli/summary.ts';
import { loadConfig } from '../src/config/config.ts';
import type { Pod } from '../src/kube/k8s-types.ts';
import { runPass } from '../src/pass/run.ts';
import { statusConfigMapName } from '../src/pass/coverage.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { MemoryRegistry } from './support/memory-registry.ts';
import { fixedClock, silent } from './support/run-pass.ts';

const digestOf = (seed: string): string => `sha256:${seed.repeat(64).slice(0, 64)}`;
const STATUS = statusConfigMapName('kubernetes-image-puller');
const ENV = { IMAGES: 'a=nginx:1;b=redis:7', NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30', REFRESH_MODE: 'digest' };

function pass(cluster: MemoryCluster, registry: MemoryRegistry, env: Record<string, string> = {}) {
  const config = loadConfig({ ...ENV, ...env });
  const clock = fixedClock();
  return { config, outcome: runPass({ config, cluster, registry, log: silent, now: clock.now, sleep: clock.sleep, signal: new AbortController().signal }) };
}

/** A caching pod on `node` that pulled nginx:1 and redis:7 at these digests. */
function pod(node: string, nginx: string, redis: string): Pod {
  const held = (name: string, image: string, digest: string) => ({ name, image, imageID: `docker.io/library/${image.split(':')[0] ?? ''}@${digest}`, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
  return {
    metadata: { name: `kip-${node}` },
    spec: { nodeName: node, initContainers: [{ name: 'kip-install-helper', image: 'kip:1' }, { name: 'a', image: 'nginx:1' }, { name: 'b', image: 'redis:7' }], containers: [{ name: 'kip-hold', image: 'kip:1' }] },
    status: { initContainerStatuses: [held('a', 'nginx:1', nginx), held('b', 'redis:7', redis)] },
  };
}

function registryWith(nginx: string, redis: string): MemoryRegistry {
  const registry = new MemoryRegistry();
  registry.digests.set('nginx:1', nginx).set('redis:7', redis);
  return registry;
}

describe('runPass coverage', () => {
  it('measures every node at the registry\'s digest, reports it, and writes the status ConfigMap once', async () => {
    const cluster = new MemoryCluster();
    const registry = registryWith(digestOf('1'), digestOf('7'));
    cluster.pods = ['n1', 'n2', 'n3'].map((node) => pod(node, digestOf('1'), digestOf('7')));
    const first = pass(cluster, registry);
    const outcome = await first.outcome;
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(outcome.coverage.map(({ daemonSet, coverage }) => [daemonSet, coverage.complete, coverage.expected]), [['kubernetes-image-puller', 3, 3]]);
    const summary = passSummary(first.config, outcome, { durationMs: 1, requests: cluster.requests(), warnings: [] });
    assert.deepEqual(summary.coverage, { complete: 3, expected: 3, basis: { registry: 2 } });
    assert.deepEqual(cluster.configMapWrites, [STATUS]);
    const written = cluster.configMaps.get(STATUS);
    assert.match(written?.data['coverage.yaml'] ?? '', new RegExp(`digest: "${digestOf('1')}"`));
    assert.deepEqual(written?.labels, { 'app.kubernetes.io/managed-by': 'kubernetes-image-puller', 'app.kubernetes.io/name': 'kubernetes-image-puller' });

    const quiet = await pass(cluster, registry).outcome;
    assert.equal(quiet.action, 'unchanged');
    assert.deepEqual(cluster.configMapWrites, [STATUS], 'the same coverage is not written again');
  });

  it('rewrites the status ConfigMap when coverage changes, naming the version it read', async () => {
    const cluster = new MemoryCluster();
    const registry = registryWith(digestOf('1'), digestOf('7'));
    cluster.pods = [pod('n1', digestOf('1'), digestOf('7'))];
    await pass(cluster, registry).outcome;
    cluster.pods = [pod('n1', digestOf('1'), digestOf('7')), pod('n2', digestOf('1'), digestOf('7'))];
    await pass(cluster, registry).outcome;
    assert.deepEqual(cluster.configMapWrites, [STATUS, STATUS]);
    assert.match(cluster.configMaps.get(STATUS)?.data['coverage.yaml'] ?? '', /withPod: 2/);
  });

  it('warns of a node at another digest and records a StaleDigest Event, and still exits 0', async () => {
    const cluster = new MemoryCluster();
    const registry = registryWith(digestOf('1'), digestOf('7'));
    cluster.pods = [pod('n1', digestOf('1'), digestOf('7')), pod('n2', digestOf('2'), digestOf('7')), pod('n3', digestOf('1'), digestOf('7'))];
    const outcome = await pass(cluster, registry).outcome;
    assert.equal(outcome.exitCode, 0);
    const stale = outcome.warnings.filter((warning) => warning.includes('another digest'));
    assert.equal(stale.length, 1);
    assert.match(stale[0] ?? '', /^nginx:1: 1 of 3 nodes of DaemonSet kubernetes-image-puller hold another digest than the digest the registry gave \(sha256:111111111111\): sha256:222222222222 on 1 node/);
    assert.ok(cluster.eventMessages.some((message) => message.startsWith('StaleDigest: nginx:1: 1 of 3 nodes')));
    assert.equal(outcome.coverage[0]?.coverage.complete, 2);
  });

  it('takes the digest most nodes hold when the registry could not be asked, and says so', async () => {
    const cluster = new MemoryCluster();
    cluster.pods = [pod('n1', digestOf('1'), digestOf('7')), pod('n2', digestOf('1'), digestOf('7')), pod('n3', digestOf('2'), digestOf('7'))];
    const { config, outcome: running } = pass(cluster, new MemoryRegistry(), { REFRESH_MODE: 'restart' });
    const outcome = await running;
    const summary = passSummary(config, outcome, { durationMs: 1, requests: cluster.requests(), warnings: [] }) as { coverage: { basis: Record<string, number>; images: { image: string; basis: string; current: number }[] } };
    assert.deepEqual(summary.coverage.basis, { majority: 2 });
    assert.deepEqual(summary.coverage.images.map(({ image, basis, current }) => [image, basis, current]), [['nginx:1', 'majority', 2]]);
  });

  it('a pass that cannot list its pods says so and ends as it would have', async () => {
    class NoPods extends MemoryCluster {
      override async visitPods(): Promise<void> {
        await Promise.resolve();
        throw new ApiError({ status: 403, reason: 'Forbidden', message: 'pods is forbidden', verb: 'list', resource: 'pods' });
      }
    }
    const cluster = new NoPods();
    const outcome = await pass(cluster, registryWith(digestOf('1'), digestOf('7'))).outcome;
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(outcome.coverage, []);
    assert.ok(outcome.warnings.some((warning) => warning.startsWith('could not list the caching pods to measure coverage: pods is forbidden')));
    assert.deepEqual(cluster.configMapWrites, []);
  });

  it('a Role without the status ConfigMap gets a warning that says what to grant, and exit 0', async () => {
    class NoConfigMaps extends MemoryCluster {
      override writeConfigMap(): Promise<void> {
        return Promise.reject(new ApiError({ status: 403, reason: 'Forbidden', message: 'configmaps is forbidden', verb: 'create', resource: 'configmaps' }));
      }
    }
    const cluster = new NoConfigMaps();
    const outcome = await pass(cluster, registryWith(digestOf('1'), digestOf('7'))).outcome;
    assert.equal(outcome.exitCode, 0);
    assert.ok(outcome.warnings.some((warning) => warning.includes(`may not write the status ConfigMap ${STATUS} (403 Forbidden)`)));
  });

  it('a pass that exits 2 measures nothing and writes no ConfigMap', async () => {
    const cluster = new MemoryCluster();
    cluster.rejectedFields = ['spec.template.spec.nodeSelector'];
    const outcome = await pass(cluster, registryWith(digestOf('1'), digestOf('7'))).outcome;
    assert.equal(outcome.exitCode, 2);
    assert.deepEqual(outcome.coverage, []);
    assert.deepEqual(cluster.configMapWrites, []);
  });
});

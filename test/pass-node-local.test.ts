// Images on loopback registries (localhost, 127.0.0.0/8, ::1). A node pulls them from its own
// loopback; a pass in a pod (KUBERNETES_SERVICE_HOST set) has a loopback of its own, which is no
// node's, so it cannot know what the nodes would get: such an image is unresolved, reason
// "node-local", and never asked. A pass run on a host (a workstation, the e2e suite) asks the host's
// loopback as before: on a one-machine cluster that is the node's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { runPass } from '../src/pass/run.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { MemoryRegistry } from './support/memory-registry.ts';
import { fixedClock, silent } from './support/run-pass.ts';

const IMAGES = 'local=localhost:5000/team/app:1;ip=127.0.0.1:5000/tools;six=[::1]:5000/six:2;bare=localhost/app:1;hub=nginx:1;lan=registry.lan:5000/app:3';
const LOOPBACK = ['localhost:5000/team/app:1', '127.0.0.1:5000/tools', '[::1]:5000/six:2', 'localhost/app:1'];

function pass(cluster: MemoryCluster, registry: MemoryRegistry, runsInPod: boolean | undefined) {
  return runPass({
    config: loadConfig({ NAMESPACE: 'cache', ROLLOUT_TIMEOUT_SECONDS: '30', REFRESH_MODE: 'digest', IMAGES }),
    cluster,
    registry,
    log: silent,
    ...fixedClock(),
    signal: new AbortController().signal,
    ...(runsInPod === undefined ? {} : { runsInPod }),
  });
}

describe('digest refresh of images on loopback registries', () => {
  it('in a pod: not asked, unresolved with reason node-local and a message saying why; other registries asked', async () => {
    const registry = new MemoryRegistry();
    const outcome = await pass(new MemoryCluster(), registry, true);
    assert.deepEqual(registry.asked.flat(), ['nginx:1', 'registry.lan:5000/app:3']);
    assert.deepEqual(outcome.refresh?.unresolved.map(({ image, reason }) => [image, reason]), LOOPBACK.map((image) => [image, 'node-local']));
    assert.match(outcome.refresh?.unresolved[0]?.message ?? '', /localhost:5000 is a loopback address: each node pulls localhost:5000\/team\/app:1 from itself, and this pass runs in a pod, whose loopback is no node's/);
    assert.deepEqual(Object.keys(JSON.parse(outcome.daemonSets[0]?.refresh?.templateAnnotations['kubernetes-image-puller/digests'] ?? '{}') as object).sort(), ['nginx:1', 'registry.lan:5000/app:3']);
  });

  it('in a pod, keeps the digest it remembers for such an image', async () => {
    const cluster = new MemoryCluster();
    const registry = new MemoryRegistry();
    await pass(cluster, registry, false);
    const remembered = cluster.daemonSet?.spec.template.metadata.annotations?.['kubernetes-image-puller/digests'];
    const outcome = await pass(cluster, registry, true);
    assert.equal(outcome.action, 'unchanged');
    assert.equal(cluster.daemonSet?.spec.template.metadata.annotations?.['kubernetes-image-puller/digests'], remembered);
  });

  for (const runsInPod of [false, undefined]) {
    it(`on a host (runsInPod ${String(runsInPod)}): asks loopback registries like any other`, async () => {
      const registry = new MemoryRegistry();
      const outcome = await pass(new MemoryCluster(), registry, runsInPod);
      assert.deepEqual(registry.asked.flat(), [...LOOPBACK, 'nginx:1', 'registry.lan:5000/app:3']);
      assert.deepEqual(outcome.refresh?.unresolved, []);
    });
  }
});

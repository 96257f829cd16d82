// The puller on a real node: a kubelet with containerd beside the kwok nodes, pulling from a local
// registry. kwok only pretends to run pods; here the images are really pulled, cached and kept, and
// a broken one fails the way a kubelet says it does.
// The node exists only while this file runs (before() starts it with e2e/cluster/registry.sh and
// real-node.sh, after() stops it and deletes the Node), so the other files keep seeing only kwok
// nodes. It is also tainted, and the passes here select it and tolerate the taint.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { join } from 'node:path';
import { createTestNamespace, deleteNamespace, inCi, isReady, kubeconfigPath, kubectlOk, pullerPods, repoRoot, run, waitFor, type Pod } from './lib/cluster.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { expectPass, helperContainer, holdContainer, passEnv } from './lib/puller.ts';
import { pullerManifestRequests, pushImage } from './lib/registry.ts';
import {
  ctr,
  imageFiles,
  kubeletLog,
  kubeletStartedAt,
  nodeImages,
  realNode,
  realNodeTaint,
  realNodeUnavailable,
  registryAddress,
  registryDigest,
  registryManifest,
  registryRequests,
  startRealNode,
  stopRealNodeAfterwards,
} from './lib/real-node.ts';

type ContainerStatus = {
  name: string;
  image: string;
  imageID: string;
  ready: boolean;
  restartCount: number;
  state?: {
    running?: { startedAt: string };
    waiting?: { reason?: string; message?: string };
    terminated?: { exitCode: number; reason?: string; containerID?: string };
  };
};
type PodStatus = { initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };

const unavailable = realNodeUnavailable();
// The kubelet's image GC period (pkg/kubelet: ImageGCPeriod), counted from its start.
const gcPeriodMs = 5 * 60_000;
const containerdAgent = /^containerd\//;

const namespaces: string[] = [];
let registry = '';

before(
  async () => {
    if (unavailable !== undefined) {
      assert.ok(!inCi(), `${unavailable}; under CI the real node must run`);
      return;
    }
    await startRealNode();
    registry = registryAddress();
  },
  { timeout: 360_000 },
);

stopRealNodeAfterwards(namespaces, unavailable);

/** The pass's variables for a DaemonSet on the real node only, with the helper from the local registry. */
function realNodeEnv(ns: string, images: string, extra: Record<string, string> = {}): Record<string, string> {
  return passEnv(ns, {
    IMAGES: images,
    KIP_IMAGE: `${registry}/kip/helper:1`,
    NODE_SELECTOR: JSON.stringify({ 'kubernetes.io/hostname': realNode }),
    TOLERATIONS: JSON.stringify([{ key: realNodeTaint, operator: 'Exists', effect: 'NoSchedule' }]),
    ...extra,
  });
}

async function onlyPod(ns: string): Promise<Pod & { status: PodStatus }> {
  const pods = await pullerPods(ns);
  assert.equal(pods.length, 1, `one puller pod in ${ns}, got ${pods.map((p) => p.metadata.name).join(', ') || 'none'}`);
  const pod = pods[0] as Pod & { status: PodStatus };
  assert.equal(pod.spec.nodeName, realNode, 'the pod is on the real node');
  return pod;
}

function statusOf(pod: { status: PodStatus }, name: string): ContainerStatus {
  const status = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].find((s) => s.name === name);
  assert.ok(status !== undefined, `no status for container ${name}: ${JSON.stringify(pod.status)}`);
  return status;
}

describe('a real node', { skip: inCi() ? false : unavailable }, () => {
  let cacheNs = '';
  // name in IMAGES → repository in the local registry, all at tag 1
  const cached = { one: 'kip/one-file', distroless: 'kip/distroless' };
  const images = (): string =>
    Object.entries(cached)
      .map(([name, repository]) => `${name}=${registry}/${repository}:1`)
      .join(';');

  test('1. the cached images are in the node\'s image store, at the digests the registry serves', { timeout: 180_000 }, async (t) => {
    cacheNs = await createTestNamespace('kip-real-cache');
    namespaces.push(cacheNs);
    const summary = expectPass(await runPass(realNodeEnv(cacheNs, images(), { ROLLOUT_TIMEOUT_SECONDS: '120' })), 0);
    assert.equal(summary.desired, 1, 'the DaemonSet targets the real node only');
    assert.equal(summary.ready, 1);

    const pod = await onlyPod(cacheNs);
    const store = await nodeImages();
    const served = registryRequests();
    const expected: Array<[string, string]> = [[helperContainer, 'kip/helper'], ...Object.entries(cached), [holdContainer, 'kip/helper']];
    for (const [container, repository] of expected) {
      const digest = await registryDigest(registry, repository, '1');
      assert.equal(store.get(`${registry}/${repository}:1`), digest, `containerd holds ${repository}:1 at the registry's digest`);
      assert.equal(statusOf(pod, container).imageID, `${registry}/${repository}@${digest}`, `imageID of ${container}`);
      // Every layer came from this registry to the node's containerd: pulled, not found in a cache.
      for (const layer of (await registryManifest(registry, repository, digest)).layers) {
        assert.ok(
          served.some((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer.digest}`) && r.status === 200 && containerdAgent.test(r.userAgent)),
          `the registry served layer ${layer.digest} of ${repository} to containerd`,
        );
      }
      t.diagnostic(`${container}: ${repository}@${digest}`);
    }
    t.diagnostic(`pass ${String(summary.durationMs)} ms to a Ready pod`);
  });

  test('2. an image with a single file and a distroless-style one run their init containers and the pod is Ready', { timeout: 60_000 }, async () => {
    assert.ok(cacheNs !== '', 'scenario 1 created the DaemonSet');
    // The images really have nothing to run: no shell, no libc, no helper.
    assert.deepEqual(await imageFiles(`${registry}/kip/one-file:1`), ['hello.txt']);
    assert.deepEqual(await imageFiles(`${registry}/kip/distroless:1`), [
      'app',
      'app/README',
      'app/config.json',
      'etc',
      'etc/group',
      'etc/os-release',
      'etc/passwd',
      'tmp',
    ]);
    const pod = await onlyPod(cacheNs);
    assert.ok(isReady(pod), `the pod is Ready: ${JSON.stringify(pod.status)}`);
    for (const name of [helperContainer, ...Object.keys(cached)]) {
      const terminated = statusOf(pod, name).state?.terminated;
      assert.equal(terminated?.exitCode, 0, `${name} exit code: ${JSON.stringify(statusOf(pod, name))}`);
      assert.equal(terminated?.reason, 'Completed', name);
      assert.match(terminated?.containerID ?? '', /^containerd:\/\//, `${name} ran in containerd`);
    }
    const hold = statusOf(pod, holdContainer);
    assert.ok(hold.ready && hold.state?.running !== undefined, `kip-hold runs: ${JSON.stringify(hold)}`);
    assert.equal(hold.restartCount, 0, 'kip-hold never restarted');
  });

  test('4. refresh by digest: a pass with nothing moved makes the node ask nothing; a re-pushed tag is pulled again at its new digest', { timeout: 240_000 }, async () => {
    const ns = await createTestNamespace('kip-real-digest');
    namespaces.push(ns);
    const reference = `${registry}/kip/moving:1`;
    const first = pushImage(registry, 'kip/moving:1', 'first content');
    const env = realNodeEnv(ns, `moving=${reference}`, { REFRESH_MODE: 'digest', ROLLOUT_TIMEOUT_SECONDS: '120' });
    expectPass(await runPass(env), 0);
    assert.equal(statusOf(await onlyPod(ns), 'moving').imageID, `${registry}/kip/moving@${first}`);

    const asked = registryRequests().length;
    const quiet = expectPass(await runPass(env), 0);
    assert.equal(quiet.action, 'unchanged');
    // containerd's imageID is the registry's digest, so the node counts as current by the registry's basis.
    assert.deepEqual(quiet.coverage, { complete: 1, expected: 1, basis: { registry: 1 } });
    const since = registryRequests().slice(asked);
    const manifests = (agent: RegExp): string[] => since.filter((r) => agent.test(r.userAgent) && r.path.includes('/manifests/')).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(manifests(containerdAgent), [], 'the node asked the registry nothing');
    assert.deepEqual(pullerManifestRequests(since), ['HEAD /v2/kip/moving/manifests/1'], 'the pass asked once');

    const second = pushImage(registry, 'kip/moving:1', 'second content');
    assert.notEqual(second, first);
    // A pod that restarts with no pass in between pulls the tag at its new digest, while the pod
    // template still records the first: `status` shows that node at another digest.
    const [restarted] = await pullerPods(ns);
    await kubectlOk(['-n', ns, 'delete', 'pod', restarted?.metadata.name ?? '', '--wait=false']);
    await waitFor('the replacement pod at the new digest', async () => {
      const pods = await pullerPods(ns);
      return pods.length === 1 && pods[0]?.metadata.name !== restarted?.metadata.name && isReady(pods[0] as Pod) && statusOf(pods[0] as Pod & { status: PodStatus }, 'moving').imageID === `${registry}/kip/moving@${second}`;
    }, { timeoutMs: 60_000 });
    const env0 = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', KUBECONFIG: kubeconfigPath() };
    const table = await run(process.execPath, [join(repoRoot, 'dist', 'main.mjs'), 'status', '-n', ns], { env: env0, timeoutMs: 60_000 });
    assert.match(table.stdout, new RegExp(`\\n {4}${realNode}: \\S+/kip/moving:1 other-digest ${second.slice(0, 'sha256:'.length + 12)}\\n`), explain(table));
    const rolled = expectPass(await runPass(env), 0);
    assert.equal(rolled.action, 'updated');
    assert.deepEqual((rolled.coverage as { complete: number }).complete, 1, 'the roll brings the node back to the digest the registry serves');
    await waitFor('one Ready pod at the new digest', async () => {
      const pods = await pullerPods(ns);
      return pods.length === 1 && isReady(pods[0] as Pod) && statusOf(pods[0] as Pod & { status: PodStatus }, 'moving').imageID === `${registry}/kip/moving@${second}`;
    }, { timeoutMs: 60_000 });
    assert.equal((await nodeImages()).get(reference), second, 'containerd holds the tag at its new digest');
  });

  test('5. a tag the registry does not have: exit 3, and the diagnosis gives the kubelet\'s reason and what the registry answered', { timeout: 120_000 }, async (t) => {
    const ns = await createTestNamespace('kip-real-broken');
    namespaces.push(ns);
    const broken = `${registry}/kip/one-file:missing`;
    const result = await runPass(realNodeEnv(ns, `one=${registry}/kip/one-file:1;broken=${broken}`, { ROLLOUT_TIMEOUT_SECONDS: '30' }));
    const summary = expectPass(result, 3);
    assert.equal(summary.desired, 1);
    assert.equal(summary.ready, 0);

    // What the real kubelet reports: containerd's words for the registry's 404.
    const pod = await onlyPod(ns);
    const waiting = statusOf(pod, 'broken').state?.waiting;
    assert.ok(waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff', `the kubelet's reason: ${JSON.stringify(waiting)}`);
    assert.match(waiting.message ?? '', new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not found$`), 'the kubelet\'s message');
    assert.ok(
      registryRequests().some((r) => r.path === '/v2/kip/one-file/manifests/missing' && r.status === 404 && containerdAgent.test(r.userAgent)),
      'the registry answered containerd 404 for the missing tag',
    );
    // The image before the broken one was pulled and its init container ran.
    assert.equal(statusOf(pod, 'one').state?.terminated?.exitCode, 0, 'the image listed before the broken one ran');

    const diagnosis = (summary.diagnosis) ?? [];
    const line = diagnosis.find((l) => l.startsWith(`${broken}: `));
    assert.ok(line !== undefined, `a diagnosis line for ${broken}\n${explain(result)}`);
    assert.match(line, /: (ErrImagePull|ImagePullBackOff) on 1 node, e\.g\. kip-real-0 \(/, 'reason and node');
    assert.match(line, /: not found\)$/, `the registry's answer survives in the line: ${line}`);
    t.diagnostic(line);
    // The kubelet keeps retrying the pull; nothing more to learn from it.
    await deleteNamespace(ns);
  });

  test('3. image GC removes an image no pod uses and keeps every cached one', { timeout: gcPeriodMs * 2 + 120_000 }, async (t) => {
    assert.ok(cacheNs !== '', 'scenario 1 created the DaemonSet');
    const unused = `${registry}/kip/unused:1`;
    await ctr(['images', 'pull', '--plain-http', unused]);
    const before = await nodeImages();
    assert.ok(before.has(unused), `ctr pulled ${unused}`);
    const keep = [`${registry}/kip/helper:1`, ...Object.values(cached).map((repository) => `${registry}/${repository}:1`)];
    for (const reference of keep) assert.ok(before.has(reference), `${reference} is cached before GC`);

    // The kubelet collects at its start and every 5 minutes after; an image unused for more than a
    // minute (imageMaximumGCAge) goes at the first of those that comes after the pull. One due in
    // less than 30 s may already be under way without it, so the wait then runs to the one after.
    const started = kubeletStartedAt().getTime();
    const nextGc = started + Math.ceil((Date.now() - started + 30_000) / gcPeriodMs) * gcPeriodMs;
    const waitMs = nextGc - Date.now() + 90_000;
    const pulledAt = Date.now();
    await waitFor(`the kubelet's image GC to remove ${unused}`, async () => !(await nodeImages()).has(unused), { timeoutMs: waitMs, intervalMs: 2_000 });
    const removedAfter = Math.round((Date.now() - started) / 1000);

    // The removal is the kubelet's: its log names the image's ID (its config digest) as collected.
    const unusedConfig = (await registryManifest(registry, 'kip/unused', '1')).config.digest;
    const removals = kubeletLog()
      .split('\n')
      .filter((line) => line.includes('Removing image to free bytes'));
    assert.ok(removals.some((line) => line.includes(unusedConfig)), `the kubelet logged removing ${unusedConfig}:\n${removals.join('\n')}`);

    const after = await nodeImages();
    for (const reference of keep) {
      assert.equal(after.get(reference), before.get(reference), `${reference} is still cached after GC`);
      const repository = reference.slice(registry.length + 1, reference.lastIndexOf(':'));
      const config = (await registryManifest(registry, repository, '1')).config.digest;
      assert.ok(!removals.some((line) => line.includes(config)), `the kubelet never tried to remove ${reference}`);
    }
    const pod = await onlyPod(cacheNs);
    assert.ok(isReady(pod), 'the pod is still Ready');
    // containerd 1.6 does not pin its sandbox image, so the kubelet may collect pause:1 as well.
    const pauseConfig = (await registryManifest(registry, 'kip/pause', '1')).config.digest;
    t.diagnostic(`the kubelet removed ${String(removals.length)} image(s)${removals.some((line) => line.includes(pauseConfig)) ? ', among them the pause image' : ''}`);
    t.diagnostic(`${unused} pulled ${String(Math.round((pulledAt - started) / 1000))}s and removed ${String(removedAfter)}s after the kubelet started; ${String(keep.length)} cached images kept`);
  });
});

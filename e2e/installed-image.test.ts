// What users install, run where users run it. The image is built from the repository's Dockerfile
// (npm run image: buildah against local stand-ins of its base images when no Docker engine answers),
// pushed to the local registry, installed with `helm install` and with the OpenShift templates, and
// run by the CronJob controller as a Job on the real node: containerd pulls it, runc runs it as its
// USER with a read-only root filesystem, and the pass inside reads in-cluster config (the
// `kubernetes` Service through kube-proxy, the projected token and CA). Nothing is emulated: the
// Job's pod is the pass, and the DaemonSet it makes caches the images in containerd's store.
// Like real-node.test.ts, this file starts the registry and the node in before() and stops them in
// after(); the Jobs and the DaemonSets select the node and tolerate its taint.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { createTestNamespace, getJson, inCi, isReady, kubectl, kubectlOk, listJson, pullerPods, run, waitFor, type DaemonSet, type Pod } from './lib/cluster.ts';
import { explain, type PassSummary } from './lib/pass-runner.ts';
import { buildImage, imagePod, jobLogs, logSummary, onRealNode, podResult, podsOfJob, runtimeSpec, waitForJob, type Job } from './lib/installed.ts';
import { chartDir, processOpenShiftTemplates } from './packaging/fixtures.ts';
import { helmLive, helmWithValues } from './packaging/live.ts';
import { nodeImages, realNode, realNodeUnavailable, registryAddress, startRealNode, stopRealNodeAfterwards } from './lib/real-node.ts';
import { registryBinDir } from './lib/registry.ts';

const unavailable = realNodeUnavailable();
const RELEASE = 'kip';
const CRONJOB = 'kubernetes-image-puller';
const namespaces: string[] = [];
let registry = '';
let image = '';
/** The images the installs cache: two of the local registry's test images, neither with a shell. */
let images = '';

before(
  async () => {
    if (unavailable !== undefined) {
      assert.ok(!inCi(), `${unavailable}; under CI the installed image must run on the real node`);
      return;
    }
    await startRealNode();
    registry = registryAddress();
    image = `${registry}/kubernetes-image-puller:dev`;
    images = `one-file=${registry}/kip/one-file:1;distroless=${registry}/kip/distroless:1`;
    await buildImage(image);
  },
  { timeout: 20 * 60_000 },
);

stopRealNodeAfterwards(namespaces, unavailable);

async function namespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  namespaces.push(ns);
  return ns;
}

const realNodePods = async (ns: string): Promise<Pod[]> => (await pullerPods(ns)).filter((pod) => pod.spec.nodeName === realNode);

/** The Job ran on the real node, completed, and its log ends with a summary of exit 0, which it returns. */
async function assertPassJob(ns: string, job: string, action: string): Promise<PassSummary> {
  const { outcome } = await waitForJob(ns, job);
  const logs = await jobLogs(ns, job);
  assert.equal(outcome, 'Complete', `Job ${job}: ${logs}`);
  const pods = await podsOfJob(ns, job);
  assert.equal(pods.length, 1, `one pod, no retry: ${pods.map((p) => p.metadata.name).join(', ')}`);
  assert.equal(pods[0]!.spec.nodeName, realNode, 'the pass ran on the real node');
  const summary = logSummary(logs);
  assert.ok(summary, `kubectl logs job/${job} ends with the summary line:\n${logs}`);
  assert.equal(summary.exitCode, 0, logs);
  assert.equal(summary.action, action, logs);
  return summary;
}

/** The DaemonSet's pod is Ready on the real node and containerd holds every image. */
async function assertCachedOnRealNode(ns: string): Promise<void> {
  const pods = await waitFor('a Ready puller pod on the real node', async () => {
    const ready = (await realNodePods(ns)).filter(isReady);
    return ready.length === 1 ? ready : undefined;
  }, { timeoutMs: 120_000 });
  assert.equal(pods.length, 1);
  const stored = await nodeImages();
  for (const entry of images.split(';')) {
    const reference = entry.slice(entry.indexOf('=') + 1);
    assert.ok(stored.has(reference), `containerd holds ${reference} (it holds ${[...stored.keys()].join(', ')})`);
  }
  assert.ok(stored.has(image), 'containerd holds the installed image (the helper came from it)');
}

describe('the image built from the Dockerfile', { skip: unavailable, timeout: 600_000 }, () => {
  let ns = '';
  before(async () => {
    ns = await namespace('kip-image');
  });

  test('runs --dry-run as its USER 65532:65532 with a read-only root filesystem and prints the DaemonSet', async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify(imagePod('dry-run', image, { args: ['/app/main.mjs', '--dry-run'], env: { IMAGES: images, NAMESPACE: ns, KIP_IMAGE: image } })),
    });
    const { pod, logs } = await podResult(ns, 'dry-run');
    assert.equal(pod.status?.phase, 'Succeeded', logs);
    assert.equal(pod.spec.nodeName, realNode);
    const daemonSet = load(logs) as DaemonSet;
    assert.equal(daemonSet.kind, 'DaemonSet', logs);
    assert.deepEqual(
      daemonSet.spec.template.spec.initContainers?.map((c) => c.image).filter((i) => i !== image),
      images.split(';').map((e) => e.slice(e.indexOf('=') + 1)),
    );
    const spec = await runtimeSpec(pod.status.containerStatuses![0]!.containerID!);
    assert.deepEqual([spec.process.user.uid, spec.process.user.gid], [65532, 65532], 'runc ran the image as its USER');
    assert.equal(spec.root.readonly, true);
  });

  test('runs as an arbitrary UID in group 0, as OpenShift restricted-v2 assigns one: the pass and the static helper', async () => {
    const user = { runAsUser: 1000650000, runAsGroup: 0 };
    await kubectlOk(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          imagePod('arbitrary-uid', image, { args: ['/app/main.mjs', '--dry-run'], env: { IMAGES: images, NAMESPACE: ns }, user }),
          imagePod('helper', image, { command: ['/usr/local/bin/kip-helper', 'exit'], user }),
        ],
      }),
    });
    for (const name of ['arbitrary-uid', 'helper']) {
      const { pod, logs } = await podResult(ns, name);
      assert.equal(pod.status?.phase, 'Succeeded', `${name}: ${logs}`);
      const spec = await runtimeSpec(pod.status.containerStatuses![0]!.containerID!);
      assert.deepEqual([spec.process.user.uid, spec.process.user.gid], [1000650000, 0], name);
      if (name === 'arbitrary-uid') assert.equal((load(logs) as DaemonSet).kind, 'DaemonSet', logs);
    }
  });

  test('holds a static helper (no program interpreter), no shell, and labels that say what it is', async () => {
    const crane = `${registryBinDir()}/crane`;
    const listing = await run('bash', ['-c', 'set -o pipefail; "$1" export --insecure "$2" - | tar -t', 'files', crane, image]);
    assert.equal(listing.code, 0, explain(listing));
    const files = new Set(listing.stdout.split('\n'));
    for (const path of ['app/main.mjs', 'usr/local/bin/kip-helper', 'nodejs/bin/node']) assert.ok(files.has(path), `${path} is in the image`);
    assert.ok(!files.has('bin/sh') && !files.has('usr/bin/sh'), 'no shell');
    const headers = await run('bash', ['-c', 'set -eo pipefail; d=$(mktemp -d); trap \'rm -rf "$d"\' EXIT; "$1" export --insecure "$2" - | tar -x -C "$d" usr/local/bin/kip-helper; readelf -lW "$d/usr/local/bin/kip-helper"', 'elf', crane, image]);
    assert.equal(headers.code, 0, explain(headers));
    assert.match(headers.stdout, /LOAD/);
    assert.doesNotMatch(headers.stdout, /INTERP/, 'kip-helper asks for no dynamic loader, so it runs in any image');
    const config = JSON.parse((await run(crane, ['config', '--insecure', image])).stdout) as { config: { User: string; Labels: Record<string, string>; Entrypoint?: string[]; Cmd?: string[] } };
    assert.equal(config.config.User, '65532:65532');
    assert.equal(config.config.Labels['org.opencontainers.image.title'], 'kubernetes-image-puller');
    assert.equal(config.config.Labels['org.opencontainers.image.licenses'], 'EPL-2.0');
    assert.match(config.config.Labels['org.opencontainers.image.version'] ?? '', /\S/);
    assert.deepEqual([...(config.config.Entrypoint ?? []), ...(config.config.Cmd ?? [])], ['/nodejs/bin/node', '/app/main.mjs']);
  });
});

describe('helm install on a cluster with a real node: the scheduled Job does the pass', { skip: unavailable, timeout: 900_000 }, () => {
  let ns = '';
  let installedAt = 0;
  const values = () => ({
    image: { repository: image.slice(0, image.lastIndexOf(':')), tag: 'dev' },
    configMap: { images, nodeSelector: onRealNode.nodeSelector, tolerations: onRealNode.tolerations },
    job: onRealNode,
    // Every minute, so that the controller starts one while the test waits; no first pass, so the
    // DaemonSet is the scheduled Job's doing.
    schedule: '* * * * *',
    firstPass: { enabled: false },
  });

  before(async () => {
    ns = await namespace('kip-installed');
  });
  after(async () => {
    if (ns !== '') await helmLive(['uninstall', RELEASE, '-n', ns, '--ignore-not-found', '--wait', '--timeout', '60s']);
  });

  test('helm install; the CronJob controller starts a Job within its minute; its pod on the real node makes the DaemonSet and exits 0', async () => {
    installedAt = Date.now();
    const res = await helmWithValues(['install', RELEASE, chartDir, '-n', ns], values());
    assert.equal(res.code, 0, explain(res));
    const scheduled = await waitFor(
      'a Job the CronJob controller created',
      async () => (await listJson<Job>('jobs', { namespace: ns })).find((job) => job.metadata.ownerReferences?.some((owner) => owner.kind === 'CronJob')),
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    const createdAt = Date.parse(scheduled.metadata.creationTimestamp);
    assert.ok(createdAt - installedAt < 75_000, `the Job came ${createdAt - installedAt} ms after helm install`);
    const summary = await assertPassJob(ns, scheduled.metadata.name, 'created');
    // In a pod, a registry on 127.0.0.1 is the pod's loopback, not the node's: the pass says so
    // instead of asking it.
    const unresolved = (summary['registry'] as { unresolved?: Array<{ image: string; reason: string }> } | undefined)?.unresolved ?? [];
    assert.deepEqual(
      unresolved.map((u) => [u.image, u.reason]).sort(),
      images.split(';').map((e) => [e.slice(e.indexOf('=') + 1), 'node-local']).sort(),
      JSON.stringify(summary),
    );
    await assertCachedOnRealNode(ns);
    // No more scheduled runs while the rest is checked; a suspended CronJob still makes manual Jobs.
    await kubectlOk(['patch', 'cronjob', CRONJOB, '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  });

  test('kubectl create job --from=cronjob runs the same pass: unchanged, exit 0', async () => {
    await kubectlOk(['create', 'job', 'manual-1', `--from=cronjob/${CRONJOB}`, '-n', ns]);
    await assertPassJob(ns, 'manual-1', 'unchanged');
  });

  test('a bad value in the ConfigMap fails the Job at once, without a retry; kubectl logs names the variable and value; the DaemonSet is untouched', async () => {
    const before = await getJson<DaemonSet>('daemonset', CRONJOB, ns);
    assert.ok(before);
    const bad = '{"kubernetes.io/hostname": ';
    await kubectlOk(['patch', 'configmap', 'k8s-image-puller', '-n', ns, '--type=merge', '-p', JSON.stringify({ data: { NODE_SELECTOR: bad } })]);
    try {
      await kubectlOk(['create', 'job', 'bad-1', `--from=cronjob/${CRONJOB}`, '-n', ns]);
      const { job, outcome } = await waitForJob(ns, 'bad-1');
      assert.equal(outcome, 'Failed');
      assert.equal(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'PodFailurePolicy', 'exit 2 fails the Job by its pod failure policy');
      const pods = await podsOfJob(ns, 'bad-1');
      assert.equal(pods.length, 1, 'no retry');
      const logs = (await kubectl(['logs', `job/bad-1`, '-n', ns])).stdout;
      assert.match(logs, /NODE_SELECTOR/, logs);
      assert.ok(logs.includes(JSON.stringify(bad).slice(1, -1)) || logs.includes(bad), `the log quotes the value:\n${logs}`);
      assert.equal(logSummary(logs)?.exitCode, 2, logs);
      const afterwards = await getJson<DaemonSet>('daemonset', CRONJOB, ns);
      assert.equal(afterwards?.metadata.resourceVersion, before.metadata.resourceVersion, 'the DaemonSet was not written');
    } finally {
      await kubectlOk(['patch', 'configmap', 'k8s-image-puller', '-n', ns, '--type=merge', '-p', JSON.stringify({ data: { NODE_SELECTOR: JSON.stringify(onRealNode.nodeSelector) } })]);
    }
  });

  test('helm test, as NOTES gives it, runs its --dry-run=server pod in the image on the real node and passes', async () => {
    // On success Helm deletes the pod (hook-succeeded), so there are no logs to ask for afterwards.
    const res = await helmLive(['test', RELEASE, '-n', ns, '--timeout', '120s']);
    assert.equal(res.code, 0, explain(res));
    assert.match(res.stdout, /Phase:\s+Succeeded/, res.stdout);
  });

  test('helm uninstall removes the DaemonSet and its pod from the node', async () => {
    const res = await helmLive(['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '120s']);
    assert.equal(res.code, 0, explain(res));
    await waitFor('the DaemonSet to go', async () => (await getJson('daemonset', CRONJOB, ns)) === undefined, { timeoutMs: 60_000 });
    await waitFor('its pod to leave the real node', async () => (await realNodePods(ns)).length === 0, { timeoutMs: 90_000 });
  });
});

describe('the OpenShift templates on a cluster with a real node: a Job from their CronJob does the pass', { skip: unavailable, timeout: 600_000 }, () => {
  test('oc process | apply, then kubectl create job --from=cronjob: the DaemonSet caches the images, at a UID the platform picks', async () => {
    const ns = await namespace('kip-openshift-real');
    const objects = processOpenShiftTemplates({
      IMAGE: image.slice(0, image.lastIndexOf(':')),
      IMAGE_TAG: 'dev',
      IMAGES: images,
      NAMESPACE: ns,
      NODE_SELECTOR: JSON.stringify(onRealNode.nodeSelector),
      TOLERATIONS: JSON.stringify(onRealNode.tolerations),
      // What restricted-v2 would assign from the project's range; the templates leave it empty.
      CACHING_RUN_AS_USER: '1000650000',
    });
    await kubectlOk(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
    // The templates have no parameter for the pass's own node; an operator would patch it like this.
    await kubectlOk(['patch', 'cronjob', CRONJOB, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { jobTemplate: { spec: { template: { spec: onRealNode } } } } })]);
    await kubectlOk(['create', 'job', 'openshift-1', `--from=cronjob/${CRONJOB}`, '-n', ns]);
    await assertPassJob(ns, 'openshift-1', 'created');
    await assertCachedOnRealNode(ns);
    const [pod] = await realNodePods(ns);
    const statuses = (pod as { status?: { initContainerStatuses?: Array<{ containerID?: string }> } }).status?.initContainerStatuses ?? [];
    const spec = await runtimeSpec(statuses[statuses.length - 1]!.containerID!);
    assert.equal(spec.process.user.uid, 1000650000);
  });
});

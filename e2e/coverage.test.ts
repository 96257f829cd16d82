// Coverage on simulated nodes against the real control plane and a real registry: the pass counts
// nodes per image from its pods' imageIDs (kwok's stage reports the digest the pod template
// records, as a runtime reports what it pulled), writes the status ConfigMap once, not again on a
// quiet pass, and reports a node at another digest without failing. `status` reads the same.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load as loadYaml } from 'js-yaml';
import { createTestNamespace, getJson, kubeconfigPath, kubectlOk, labelNode, listJson, nodeIsSchedulable, pullerPods, releaseNamespace, repoRoot, run, waitFor, waitForRollout } from './lib/cluster.ts';
import type { Node } from './lib/cluster.ts';
import type { KubeObject } from './lib/cluster.ts';
import { auditLogOrSkip, auditRequests, formatRequests, writesIn } from './lib/audit.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { expectPass, passEnv } from './lib/puller.ts';
import { LocalRegistry } from './lib/registry.ts';
import { prometheusBinary } from '../test/support/prometheus-binaries.ts';

const STATUS = 'kubernetes-image-puller-status';

type Coverage = { complete: number; expected: number; basis: Record<string, number>; images?: { image: string; otherDigest?: Record<string, number>; current: number }[] };
type StatusDocument = { daemonSets: { name: string; nodes: { expected: number; withPod: number; complete: number }; images: { image: string; basis: string; digest?: string; current: number; otherDigests?: { digest: string; nodes: number }[] }[]; incompleteNodes: number }[] };

async function statusConfigMap(namespace: string): Promise<{ resourceVersion: string; document: StatusDocument } | undefined> {
  const configMap = await getJson<KubeObject & { data?: Record<string, string> }>('configmap', STATUS, namespace);
  if (configMap === undefined) return undefined;
  return { resourceVersion: configMap.metadata.resourceVersion ?? '', document: loadYaml(configMap.data?.['coverage.yaml'] ?? '') as StatusDocument };
}

function status(namespace: string, ...args: string[]) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', KUBECONFIG: kubeconfigPath() };
  return run(process.execPath, [join(repoRoot, 'dist', 'main.mjs'), 'status', '-n', namespace, ...args], { env, timeoutMs: 60_000 });
}

describe('coverage on simulated nodes', { timeout: 300_000 }, () => {
  const registry = new LocalRegistry();
  let ns = '';
  let env: Record<string, string> = {};
  let nodes = 0;
  let appDigest = '';

  before(async () => {
    await registry.start();
    appDigest = registry.push('kip/app:v1', 'app one');
    const tools = registry.push('team/tools:v1', 'tools one');
    ns = await createTestNamespace('kip-coverage');
    env = passEnv(ns, { IMAGES: `app=${registry.address}/kip/app:v1;tools=${registry.address}/team/tools@${tools}`, REFRESH_MODE: 'digest' });
  });
  after(async () => {
    await registry.stop();
    await releaseNamespace(ns);
  });

  test('counts every node at the registry\'s digest, writes the status ConfigMap once and not again on a quiet pass', async (t) => {
    const created = expectPass(await runPass(env), 0);
    assert.equal(created.action, 'created');
    await waitForRollout(ns);
    const written = await statusConfigMap(ns);
    assert.ok(written, 'the first pass wrote the status ConfigMap');
    const since = new Date();
    const result = await runPass(env);
    const quiet = expectPass(result, 0);
    assert.equal(quiet.action, 'unchanged', explain(result));
    nodes = Number(quiet.desired);
    assert.ok(nodes > 0, explain(result));
    const coverage = quiet.coverage as Coverage;
    assert.deepEqual(coverage, { complete: nodes, expected: nodes, basis: { registry: 1, pinned: 1 } }, explain(result));
    const again = await statusConfigMap(ns);
    assert.equal(again?.resourceVersion, written.resourceVersion, 'a quiet pass does not rewrite it');
    const [only] = again?.document.daemonSets ?? [];
    assert.deepEqual(only?.nodes, { expected: nodes, withPod: nodes, complete: nodes });
    assert.deepEqual(only?.images.map(({ image, basis, digest, current }) => [image, basis, digest, current]), [
      [`${registry.address}/kip/app:v1`, 'registry', appDigest, nodes],
      [env.IMAGES?.split(';')[1]?.slice('tools='.length), 'pinned', env.IMAGES?.split('@')[1], nodes],
    ]);
    if (auditLogOrSkip(t)) {
      const requests = await auditRequests({ since, namespace: ns });
      assert.deepEqual(writesIn(requests), [], formatRequests(requests));
      assert.deepEqual(requests.filter((request) => request.objectRef?.resource === 'pods').map((request) => request.verb), ['list'], formatRequests(requests));
    }
  });

  test('a node at another digest is a warning and an Event, exit 0; the ConfigMap and `status` show it', async () => {
    const [pod] = await pullerPods(ns);
    assert.ok(pod?.metadata.name);
    const node = pod.spec.nodeName ?? "";
    const statuses = (pod.status as { initContainerStatuses?: { name: string }[] }).initContainerStatuses ?? [];
    const index = statuses.findIndex((item) => item.name === 'app');
    const stale = `sha256:${'5'.repeat(64)}`;
    await kubectlOk(['-n', ns, 'patch', 'pod', pod.metadata.name, '--subresource=status', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: `/status/initContainerStatuses/${String(index)}/imageID`, value: `${registry.address}/kip/app@${stale}` }])]);
    const before = await statusConfigMap(ns);
    const result = await runPass(env);
    const summary = expectPass(result, 0);
    const coverage = summary.coverage as Coverage;
    assert.equal(coverage.complete, nodes - 1, explain(result));
    assert.deepEqual(coverage.images?.map(({ image, otherDigest, current }) => [image, otherDigest, current]), [[`${registry.address}/kip/app:v1`, { [`sha256:${'5'.repeat(12)}`]: 1 }, nodes - 1]]);
    assert.ok((summary.warnings as string[] | undefined)?.some((warning) => warning.includes('hold another digest')), explain(result));
    const events = await listJson<KubeObject & { reason?: string; type?: string }>('events', { namespace: ns });
    assert.ok(events.some((event) => event.reason === 'StaleDigest' && event.type === 'Warning'), 'a StaleDigest Event');
    const after = await statusConfigMap(ns);
    assert.notEqual(after?.resourceVersion, before?.resourceVersion, 'changed coverage is written');
    assert.equal(after?.document.daemonSets[0]?.images[0]?.otherDigests?.[0]?.digest, stale);

    const table = await status(ns);
    assert.equal(table.code, 0, explain(table));
    assert.match(table.stdout, new RegExp(`^DaemonSet kubernetes-image-puller \\(set default\\): ${String(nodes - 1)}/${String(nodes)} nodes complete\\n`));
    assert.match(table.stdout, new RegExp(`\\n {2}nodes not complete \\(1\\):\\n {4}${node}: ${registry.address.replace(/[.]/g, '\\.')}/kip/app:v1 other-digest sha256:5{12}\\n`));
    const json = await status(ns, '-o', 'json');
    assert.equal((JSON.parse(json.stdout) as StatusDocument).daemonSets[0]?.incompleteNodes, 1, explain(json));
  });

  test('`status` for an install that is not there says so and exits 0', async () => {
    const result = await status(ns, '--name', 'no-such-install');
    assert.equal(result.code, 0, explain(result));
    assert.match(result.stdout, /^no DaemonSet of install "no-such-install" in namespace /);
  });
});

describe('warm-node labels (NODE_LABELS=true) on simulated nodes', { timeout: 300_000 }, () => {
  const POOL = 'kip-e2e/warm-pool';
  const WARM = 'kubernetes-image-puller.io/warm';
  const DEFAULT = 'kubernetes-image-puller.io/default';
  const pinned = `quay.io/kip-e2e/warm@sha256:${'7'.repeat(64)}`;
  let ns = '';
  let nodes: string[] = [];

  before(async () => {
    ns = await createTestNamespace('kip-warm');
    nodes = (await listJson<Node>('nodes')).filter((node) => nodeIsSchedulable(node) && (node.spec.taints ?? []).length === 0).map((node) => node.metadata.name).sort();
    assert.ok(nodes.length >= 2, `two schedulable nodes: ${nodes.join(', ')}`);
  });
  after(async () => {
    for (const node of nodes) await labelNode(node, { [POOL]: null, [WARM]: null, [DEFAULT]: null });
    await releaseNamespace(ns);
  });

  const env = () => passEnv(ns, {
    IMAGES: `base=${pinned}`,
    IMAGE_SETS: JSON.stringify([{ name: 'warm', images: { tool: pinned }, nodeSelector: { [POOL]: 'yes' } }]),
    NODE_LABELS: 'true',
  });
  const labelled = async (label: string): Promise<string[]> => (await listJson<Node>('nodes', { selector: label })).map((node) => node.metadata.name).sort();

  test('a node gets its set\'s label when it holds the set\'s images, and loses it when it leaves the pool', async () => {
    const [first = '', second = ''] = nodes;
    await labelNode(first, { [POOL]: 'yes' });
    const created = expectPass(await runPass(env()), 0);
    assert.deepEqual(created.nodeLabels, [{ label: DEFAULT, nodes: nodes.length, added: nodes.length, removed: 0 }, { label: WARM, nodes: 1, added: 1, removed: 0 }], JSON.stringify(created));
    assert.deepEqual(await labelled(WARM), [first]);
    assert.deepEqual(await labelled(DEFAULT), nodes);

    await labelNode(first, { [POOL]: null });
    await labelNode(second, { [POOL]: 'yes' });
    // The DaemonSet controller moves the set's pod; no pass is needed for that.
    await waitFor(`the warm set's pod on ${second} only`, async () => {
      const pods = await pullerPods(ns, 'kubernetes-image-puller-warm');
      return pods.length === 1 && pods[0]?.spec.nodeName === second && pods[0].status?.phase === 'Running';
    }, { timeoutMs: 60_000 });
    const moved = expectPass(await runPass(env()), 0);
    assert.deepEqual(moved.nodeLabels, [{ label: DEFAULT, nodes: nodes.length, added: 0, removed: 0 }, { label: WARM, nodes: 1, added: 1, removed: 1 }], JSON.stringify(moved));
    assert.deepEqual(await labelled(WARM), [second]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0); });
    });
  });
}

describe('metrics pushed to a real Pushgateway', { timeout: 120_000 }, () => {
  let gateway: ChildProcess | undefined;
  let base = '';
  let ns = '';
  const pinned = `quay.io/kip-e2e/metrics@sha256:${'8'.repeat(64)}`;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${String(port)}`;
    gateway = spawn(prometheusBinary('pushgateway'), [`--web.listen-address=127.0.0.1:${String(port)}`, '--log.level=warn'], { stdio: 'ignore' });
    await waitFor('the Pushgateway to be ready', () => fetch(`${base}/-/ready`).then((response) => response.ok, () => false), { timeoutMs: 20_000 });
    ns = await createTestNamespace('kip-metrics');
  });
  after(async () => {
    gateway?.kill('SIGTERM');
    await releaseNamespace(ns);
  });

  test('a pass pushes coverage, its exit code and its last success, read back over HTTP; a Pushgateway that is down is a warning', async () => {
    const env = passEnv(ns, { IMAGES: `tool=${pinned}`, METRICS_PUSHGATEWAY_URL: base });
    expectPass(await runPass(env), 0);
    await waitForRollout(ns);
    const result = await runPass(env);
    const summary = expectPass(result, 0);
    const nodes = Number(summary.desired);
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (metric: string, labels: string): number | undefined => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${metric}{`) && labels.split(',').every((label) => candidate.includes(label)) && candidate.includes(`namespace="${ns}"`));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    assert.equal(value('kip_set_nodes_expected', 'set="default"'), nodes, text);
    assert.equal(value('kip_set_nodes_complete', 'set="default"'), nodes, text);
    assert.equal(value('kip_image_nodes', `image="${pinned}",state="current"`), nodes, text);
    assert.equal(value('kip_pass_exit_code', 'job="kubernetes-image-puller"'), 0, text);
    assert.ok((value('kip_last_success_timestamp_seconds', 'job="kubernetes-image-puller"') ?? 0) > Date.now() / 1000 - 120, text);

    const down = expectPass(await runPass({ ...env, METRICS_PUSHGATEWAY_URL: `http://127.0.0.1:${String(await freePort())}` }), 0);
    assert.ok((down.warnings as string[] | undefined)?.some((warning) => warning.includes('127.0.0.1')), JSON.stringify(down));
  });
});

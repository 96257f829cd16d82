// Switching from the Go puller with what its users already have: a values file in the upstream chart's
// current layout, `helm upgrade` from the upstream chart while its DaemonSet exists, and the OpenShift
// templates applied over the Go puller's objects while its Deployment still runs.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { apply, createTestNamespace, deleteNamespace, getJson, kubectlOk, listJson, waitFor } from '../lib/cluster.ts';
import { explain, runPass } from '../lib/pass-runner.ts';
import { auditRequests, formatRequests, hasAuditLog, writesIn } from '../lib/audit.ts';
import { assertCaches, expectPass, getPuller, imageList, managedLabels } from '../lib/puller.ts';
import { chartDir, processOpenShiftTemplates, upstreamChartValues, upstreamOpenShiftParameters } from './fixtures.ts';
import {
  createGoPullerDaemonSet,
  goPullerConfigMap,
  goPullerDeployment,
  releaseHold,
  writeUpstreamChart,
} from './go-puller.ts';
import { canI, helmLive, helmWithValues, livePassEnv, livePodSpec, tokenKubeconfig } from './live.ts';

const RELEASE = 'kip';
const NAME = upstreamChartValues.deploymentName;
const SA = upstreamChartValues.serviceAccount.name;
const GO_IMAGES = imageList('che-code=quay.io/che-incubator/che-code:next;base-developer-image=quay.io/devfile/base-developer-image:ubi9-latest');

const namespaces: Array<{ ns: string; held?: string }> = [];
after(async () => {
  if (process.env.KIP_E2E_KEEP === '1') return;
  for (const { ns, held } of namespaces) {
    if (held !== undefined) await releaseHold(ns, held);
    await helmLive(['uninstall', RELEASE, '-n', ns, '--timeout', '60s']);
    await deleteNamespace(ns);
  }
});

async function namespace(prefix: string, held?: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  namespaces.push({ ns, ...(held === undefined ? {} : { held }) });
  return ns;
}

/** The pass's own DaemonSet: this program's labels, owned by the CronJob alone. */
async function assertOwnDaemonSet(ns: string): Promise<void> {
  const ds = await getPuller(ns, NAME);
  assert.equal(ds.metadata.labels?.['app.kubernetes.io/managed-by'], managedLabels['app.kubernetes.io/managed-by']);
  const owners = (ds.metadata as { ownerReferences?: Array<{ kind: string; name: string }> }).ownerReferences ?? [];
  assert.deepEqual(owners.map((o) => `${o.kind}/${o.name}`), [`CronJob/${NAME}`]);
}

async function eventReasons(ns: string): Promise<string[]> {
  const events = await listJson<{ reason?: string; involvedObject?: { kind?: string } }>('events', { namespace: ns });
  return events.filter((e) => e.involvedObject?.kind === 'DaemonSet').map((e) => e.reason ?? '');
}

describe('switching from the Go puller', { timeout: 600_000 }, () => {
  test('helm install with a values file in the upstream chart\'s current layout', async () => {
    const ns = await namespace('kip-upstream-layout');
    const res = await helmWithValues(['install', RELEASE, chartDir, '-n', ns, '--wait', '--timeout', '180s'], upstreamChartValues);
    assert.equal(res.code, 0, explain(res));
    assert.doesNotMatch(res.stderr, /warning/i, 'helm warned about the values');
    assert.match(res.stdout, /image\.tag=next names the Go puller's image .*this release runs quay\.io\/eclipse\/kubernetes-image-puller:latest instead/s, 'NOTES');
    assert.match(res.stdout, /updateStrategy configured the Go puller's Deployment and has no effect here/, 'NOTES');

    const cronJob = await getJson('cronjob', NAME, ns);
    assert.equal(cronJob?.metadata.annotations?.['reloader.stakater.com/auto'], 'true', 'deploymentAnnotations on the CronJob');
    const template = (cronJob?.['spec'] as { jobTemplate: { spec: { template: { metadata: { annotations?: Record<string, string> } } } } }).jobTemplate.spec.template;
    assert.equal(template.metadata.annotations?.['reloader.stakater.com/auto'], 'true', 'deploymentAnnotations on its pods');
    const pod = await livePodSpec('cronjob', NAME, ns);
    const container = pod.containers[0]!;
    assert.deepEqual(container.resources, upstreamChartValues.resources);
    assert.equal(container.image, 'quay.io/eclipse/kubernetes-image-puller:latest');
    assert.equal(container.securityContext?.['readOnlyRootFilesystem'], true);

    const kubeconfig = await tokenKubeconfig(ns, SA);
    const summary = expectPass(await runPass(await livePassEnv('cronjob', NAME, ns), { kubeconfig }), 0);
    assert.equal(summary.action, 'created', JSON.stringify(summary));
    assertCaches(await getPuller(ns, NAME), GO_IMAGES.map(([n, i]) => `${n}=${i}`).join(';'));

    const access: Array<[string, string, boolean]> = [
      ['get', `deployments.apps/${NAME}`, true],
      ['get', 'deployments.apps/someone-elses', false],
      ['list', 'deployments.apps', false],
      ['update', `deployments.apps/${NAME}`, false],
    ];
    for (const [verb, resource, allowed] of access) assert.equal(await canI(kubeconfig, verb, resource, ns), allowed, `${verb} ${resource}`);
  });

  test('helm upgrade from the upstream chart, its DaemonSet still there, ends healthy with no manual step', async () => {
    const ns = await namespace('kip-go-upgrade', NAME);
    const installed = await helmWithValues(['install', RELEASE, writeUpstreamChart(), '-n', ns, '--timeout', '120s'], upstreamChartValues);
    assert.equal(installed.code, 0, explain(installed));
    await createGoPullerDaemonSet(ns, NAME, GO_IMAGES);
    const goDaemonSet = await getPuller(ns, NAME);

    const upgraded = await helmWithValues(['upgrade', RELEASE, chartDir, '-n', ns, '--wait', '--timeout', '180s'], upstreamChartValues);
    assert.equal(upgraded.code, 0, explain(upgraded));
    const deployment = await getJson('deployment', NAME, ns);
    assert.ok(deployment?.metadata.deletionTimestamp, 'helm upgrade deleted the Go puller\'s Deployment (held by a finalizer, so the pass sees it going)');

    // The first pass, as the chart's first-pass Job runs it, with its ServiceAccount.
    const kubeconfig = await tokenKubeconfig(ns, SA);
    const env = await livePassEnv('job', `${NAME}-first-pass-2`, ns);
    const summary = expectPass(await runPass(env, { kubeconfig }), 0);
    assert.equal(summary.action, 'took-over', JSON.stringify(summary));
    assert.notEqual((await getPuller(ns, NAME)).metadata.uid, goDaemonSet.metadata.uid, 'a new DaemonSet');
    await assertOwnDaemonSet(ns);
    assert.ok((await eventReasons(ns)).includes('TookOver'), 'an Event says the DaemonSet was taken over');

    await releaseHold(ns, NAME);
    await waitFor('the Go puller\'s Deployment to be gone', async () => (await getJson('deployment', NAME, ns)) === undefined, { timeoutMs: 30_000 });
    const next = expectPass(await runPass(await livePassEnv('cronjob', NAME, ns), { kubeconfig }), 0);
    assert.equal(next.action, 'unchanged', JSON.stringify(next));
  });

  test('the OpenShift templates over a running Go puller: a refusal that names its Deployment; deleting it as told ends healthy', async () => {
    const ns = await namespace('kip-go-templates');
    await apply([goPullerDeployment(ns, NAME), goPullerConfigMap(ns, GO_IMAGES.map(([n, i]) => `${n}=${i}`).join(';'))]);
    await createGoPullerDaemonSet(ns, NAME, GO_IMAGES);
    const goDaemonSet = await getPuller(ns, NAME);

    // `oc process -f <file> … | oc apply -f -` for each template, as the upstream README does.
    const objects = processOpenShiftTemplates(upstreamOpenShiftParameters);
    await kubectlOk(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });

    const kubeconfig = await tokenKubeconfig(ns, upstreamOpenShiftParameters['SERVICEACCOUNT_NAME']!);
    const env = await livePassEnv('cronjob', NAME, ns);
    const since = new Date();
    const refused = expectPass(await runPass(env, { kubeconfig }), 4);
    assert.equal(refused.action, 'refused');
    assert.match(refused.error ?? '', new RegExp(`Deployment ${ns}/${NAME} still runs`));
    assert.match(refused.error ?? '', new RegExp(`kubectl -n ${ns} delete deployment ${NAME}`));
    const untouched = await getPuller(ns, NAME);
    assert.equal(untouched.metadata.uid, goDaemonSet.metadata.uid);
    assert.equal(untouched.metadata.generation, goDaemonSet.metadata.generation);
    if (hasAuditLog()) {
      const writes = writesIn(await auditRequests({ since, namespace: ns }));
      assert.deepEqual(writes, [], `writes by the pass:\n${formatRequests(writes)}`);
    }

    await kubectlOk(['-n', ns, 'delete', 'deployment', NAME]);
    const summary = expectPass(await runPass(env, { kubeconfig }), 0);
    assert.ok(['took-over', 'created'].includes(summary.action ?? ''), JSON.stringify(summary));
    await assertOwnDaemonSet(ns);
  });
});

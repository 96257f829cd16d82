// The Helm chart against a real API server, one release through its whole life: install with the
// upstream README values, a pass with the chart's ServiceAccount token, a manual run from the CronJob,
// an upgrade that changes the images, and an uninstall that takes the DaemonSet with it.
// kwok runs no containers (the first-pass Job is simply marked complete), so each pass is run
// here as `node dist/main.mjs` with the environment the CronJob's pod would get.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestNamespace, deleteNamespace, getJson, kubectlOk, waitFor, type DaemonSet } from '../lib/cluster.ts';
import { explain, runPass } from '../lib/pass-runner.ts';
import { assertCaches, expectPass, getPuller } from '../lib/puller.ts';
import { chartDir, upstreamHelmValues } from './fixtures.ts';
import { canI, helmLive, helmWithValues, livePassEnv, livePodSpec, tokenKubeconfig } from './live.ts';

const RELEASE = 'kip';
const CRONJOB = upstreamHelmValues.appName;
const SA = upstreamHelmValues.serviceAccount.name;
const NEW_IMAGES = 'theia=quay.io/eclipse/che-theia:7.99;maven=quay.io/eclipse/che-java11-maven:7.99';

let ns = '';
let saKubeconfig = '';
let firstDaemonSet: DaemonSet | undefined;

before(async () => {
  ns = await createTestNamespace('kip-helm');
});
after(async () => {
  if (ns === '' || process.env.KIP_E2E_KEEP === '1') return;
  await helmLive(['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '60s']);
  await deleteNamespace(ns);
});

describe('helm chart lifecycle', { timeout: 600_000 }, () => {
  test('1. helm install with the upstream README values creates SA, Role, RoleBinding, ConfigMap, CronJob', async () => {
    const res = await helmWithValues(['install', RELEASE, chartDir, '-n', ns, '--wait', '--timeout', '180s'], upstreamHelmValues);
    assert.equal(res.code, 0, explain(res));
    for (const [kind, name] of [
      ['serviceaccount', SA],
      ['role', SA],
      ['rolebinding', SA],
      ['configmap', upstreamHelmValues.configMap.name],
      ['cronjob', CRONJOB],
    ] as const) {
      assert.ok(await getJson(kind, name, ns), `${kind}/${name} was not created`);
    }
    assert.match(res.stdout, /create job --from=cronjob\/kubernetes-image-puller/, 'NOTES.txt explains a manual run');
    assert.doesNotMatch(res.stdout, /updateStrategy|image\.tag=next/, 'no note about upstream values these values do not use');
  });

  test('2. the pass runs with a token of the chart ServiceAccount and creates the DaemonSet owned by the CronJob', async () => {
    saKubeconfig = await tokenKubeconfig(ns, SA);
    const env = await livePassEnv('cronjob', CRONJOB, ns);
    assert.equal(env['NAMESPACE'], ns);
    assert.equal(env['CRONJOB_NAME'], CRONJOB);
    assert.equal(env['IMAGES'], upstreamHelmValues.configMap.images);
    assert.equal(env['CACHING_MEMORY_LIMIT'], upstreamHelmValues.configMap.cachingMemeryLimit);

    const summary = expectPass(await runPass(env, { kubeconfig: saKubeconfig }), 0);
    assert.equal(summary.action, 'created', JSON.stringify(summary));
    const ds = await getPuller(ns, CRONJOB);
    assertCaches(ds, upstreamHelmValues.configMap.images);
    const cronJob = await getJson('cronjob', CRONJOB, ns);
    const owners = (ds.metadata as { ownerReferences?: Array<{ kind: string; name: string; uid: string }> }).ownerReferences ?? [];
    assert.deepEqual(
      owners.map((o) => `${o.kind}/${o.name}/${o.uid}`),
      [`CronJob/${CRONJOB}/${cronJob?.metadata.uid}`],
      'the DaemonSet is owned by the CronJob, so uninstall collects it',
    );
    firstDaemonSet = ds;
  });

  test('2b. the ServiceAccount may do exactly what the pass needs, in its own namespace only', async () => {
    assert.ok(saKubeconfig, 'runs after test 2');
    const clusterWide = undefined;
    const cases: Array<[verb: string, resource: string, namespace: string | undefined, allowed: boolean]> = [
      ['get', 'daemonsets.apps', ns, true],
      ['list', 'daemonsets.apps', ns, true],
      ['create', 'daemonsets.apps', ns, true],
      ['update', 'daemonsets.apps', ns, true],
      ['delete', 'daemonsets.apps', ns, true],
      ['list', 'pods', ns, true],
      ['create', 'events', ns, true],
      ['list', 'events', ns, true],
      ['get', 'cronjobs.batch', ns, true],
      ['get', 'deployments.apps/kubernetes-image-puller', ns, true],
      ['get', 'deployments.apps/another', ns, false],
      ['list', 'deployments.apps', ns, false],
      ['get', 'secrets', ns, false],
      ['list', 'secrets', ns, false],
      ['patch', 'daemonsets.apps', ns, false],
      ['watch', 'daemonsets.apps', ns, false],
      ['update', 'cronjobs.batch', ns, false],
      ['create', 'pods', ns, false],
      ['get', 'daemonsets.apps', 'default', false],
      ['create', 'daemonsets.apps', 'kube-system', false],
      ['list', 'pods', 'default', false],
      ['list', 'events', 'default', false],
      ['watch', 'events', ns, false],
      ['get', 'events', ns, false],
      ['get', 'daemonsets.apps', clusterWide, false],
      ['list', 'nodes', clusterWide, false],
    ];
    const wrong: string[] = [];
    for (const [verb, resource, namespace, allowed] of cases) {
      const answer = await canI(saKubeconfig, verb, resource, namespace);
      const where = namespace === undefined ? 'cluster-wide' : `in ${namespace}`;
      if (answer !== allowed) wrong.push(`${verb} ${resource} ${where}: ${answer ? 'yes' : 'no'}, expected ${allowed ? 'yes' : 'no'}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('3. kubectl create job --from=cronjob gives a Job with the pass pod spec, and its pass changes nothing', async () => {
    const job = 'kip-manual';
    await kubectlOk(['create', 'job', `--from=cronjob/${CRONJOB}`, job, '-n', ns]);
    const pod = await livePodSpec('job', job, ns);
    assert.equal(pod['serviceAccountName'], SA);
    assert.equal(pod['automountServiceAccountToken'], true);
    assert.equal(pod['restartPolicy'], 'Never');
    assert.deepEqual(pod['securityContext'], { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const container = pod.containers[0]!;
    assert.deepEqual(container.envFrom, [{ configMapRef: { name: upstreamHelmValues.configMap.name } }]);
    assert.deepEqual((container.env ?? []).map((e) => e.name), ['NAMESPACE', 'CRONJOB_NAME', 'KIP_IMAGE', 'JOB_DEADLINE_SECONDS', 'SCHEDULED_INTERVAL_HOURS']);
    assert.equal(container.securityContext?.['readOnlyRootFilesystem'], true);
    assert.equal(container.securityContext?.['allowPrivilegeEscalation'], false);

    const env = await livePassEnv('job', job, ns);
    assert.deepEqual(env, await livePassEnv('cronjob', CRONJOB, ns), 'the Job gets the CronJob environment');
    const before = firstDaemonSet ?? (await getPuller(ns, CRONJOB));
    const summary = expectPass(await runPass(env, { kubeconfig: saKubeconfig }), 0);
    assert.equal(summary.action, 'unchanged', JSON.stringify(summary));
    const afterPass = await getPuller(ns, CRONJOB);
    assert.equal(afterPass.metadata.uid, before.metadata.uid, 'same DaemonSet');
    assert.equal(afterPass.metadata.generation, before.metadata.generation, 'the template did not change');
  });

  test('4a. helm upgrade with new images reaches the next pass through the ConfigMap', async () => {
    const values = { ...upstreamHelmValues, configMap: { ...upstreamHelmValues.configMap, images: NEW_IMAGES } };
    const res = await helmWithValues(['upgrade', RELEASE, chartDir, '-n', ns, '--wait', '--timeout', '180s'], values);
    assert.equal(res.code, 0, explain(res));
    const env = await livePassEnv('cronjob', CRONJOB, ns);
    assert.equal(env['IMAGES'], NEW_IMAGES);
    const summary = expectPass(await runPass(env, { kubeconfig: await tokenKubeconfig(ns, SA) }), 0);
    assert.equal(summary.action, 'updated', JSON.stringify(summary));
    assertCaches(await getPuller(ns, CRONJOB), NEW_IMAGES);
  });

  test('4b. helm uninstall garbage-collects the DaemonSet', async () => {
    const res = await helmLive(['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '120s']);
    assert.equal(res.code, 0, explain(res));
    await waitFor('the DaemonSet to be garbage-collected', async () => (await getJson('daemonset', CRONJOB, ns)) === undefined, {
      timeoutMs: 90_000,
    });
    for (const kind of ['cronjob', 'configmap', 'role', 'rolebinding', 'serviceaccount']) {
      const name = kind === 'cronjob' ? CRONJOB : kind === 'configmap' ? upstreamHelmValues.configMap.name : SA;
      assert.equal(await getJson(kind, name, ns), undefined, `${kind}/${name} survived the uninstall`);
    }
  });
});

// The OpenShift templates, processed with the upstream example parameters by the same rules as
// `oc process` (e2e/lib/openshift-template.ts; there is no `oc` here), are accepted by the API server,
// give the chart's objects, and run a pass with the template's ServiceAccount, with the DaemonSet UID
// left to the platform (CACHING_RUN_AS_USER empty) as OpenShift's restricted-v2 needs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestNamespace, getJson, kubectl, kubectlOk, releaseNamespace } from '../lib/cluster.ts';
import { explain, runPass } from '../lib/pass-runner.ts';
import { assertCaches, expectPass, getPuller } from '../lib/puller.ts';
import { loadTemplate, processTemplate } from '../lib/openshift-template.ts';
import {
  comparableToTemplates,
  everyUpstreamOpenShiftParameter,
  openshiftDir,
  openshiftTemplateFiles,
  processOpenShiftTemplates,
  renderChart,
  upstreamHelmValues,
  upstreamOpenShiftParameters,
} from './fixtures.ts';
import { livePassEnv, tokenKubeconfig } from './live.ts';

let ns = '';
let everyParameterNs = '';
before(async () => {
  ns = await createTestNamespace('kip-openshift');
});
after(async () => {
  for (const namespace of [ns, everyParameterNs]) if (namespace !== '') await releaseNamespace(namespace);
});

const objects = processOpenShiftTemplates(upstreamOpenShiftParameters);
const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

describe('OpenShift templates', { timeout: 400_000 }, () => {
  test('pass a server-side dry run', async () => {
    const res = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], { input: list(objects) });
    assert.equal(res.code, 0, explain(res));
  });

  test('apply into a fresh namespace and yield the same objects as the chart', async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], { input: list(objects) });
    const chart = comparableToTemplates(renderChart({ namespace: ns, values: upstreamHelmValues }));
    for (const o of chart) {
      const live = await getJson(o.kind.toLowerCase(), o.metadata.name!, ns);
      assert.ok(live, `${o.kind}/${o.metadata.name} from the chart has no counterpart from the templates`);
    }
    assert.equal(objects.length, chart.length);
  });

  test('a pass with the template environment and ServiceAccount creates the DaemonSet without a fixed UID', async () => {
    const env = await livePassEnv('cronjob', upstreamOpenShiftParameters['DAEMONSET_NAME']!, ns);
    assert.equal(env['CACHING_RUN_AS_USER'], '');
    const kubeconfig = await tokenKubeconfig(ns, upstreamOpenShiftParameters['SERVICEACCOUNT_NAME']!);
    const summary = expectPass(await runPass(env, { kubeconfig }), 0);
    assert.equal(summary.action, 'created', JSON.stringify(summary));
    const ds = await getPuller(ns, upstreamOpenShiftParameters['DAEMONSET_NAME']);
    assertCaches(ds, upstreamOpenShiftParameters['IMAGES']!);
    const podSpec = ds.spec.template.spec as { securityContext?: Record<string, unknown>; initContainers?: Array<{ securityContext?: Record<string, unknown> }> };
    const uids = [podSpec.securityContext?.['runAsUser'], ...(podSpec.initContainers ?? []).map((c) => c.securityContext?.['runAsUser'])];
    assert.deepEqual(uids.filter((u) => u !== undefined), [], 'no runAsUser anywhere: the platform picks it');
  });
});

describe('OpenShift templates with every upstream parameter', { timeout: 200_000 }, () => {
  test('oc process -p accepts each file\'s parameters; the API server takes the objects and a pass with them is healthy', async () => {
    everyParameterNs = await createTestNamespace('kip-openshift-params');
    const objects = openshiftTemplateFiles.flatMap((file) =>
      processTemplate(loadTemplate(join(openshiftDir, file)), everyUpstreamOpenShiftParameter[file]));
    const res = await kubectl(['apply', '-n', everyParameterNs, '-f', '-'], { input: list(objects) });
    assert.equal(res.code, 0, explain(res));

    const env = await livePassEnv('cronjob', 'kubernetes-image-puller', everyParameterNs);
    assert.equal(env['NAMESPACE'], everyParameterNs, 'the pass works in its own project, whatever NAMESPACE says');
    const kubeconfig = await tokenKubeconfig(everyParameterNs, everyUpstreamOpenShiftParameter['app.yaml']['SERVICEACCOUNT_NAME']!);
    const summary = expectPass(await runPass(env, { kubeconfig }), 0);
    assert.equal(summary.action, 'created', JSON.stringify(summary));
    const daemonSetName = everyUpstreamOpenShiftParameter['configmap.yaml']['DAEMONSET_NAME']!;
    const ds = await getPuller(everyParameterNs, daemonSetName);
    assertCaches(ds, everyUpstreamOpenShiftParameter['configmap.yaml']['IMAGES']!.replace(/;$/, ''));
    assert.equal(
      ds.spec.template.spec.initContainers?.[0]?.image,
      `${everyUpstreamOpenShiftParameter['app.yaml']['IMAGE']!}:${everyUpstreamOpenShiftParameter['app.yaml']['IMAGE_TAG']!}`,
      'the helper comes from the image app.yaml runs',
    );
  });
});

// The pass on a cluster that has opinions: a mutating admission policy that adds to every pod
// template, values only the API server can judge, a ResourceQuota that forbids the pods, and no
// API server at all. The steady state must stay quiet and every failure must say what it is.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apply, createTestNamespace, releaseNamespace, kubectlOk, podUids, waitForRollout } from './lib/cluster.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { auditLogOrSkip, auditRequests, formatRequests, realWrites } from './lib/audit.ts';
import { COVERAGE_READS, expectPass, getPuller, isPassList, passEnv } from './lib/puller.ts';

const images = 'alpha=quay.io/kip-e2e/alpha:1.0;beta=quay.io/kip-e2e/beta@sha256:' + 'b'.repeat(64);
const policyLabel = 'policy.kip-e2e/team';

describe('a mutating admission policy adds a label to every pod template', { timeout: 240_000 }, () => {
  let ns = '';
  const policyName = `kip-e2e-team-label-${String(process.pid)}`;

  before(async () => {
    ns = await createTestNamespace('kip-mutated');
    await kubectlOk(['label', 'namespace', ns, `kip-e2e/mutate-${String(process.pid)}=true`]);
    await apply([
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingAdmissionPolicy',
        metadata: { name: policyName },
        spec: {
          matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['daemonsets'] }] },
          failurePolicy: 'Fail',
          reinvocationPolicy: 'Never',
          mutations: [{
            patchType: 'ApplyConfiguration',
            applyConfiguration: {
              expression: `Object{spec: Object.spec{template: Object.spec.template{metadata: Object.spec.template.metadata{labels: {"${policyLabel}": "platform"}}}}}`,
            },
          }],
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingAdmissionPolicyBinding',
        metadata: { name: policyName },
        spec: { policyName, matchResources: { namespaceSelector: { matchLabels: { [`kip-e2e/mutate-${String(process.pid)}`]: 'true' } } } },
      },
    ]);
  });
  after(async () => {
    await kubectlOk(['delete', 'mutatingadmissionpolicybinding,mutatingadmissionpolicy', policyName, '--ignore-not-found']);
    await releaseNamespace(ns);
  });

  test('three passes: the first creates, the next two write nothing and restart no pod', async (t) => {
    // The policy may take a moment to load; the first pass is retried until the label shows.
    let created = expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    for (let attempt = 0; (await getPuller(ns)).spec.template.metadata.labels?.[policyLabel] !== 'platform' && attempt < 20; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await kubectlOk(['delete', 'daemonset', 'kubernetes-image-puller', '-n', ns, '--wait=true']);
      created = expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    }
    assert.equal(created.action, 'created');
    assert.equal((await getPuller(ns)).spec.template.metadata.labels?.[policyLabel], 'platform', 'the policy mutated the pod template');
    await waitForRollout(ns);
    const generation = (await getPuller(ns)).metadata.generation;
    const pods = await podUids(ns);
    const since = new Date();
    for (const round of [2, 3]) {
      const result = await runPass(passEnv(ns, { IMAGES: images }));
      const summary = expectPass(result, 0);
      assert.equal(summary.action, 'unchanged', `pass ${String(round)}\n${explain(result)}`);
      assert.deepEqual(summary.tolerated, [`spec.template.metadata.labels.${policyLabel}`], explain(result));
    }
    assert.equal((await getPuller(ns)).metadata.generation, generation, 'generation unchanged');
    assert.deepEqual(await podUids(ns), pods, 'no pod was replaced');
    if (auditLogOrSkip(t)) {
      const requests = await auditRequests({ since, namespace: ns });
      assert.deepEqual(realWrites(requests), [], `writes by the puller:\n${formatRequests(requests)}`);
      const dryRuns = requests.filter((event) => event.requestURI.includes('dryRun=All'));
      assert.deepEqual([requests.length, dryRuns.length], [2 * (2 + COVERAGE_READS.length), 2], `two passes of one LIST, one dry run and coverage's reads each:\n${formatRequests(requests)}`);
    }
  });

  test('a real change is still written once', async () => {
    const changed = expectPass(await runPass(passEnv(ns, { IMAGES: images.replace('alpha:1.0', 'alpha:1.1') })), 0);
    assert.deepEqual([changed.action, changed.changed], ['updated', ['spec.template.spec.initContainers[alpha].image']]);
    const quiet = expectPass(await runPass(passEnv(ns, { IMAGES: images.replace('alpha:1.0', 'alpha:1.1') })), 0);
    assert.equal(quiet.action, 'unchanged');
  });
});

describe('false is a value', { timeout: 120_000 }, () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('kip-false');
  });
  after(async () => {
    await releaseNamespace(ns);
  });

  test('removing automountServiceAccountToken: false from the live object is repaired', async () => {
    expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    await kubectlOk(['patch', 'daemonset', 'kubernetes-image-puller', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/spec/template/spec/automountServiceAccountToken"}]']);
    const repaired = expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    assert.deepEqual([repaired.action, repaired.changed], ['updated', ['spec.template.spec.automountServiceAccountToken']]);
    assert.equal((await getPuller(ns)).spec.template.spec.automountServiceAccountToken, false);
  });
});

describe('values only the API server can judge', { timeout: 240_000 }, () => {
  let ns = '';
  let resourceVersion = '';
  const cases: Array<{ name: string; variable: string; env: Record<string, string> }> = [
    { name: 'an unknown field nested in AFFINITY', variable: 'AFFINITY', env: { AFFINITY: '{"nodeAffinity":{"hostPath":{"path":"/"}}}' } },
    { name: 'empty nodeSelectorTerms', variable: 'AFFINITY', env: { AFFINITY: '{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}}' } },
    { name: 'tolerationSeconds with effect NoSchedule', variable: 'TOLERATIONS', env: { TOLERATIONS: '[{"key":"gpu","operator":"Exists","effect":"NoSchedule","tolerationSeconds":30}]' } },
    { name: 'a toleration key with spaces', variable: 'TOLERATIONS', env: { TOLERATIONS: '[{"key":"has spaces","operator":"Exists"}]' } },
  ];

  before(async () => {
    ns = await createTestNamespace('kip-server-judged');
    expectPass(await runPass(passEnv(ns, { IMAGES: images })), 0);
    resourceVersion = (await getPuller(ns)).metadata.resourceVersion;
  });
  after(async () => {
    await releaseNamespace(ns);
  });

  for (const c of cases) {
    test(`${c.name} → exit 2 naming ${c.variable}, no write, DaemonSet unchanged`, async (t) => {
      const since = new Date();
      const result = await runPass(passEnv(ns, { IMAGES: images, ...c.env }));
      const summary = expectPass(result, 2);
      assert.equal(summary.action, 'invalid-config', explain(result));
      assert.deepEqual(summary.invalid, [c.variable], explain(result));
      assert.match(result.stdout, new RegExp(`invalid ${c.variable}=`), explain(result));
      assert.equal((await getPuller(ns)).metadata.resourceVersion, resourceVersion, 'the DaemonSet is unchanged');
      if (auditLogOrSkip(t)) {
        const requests = await auditRequests({ since, namespace: ns });
        assert.ok(requests.some(isPassList), `the filter finds the pass's own LIST:\n${formatRequests(requests)}`);
        assert.deepEqual(realWrites(requests), [], `writes by the puller:\n${formatRequests(requests)}`);
      }
    });
  }
});

describe('a ResourceQuota that forbids the pods', { timeout: 120_000 }, () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('kip-quota');
    await apply([{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'kip-no-pods', namespace: ns }, spec: { hard: { pods: '0' } } }]);
  });
  after(async () => {
    await releaseNamespace(ns);
  });

  test('exit 3, and the diagnosis names the quota', async () => {
    const result = await runPass(passEnv(ns, { IMAGES: images, ROLLOUT_TIMEOUT_SECONDS: '8' }));
    const summary = expectPass(result, 3);
    const diagnosis = (summary.diagnosis) ?? [];
    assert.ok(diagnosis.some((line) => line.startsWith('FailedCreate (') && line.includes('exceeded quota: kip-no-pods')), explain(result));
  });
});

describe('no API server to talk to', { timeout: 60_000 }, () => {
  let hung: Server | undefined;
  after(() => {
    hung?.close();
  });

  test('a KUBECONFIG naming a missing file ends at once with one line (exit 1)', async () => {
    const started = Date.now();
    const result = await runPass(passEnv('anywhere', { IMAGES: images }), { kubeconfig: '/nonexistent/kubeconfig' });
    const summary = expectPass(result, 1);
    assert.equal(summary.error, 'KUBECONFIG=/nonexistent/kubeconfig names no file that exists; point it at a kubeconfig or unset it');
    assert.equal(result.stdout.trim().split('\n').length, 1, explain(result));
    assert.ok(Date.now() - started < 5000);
  });

  test('an API server that accepts the connection and never answers: the summary comes by the deadline', async () => {
    hung = createServer(() => undefined);
    await new Promise<void>((resolve) => hung?.listen(0, '127.0.0.1', resolve));
    const port = (hung.address() as AddressInfo).port;
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kip-hung-')), 'kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'hung',
      clusters: [{ name: 'hung', cluster: { server: `https://127.0.0.1:${String(port)}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'hung', context: { cluster: 'hung', user: 'u' } }],
    }));
    const result = await runPass(passEnv('anywhere', { IMAGES: images, ROLLOUT_TIMEOUT_SECONDS: '4' }), { kubeconfig });
    const summary = expectPass(result, 1);
    assert.match(String(summary.error), /did not answer in time/, explain(result));
    assert.ok(typeof summary.durationMs === 'number' && summary.durationMs < 4000 + 1000, `summary after ${String(summary.durationMs)} ms of a 4 s deadline`);
    // The handshake that never completes would hold the process until undici's 10 s connect timeout,
    // ~6 s after the summary; the pass leaves half a second after it. Timed from the summary, so how
    // long Node takes to start on a loaded machine does not enter.
    const lingeredMs = result.closedAt - (result.lastStdoutAt ?? result.closedAt);
    assert.ok(lingeredMs < 3000, `the process stayed ${String(lingeredMs)} ms after its summary`);
  });
});

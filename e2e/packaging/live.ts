// Cluster-side helpers of the packaging scenarios: helm against the test cluster, a kubeconfig holding
// only a ServiceAccount token, and the environment a CronJob's pod would really get. With kwok no
// container runs, so a "pass" is `node dist/main.mjs` on this machine with exactly that environment.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, kubeconfigPath, kubectl, kubectlOk, run, type ProcessResult } from '../lib/cluster.ts';
import { containerEnvironment, helmPath, type ContainerSpec, type KubeObject as RenderedObject } from './fixtures.ts';

export function helmLive(args: string[], timeoutMs = 240_000): Promise<ProcessResult> {
  return run(helmPath(), [...args, '--kubeconfig', kubeconfigPath()], {
    env: {
      ...(process.env as Record<string, string>),
      HELM_CONFIG_HOME: join(tmpdir(), 'kip-helm-config'),
      HELM_CACHE_HOME: join(tmpdir(), 'kip-helm-cache'),
      HELM_DATA_HOME: join(tmpdir(), 'kip-helm-data'),
    },
    timeoutMs,
  });
}

/** `helm install|upgrade` with values given as an object. */
export async function helmWithValues(args: string[], values: unknown): Promise<ProcessResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kip-e2e-values-'));
  const file = join(dir, 'values.yaml');
  writeFileSync(file, JSON.stringify(values));
  return helmLive([...args, '--values', file]);
}

/**
 * A kubeconfig that authenticates only with a fresh token of `serviceAccount` (no client
 * certificate), pointing at the same API server as the suite's kubeconfig.
 */
export async function tokenKubeconfig(namespace: string, serviceAccount: string): Promise<string> {
  const token = (await kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h'])).trim();
  assert.ok(token.length > 0, 'kubectl create token printed nothing');
  const admin = JSON.parse(await kubectlOk(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  };
  const cluster = admin.clusters[0];
  assert.ok(cluster, 'the suite kubeconfig has no cluster');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: cluster.cluster }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'test', user: serviceAccount, namespace } }],
    'current-context': 'sa',
  };
  const dir = mkdtempSync(join(tmpdir(), 'kip-e2e-sa-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

/**
 * `kubectl auth can-i` as whoever `kubeconfig` authenticates: true for "yes". With no namespace the
 * question is cluster-wide (--all-namespaces), which is also how a cluster-scoped resource is asked.
 */
export async function canI(kubeconfig: string, verb: string, resource: string, namespace: string | undefined): Promise<boolean> {
  const scope = namespace === undefined ? ['--all-namespaces'] : ['-n', namespace];
  const res = await kubectl(['auth', 'can-i', verb, resource, ...scope], { kubeconfig });
  const answer = res.stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl auth can-i ${verb} ${resource}: ${res.stderr}`);
  return answer === 'yes';
}

type PodTemplateOwner = RenderedObject & { spec: Record<string, unknown> };

function podSpecOf(obj: PodTemplateOwner): { containers: ContainerSpec[]; [key: string]: unknown } {
  const template =
    obj.kind === 'CronJob'
      ? (obj.spec['jobTemplate'] as { spec: { template: { spec: unknown } } }).spec.template
      : (obj.spec['template'] as { spec: unknown });
  return template.spec as { containers: ContainerSpec[] };
}

/** The pod spec of a live CronJob or Job. */
export async function livePodSpec(kind: 'cronjob' | 'job', name: string, namespace: string) {
  const obj = await getJson<PodTemplateOwner>(kind, name, namespace);
  assert.ok(obj, `${kind} ${namespace}/${name} does not exist`);
  return podSpecOf(obj);
}

/**
 * The environment the first container of a live CronJob's (or Job's) pod would get, read from the
 * API: its envFrom ConfigMaps as they are now, then its env, field references resolved.
 */
export async function livePassEnv(kind: 'cronjob' | 'job', name: string, namespace: string): Promise<Record<string, string>> {
  const container = (await livePodSpec(kind, name, namespace)).containers[0];
  assert.ok(container, `${kind} ${name} has no container`);
  const configMaps: Record<string, Record<string, string>> = {};
  for (const source of container.envFrom ?? []) {
    const cmName = source.configMapRef?.name;
    if (!cmName) continue;
    const cm = await getJson<RenderedObject>('configmap', cmName, namespace);
    assert.ok(cm, `ConfigMap ${namespace}/${cmName} referenced by ${kind} ${name} does not exist`);
    configMaps[cmName] = (cm['data'] as Record<string, string> | undefined) ?? {};
  }
  return containerEnvironment(container, configMaps, namespace);
}

// Shared by the packaging unit tests (test/chart.test.ts, test/openshift-template.test.ts) and the
// packaging end-to-end tests: where the chart, templates and helm binary are, the upstream README's
// example settings in both forms, and small readers for rendered objects.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { loadTemplate, processTemplate, type KubeObject } from '../lib/openshift-template.ts';

export type { KubeObject };

export const repoRoot = new URL('../../', import.meta.url).pathname;
export const chartDir = join(repoRoot, 'charts/kubernetes-image-puller');
export const openshiftDir = join(repoRoot, 'openshift');
/** In the order of the upstream README's `oc process … | oc apply` commands. */
export const openshiftTemplateFiles = ['serviceaccount.yaml', 'configmap.yaml', 'app.yaml'] as const;

/** Every Helm value the upstream README documents, with its README spelling (`cachingMemeryLimit`). */
export const upstreamHelmValues = {
  appName: 'kubernetes-image-puller',
  image: { repository: 'quay.io/eclipse/kubernetes-image-puller', tag: 'latest' },
  serviceAccount: { name: 'k8s-image-puller' },
  configMap: {
    name: 'k8s-image-puller',
    images: 'java11-maven=quay.io/eclipse/che-java11-maven:nightly;che-theia=quay.io/eclipse/che-theia:next',
    cachingIntervalHours: '1',
    cachingMemoryRequest: '10Mi',
    cachingMemeryLimit: '20Mi',
    nodeSelector: '{}',
  },
};

/**
 * A values file in the upstream chart's current layout (deploy/helm, 2026-07): its top-level values
 * configured the long-running Deployment, `image.tag: next` names the Go puller's image, and
 * `configMap.images` is a folded block with trailing semicolons.
 */
export const upstreamChartValues = {
  deploymentName: 'kubernetes-image-puller',
  deploymentAnnotations: { 'reloader.stakater.com/auto': 'true' },
  image: { repository: 'quay.io/eclipse/kubernetes-image-puller', tag: 'next' },
  serviceAccount: { name: 'k8s-image-puller' },
  updateStrategy: { type: 'Recreate' },
  priorityClassName: '',
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
  tolerations: [],
  nodeSelector: {},
  containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  configMap: {
    name: 'k8s-image-puller',
    images: 'che-code=quay.io/che-incubator/che-code:next;\nbase-developer-image=quay.io/devfile/base-developer-image:ubi9-latest;\n',
    cachingIntervalHours: 1,
    cachingMemoryRequest: '10Mi',
    cachingMemoryLimit: '20Mi',
    cachingCpuRequest: '.05',
    cachingCpuLimit: '.2',
    nodeSelector: '{}',
    imagePullSecrets: '',
    affinity: '{}',
    tolerations: '[]',
    daemonsetAnnotations: '{}',
  },
};

/**
 * Every parameter of the upstream OpenShift templates (deploy/openshift, 2026-07), by file, with a
 * value that is not the default, as `oc process -f <file> -p NAME=value …` would get them.
 */
export const everyUpstreamOpenShiftParameter: Record<(typeof openshiftTemplateFiles)[number], Record<string, string>> = {
  'serviceaccount.yaml': { SERVICEACCOUNT_NAME: 'che-puller' },
  'configmap.yaml': {
    IMAGES: 'che-code=quay.io/che-incubator/che-code:next;',
    DAEMONSET_NAME: 'che-cache',
    CACHING_INTERVAL_HOURS: '6',
    NAMESPACE: 'che-images',
    CACHING_MEMORY_REQUEST: '8Mi',
    CACHING_MEMORY_LIMIT: '16Mi',
    CACHING_CPU_REQUEST: '.02',
    CACHING_CPU_LIMIT: '.1',
    NODE_SELECTOR: '{"kubernetes.io/os":"linux"}',
    IMAGE_PULL_SECRETS: 'pull-one;pull-two',
    AFFINITY: '{}',
    TOLERATIONS: '[{"operator":"Exists","effect":"NoSchedule"}]',
    DAEMONSET_ANNOTATIONS: '{"example.com/team":"ide"}',
    KIP_IMAGE: 'registry.example.com/mirror/kubernetes-image-puller:latest',
  },
  'app.yaml': {
    DEPLOYMENT_NAME: 'che-puller',
    SERVICEACCOUNT_NAME: 'che-puller',
    IMAGE: 'registry.example.com/mirror/kubernetes-image-puller',
    IMAGE_TAG: 'latest',
    PRIORITY_CLASS_NAME: 'puller-priority',
    DEPLOYMENT_CPU_REQUEST: '20m',
    DEPLOYMENT_CPU_LIMIT: '300m',
    DEPLOYMENT_MEMORY_REQUEST: '96Mi',
    DEPLOYMENT_MEMORY_LIMIT: '192Mi',
  },
};

/** The same settings as the upstream OpenShift parameters (README "Configuration - Openshift"). */
export const upstreamOpenShiftParameters: Record<string, string> = {
  SERVICEACCOUNT_NAME: 'k8s-image-puller',
  IMAGE: 'quay.io/eclipse/kubernetes-image-puller',
  IMAGE_TAG: 'latest',
  DAEMONSET_NAME: 'kubernetes-image-puller',
  CACHING_INTERVAL_HOURS: '1',
  CACHING_MEMORY_REQUEST: '10Mi',
  CACHING_MEMORY_LIMIT: '20Mi',
  NODE_SELECTOR: '{}',
  IMAGES: upstreamHelmValues.configMap.images,
};

/**
 * The upstream defaults each template file must keep (README tables), by file. CACHING_MEMORY_REQUEST
 * is empty, which the pass reads as the upstream 10Mi unless the limit is lower (tested on its own).
 */
export const upstreamOpenShiftDefaults: Record<(typeof openshiftTemplateFiles)[number], Record<string, string>> = {
  'serviceaccount.yaml': { SERVICEACCOUNT_NAME: 'k8s-image-puller' },
  'configmap.yaml': {
    DAEMONSET_NAME: 'kubernetes-image-puller',
    CACHING_INTERVAL_HOURS: '1',
    CACHING_MEMORY_LIMIT: '20Mi',
    NODE_SELECTOR: '{}',
    NAMESPACE: 'k8s-image-puller',
  },
  'app.yaml': {
    SERVICEACCOUNT_NAME: 'k8s-image-puller',
    IMAGE: 'quay.io/eclipse/kubernetes-image-puller',
    IMAGE_TAG: 'latest',
    DAEMONSET_NAME: 'kubernetes-image-puller',
    DEPLOYMENT_NAME: 'kubernetes-image-puller',
    PRIORITY_CLASS_NAME: '',
  },
};

/** The directory the e2e build script fills (e2e/cluster/versions.sh decides it). */
export function binDir(): string {
  if (process.env['BIN_DIR']) return process.env['BIN_DIR'];
  const res = spawnSync('bash', ['-c', 'source e2e/cluster/versions.sh && printf %s "$BIN_DIR"'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`cannot read BIN_DIR from e2e/cluster/versions.sh: ${res.stderr}`);
  return res.stdout;
}

export function helmPath(): string {
  const helm = join(binDir(), 'helm');
  if (!existsSync(helm)) {
    throw new Error(`${helm} does not exist; build it with e2e/cluster/build-binaries.sh (CI always does)`);
  }
  return helm;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): CommandResult {
  const res = spawnSync(helmPath(), args, {
    encoding: 'utf8',
    // Keep helm away from any user configuration or repositories on the machine.
    env: { ...process.env, HELM_CONFIG_HOME: join(tmpdir(), 'kip-helm-config'), HELM_CACHE_HOME: join(tmpdir(), 'kip-helm-cache') },
  });
  if (res.error) throw res.error;
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** Runs `fn` with the values written to a file (JSON is YAML), so any structure survives unmangled. */
export function withValuesFile<T>(values: unknown, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kip-values-'));
  try {
    const path = join(dir, 'values.yaml');
    writeFileSync(path, JSON.stringify(values));
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Offline rendering has no API server to ask for its version, and a helm built from source without
 * release ldflags assumes v1.20, below the chart's kubeVersion; render for the version the e2e
 * cluster runs.
 */
export const KUBE_VERSION = '1.36.0';

export interface RenderOptions {
  release?: string;
  namespace?: string;
  values?: unknown;
  /** Extra helm flags, e.g. ['--show-only', 'templates/cronjob.yaml']. */
  args?: string[];
}

/** `helm template`; returns the result so callers can check failures too. */
export function helmTemplate(opts: RenderOptions = {}): CommandResult {
  const { release = 'kip', namespace = 'k8s-image-puller', values = {}, args = [] } = opts;
  return withValuesFile(values, (file) =>
    helm(['template', release, chartDir, '--namespace', namespace, '--values', file, '--kube-version', KUBE_VERSION, ...args]),
  );
}

export function parseManifests(text: string): KubeObject[] {
  return loadAll(text).filter((doc): doc is KubeObject => doc !== null && typeof doc === 'object');
}

/** Rendered chart objects; throws with helm's message if rendering fails. */
export function renderChart(opts: RenderOptions = {}): KubeObject[] {
  const res = helmTemplate(opts);
  if (res.code !== 0) throw new Error(`helm template failed (${res.code}):\n${res.stderr}`);
  return parseManifests(res.stdout);
}

/** All objects the three upstream-named templates produce, in `oc process` order. */
export function processOpenShiftTemplates(params: Record<string, string>): KubeObject[] {
  return openshiftTemplateFiles.flatMap((file) => {
    const template = loadTemplate(join(openshiftDir, file));
    const own = new Set((template.parameters ?? []).map((p) => p.name));
    // Each file is processed with the parameters it declares, as `oc process -f <file> -p …` would
    // reject the others.
    const relevant = Object.fromEntries(Object.entries(params).filter(([name]) => own.has(name)));
    return processTemplate(template, relevant, { random: () => 0 });
  });
}

export function find(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const match = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!match) throw new Error(`no ${kind}${name ? ` named ${name}` : ''} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return match;
}

/** The ConfigMap that is the pass's environment (not the status ConfigMap beside it). */
export function passConfigMap(objects: KubeObject[]): KubeObject {
  const match = objects.find((o) => o.kind === 'ConfigMap' && typeof (o['data'] as Record<string, unknown> | undefined)?.['IMAGES'] === 'string');
  if (!match) throw new Error(`no ConfigMap with IMAGES among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return match;
}

/** Reads a nested field by a dotted path; numbers index arrays. */
export function at(obj: unknown, path: string): unknown {
  let node: unknown = obj;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string; optional?: boolean } };
}

export interface ContainerSpec {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; prefix?: string }>;
  securityContext?: Record<string, unknown>;
  resources?: Record<string, unknown>;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  restartPolicy?: string;
  securityContext?: Record<string, unknown>;
  containers: ContainerSpec[];
}

export function cronJobPodSpec(cronJob: KubeObject): PodSpec {
  const spec = at(cronJob, 'spec.jobTemplate.spec.template.spec') as PodSpec | undefined;
  if (!spec) throw new Error(`${cronJob.kind}/${cronJob.metadata.name} has no pod template`);
  return spec;
}

/**
 * The environment a container of `pod` would get, as the kubelet builds it: each envFrom ConfigMap
 * first, then `env` (which wins). `configMaps` maps names to data; `namespace` resolves
 * metadata.namespace field references. Unresolvable references throw, so a test notices them.
 */
export function containerEnvironment(
  container: ContainerSpec,
  configMaps: Record<string, Record<string, string>>,
  namespace: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!name) throw new Error(`container ${container.name}: only configMapRef envFrom is supported`);
    const data = configMaps[name];
    if (!data) throw new Error(`container ${container.name}: ConfigMap ${name} not found`);
    for (const [k, v] of Object.entries(data)) env[`${source.prefix ?? ''}${k}`] = v;
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[variable.name] = namespace;
    else if (variable.valueFrom?.configMapKeyRef) {
      const { name, key } = variable.valueFrom.configMapKeyRef;
      const value = configMaps[name]?.[key];
      if (value === undefined) throw new Error(`env ${variable.name}: ConfigMap ${name} has no key ${key}`);
      env[variable.name] = value;
    } else if (!variable.valueFrom) env[variable.name] = '';
    else throw new Error(`env ${variable.name}: unsupported valueFrom ${JSON.stringify(variable.valueFrom)}`);
  }
  return env;
}

/** RFC 1950 Adler-32, as Helm's `adler32sum`, to recompute the chart's schedule independently. */
export function adler32(text: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return (b * 65536 + a) >>> 0;
}

/**
 * The chart's objects that the OpenShift templates also produce: everything but Helm's test hook and
 * the first-pass Job (Helm-only; with templates the first pass is `oc create job --from=cronjob/…`).
 */
export function comparableToTemplates(objects: KubeObject[]): KubeObject[] {
  return objects.filter((o) => {
    const hook = (o.metadata['annotations'] as Record<string, string> | undefined)?.['helm.sh/hook'];
    const firstPass = o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/component'] === 'reconcile-pass';
    return hook === undefined && !firstPass;
  });
}

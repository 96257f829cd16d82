// The Helm chart, rendered by the real helm binary (built by e2e/cluster/build-binaries.sh; these tests
// fail if it is missing, because CI always builds it). No cluster is needed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { configWarnings, loadConfig } from '../src/config/config.ts';
import { MAX_INTERVAL_HOURS } from '../src/config/config-parsers.ts';
import { planDaemonSets } from '../src/plan/daemonset-plan.ts';
import {
  adler32,
  at,
  chartDir,
  containerEnvironment,
  cronJobPodSpec,
  find,
  passConfigMap,
  helm,
  helmTemplate,
  KUBE_VERSION,
  parseManifests,
  renderChart,
  upstreamChartValues,
  upstreamHelmValues,
  withValuesFile,
  type KubeObject,
} from '../e2e/packaging/fixtures.ts';

const NS = 'k8s-image-puller';
const RELEASE = 'kip';

/** The env vars of the product contract that come from the ConfigMap (the rest are set on the pod). */
const CONFIG_KEYS = [
  'AFFINITY',
  'CACHING_CPU_LIMIT',
  'CACHING_CPU_REQUEST',
  'CACHING_INTERVAL_HOURS',
  'CACHING_MEMORY_LIMIT',
  'CACHING_MEMORY_REQUEST',
  'CACHING_RUN_AS_USER',
  'DAEMONSET_ANNOTATIONS',
  'DAEMONSET_NAME',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'IMAGES',
  'IMAGE_PULL_SECRETS',
  'IMAGE_SETS',
  'KIP_IMAGE',
  'LOG_FORMAT',
  'LOG_LEVEL',
  'MAX_IMAGES_PER_DAEMONSET',
  'MAX_UNAVAILABLE',
  'METRICS_PUSHGATEWAY_URL',
  'NAMESPACE',
  'NODE_LABELS',
  'NODE_SELECTOR',
  'NO_PROXY',
  'PLAIN_HTTP_REGISTRIES',
  'PRIORITY_CLASS_NAME',
  'REFRESH_MODE',
  'ROLLOUT_TIMEOUT_SECONDS',
  'TOLERATIONS',
];

function withConfig(configMap: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  return { ...upstreamHelmValues, ...rest, configMap: { ...upstreamHelmValues.configMap, ...configMap } };
}

function objectsOf(values: unknown): KubeObject[] {
  return renderChart({ values });
}

function configData(objects: KubeObject[]): Record<string, string> {
  return passConfigMap(objects).data as Record<string, string>;
}

/** The environment the pass gets in the CronJob's pod, ConfigMap included. */
function passEnvironment(objects: KubeObject[]): Record<string, string> {
  const container = cronJobPodSpec(find(objects, 'CronJob')).containers[0]!;
  return containerEnvironment(container, { [passConfigMap(objects).metadata.name!]: configData(objects) }, NS);
}

/**
 * NOTES.txt as `helm install` prints it, rendered offline (`helm install --dry-run` asks a cluster
 * for its version): a copy of the chart renders it into a ConfigMap, with the chart's own helpers.
 */
function renderNotes(values: unknown): string {
  const copy = mkdtempSync(join(tmpdir(), 'kip-notes-'));
  try {
    cpSync(chartDir, copy, { recursive: true });
    writeFileSync(join(copy, 'notes.txt'), readFileSync(join(chartDir, 'templates', 'NOTES.txt')));
    writeFileSync(join(copy, 'templates', 'zz-notes.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n');
    const res = withValuesFile(values, (file) =>
      helm(['template', 'kip', copy, '--namespace', NS, '--values', file, '--kube-version', KUBE_VERSION, '--show-only', 'templates/zz-notes.yaml']));
    assert.equal(res.code, 0, res.stderr);
    return ((parseManifests(res.stdout)[0]?.['data'] ?? {}) as { notes?: string }).notes ?? '';
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

describe('helm lint', () => {
  it('passes --strict with the default values', () => {
    const res = helm(['lint', '--strict', chartDir]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
  });

  it('passes --strict with the upstream README example values', () => {
    const res = withValuesFile(upstreamHelmValues, (file) => helm(['lint', '--strict', chartDir, '--values', file]));
    assert.equal(res.code, 0, res.stdout + res.stderr);
  });
});

describe('objects rendered from the upstream README example values', () => {
  const objects = renderChart({ release: RELEASE, namespace: NS, values: upstreamHelmValues });

  it('are the ServiceAccount, Roles, RoleBindings, ConfigMaps (environment and status), CronJob and first-pass Job', () => {
    const hooks = (o: KubeObject) => (o.metadata.annotations as Record<string, string> | undefined)?.['helm.sh/hook'];
    const plain = objects.filter((o) => !hooks(o)).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(plain, [
      'ConfigMap/k8s-image-puller',
      'ConfigMap/kubernetes-image-puller-status',
      'CronJob/kubernetes-image-puller',
      'Job/kubernetes-image-puller-first-pass-1',
      'Role/k8s-image-puller',
      'Role/k8s-image-puller-go-puller',
      'RoleBinding/k8s-image-puller',
      'RoleBinding/k8s-image-puller-go-puller',
      'ServiceAccount/k8s-image-puller',
    ]);
    const hooked = objects.filter(hooks).map((o) => `${o.kind}/${o.metadata.name}:${hooks(o)}`).sort();
    assert.deepEqual(hooked, [
      'Pod/kubernetes-image-puller-test-config:test',
    ]);
  });

  it('all carry the standard labels and the release namespace', () => {
    for (const o of objects) {
      const labels = o.metadata.labels ?? {};
      assert.equal(labels['app.kubernetes.io/name'], 'kubernetes-image-puller', `${o.kind} name label`);
      assert.equal(labels['app.kubernetes.io/instance'], RELEASE, `${o.kind} instance label`);
      assert.equal(labels['app.kubernetes.io/managed-by'], 'Helm', `${o.kind} managed-by label`);
      assert.match(labels['helm.sh/chart'] ?? '', /^kubernetes-image-puller-\d+\.\d+\.\d+/, `${o.kind} chart label`);
      assert.equal(o.metadata.namespace, NS, `${o.kind} namespace`);
    }
  });

  it('put every contract variable in the ConfigMap, with the upstream values', () => {
    const data = configData(objects);
    assert.deepEqual(Object.keys(data).sort(), CONFIG_KEYS);
    assert.equal(data['DAEMONSET_NAME'], 'kubernetes-image-puller');
    assert.equal(data['IMAGES'], upstreamHelmValues.configMap.images);
    assert.equal(data['CACHING_INTERVAL_HOURS'], '1');
    assert.equal(data['CACHING_MEMORY_REQUEST'], '10Mi');
    assert.equal(data['CACHING_MEMORY_LIMIT'], '20Mi');
    assert.equal(data['NODE_SELECTOR'], '{}');
    for (const [k, v] of Object.entries(data)) assert.equal(typeof v, 'string', `${k} must be a string`);
  });

  it('grant the Role exactly the verbs the pass needs, in its namespace only', () => {
    const role = find(objects, 'Role', 'k8s-image-puller');
    const data = configData(objects);
    assert.deepEqual(role['rules'], [
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'list', 'create', 'update', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'list'] },
      { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'], resourceNames: [`${String(data['DAEMONSET_NAME'])}-status`] },
    ]);
    assert.equal(objects.some((o) => o.kind.startsWith('Cluster')), false, 'nothing cluster-wide');
    const status = find(objects, 'ConfigMap', `${String(data['DAEMONSET_NAME'])}-status`);
    assert.equal(status['data'], undefined, 'made empty: the pass writes the data, helm upgrade leaves it alone');
    const binding = find(objects, 'RoleBinding', 'k8s-image-puller');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'k8s-image-puller' });
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'k8s-image-puller', namespace: NS }]);
    assert.equal(find(objects, 'ServiceAccount')['automountServiceAccountToken'], false);
  });

  it('let the pass read one Deployment, the Go puller\'s, to learn whether it still runs before taking over its DaemonSet', () => {
    assert.deepEqual(find(objects, 'Role', 'k8s-image-puller-go-puller')['rules'], [
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['kubernetes-image-puller'], verbs: ['get'] },
    ]);
    const binding = find(objects, 'RoleBinding', 'k8s-image-puller-go-puller');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'k8s-image-puller-go-puller' });
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'k8s-image-puller', namespace: NS }]);
  });

  it('make the CronJob safe to run unattended', () => {
    const cronJob = find(objects, 'CronJob');
    const spec = cronJob['spec'] as Record<string, unknown>;
    assert.equal(spec['concurrencyPolicy'], 'Forbid');
    assert.equal(spec['timeZone'], 'Etc/UTC');
    assert.equal(typeof spec['startingDeadlineSeconds'], 'number');
    assert.equal(typeof spec['successfulJobsHistoryLimit'], 'number');
    assert.equal(typeof spec['failedJobsHistoryLimit'], 'number');
    const job = at(cronJob, 'spec.jobTemplate.spec') as Record<string, unknown>;
    assert.equal(job['backoffLimit'], 2);
    const rollout = Number(configData(objects)['ROLLOUT_TIMEOUT_SECONDS']);
    assert.ok((job['activeDeadlineSeconds'] as number) > rollout, 'activeDeadlineSeconds must exceed the rollout timeout');
    const pod = cronJobPodSpec(cronJob);
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(job['podFailurePolicy'], {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: pod.containers[0]!.name, operator: 'In', values: [2, 4] } },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
      ],
    });
  });

  it('run the pass with the ConfigMap, its namespace, its CronJob name, the chart image, its deadline and interval', () => {
    const cronJob = find(objects, 'CronJob');
    const pod = cronJobPodSpec(cronJob);
    assert.equal(pod.serviceAccountName, 'k8s-image-puller');
    assert.equal(pod.automountServiceAccountToken, true);
    assert.equal(pod.containers.length, 1);
    const container = pod.containers[0]!;
    const image = 'quay.io/eclipse/kubernetes-image-puller:latest';
    assert.equal(container.image, image);
    assert.deepEqual(container.envFrom, [{ configMapRef: { name: 'k8s-image-puller' } }]);
    assert.deepEqual(container.env, [
      { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'CRONJOB_NAME', value: cronJob.metadata.name },
      { name: 'KIP_IMAGE', value: image },
      { name: 'JOB_DEADLINE_SECONDS', value: String(at(cronJob, 'spec.jobTemplate.spec.activeDeadlineSeconds')) },
      { name: 'SCHEDULED_INTERVAL_HOURS', value: '1' },
    ]);
    assert.equal(container.command, undefined, 'the image entrypoint runs node /app/main.mjs');
  });

  it('give the pass a pod that meets the restricted Pod Security Standard without a fixed UID', () => {
    const pod = cronJobPodSpec(find(objects, 'CronJob'));
    assert.equal(pod.securityContext?.['runAsNonRoot'], true);
    assert.deepEqual(pod.securityContext?.['seccompProfile'], { type: 'RuntimeDefault' });
    assert.equal(pod.securityContext?.['runAsUser'], undefined, 'OpenShift restricted-v2 assigns the UID');
    const sc = pod.containers[0]!.securityContext ?? {};
    assert.equal(sc['allowPrivilegeEscalation'], false);
    assert.equal(sc['readOnlyRootFilesystem'], true);
    assert.deepEqual(sc['capabilities'], { drop: ['ALL'] });
    assert.equal(sc['privileged'], undefined);
    assert.equal(sc['runAsUser'], undefined);
  });

  it('run the first pass as a Job Helm does not wait for, with exactly the CronJob job spec', () => {
    const hook = find(objects, 'Job', 'kubernetes-image-puller-first-pass-1');
    assert.equal((hook.metadata['annotations'] as Record<string, string> | undefined)?.['helm.sh/hook'], undefined);
    const { ttlSecondsAfterFinished, ...hookSpec } = hook['spec'] as Record<string, unknown>;
    assert.equal(typeof ttlSecondsAfterFinished, 'number');
    assert.deepEqual(hookSpec, at(find(objects, 'CronJob'), 'spec.jobTemplate.spec'));
  });

  it('test the released configuration with a --dry-run=server pod under `helm test`', () => {
    const pod = find(objects, 'Pod', 'kubernetes-image-puller-test-config');
    const container = (at(pod, 'spec.containers') as Array<{ args: string[]; envFrom: unknown; image: string }>)[0]!;
    assert.deepEqual(container.args, ['/app/main.mjs', '--dry-run=server']);
    assert.deepEqual(container.envFrom, [{ configMapRef: { name: 'k8s-image-puller' } }]);
    assert.equal(container.image, 'quay.io/eclipse/kubernetes-image-puller:latest');
    assert.equal(at(pod, 'spec.restartPolicy'), 'Never');
    assert.equal(at(pod, 'spec.automountServiceAccountToken'), true, 'the server-side dry run calls the API server');
    assert.equal(at(pod, 'spec.serviceAccountName'), 'k8s-image-puller');
    assert.equal(at(pod, 'spec.securityContext.runAsNonRoot'), true);
  });

  it('run the `helm test` pod on the nodes the pass runs on (job.nodeSelector and job.tolerations, or the upstream top-level ones)', () => {
    const nodeSelector = { 'kubernetes.io/hostname': 'pass-node' };
    const tolerations = [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }];
    for (const values of [{ job: { nodeSelector, tolerations } }, { nodeSelector, tolerations }]) {
      const rendered = renderChart({ values });
      const testPod = find(rendered, 'Pod', 'kubernetes-image-puller-test-config');
      const passPod = at(find(rendered, 'CronJob'), 'spec.jobTemplate.spec.template.spec');
      for (const field of ['nodeSelector', 'tolerations']) {
        assert.deepEqual(at(testPod, `spec.${field}`), field === 'nodeSelector' ? nodeSelector : tolerations, `${field} with ${JSON.stringify(values)}`);
        assert.deepEqual(at(testPod, `spec.${field}`), at(passPod, field));
      }
    }
    const unscheduled = find(renderChart({}), 'Pod', 'kubernetes-image-puller-test-config');
    assert.equal(at(unscheduled, 'spec.nodeSelector'), undefined);
    assert.equal(at(unscheduled, 'spec.tolerations'), undefined);
  });
});

describe('CronJob schedule', () => {
  // The minute (and the hour of a daily pass) come from Adler-32 of "<namespace>/<release>".
  const hash = adler32(`${NS}/${RELEASE}`);
  const m = hash % 60;
  const h = Math.floor(hash / 60) % 24;
  const cases: Array<{ hours: string | number; schedule: string; why: string }> = [
    { hours: '1', schedule: `${m} * * * *`, why: 'hourly' },
    { hours: 1, schedule: `${m} * * * *`, why: 'hourly (a number works as well as the upstream string)' },
    { hours: '6', schedule: `${m} */6 * * *`, why: '6 divides 24' },
    { hours: '12', schedule: `${m} */12 * * *`, why: '12 divides 24' },
    { hours: '5', schedule: `${m} * * * *`, why: '5 does not divide 24: hourly, the pass waits for 5 h' },
    { hours: '7', schedule: `${m} * * * *`, why: '7 does not divide 24' },
    { hours: '24', schedule: `${m} ${h} * * *`, why: 'daily at a per-release hour' },
    { hours: '48', schedule: `${m} * * * *`, why: 'longer than a day: hourly, the pass waits' },
  ];
  for (const c of cases) {
    it(`cachingIntervalHours=${JSON.stringify(c.hours)} → "${c.schedule}" (${c.why})`, () => {
      const objects = renderChart({ release: RELEASE, namespace: NS, values: withConfig({ cachingIntervalHours: c.hours }) });
      assert.equal(at(find(objects, 'CronJob'), 'spec.schedule'), c.schedule);
      assert.equal(configData(objects)['CACHING_INTERVAL_HOURS'], String(c.hours));
    });
  }

  it('spreads the minute across releases', () => {
    const minutes = new Set(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((release) =>
        at(find(renderChart({ release, namespace: NS }), 'CronJob'), 'spec.schedule'),
      ),
    );
    assert.ok(minutes.size >= 3, `expected different minutes, got ${[...minutes].join(' | ')}`);
  });

  it('has the same upper bound for cachingIntervalHours as the pass', () => {
    const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as { properties: { configMap: { properties: { cachingIntervalHours: { anyOf: Array<{ maximum?: number }> } } } } };
    const maxima = schema.properties.configMap.properties.cachingIntervalHours.anyOf.flatMap((option) => (option.maximum === undefined ? [] : [option.maximum]));
    assert.deepEqual(maxima, [MAX_INTERVAL_HOURS]);
  });

  it('accepts every interval the pass accepts, up to a year (8760 hours), as a number or a string', () => {
    for (const hours of [8760, '8760', '999', 1000, '7999', '8699', '8759']) {
      const env = passEnvironment(renderChart({ values: withConfig({ cachingIntervalHours: hours }) }));
      assert.equal(loadConfig(env).intervalHours, Number(hours), JSON.stringify(hours));
    }
  });

  it('uses `schedule` verbatim when set, and then gives the pass no interval to compare with', () => {
    const objects = renderChart({ values: withConfig({ cachingIntervalHours: '6' }, { schedule: '5 4 * * 1' }) });
    assert.equal(at(find(objects, 'CronJob'), 'spec.schedule'), '5 4 * * 1');
    assert.equal(passEnvironment(objects)['SCHEDULED_INTERVAL_HOURS'], undefined);
    assert.equal(loadConfig(passEnvironment(objects)).scheduledIntervalHours, undefined);
  });
});

describe('what the Job tells the pass about itself (not in the ConfigMap)', () => {
  it('SCHEDULED_INTERVAL_HOURS is the cachingIntervalHours the schedule was made for', () => {
    const objects = renderChart({ values: withConfig({ cachingIntervalHours: 6 }) });
    assert.equal(configData(objects)['SCHEDULED_INTERVAL_HOURS'], undefined);
    const env = passEnvironment(objects);
    assert.equal(env['SCHEDULED_INTERVAL_HOURS'], '6');
    const config = loadConfig(env);
    assert.equal(config.scheduledIntervalHours, 6);
    assert.deepEqual(configWarnings(config), [], 'as installed, nothing to warn about');
    const edited = loadConfig({ ...env, CACHING_INTERVAL_HOURS: '1' });
    assert.match(configWarnings(edited).join('\n'), /CACHING_INTERVAL_HOURS=1 in the ConfigMap, but the CronJob's schedule was made for 6h/);
  });

  it('JOB_DEADLINE_SECONDS is the Job\'s activeDeadlineSeconds, given or derived, in the CronJob and the first-pass Job', () => {
    const cases: Array<{ values: Record<string, unknown>; deadline: number }> = [
      { values: withConfig({}), deadline: 480 },
      { values: withConfig({ rolloutTimeoutSeconds: 900 }), deadline: 1080 },
      { values: withConfig({ rolloutTimeoutSeconds: 86300 }), deadline: 86400 },
      { values: withConfig({}, { cronJob: { activeDeadlineSeconds: 330 } }), deadline: 330 },
    ];
    for (const c of cases) {
      const objects = renderChart({ values: c.values });
      for (const job of [at(find(objects, 'CronJob'), 'spec.jobTemplate.spec'), find(objects, 'Job')['spec']]) {
        assert.equal(at(job, 'activeDeadlineSeconds'), c.deadline, JSON.stringify(c.values));
        const env = at(job, 'template.spec.containers.0.env') as Array<{ name: string; value?: string }>;
        assert.equal(env.find((e) => e.name === 'JOB_DEADLINE_SECONDS')?.value, String(c.deadline), JSON.stringify(c.values));
      }
      assert.equal(configData(objects)['JOB_DEADLINE_SECONDS'], undefined);
    }
  });

  it('as installed the rollout timeout fits the deadline; raised in the ConfigMap later, the pass warns', () => {
    const env = passEnvironment(renderChart({ values: withConfig({ rolloutTimeoutSeconds: 600 }) }));
    assert.deepEqual(configWarnings(loadConfig(env)), []);
    const edited = loadConfig({ ...env, ROLLOUT_TIMEOUT_SECONDS: '1200' });
    assert.match(configWarnings(edited).join('\n'), /ROLLOUT_TIMEOUT_SECONDS=1200 does not fit the Job's activeDeadlineSeconds=780/);
  });
});

describe('pull Secrets for the digest refresh', () => {
  const secretRules = (configMap: Record<string, unknown>) =>
    (find(renderChart({ values: withConfig(configMap) }), 'Role')['rules'] as Array<{ resources: string[] }>).filter((rule) => rule.resources.includes('secrets'));

  it('the Role may get exactly the named pull Secrets, nothing else about Secrets', () => {
    assert.deepEqual(secretRules({ imagePullSecrets: ['regcred', 'quay', 'regcred'] }), [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['quay', 'regcred'] }]);
    assert.deepEqual(secretRules({ imagePullSecrets: 'a; b' }), [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['a', 'b'] }]);
  });

  it('no pull Secret, or no digest refresh, means no rule on Secrets at all (empty resourceNames would mean all)', () => {
    assert.deepEqual(secretRules({ imagePullSecrets: [] }), []);
    assert.deepEqual(secretRules({ imagePullSecrets: '' }), []);
    assert.deepEqual(secretRules({ imagePullSecrets: ['regcred'], refreshMode: 'restart' }), []);
  });

  it('puts the refresh mode and the plain-HTTP registries in the ConfigMap', () => {
    const data = configData(renderChart({ values: withConfig({ refreshMode: 'never', plainHttpRegistries: ['registry.lan:5000', 'mirror.local'] }) }));
    assert.deepEqual([data['REFRESH_MODE'], data['PLAIN_HTTP_REGISTRIES']], ['never', 'registry.lan:5000;mirror.local']);
    assert.deepEqual([configData(renderChart({ values: {} }))['REFRESH_MODE']], ['digest']);
  });
});

describe('registry lookups behind a proxy, with a private CA', () => {
  const CA_DIR = '/etc/kubernetes-image-puller/registry-ca';

  it('puts the proxy in the ConfigMap, empty (no proxy) unless given, and the pass reads it from there', () => {
    assert.deepEqual([configData(objectsOf({}))['HTTPS_PROXY'], configData(objectsOf({}))['NO_PROXY']], ['', '']);
    const objects = objectsOf(withConfig({ httpsProxy: 'http://proxy.corp:3128', httpProxy: 'http://proxy.corp:3128', noProxy: '.corp,registry.lan:5000' }));
    const env = passEnvironment(objects);
    assert.deepEqual([env['HTTPS_PROXY'], env['HTTP_PROXY'], env['NO_PROXY']], ['http://proxy.corp:3128', 'http://proxy.corp:3128', '.corp,registry.lan:5000']);
  });

  const mounted: Array<{ registryCA: Record<string, string>; volume: Record<string, unknown> }> = [
    { registryCA: { configMap: 'corp-ca' }, volume: { name: 'registry-ca', configMap: { name: 'corp-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } } },
    { registryCA: { configMap: 'trusted-ca', key: 'ca-bundle.crt' }, volume: { name: 'registry-ca', configMap: { name: 'trusted-ca', items: [{ key: 'ca-bundle.crt', path: 'ca.crt' }] } } },
    { registryCA: { secret: 'corp-ca', key: 'bundle.pem' }, volume: { name: 'registry-ca', secret: { secretName: 'corp-ca', items: [{ key: 'bundle.pem', path: 'ca.crt' }] } } },
  ];
  for (const { registryCA, volume } of mounted) {
    it(`registryCA ${JSON.stringify(registryCA)}: mounted read-only and named by NODE_EXTRA_CA_CERTS, in the CronJob and the first-pass Job`, () => {
      const objects = objectsOf({ registryCA });
      for (const pod of [cronJobPodSpec(find(objects, 'CronJob')), at(find(objects, 'Job', 'kubernetes-image-puller-first-pass-1'), 'spec.template.spec') as ReturnType<typeof cronJobPodSpec>]) {
        assert.deepEqual((pod as unknown as { volumes: unknown }).volumes, [volume]);
        const container = pod.containers[0]! as typeof pod.containers[0] & { volumeMounts?: unknown };
        assert.deepEqual(container.volumeMounts, [{ name: 'registry-ca', mountPath: CA_DIR, readOnly: true }]);
        assert.deepEqual(container.env?.find((variable) => variable.name === 'NODE_EXTRA_CA_CERTS'), { name: 'NODE_EXTRA_CA_CERTS', value: `${CA_DIR}/ca.crt` });
      }
    });
  }

  it('the README\'s example gives the pass its proxy and mounts its CA bundle', () => {
    const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');
    const example = /## Registries behind a proxy[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example !== undefined, 'a yaml example under "## Registries behind a proxy"');
    const values = load(example) as { configMap: Record<string, unknown>; registryCA: Record<string, string> };
    const objects = objectsOf(withConfig(values.configMap, { registryCA: values.registryCA }));
    const env = passEnvironment(objects);
    assert.deepEqual([env['HTTPS_PROXY'], env['NO_PROXY'], env['NODE_EXTRA_CA_CERTS']], ['http://proxy.corp:3128', '.corp,registry.lan:5000', `${CA_DIR}/ca.crt`]);
    assert.deepEqual((cronJobPodSpec(find(objects, 'CronJob')) as unknown as { volumes: unknown }).volumes, [mounted[0]?.volume]);
  });

  it('without registryCA, the pod has no volume and no NODE_EXTRA_CA_CERTS', () => {
    const pod = cronJobPodSpec(find(objectsOf({}), 'CronJob'));
    assert.equal((pod as unknown as { volumes?: unknown }).volumes, undefined);
    assert.equal(pod.containers[0]!.env?.some((variable) => variable.name === 'NODE_EXTRA_CA_CERTS'), false);
  });

  it('refuses a ConfigMap and a Secret at once, naming both values', () => {
    const res = helmTemplate({ values: { registryCA: { configMap: 'a', secret: 'b' } } });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /registryCA: name a ConfigMap \(registryCA\.configMap\) or a Secret \(registryCA\.secret\), not both/);
  });
});

describe('values', () => {
  it('the upstream README spelling cachingMemeryLimit takes effect when set', () => {
    const misspelt = configData(renderChart({ values: withConfig({ cachingMemeryLimit: '33Mi', cachingMemoryLimit: '20Mi' }) }));
    assert.equal(misspelt['CACHING_MEMORY_LIMIT'], '33Mi');
    const correct = configData(renderChart({ values: { configMap: { cachingMemoryLimit: '44Mi' } } }));
    assert.equal(correct['CACHING_MEMORY_LIMIT'], '44Mi');
  });

  const cases: Array<{ set: Record<string, unknown>; key: string; expected: string }> = [
    { set: { images: { b: 'quay.io/b:1', a: 'docker.io/a@sha256:' + '0'.repeat(64) } }, key: 'IMAGES', expected: `a=docker.io/a@sha256:${'0'.repeat(64)};b=quay.io/b:1` },
    { set: { nodeSelector: { 'kubernetes.io/os': 'linux' } }, key: 'NODE_SELECTOR', expected: '{"kubernetes.io/os":"linux"}' },
    { set: { nodeSelector: '{"disk":"ssd"}' }, key: 'NODE_SELECTOR', expected: '{"disk":"ssd"}' },
    { set: { tolerations: [{ operator: 'Exists' }] }, key: 'TOLERATIONS', expected: '[{"operator":"Exists"}]' },
    { set: {}, key: 'TOLERATIONS', expected: '[]' },
    { set: {}, key: 'AFFINITY', expected: '{}' },
    { set: { imagePullSecrets: ['one', 'two'] }, key: 'IMAGE_PULL_SECRETS', expected: 'one;two' },
    { set: { imagePullSecrets: 'one;two' }, key: 'IMAGE_PULL_SECRETS', expected: 'one;two' },
    { set: { daemonsetAnnotations: { 'example.com/team': 'ide' } }, key: 'DAEMONSET_ANNOTATIONS', expected: '{"example.com/team":"ide"}' },
    { set: { cachingRunAsUser: '' }, key: 'CACHING_RUN_AS_USER', expected: '' },
    { set: { cachingRunAsUser: 1001 }, key: 'CACHING_RUN_AS_USER', expected: '1001' },
    { set: { maxUnavailable: 2 }, key: 'MAX_UNAVAILABLE', expected: '2' },
    { set: { cachingCpuLimit: 1 }, key: 'CACHING_CPU_LIMIT', expected: '1' },
    { set: { priorityClassName: 'low' }, key: 'PRIORITY_CLASS_NAME', expected: 'low' },
    { set: { logLevel: 'debug', logFormat: 'text' }, key: 'LOG_FORMAT', expected: 'text' },
    { set: { rolloutTimeoutSeconds: 600 }, key: 'ROLLOUT_TIMEOUT_SECONDS', expected: '600' },
    { set: {}, key: 'IMAGE_SETS', expected: '' },
    { set: { imageSets: [{ name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12', nodeSelector: { pool: 'gpu' } }] }, key: 'IMAGE_SETS', expected: '[{"images":"cuda=nvcr.io/nvidia/cuda:12","name":"gpu","nodeSelector":{"pool":"gpu"}}]' },
    { set: { imageSets: '[{"name":"gpu","images":"cuda=nvcr.io/nvidia/cuda:12"}]' }, key: 'IMAGE_SETS', expected: '[{"name":"gpu","images":"cuda=nvcr.io/nvidia/cuda:12"}]' },
    { set: {}, key: 'MAX_IMAGES_PER_DAEMONSET', expected: '' },
    { set: { maxImagesPerDaemonSet: 10 }, key: 'MAX_IMAGES_PER_DAEMONSET', expected: '10' },
  ];
  for (const c of cases) {
    it(`configMap ${JSON.stringify(c.set)} → ${c.key}=${JSON.stringify(c.expected)}`, () => {
      assert.equal(configData(renderChart({ values: withConfig(c.set) }))[c.key], c.expected);
    });
  }

  it('a limit alone below the default request lowers the request with it; by default the pass gets the upstream resources', () => {
    const limited = loadConfig(passEnvironment(renderChart({ values: { configMap: { cachingMemoryLimit: '5Mi', cachingCpuLimit: '20m' } } })));
    assert.deepEqual(limited.resources, { requests: { cpu: '20m', memory: '5Mi' }, limits: { cpu: '20m', memory: '5Mi' } });
    const defaults = loadConfig(passEnvironment(renderChart({ values: { configMap: { images: 'a=nginx:1' } } })));
    assert.deepEqual(defaults.resources, { requests: { cpu: '.05', memory: '10Mi' }, limits: { cpu: '.2', memory: '20Mi' } });
  });

  it('the README\'s image sets reach the pass as its DaemonSets: a general pool, a GPU pool behind a taint, one zone', () => {
    const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');
    const example = /## Image sets[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example !== undefined, 'a yaml example under "## Image sets"');
    const values = load(example) as { configMap: Record<string, unknown> };
    const config = loadConfig(passEnvironment(renderChart({ values: withConfig(values.configMap) })));
    const planned = planDaemonSets(config);
    assert.deepEqual(planned.map(({ config: daemonSet }) => daemonSet.daemonSetName), ['kubernetes-image-puller-general', 'kubernetes-image-puller-gpu', 'kubernetes-image-puller-zone-a']);
    assert.deepEqual(planned[1]?.config.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(Object.keys(planned[2]?.config.affinity ?? {}), ['nodeAffinity']);
  });

  it('NOTES list the DaemonSet of each image set, or show how to add sets', () => {
    const withSets = renderNotes(withConfig({ images: '', imageSets: [{ name: 'gpu', images: { torch: 'docker.io/pytorch/pytorch:2', cuda: 'nvcr.io/nvidia/cuda:12' } }, { name: 'ide', images: 'code=quay.io/che/code:next;udi=quay.io/devfile/udi:latest' }] }));
    assert.match(withSets, /^ {2}- kubernetes-image-puller-gpu: cuda, torch$/m);
    assert.match(withSets, /^ {2}- kubernetes-image-puller-ide: code, udi$/m);
    assert.doesNotMatch(withSets, /caches these images/);
    const without = renderNotes(upstreamHelmValues);
    assert.match(without, /imageSets:\n {6}- name: general\n[\s\S]*- name: gpu\n[\s\S]*tolerations: \[\{key: nvidia\.com\/gpu[\s\S]*- name: zone-a\n[\s\S]*topology\.kubernetes\.io\/zone/);
  });

  it('images may be blank when image sets are given', () => {
    const res = helmTemplate({ values: withConfig({ images: '', imageSets: [{ name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12' }] }) });
    assert.equal(res.code, 0, res.stderr);
  });

  it('a longer rollout timeout moves the Job deadline with it', () => {
    const cronJob = find(renderChart({ values: withConfig({ rolloutTimeoutSeconds: 900 }) }), 'CronJob');
    assert.ok((at(cronJob, 'spec.jobTemplate.spec.activeDeadlineSeconds') as number) > 900);
  });

  it('job pod settings reach the CronJob pod, and a UID only when asked for', () => {
    const objects = renderChart({
      values: {
        job: {
          podSecurityContext: { runAsNonRoot: true, runAsUser: 1234, seccompProfile: { type: 'RuntimeDefault' } },
          resources: { requests: { cpu: '10m', memory: '64Mi' } },
        },
      },
    });
    const pod = cronJobPodSpec(find(objects, 'CronJob'));
    assert.equal(pod.securityContext?.['runAsUser'], 1234);
    // Helm merges maps with the defaults: the limits stay unless set to null.
    assert.deepEqual(pod.containers[0]!.resources, { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
  });

  it('firstPass.enabled=false drops the first-pass Job', () => {
    const objects = renderChart({ values: { firstPass: { enabled: false } } });
    assert.equal(objects.filter((o) => o.kind === 'Job').length, 0);
  });
});

describe('a values file in the upstream chart\'s current layout', () => {
  const customized = {
    ...upstreamChartValues,
    deploymentName: 'che-puller',
    priorityClassName: 'puller-priority',
    tolerations: [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }],
    nodeSelector: { 'node-role.kubernetes.io/infra': '' },
    containerSecurityContext: { readOnlyRootFilesystem: true, runAsNonRoot: true },
  };

  it('passes helm lint --strict, and renders without a warning', () => {
    const res = withValuesFile(upstreamChartValues, (file) => helm(['lint', '--strict', chartDir, '--values', file]));
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const rendered = helmTemplate({ values: upstreamChartValues });
    assert.equal(rendered.code, 0, rendered.stderr);
    assert.equal(rendered.stderr, '', 'helm printed warnings');
  });

  it('names the DaemonSet and the CronJob after deploymentName, as the upstream chart named its DaemonSet', () => {
    const objects = renderChart({ values: customized });
    assert.equal(find(objects, 'CronJob').metadata.name, 'che-puller');
    assert.equal(configData(objects)['DAEMONSET_NAME'], 'che-puller');
    assert.equal(passEnvironment(objects)['CRONJOB_NAME'], 'che-puller');
    const named = renderChart({ values: { ...customized, appName: 'cache' } });
    assert.equal(configData(named)['DAEMONSET_NAME'], 'cache', 'appName, when given, wins');
  });

  it('lets the pass read the Deployment named by deploymentName, and no other', () => {
    const role = find(renderChart({ values: customized }), 'Role', 'k8s-image-puller-go-puller');
    assert.deepEqual(role['rules'], [{ apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['che-puller'], verbs: ['get'] }]);
  });

  it('applies what configured the Deployment to the pass\'s pod: resources, scheduling, priority, security context', () => {
    const objects = renderChart({ values: customized });
    for (const podSpec of [cronJobPodSpec(find(objects, 'CronJob')), at(find(objects, 'Job'), 'spec.template.spec') as ReturnType<typeof cronJobPodSpec>]) {
      const pod = podSpec as ReturnType<typeof cronJobPodSpec> & Record<string, unknown>;
      assert.deepEqual(pod.containers[0]!.resources, upstreamChartValues.resources);
      assert.equal(pod['priorityClassName'], 'puller-priority');
      assert.deepEqual(pod['tolerations'], customized.tolerations);
      assert.deepEqual(pod['nodeSelector'], customized.nodeSelector);
      assert.deepEqual(pod.containers[0]!.securityContext, {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
      }, 'containerSecurityContext over the chart\'s defaults');
    }
  });

  it('puts deploymentAnnotations on the CronJob and on its pods', () => {
    const objects = renderChart({ values: { ...customized, job: { podAnnotations: { 'example.com/own': 'yes' } } } });
    const cronJob = find(objects, 'CronJob');
    assert.deepEqual(cronJob.metadata['annotations'], { 'reloader.stakater.com/auto': 'true' });
    assert.deepEqual(at(cronJob, 'spec.jobTemplate.spec.template.metadata.annotations'), { 'example.com/own': 'yes', 'reloader.stakater.com/auto': 'true' });
  });

  // NOTES.txt, which says so, is not rendered by `helm template`: e2e/packaging/go-puller-switch.test.ts checks it in
  // `helm install`'s output (renderNotes above renders NOTES.txt offline).
  it('runs this chart\'s image where the values name the Go puller\'s (image.tag: next)', () => {
    const objects = renderChart({ values: upstreamChartValues });
    const image = 'quay.io/eclipse/kubernetes-image-puller:latest';
    assert.equal(cronJobPodSpec(find(objects, 'CronJob')).containers[0]!.image, image);
    assert.equal(passEnvironment(objects)['KIP_IMAGE'], image);
    assert.equal(find(objects, 'CronJob').metadata.labels?.['app.kubernetes.io/version'], 'latest');
    const mirror = renderChart({ values: { ...upstreamChartValues, image: { repository: 'registry.example.com/kip', tag: 'next' } } });
    assert.equal(cronJobPodSpec(find(mirror, 'CronJob')).containers[0]!.image, 'registry.example.com/kip:next', 'any other image is used as given');
  });

  it('accepts priorityClassName: {} of older upstream values as none', () => {
    const pod = cronJobPodSpec(find(renderChart({ values: { ...upstreamChartValues, priorityClassName: {} } }), 'CronJob')) as unknown as Record<string, unknown>;
    assert.equal(pod['priorityClassName'], undefined);
  });

  it('gives the pass the configuration the upstream values describe', () => {
    const config = loadConfig(passEnvironment(renderChart({ values: upstreamChartValues })));
    assert.deepEqual(config.images.map((image) => image.name), ['che-code', 'base-developer-image']);
    assert.equal(config.daemonSetName, 'kubernetes-image-puller');
    assert.equal(config.intervalHours, 1);
  });
});

describe('values.schema.json rejects bad values with a message naming them', () => {
  const cases: Array<{ values: unknown; names: RegExp }> = [
    { values: withConfig({ cachingIntervalHours: 0 }), names: /cachingIntervalHours/ },
    { values: withConfig({ cachingIntervalHours: '0' }), names: /cachingIntervalHours/ },
    { values: withConfig({ cachingIntervalHours: '3h' }), names: /cachingIntervalHours/ },
    { values: withConfig({ cachingIntervalHours: 8761 }), names: /cachingIntervalHours/ },
    { values: withConfig({ cachingIntervalHours: '8761' }), names: /cachingIntervalHours/ },
    { values: withConfig({ cachingIntervalHours: '9999' }), names: /cachingIntervalHours/ },
    { values: withConfig({ images: 'quay.io/eclipse/che-theia:next' }), names: /images/ },
    { values: withConfig({ images: 'Theia=quay.io/eclipse/che-theia:next' }), names: /images/ },
    { values: withConfig({ images: 'a=x:1;;b=y:2' }), names: /images/ },
    { values: withConfig({ images: '' }), names: /images/ },
    { values: withConfig({ images: '', imageSets: [] }), names: /images/ },
    { values: withConfig({ imageSets: [{ images: 'a=nginx' }] }), names: /imageSets/ },
    { values: withConfig({ imageSets: [{ name: 'default', images: 'a=nginx' }] }), names: /imageSets/ },
    { values: withConfig({ imageSets: [{ name: 'gpu', images: 'a=nginx', nodeselector: {} }] }), names: /imageSets/ },
    { values: withConfig({ maxImagesPerDaemonSet: 0 }), names: /maxImagesPerDaemonSet/ },
    { values: withConfig({ cachingIntervalHour: '2' }), names: /cachingIntervalHour/ },
    { values: withConfig({ cachingMemoryRequest: '10 MB' }), names: /cachingMemoryRequest/ },
    { values: withConfig({ cachingMemoryRequest: 'Mi' }), names: /cachingMemoryRequest/ },
    { values: withConfig({ logLevel: 'trace' }), names: /logLevel/ },
    { values: withConfig({ logFormat: 'yaml' }), names: /logFormat/ },
    { values: withConfig({ maxUnavailable: 'ten' }), names: /maxUnavailable/ },
    { values: withConfig({ nodeSelector: 'disk=ssd' }), names: /nodeSelector/ },
    { values: withConfig({ cachingRunAsUser: 'root' }), names: /cachingRunAsUser/ },
    { values: { ...upstreamHelmValues, appName: 'x'.repeat(53) }, names: /appName/ },
    { values: { ...upstreamHelmValues, imageTag: 'next' }, names: /imageTag/ },
    { values: { image: { repository: 'quay.io/x', tag: 'next', pullPolicy: 'Sometimes' } }, names: /pullPolicy/ },
    { values: { cronJob: { backofLimit: 3 } }, names: /backofLimit/ },
    { values: { cronJob: { activeDeadlineSeconds: 86401 } }, names: /activeDeadlineSeconds/ },
    { values: { job: { resources: { request: { cpu: '1' } } } }, names: /request/ },
    { values: { ...upstreamChartValues, deploymentAnotations: {} }, names: /deploymentAnotations/ },
    { values: { ...upstreamChartValues, resources: { request: { cpu: '1' } } }, names: /request/ },
    { values: { ...upstreamChartValues, updateStrategy: { type: 'Recreat' } }, names: /updateStrategy|type/ },
    { values: { ...upstreamChartValues, containerSecurityContext: 'restricted' }, names: /containerSecurityContext/ },
    { values: { ...upstreamChartValues, deploymentName: 'Che_Puller' }, names: /deploymentName/ },
    { values: { ...upstreamChartValues, tolerations: { key: 'a' } }, names: /tolerations/ },
    { values: { ...upstreamChartValues, priorityClassName: { name: 'x' } }, names: /priorityClassName/ },
    { values: { registryCA: { configmap: 'corp-ca' } }, names: /configmap/ },
    { values: { registryCA: { configMap: 'corp-ca', key: '' } }, names: /key/ },
    { values: withConfig({ httpsProxy: ['http://proxy:3128'] }), names: /httpsProxy/ },
  ];
  for (const c of cases) {
    it(`${String(c.names)} in ${JSON.stringify(c.values).slice(0, 100)}`, () => {
      const res = helmTemplate({ values: c.values });
      assert.notEqual(res.code, 0, `helm template accepted it:\n${res.stdout.slice(0, 400)}`);
      assert.match(res.stderr, /schema/i, res.stderr);
      assert.match(res.stderr, c.names, res.stderr);
    });
  }
});

describe('warm-node labels', () => {
  it('are off by default: NODE_LABELS "false" and nothing cluster-wide', () => {
    const objects = renderChart({ values: withConfig({}) });
    assert.equal(configData(objects)['NODE_LABELS'], 'false');
    assert.deepEqual(objects.filter((o) => o.kind.startsWith('Cluster')), []);
  });

  it('nodeLabels.enabled sets NODE_LABELS and binds the ServiceAccount to nodes list and patch, nothing more', () => {
    const objects = renderChart({ values: withConfig({}, { nodeLabels: { enabled: true } }) });
    assert.equal(configData(objects)['NODE_LABELS'], 'true');
    const role = find(objects, 'ClusterRole');
    assert.deepEqual(role['rules'], [{ apiGroups: [''], resources: ['nodes'], verbs: ['list', 'patch'] }]);
    const binding = find(objects, 'ClusterRoleBinding');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'k8s-image-puller', namespace: NS }]);
  });
});

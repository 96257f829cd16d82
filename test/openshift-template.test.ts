// OpenShift Template processing (e2e/lib/openshift-template.ts) and the templates in openshift/: they keep
// the upstream parameters and file names, and produce the same objects as the Helm chart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { configWarnings, loadConfig } from '../src/config/config.ts';
import { planDaemonSets } from '../src/plan/daemonset-plan.ts';
import {
  generateFromExpression,
  loadTemplate,
  processTemplate,
  resolveParameters,
  TemplateError,
  type Template,
} from '../e2e/lib/openshift-template.ts';
import {
  at,
  containerEnvironment,
  cronJobPodSpec,
  find,
  passConfigMap,
  openshiftDir,
  openshiftTemplateFiles,
  processOpenShiftTemplates,
  comparableToTemplates,
  everyUpstreamOpenShiftParameter,
  renderChart,
  upstreamHelmValues,
  upstreamOpenShiftDefaults,
  upstreamOpenShiftParameters,
  type KubeObject,
} from '../e2e/packaging/fixtures.ts';

function template(objects: unknown[], parameters: Template['parameters'] = [], labels?: Record<string, string>): Template {
  return {
    apiVersion: 'template.openshift.io/v1',
    kind: 'Template',
    metadata: { name: 't' },
    objects: objects as Template['objects'],
    parameters,
    ...(labels ? { labels } : {}),
  };
}

const cm = (data: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'c' }) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata,
  data,
});

describe('processTemplate', () => {
  const params = [
    { name: 'A', value: 'alpha' },
    { name: 'N', value: '3' },
    { name: 'OBJ', value: '{"k":"v"}' },
    { name: 'WORD', value: 'plain' },
    { name: 'EMPTY', value: '' },
  ];
  const cases: Array<{ input: unknown; expected: unknown; why: string }> = [
    { input: '${A}', expected: 'alpha', why: 'whole string' },
    { input: 'x-${A}-${A}-${N}', expected: 'x-alpha-alpha-3', why: 'embedded, repeated, several' },
    { input: '${{N}}', expected: 3, why: '${{X}} decodes JSON: a number' },
    { input: '${{OBJ}}', expected: { k: 'v' }, why: '${{X}} decodes JSON: an object' },
    { input: '${{WORD}}', expected: 'plain', why: '${{X}} that is not JSON stays a string' },
    { input: 'n=${{N}}', expected: 'n=${{N}}', why: '${{X}} only works as the entire value' },
    { input: '${UNDEFINED}', expected: '${UNDEFINED}', why: 'unknown references stay' },
    { input: '${EMPTY}', expected: '', why: 'empty parameter' },
    { input: '$A {A} ${a}', expected: '$A {A} ${a}', why: 'only ${NAME} syntax, names are case-sensitive' },
    { input: 7, expected: 7, why: 'non-strings untouched' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.input)} → ${JSON.stringify(c.expected)} (${c.why})`, () => {
      const [out] = processTemplate(template([cm({ v: c.input })], params));
      assert.deepEqual(out!['data'], { v: c.expected });
    });
  }

  it('substitutes map keys, nested arrays and objects', () => {
    const [out] = processTemplate(template([cm({ '${A}-key': [{ deep: ['${N}'] }] })], params));
    assert.deepEqual(out!['data'], { 'alpha-key': [{ deep: ['3'] }] });
  });

  it('overrides defaults with -p values and keeps the template untouched', () => {
    const t = template([cm({ v: '${A}' })], params);
    assert.deepEqual(processTemplate(t, { A: 'beta' })[0]!['data'], { v: 'beta' });
    assert.deepEqual(processTemplate(t)[0]!['data'], { v: 'alpha' }, 'the first call changed the template');
  });

  it('rejects unknown -p names unless told to ignore them', () => {
    const t = template([cm({ v: '${A}' })], params);
    assert.throws(() => processTemplate(t, { NOPE: 'x' }), (e: unknown) => e instanceof TemplateError && /"NOPE"/.test(e.message));
    assert.deepEqual(processTemplate(t, { NOPE: 'x' }, { ignoreUnknownParameters: true })[0]!['data'], { v: 'alpha' });
  });

  it('requires required parameters, naming them', () => {
    const t = template([cm({ v: '${R}' })], [{ name: 'R', required: true }]);
    assert.throws(() => processTemplate(t), /parameter R is required/);
    assert.throws(() => processTemplate(t, { R: '' }), /parameter R is required/);
    assert.deepEqual(processTemplate(t, { R: 'given' })[0]!['data'], { v: 'given' });
  });

  it('generates expression parameters that have no value, and not those that have one', () => {
    const t = template([cm({ v: '${G}' })], [{ name: 'G', generate: 'expression', from: 'x[a-c]{3}[0-9]' }]);
    assert.deepEqual(processTemplate(t, {}, { random: () => 0 })[0]!['data'], { v: 'xaaa0' });
    assert.deepEqual(processTemplate(t, { G: 'set' })[0]!['data'], { v: 'set' });
    for (let i = 0; i < 50; i++) {
      const data = processTemplate(t)[0]!['data'] as { v: string };
      assert.match(data.v, /^x[a-c]{3}[0-9]$/);
    }
    assert.throws(() => processTemplate(template([], [{ name: 'G', generate: 'magic' }])), /Unknown generator/);
  });

  it('generateFromExpression handles classes, escapes and counts', () => {
    const last = (n: number) => n - 1;
    assert.equal(generateFromExpression('[0-5][0-9]', last), '59');
    assert.equal(generateFromExpression('\\d{2}-[A-C]', last), '99-C');
    assert.equal(generateFromExpression('lit', last), 'lit');
  });

  it('drops a hard-coded namespace but keeps a parameterised one', () => {
    const t = template([cm({}, { name: 'a', namespace: 'fixed' }), cm({}, { name: 'b', namespace: '${NS}' })], [{ name: 'NS', value: 'mine' }]);
    const [a, b] = processTemplate(t);
    assert.equal(a!.metadata.namespace, undefined);
    assert.equal(b!.metadata.namespace, 'mine');
  });

  it('adds the template labels (substituted) to every object, overriding same keys', () => {
    const t = template([cm({}, { name: 'a', labels: { keep: 'me', app: 'old' } })], [{ name: 'A', value: 'alpha' }], { app: '${A}' });
    assert.deepEqual(processTemplate(t)[0]!.metadata.labels, { keep: 'me', app: 'alpha' });
  });

  it('resolveParameters reports every required parameter at once', () => {
    const t = template([], [{ name: 'X', required: true }, { name: 'Y', required: true }]);
    assert.throws(() => resolveParameters(t), /parameter X is required.*parameter Y is required/);
  });
});

describe('openshift/ templates', () => {
  for (const file of openshiftTemplateFiles) {
    it(`${file} keeps the upstream parameters and defaults`, () => {
      const t = loadTemplate(join(openshiftDir, file));
      assert.equal(t.apiVersion, 'template.openshift.io/v1');
      const defaults = Object.fromEntries((t.parameters ?? []).map((p) => [p.name, p.value ?? '']));
      for (const [name, value] of Object.entries(upstreamOpenShiftDefaults[file])) {
        assert.equal(defaults[name], value, `${file}: parameter ${name}`);
      }
    });

    it(`${file} processes with its defaults alone (upstream: oc process -f ${file} | oc apply -f -)`, () => {
      const objects = processTemplate(loadTemplate(join(openshiftDir, file)));
      assert.ok(objects.length > 0);
      for (const o of objects) {
        assert.doesNotMatch(JSON.stringify(o), /\$\{/, `${o.kind}/${o.metadata.name} has an unresolved reference`);
        assert.equal(o.metadata.labels?.['app.kubernetes.io/name'], 'kubernetes-image-puller');
      }
    });

    it(`${file} declares every parameter it references, and references every one it declares`, () => {
      const t = loadTemplate(join(openshiftDir, file));
      const text = JSON.stringify(t.objects);
      const referenced = new Set([...text.matchAll(/\$\{\{?([A-Za-z0-9_]+)\}?\}/g)].map((m) => m[1]!));
      const declared = new Set((t.parameters ?? []).map((p) => p.name));
      assert.deepEqual([...referenced].sort(), [...declared].sort());
    });
  }

  it('CACHING_MEMORY_LIMIT or CACHING_CPU_LIMIT alone below the default request lowers the request with it', () => {
    const environment = (params: Record<string, string>) =>
      processTemplate(loadTemplate(join(openshiftDir, 'configmap.yaml')), params)[0]!['data'] as Record<string, string>;
    assert.deepEqual(loadConfig(environment({ CACHING_MEMORY_LIMIT: '5Mi', CACHING_CPU_LIMIT: '20m' })).resources.requests, { cpu: '20m', memory: '5Mi' });
    assert.deepEqual(loadConfig(environment({})).resources, { requests: { cpu: '.05', memory: '10Mi' }, limits: { cpu: '.2', memory: '20Mi' } }, 'the upstream defaults');
  });

  it('CACHING_RUN_AS_USER defaults to empty so OpenShift assigns the UID', () => {
    const [configMap] = processTemplate(loadTemplate(join(openshiftDir, 'configmap.yaml')));
    assert.equal((configMap!['data'] as Record<string, string>)['CACHING_RUN_AS_USER'], '');
  });

  it('the schedule is hourly at the generated minute, or at the hours given', () => {
    const app = loadTemplate(join(openshiftDir, 'app.yaml'));
    const schedule = (params: Record<string, string>) =>
      at(find(processTemplate(app, params, { random: (n) => n - 1 }), 'CronJob'), 'spec.schedule');
    assert.equal(schedule({}), '59 * * * *');
    assert.equal(schedule({ SCHEDULE_MINUTE: '7', SCHEDULE_HOURS: '*/6' }), '7 */6 * * *');
    const deadline = at(find(processTemplate(app), 'CronJob'), 'spec.jobTemplate.spec.activeDeadlineSeconds');
    assert.equal(deadline, 480, '${{JOB_ACTIVE_DEADLINE_SECONDS}} must become a number');
  });

  describe('the Job tells the pass its deadline and schedule, on the pod and not in the ConfigMap', () => {
    const app = loadTemplate(join(openshiftDir, 'app.yaml'));
    const podEnv = (params: Record<string, string>) => {
      const cronJob = find(processTemplate(app, params, { random: (n) => n - 1 }), 'CronJob');
      const env = cronJobPodSpec(cronJob).containers[0]!.env ?? [];
      return { cronJob, env: Object.fromEntries(env.map((e) => [e.name, e.value])) };
    };
    const configMapKeys = Object.keys(processTemplate(loadTemplate(join(openshiftDir, 'configmap.yaml')))[0]!['data'] as object);

    it('JOB_DEADLINE_SECONDS is JOB_ACTIVE_DEADLINE_SECONDS', () => {
      for (const params of [{}, { JOB_ACTIVE_DEADLINE_SECONDS: '900' }] as Array<Record<string, string>>) {
        const { cronJob, env } = podEnv(params);
        assert.equal(env['JOB_DEADLINE_SECONDS'], String(at(cronJob, 'spec.jobTemplate.spec.activeDeadlineSeconds')));
      }
      assert.equal(podEnv({ JOB_ACTIVE_DEADLINE_SECONDS: '900' }).env['JOB_DEADLINE_SECONDS'], '900');
      assert.ok(!configMapKeys.includes('JOB_DEADLINE_SECONDS'));
    });

    it('SCHEDULED_INTERVAL_HOURS is the schedule itself, which the pass reads as an interval', () => {
      const cases: Array<{ params: Record<string, string>; hours: number | undefined }> = [
        { params: {}, hours: 1 },
        { params: { SCHEDULE_HOURS: '*/6' }, hours: 6 },
        { params: { SCHEDULE_HOURS: '3' }, hours: 24 },
        { params: { SCHEDULE_HOURS: '1,13' }, hours: undefined },
      ];
      for (const c of cases) {
        const { cronJob, env } = podEnv(c.params);
        assert.equal(env['SCHEDULED_INTERVAL_HOURS'], at(cronJob, 'spec.schedule'));
        const config = loadConfig({ IMAGES: 'a=nginx', ...env, NAMESPACE: 'ns' });
        assert.equal(config.scheduledIntervalHours, c.hours, JSON.stringify(c.params));
      }
      assert.ok(!configMapKeys.includes('SCHEDULED_INTERVAL_HOURS'));
    });

    it('with its defaults the pass has nothing to warn about, whatever CACHING_INTERVAL_HOURS becomes', () => {
      const { env } = podEnv({});
      for (const hours of ['1', '5', '24', '48']) {
        assert.deepEqual(configWarnings(loadConfig({ IMAGES: 'a=nginx', ...env, NAMESPACE: 'ns', CACHING_INTERVAL_HOURS: hours })), []);
      }
    });
  });
});

describe('every parameter of the upstream templates is accepted by oc process -p, and takes effect', () => {
  const processed = (file: keyof typeof everyUpstreamOpenShiftParameter) =>
    processTemplate(loadTemplate(join(openshiftDir, file)), everyUpstreamOpenShiftParameter[file], { random: () => 0 });
  const app = processed('app.yaml');
  const configMap = passConfigMap(processed('configmap.yaml'));
  const params = everyUpstreamOpenShiftParameter;

  it('app.yaml: what configured the Go puller\'s Deployment configures the pass\'s pod', () => {
    const pod = cronJobPodSpec(find(app, 'CronJob')) as ReturnType<typeof cronJobPodSpec> & Record<string, unknown>;
    assert.equal(pod.serviceAccountName, 'che-puller');
    assert.equal(pod['priorityClassName'], 'puller-priority');
    assert.equal(pod.containers[0]!.image, 'registry.example.com/mirror/kubernetes-image-puller:latest');
    assert.deepEqual(pod.containers[0]!.resources, { requests: { cpu: '20m', memory: '96Mi' }, limits: { cpu: '300m', memory: '192Mi' } });
  });

  it('app.yaml: the pass may read the Deployment DEPLOYMENT_NAME names, and no other', () => {
    assert.deepEqual(find(app, 'Role', 'che-puller-go-puller')['rules'], [
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['che-puller'], verbs: ['get'] },
    ]);
    const binding = find(app, 'RoleBinding', 'che-puller-go-puller');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'che-puller-go-puller' });
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'che-puller' }]);
  });

  it('configmap.yaml: every value reaches the ConfigMap and the pass accepts it', () => {
    const data = configMap['data'] as Record<string, string>;
    for (const [name, value] of Object.entries(params['configmap.yaml'])) assert.equal(data[name], value, name);
    const config = loadConfig(data);
    assert.equal(config.namespace, 'che-images');
    assert.equal(config.helperImage, params['configmap.yaml']['KIP_IMAGE']);
    assert.deepEqual(config.resources, { requests: { cpu: '.02', memory: '8Mi' }, limits: { cpu: '.1', memory: '16Mi' } });
  });

  it('the pass runs in its pod\'s namespace with the image app.yaml runs, whatever NAMESPACE and KIP_IMAGE say', () => {
    const container = cronJobPodSpec(find(app, 'CronJob')).containers[0]!;
    const env = containerEnvironment(container, { [configMap.metadata.name!]: configMap['data'] as Record<string, string> }, 'project-a');
    assert.equal(env['NAMESPACE'], 'project-a');
    assert.equal(env['KIP_IMAGE'], 'registry.example.com/mirror/kubernetes-image-puller:latest');
  });

  it('with their defaults, the new parameters leave the pod as the chart\'s', () => {
    const pod = cronJobPodSpec(find(processTemplate(loadTemplate(join(openshiftDir, 'app.yaml'))), 'CronJob')) as ReturnType<typeof cronJobPodSpec> & Record<string, unknown>;
    assert.equal(pod['priorityClassName'], '', 'empty: no PriorityClass');
    assert.deepEqual(pod.containers[0]!.resources, { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
  });
});

describe('registry lookups behind a proxy, with a private CA, through the templates', () => {
  const cronJobOf = (params: Record<string, string> = {}) => cronJobPodSpec(find(processTemplate(loadTemplate(join(openshiftDir, 'app.yaml')), params), 'CronJob'));

  it('HTTPS_PROXY, HTTP_PROXY and NO_PROXY reach the ConfigMap, empty (no proxy) by default', () => {
    const data = (params: Record<string, string>) => find(processTemplate(loadTemplate(join(openshiftDir, 'configmap.yaml')), params), 'ConfigMap')['data'] as Record<string, string>;
    assert.deepEqual([data({})['HTTPS_PROXY'], data({})['HTTP_PROXY'], data({})['NO_PROXY']], ['', '', '']);
    const given = data({ HTTPS_PROXY: 'http://proxy.corp:3128', HTTP_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.corp' });
    assert.deepEqual([given['HTTPS_PROXY'], given['HTTP_PROXY'], given['NO_PROXY']], ['http://proxy.corp:3128', 'http://proxy.corp:3128', '.corp']);
  });

  it('the pass trusts the bundle REGISTRY_CA_CONFIGMAP holds, mounted read-only; the ConfigMap is optional', () => {
    const defaults = cronJobOf() as ReturnType<typeof cronJobOf> & { volumes?: unknown };
    assert.deepEqual(defaults.volumes, [{ name: 'registry-ca', configMap: { name: 'kubernetes-image-puller-registry-ca', optional: true, items: [{ key: 'ca-bundle.crt', path: 'ca.crt' }] } }]);
    const container = defaults.containers[0]! as typeof defaults.containers[0] & { volumeMounts?: unknown };
    assert.deepEqual(container.volumeMounts, [{ name: 'registry-ca', mountPath: '/etc/kubernetes-image-puller/registry-ca', readOnly: true }]);
    assert.deepEqual(container.env?.find((variable) => variable.name === 'NODE_EXTRA_CA_CERTS'), { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/kubernetes-image-puller/registry-ca/ca.crt' });
    const own = cronJobOf({ REGISTRY_CA_CONFIGMAP: 'corp-ca', REGISTRY_CA_KEY: 'ca.pem' }) as ReturnType<typeof cronJobOf> & { volumes?: unknown };
    assert.deepEqual(own.volumes, [{ name: 'registry-ca', configMap: { name: 'corp-ca', optional: true, items: [{ key: 'ca.pem', path: 'ca.crt' }] } }]);
  });
});

describe('image sets through the template', () => {
  it('IMAGES may be emptied when IMAGE_SETS gives the images, and the pass plans one DaemonSet per set', () => {
    const sets = JSON.stringify([{ name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12', nodeSelector: { pool: 'gpu' } }]);
    const data = find(processTemplate(loadTemplate(join(openshiftDir, 'configmap.yaml')), { IMAGES: '', IMAGE_SETS: sets }), 'ConfigMap')['data'] as Record<string, string>;
    assert.deepEqual([data['IMAGES'], data['IMAGE_SETS']], ['', sets]);
    assert.deepEqual(planDaemonSets(loadConfig(data)).map(({ config }) => config.daemonSetName), ['kubernetes-image-puller-gpu']);
  });
});

describe('templates processed with the upstream example parameters match the chart', () => {
  const fromTemplates = processOpenShiftTemplates(upstreamOpenShiftParameters);
  const fromChart = comparableToTemplates(renderChart({ values: upstreamHelmValues }));
  const ids = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

  it('same kinds and names', () => {
    assert.deepEqual(ids(fromTemplates), ids(fromChart));
  });

  it('same ConfigMap, except the UID the platform assigns on OpenShift', () => {
    const t = { ...(passConfigMap(fromTemplates)['data'] as Record<string, string>) };
    const c = { ...(passConfigMap(fromChart)['data'] as Record<string, string>) };
    assert.equal(t['CACHING_RUN_AS_USER'], '');
    assert.equal(c['CACHING_RUN_AS_USER'], '65532');
    delete t['CACHING_RUN_AS_USER'];
    delete c['CACHING_RUN_AS_USER'];
    assert.deepEqual(t, c);
  });

  it('same Role rules and bindings', () => {
    for (const name of ['k8s-image-puller', 'k8s-image-puller-go-puller']) {
      assert.deepEqual(find(fromTemplates, 'Role', name)['rules'], find(fromChart, 'Role', name)['rules'], name);
      assert.deepEqual(find(fromTemplates, 'RoleBinding', name)['roleRef'], find(fromChart, 'RoleBinding', name)['roleRef'], name);
    }
  });

  it('same pass environment, ServiceAccount, security context and failure policy', () => {
    const configMaps = (objects: KubeObject[]) => ({
      [passConfigMap(objects).metadata.name!]: passConfigMap(objects)['data'] as Record<string, string>,
    });
    const tPod = cronJobPodSpec(find(fromTemplates, 'CronJob'));
    const cPod = cronJobPodSpec(find(fromChart, 'CronJob'));
    const tEnv = containerEnvironment(tPod.containers[0]!, configMaps(fromTemplates), 'ns');
    const cEnv = containerEnvironment(cPod.containers[0]!, configMaps(fromChart), 'ns');
    delete tEnv['CACHING_RUN_AS_USER'];
    delete cEnv['CACHING_RUN_AS_USER'];
    // The chart gives the interval its schedule was made for, the template its schedule: both mean hourly.
    assert.equal(cEnv['SCHEDULED_INTERVAL_HOURS'], '1');
    assert.match(tEnv['SCHEDULED_INTERVAL_HOURS'] ?? '', /^\d+ \* \* \* \*$/);
    assert.equal(loadConfig(tEnv).scheduledIntervalHours, loadConfig(cEnv).scheduledIntervalHours);
    delete tEnv['SCHEDULED_INTERVAL_HOURS'];
    delete cEnv['SCHEDULED_INTERVAL_HOURS'];
    // The template always names its optional CA bundle (a template cannot leave the volume out); the
    // chart only when registryCA is given. Without the ConfigMap both trust the public CAs alone.
    assert.equal(tEnv['NODE_EXTRA_CA_CERTS'], '/etc/kubernetes-image-puller/registry-ca/ca.crt');
    assert.equal(cEnv['NODE_EXTRA_CA_CERTS'], undefined);
    delete tEnv['NODE_EXTRA_CA_CERTS'];
    assert.deepEqual(tEnv, cEnv);
    assert.equal(tEnv['KIP_IMAGE'], 'quay.io/eclipse/kubernetes-image-puller:latest');
    assert.equal(tPod.serviceAccountName, cPod.serviceAccountName);
    assert.equal(tPod.automountServiceAccountToken, cPod.automountServiceAccountToken);
    assert.equal(tPod.restartPolicy, cPod.restartPolicy);
    assert.deepEqual(tPod.securityContext, cPod.securityContext);
    assert.deepEqual(tPod.containers[0]!.securityContext, cPod.containers[0]!.securityContext);
    assert.deepEqual(tPod.containers[0]!.resources, cPod.containers[0]!.resources);
    assert.equal(tPod.containers[0]!.image, cPod.containers[0]!.image);
    for (const path of ['podFailurePolicy', 'backoffLimit']) {
      assert.deepEqual(
        at(find(fromTemplates, 'CronJob'), `spec.jobTemplate.spec.${path}`),
        at(find(fromChart, 'CronJob'), `spec.jobTemplate.spec.${path}`),
        path,
      );
    }
    for (const path of ['concurrencyPolicy', 'timeZone', 'startingDeadlineSeconds']) {
      assert.deepEqual(at(find(fromTemplates, 'CronJob'), `spec.${path}`), at(find(fromChart, 'CronJob'), `spec.${path}`), path);
    }
  });
});

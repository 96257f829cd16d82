import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig } from '../src/config.ts';
import type { Environment } from '../src/config.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

function problemsOf(env: Environment): Record<string, string> {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return Object.fromEntries(error.problems.map((problem) => [problem.variable, problem.problem]));
  }
  assert.fail(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig defaults', () => {
  it('keeps the upstream names and defaults', () => {
    const config = loadConfig({ IMAGES: 'java=quay.io/eclipse/che-java11-maven:nightly' });
    assert.equal(config.intervalHours, 1);
    assert.deepEqual(config.resources, { requests: { cpu: '.05', memory: '10Mi' }, limits: { cpu: '.2', memory: '20Mi' } });
    assert.equal(config.daemonSetName, 'kubernetes-image-puller');
    assert.equal(config.namespace, 'k8s-image-puller');
    assert.deepEqual(config.nodeSelector, {});
    assert.deepEqual(config.tolerations, []);
    assert.deepEqual(config.affinity, {});
    assert.deepEqual(config.imagePullSecrets, []);
    assert.equal(config.helperImage, DEFAULTS.KIP_IMAGE);
    assert.equal(config.runAsUser, 65532);
    assert.equal(config.maxUnavailable, '10%');
    assert.equal(config.rolloutTimeoutSeconds, 300);
    assert.equal(config.priorityClassName, undefined);
    assert.equal(config.cronJobName, undefined);
  });

  it('treats blank ConfigMap values as the default, and a blank run-as user as "platform decides"', () => {
    const config = loadConfig({ IMAGES: 'a=nginx', CACHING_MEMORY_LIMIT: ' ', NODE_SELECTOR: '', CACHING_RUN_AS_USER: '' });
    assert.equal(config.resources.limits.memory, '20Mi');
    assert.deepEqual(config.nodeSelector, {});
    assert.equal(config.runAsUser, undefined);
  });

  it('parses every option', () => {
    const config = loadConfig({
      IMAGES: ` b=registry.local:5000/team/b:1.2 ; a=quay.io/x/a@${DIGEST};`,
      CACHING_INTERVAL_HOURS: '5',
      NODE_SELECTOR: '{"zone":"b","kubernetes.io/os":"linux"}',
      TOLERATIONS: '[{"key":"gpu","operator":"Exists","effect":"NoSchedule"}]',
      AFFINITY: '{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}}',
      IMAGE_PULL_SECRETS: 'second; first;second;',
      PRIORITY_CLASS_NAME: 'low-priority',
      MAX_UNAVAILABLE: '3',
      CRONJOB_NAME: 'puller',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'text',
    });
    assert.deepEqual(config.images, [
      { name: 'b', image: 'registry.local:5000/team/b:1.2' },
      { name: 'a', image: `quay.io/x/a@${DIGEST}` },
    ]);
    assert.deepEqual(Object.keys(config.nodeSelector), ['kubernetes.io/os', 'zone']);
    assert.deepEqual(config.imagePullSecrets, ['first', 'second']);
    assert.equal(config.maxUnavailable, 3);
    assert.equal(config.intervalHours, 5);
    assert.equal(config.priorityClassName, 'low-priority');
    assert.equal(config.cronJobName, 'puller');
  });
});

describe('loadConfig trims every value before it checks or uses it', () => {
  // A value of every variable that is not the default, so that a variable whose padding survived
  // into the Config (and from there into the manifest) would show up as a difference.
  const everyVariable: Environment = {
    IMAGES: `b=registry.local:5000/team/b:1.2;a=quay.io/x/a@${DIGEST}`,
    CACHING_INTERVAL_HOURS: '5',
    CACHING_MEMORY_REQUEST: '15Mi',
    CACHING_MEMORY_LIMIT: '30Mi',
    CACHING_CPU_REQUEST: '100m',
    CACHING_CPU_LIMIT: '1',
    DAEMONSET_NAME: 'cache',
    NAMESPACE: 'images',
    NODE_SELECTOR: '{"zone":"b"}',
    IMAGE_PULL_SECRETS: 'second;first',
    AFFINITY: '{"nodeAffinity":{}}',
    TOLERATIONS: '[{"key":"gpu","operator":"Exists","effect":"NoSchedule"}]',
    KIP_IMAGE: 'quay.io/x/helper:1',
    DAEMONSET_ANNOTATIONS: '{"example.com/owner":"team"}',
    PRIORITY_CLASS_NAME: 'low',
    CACHING_RUN_AS_USER: '1000',
    MAX_UNAVAILABLE: '20%',
    ROLLOUT_TIMEOUT_SECONDS: '60',
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'text',
    CRONJOB_NAME: 'puller',
  };

  it('covers every variable the configuration knows', () => {
    assert.deepEqual(Object.keys(everyVariable).sort(), ['IMAGES', ...Object.keys(DEFAULTS)].sort());
  });

  const expected = loadConfig(everyVariable);
  for (const [variable, value] of Object.entries(everyVariable)) {
    it(`${variable} with surrounding spaces, tabs and newlines means the same as without`, () => {
      assert.deepEqual(loadConfig({ ...everyVariable, [variable]: ` \t${value ?? ''}\n ` }), expected);
    });
  }
});

describe('loadConfig rejects bad input, naming the variable', () => {
  const cases: [string, Environment, string, RegExp][] = [
    ['IMAGES missing', {}, 'IMAGES', /required/],
    ['IMAGES empty', { IMAGES: '' }, 'IMAGES', /at least one entry/],
    ['IMAGES only separators', { IMAGES: ' ; ;' }, 'IMAGES', /at least one entry/],
    ['IMAGES without =', { IMAGES: 'nginx' }, 'IMAGES', /no "="/],
    ['IMAGES empty name', { IMAGES: '=nginx' }, 'IMAGES', /empty name/],
    ['IMAGES name not DNS-1123', { IMAGES: 'Java_11=nginx' }, 'IMAGES', /DNS-1123/],
    ['IMAGES name too long', { IMAGES: `${'a'.repeat(64)}=nginx` }, 'IMAGES', /longer than 63/],
    ['IMAGES duplicate name', { IMAGES: 'a=nginx;a=redis' }, 'IMAGES', /more than once/],
    ['IMAGES reserved name', { IMAGES: 'kip-hold=nginx' }, 'IMAGES', /reserved/],
    ['IMAGES whitespace in reference', { IMAGES: 'a=quay.io/x y:1' }, 'IMAGES', /whitespace/],
    ['IMAGES invalid reference', { IMAGES: 'a=Quay.io/UPPER/Case:1' }, 'IMAGES', /not a valid image reference/],
    ['IMAGES invalid tag', { IMAGES: 'a=nginx:bad!tag' }, 'IMAGES', /not a valid image reference/],
    ['IMAGES empty image', { IMAGES: 'a=' }, 'IMAGES', /empty/],
    ['NODE_SELECTOR not JSON', { IMAGES: 'a=nginx', NODE_SELECTOR: '{zone: b}' }, 'NODE_SELECTOR', /not valid JSON/],
    ['NODE_SELECTOR array', { IMAGES: 'a=nginx', NODE_SELECTOR: '["a"]' }, 'NODE_SELECTOR', /JSON object/],
    ['NODE_SELECTOR non-string value', { IMAGES: 'a=nginx', NODE_SELECTOR: '{"gpu":true}' }, 'NODE_SELECTOR', /must be a string/],
    ['NODE_SELECTOR bad label value', { IMAGES: 'a=nginx', NODE_SELECTOR: '{"zone":"a b"}' }, 'NODE_SELECTOR', /label value/],
    ['AFFINITY not JSON', { IMAGES: 'a=nginx', AFFINITY: 'nodeAffinity' }, 'AFFINITY', /not valid JSON/],
    ['AFFINITY unknown field', { IMAGES: 'a=nginx', AFFINITY: '{"nodeAfinity":{}}' }, 'AFFINITY', /unknown field "nodeAfinity"/],
    ['TOLERATIONS not JSON', { IMAGES: 'a=nginx', TOLERATIONS: '[{' }, 'TOLERATIONS', /not valid JSON/],
    ['TOLERATIONS object', { IMAGES: 'a=nginx', TOLERATIONS: '{"key":"gpu"}' }, 'TOLERATIONS', /JSON array/],
    ['TOLERATIONS bad operator', { IMAGES: 'a=nginx', TOLERATIONS: '[{"key":"gpu","operator":"In"}]' }, 'TOLERATIONS', /operator/],
    ['TOLERATIONS bad effect', { IMAGES: 'a=nginx', TOLERATIONS: '[{"key":"gpu","operator":"Exists","effect":"Never"}]' }, 'TOLERATIONS', /effect/],
    ['quantity 10MB', { IMAGES: 'a=nginx', CACHING_MEMORY_REQUEST: '10MB' }, 'CACHING_MEMORY_REQUEST', /Kubernetes quantity/],
    ['quantity abc', { IMAGES: 'a=nginx', CACHING_CPU_LIMIT: 'abc' }, 'CACHING_CPU_LIMIT', /Kubernetes quantity/],
    ['quantity -1Mi', { IMAGES: 'a=nginx', CACHING_MEMORY_LIMIT: '-1Mi' }, 'CACHING_MEMORY_LIMIT', /non-negative/],
    ['memory request above limit', { IMAGES: 'a=nginx', CACHING_MEMORY_REQUEST: '1Gi', CACHING_MEMORY_LIMIT: '20Mi' }, 'CACHING_MEMORY_REQUEST', /above CACHING_MEMORY_LIMIT/],
    ['cpu request above limit', { IMAGES: 'a=nginx', CACHING_CPU_REQUEST: '500m', CACHING_CPU_LIMIT: '.2' }, 'CACHING_CPU_REQUEST', /above CACHING_CPU_LIMIT/],
    ['memory request above limit, request padded', { IMAGES: 'a=nginx', CACHING_MEMORY_REQUEST: ' 30Mi', CACHING_MEMORY_LIMIT: '20Mi' }, 'CACHING_MEMORY_REQUEST', /above CACHING_MEMORY_LIMIT=20Mi;/],
    ['memory request above limit, limit padded', { IMAGES: 'a=nginx', CACHING_MEMORY_REQUEST: '30Mi', CACHING_MEMORY_LIMIT: '20Mi\n' }, 'CACHING_MEMORY_REQUEST', /above CACHING_MEMORY_LIMIT=20Mi;/],
    ['cpu request above limit, both padded', { IMAGES: 'a=nginx', CACHING_CPU_REQUEST: '\t500m ', CACHING_CPU_LIMIT: ' .2' }, 'CACHING_CPU_REQUEST', /above CACHING_CPU_LIMIT=\.2;/],
    ['interval 0', { IMAGES: 'a=nginx', CACHING_INTERVAL_HOURS: '0' }, 'CACHING_INTERVAL_HOURS', /whole number/],
    ['interval -2', { IMAGES: 'a=nginx', CACHING_INTERVAL_HOURS: '-2' }, 'CACHING_INTERVAL_HOURS', /whole number/],
    ['interval 1.5', { IMAGES: 'a=nginx', CACHING_INTERVAL_HOURS: '1.5' }, 'CACHING_INTERVAL_HOURS', /whole number/],
    ['interval 3h', { IMAGES: 'a=nginx', CACHING_INTERVAL_HOURS: '3h' }, 'CACHING_INTERVAL_HOURS', /whole number/],
    ['LOG_LEVEL trace', { IMAGES: 'a=nginx', LOG_LEVEL: 'trace' }, 'LOG_LEVEL', /one of error, warn, info, debug/],
    ['LOG_FORMAT xml', { IMAGES: 'a=nginx', LOG_FORMAT: 'xml' }, 'LOG_FORMAT', /one of json, text/],
    ['IMAGE_PULL_SECRETS bad name', { IMAGES: 'a=nginx', IMAGE_PULL_SECRETS: 'My_Secret' }, 'IMAGE_PULL_SECRETS', /Secret name/],
    ['MAX_UNAVAILABLE 0', { IMAGES: 'a=nginx', MAX_UNAVAILABLE: '0' }, 'MAX_UNAVAILABLE', /at least 1/],
    ['MAX_UNAVAILABLE 150%', { IMAGES: 'a=nginx', MAX_UNAVAILABLE: '150%' }, 'MAX_UNAVAILABLE', /percentage/],
    ['ROLLOUT_TIMEOUT_SECONDS 5m', { IMAGES: 'a=nginx', ROLLOUT_TIMEOUT_SECONDS: '5m' }, 'ROLLOUT_TIMEOUT_SECONDS', /whole number/],
    ['CACHING_RUN_AS_USER root', { IMAGES: 'a=nginx', CACHING_RUN_AS_USER: '0' }, 'CACHING_RUN_AS_USER', /whole number from 1/],
    ['NAMESPACE upper case', { IMAGES: 'a=nginx', NAMESPACE: 'Puller' }, 'NAMESPACE', /namespace name/],
    ['KIP_IMAGE invalid', { IMAGES: 'a=nginx', KIP_IMAGE: 'not an image' }, 'KIP_IMAGE', /whitespace/],
  ];
  for (const [title, env, variable, expected] of cases) {
    it(title, () => {
      const problems = problemsOf(env);
      assert.match(problems[variable] ?? `(no problem reported for ${variable}: ${JSON.stringify(problems)})`, expected);
    });
  }

  it('reports every bad variable at once, each with its value', () => {
    try {
      loadConfig({ IMAGES: 'nginx', CACHING_INTERVAL_HOURS: '3h', CACHING_MEMORY_REQUEST: '10MB', LOG_LEVEL: 'trace' });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((problem) => problem.variable).sort(), ['CACHING_INTERVAL_HOURS', 'CACHING_MEMORY_REQUEST', 'IMAGES', 'LOG_LEVEL']);
      const lines = error.message.split('\n').slice(1);
      assert.equal(lines.length, 4);
      assert.ok(lines.some((line) => line.includes('CACHING_INTERVAL_HOURS="3h"')));
      assert.ok(lines.some((line) => line.includes('IMAGES="nginx"')));
    }
  });
});

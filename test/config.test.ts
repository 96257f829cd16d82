import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, REPORT_MARGIN_SECONDS, configWarnings, loadConfig, waitBudgetSeconds } from '../src/config/config.ts';
import type { Environment } from '../src/config/config.ts';
import { problemsOf } from './support/config.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

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
    assert.equal(config.helperImage, 'quay.io/eclipse/kubernetes-image-puller:latest');
    assert.equal(config.runAsUser, 65532);
    assert.equal(config.maxUnavailable, '10%');
    assert.equal(config.rolloutTimeoutSeconds, 300);
    assert.equal(config.priorityClassName, undefined);
    assert.equal(config.cronJobName, undefined);
    assert.equal(config.jobDeadlineSeconds, undefined);
    assert.equal(config.scheduledIntervalHours, undefined);
  });

  it('treats blank ConfigMap values as the default, and a blank run-as user as "platform decides"', () => {
    const config = loadConfig({ IMAGES: 'a=nginx', CACHING_MEMORY_LIMIT: ' ', NODE_SELECTOR: '', CACHING_RUN_AS_USER: '' });
    assert.equal(config.resources.limits.memory, '20Mi');
    assert.deepEqual(config.nodeSelector, {});
    assert.equal(config.runAsUser, undefined);
  });

  // The README's table: a ConfigMap key left blank (as the chart and the templates leave unset values)
  // means the default. The one exception, CACHING_RUN_AS_USER, is the case above.
  const unset = loadConfig({ IMAGES: 'a=nginx' });
  for (const variable of Object.keys(DEFAULTS).filter((name) => name !== 'CACHING_RUN_AS_USER')) {
    it(`${variable} left blank means its default`, () => {
      for (const blank of ['', ' ', '\t\n']) assert.deepEqual(loadConfig({ IMAGES: 'a=nginx', [variable]: blank }), unset, JSON.stringify(blank));
    });
  }

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
      JOB_DEADLINE_SECONDS: '480',
      SCHEDULED_INTERVAL_HOURS: '6',
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
    assert.equal(config.jobDeadlineSeconds, 480);
    assert.equal(config.scheduledIntervalHours, 6);
  });
});

describe('SCHEDULED_INTERVAL_HOURS: the interval the CronJob schedule was made for', () => {
  const cases: [string, number | undefined, string][] = [
    ['5', 5, 'the chart gives the interval itself'],
    ['', undefined, 'unset: a chart `schedule` override, or an older install'],
    ['59 * * * *', 1, 'the template\'s default schedule is hourly'],
    ['7 */6 * * *', 6, 'a step that divides the day'],
    ['0 */24 * * *', 24, 'a step of a whole day'],
    ['30 3 * * *', 24, 'one hour of the day is daily'],
    ['0 */5 * * *', undefined, 'a step that does not divide the day runs unevenly'],
    ['0 0,12 * * *', undefined, 'a list of hours'],
    ['5 4 * * 1', undefined, 'weekly'],
    ['0 * 1 * *', undefined, 'monthly'],
  ];
  for (const [raw, expected, why] of cases) {
    it(`${JSON.stringify(raw)} → ${String(expected)} (${why})`, () => {
      assert.equal(loadConfig({ IMAGES: 'a=nginx', SCHEDULED_INTERVAL_HOURS: raw }).scheduledIntervalHours, expected);
    });
  }
});

describe('a request that was not set follows a lower limit, as Kubernetes does with a limit alone', () => {
  const cases: Array<{ env: Environment; requests: { cpu: string; memory: string }; why: string }> = [
    { env: { CACHING_MEMORY_LIMIT: '5Mi' }, requests: { cpu: '.05', memory: '5Mi' }, why: 'memory limit below the default request' },
    { env: { CACHING_CPU_LIMIT: '20m' }, requests: { cpu: '20m', memory: '10Mi' }, why: 'cpu limit below the default request' },
    { env: { CACHING_MEMORY_LIMIT: ' 5Mi ', CACHING_MEMORY_REQUEST: ' ' }, requests: { cpu: '.05', memory: '5Mi' }, why: 'a blank request is not set; the limit is trimmed' },
    { env: { CACHING_MEMORY_LIMIT: '64Mi' }, requests: { cpu: '.05', memory: '10Mi' }, why: 'a limit above the default request leaves the default' },
    { env: { CACHING_MEMORY_LIMIT: '10Mi' }, requests: { cpu: '.05', memory: '10Mi' }, why: 'a limit equal to the default request' },
    { env: { CACHING_MEMORY_LIMIT: '4Mi', CACHING_MEMORY_REQUEST: '2Mi' }, requests: { cpu: '.05', memory: '2Mi' }, why: 'a request that was set stays' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.env)} → requests ${JSON.stringify(c.requests)} (${c.why})`, () => {
      assert.deepEqual(loadConfig({ IMAGES: 'a=nginx', ...c.env }).resources.requests, c.requests);
    });
  }

  it('an explicit request above the limit is still an error, naming the value that was set', () => {
    assert.match(problemsOf({ IMAGES: 'a=nginx', CACHING_MEMORY_LIMIT: '5Mi', CACHING_MEMORY_REQUEST: '10Mi' })['CACHING_MEMORY_REQUEST'] ?? '', /above CACHING_MEMORY_LIMIT=5Mi/);
    assert.match(problemsOf({ IMAGES: 'a=nginx', CACHING_CPU_LIMIT: '20m', CACHING_CPU_REQUEST: '.05' })['CACHING_CPU_REQUEST'] ?? '', /above CACHING_CPU_LIMIT=20m/);
  });

  it('an unparsable limit is reported for itself, not as a request problem', () => {
    assert.deepEqual(Object.keys(problemsOf({ IMAGES: 'a=nginx', CACHING_MEMORY_LIMIT: '5 MB' })), ['CACHING_MEMORY_LIMIT']);
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
    JOB_DEADLINE_SECONDS: '600',
    SCHEDULED_INTERVAL_HOURS: '5',
    REFRESH_MODE: 'never',
    PLAIN_HTTP_REGISTRIES: 'registry.lan:5000;mirror.local',
    IMAGE_SETS: '[{"name":"gpu","images":{"cuda":"nvcr.io/nvidia/cuda:12"},"tolerations":[{"key":"gpu","operator":"Exists"}]}]',
    MAX_IMAGES_PER_DAEMONSET: '2',
    NODE_LABELS: 'true',
    METRICS_PUSHGATEWAY_URL: 'http://pushgateway.monitoring:9091',
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
    ['NODE_LABELS not a boolean', { IMAGES: 'a=nginx', NODE_LABELS: 'yes' }, 'NODE_LABELS', /expected one of true, false/],
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
    ['JOB_DEADLINE_SECONDS 0', { IMAGES: 'a=nginx', JOB_DEADLINE_SECONDS: '0' }, 'JOB_DEADLINE_SECONDS', /whole number from 1 to 86400; .*JOB_ACTIVE_DEADLINE_SECONDS/],
    ['JOB_DEADLINE_SECONDS above a day', { IMAGES: 'a=nginx', JOB_DEADLINE_SECONDS: '86401' }, 'JOB_DEADLINE_SECONDS', /whole number from 1 to 86400; .*cronJob\.activeDeadlineSeconds/],
    ['JOB_DEADLINE_SECONDS 5m', { IMAGES: 'a=nginx', JOB_DEADLINE_SECONDS: '5m' }, 'JOB_DEADLINE_SECONDS', /whole number/],
    ['SCHEDULED_INTERVAL_HOURS 0', { IMAGES: 'a=nginx', SCHEDULED_INTERVAL_HOURS: '0' }, 'SCHEDULED_INTERVAL_HOURS', /whole number from 1 to 8760; .*cachingIntervalHours/],
    ['SCHEDULED_INTERVAL_HOURS 6h', { IMAGES: 'a=nginx', SCHEDULED_INTERVAL_HOURS: '6h' }, 'SCHEDULED_INTERVAL_HOURS', /cron schedule of 5 fields/],
    ['SCHEDULED_INTERVAL_HOURS @hourly', { IMAGES: 'a=nginx', SCHEDULED_INTERVAL_HOURS: '@hourly' }, 'SCHEDULED_INTERVAL_HOURS', /cron schedule of 5 fields/],
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

describe('configWarnings: a CronJob schedule made for another interval', () => {
  const warningsFor = (scheduled: string, interval: string) =>
    configWarnings(loadConfig({ IMAGES: 'a=nginx', SCHEDULED_INTERVAL_HOURS: scheduled, CACHING_INTERVAL_HOURS: interval }));
  // [schedule made for, CACHING_INTERVAL_HOURS now, hours between re-pulls the schedule gives, or none]
  const cases: [string, string, number | undefined, string][] = [
    ['6', '6', undefined, 'unchanged'],
    ['6', '1', 6, 'runs every 6h: hourly re-pulls happen every 6h'],
    ['6', '8', 12, 'runs every 6h: the first run after 8h is at 12h'],
    ['6', '12', undefined, 'a multiple of the runs: exact, the pass waits for 12h'],
    ['1', '6', undefined, 'hourly runs keep any interval exact; the runs in between only reconcile'],
    ['5', '7', undefined, 'both schedules are hourly'],
    ['48', '5', undefined, 'a schedule for 48h is hourly'],
    ['24', '12', 24, 'daily runs'],
    ['24', '48', undefined, 'daily runs, every second one re-pulls'],
    ['24', '36', 48, 'daily runs, 36h falls between two'],
    ['59 * * * *', '5', undefined, 'the template\'s hourly schedule'],
    ['59 */6 * * *', '4', 6, 'the template\'s 6-hourly schedule'],
    ['5 4 * * 1', '1', undefined, 'a schedule made for no interval is not compared'],
  ];
  for (const [scheduled, interval, every, why] of cases) {
    it(`schedule made for ${scheduled}, CACHING_INTERVAL_HOURS=${interval}: ${every === undefined ? 'no warning' : `re-pulls every ${String(every)}h`} (${why})`, () => {
      const warnings = warningsFor(scheduled, interval);
      if (every === undefined) assert.deepEqual(warnings, []);
      else {
        assert.equal(warnings.length, 1, JSON.stringify(warnings));
        assert.match(warnings[0]!, new RegExp(`^CACHING_INTERVAL_HOURS=${interval} in the ConfigMap, .* every ${String(every)}h; run helm upgrade`));
      }
    });
  }

  it('says what the schedule was made for, what happens and what to run', () => {
    assert.deepEqual(warningsFor('6', '1'), [
      'CACHING_INTERVAL_HOURS=1 in the ConfigMap, but the CronJob\'s schedule was made for 6h, so tagged images are ' +
        're-pulled every 6h; run helm upgrade (or process openshift/app.yaml again with SCHEDULE_HOURS="*") so the schedule follows it',
    ]);
  });
});

describe('configWarnings and waitBudgetSeconds: the rollout wait within the Job deadline', () => {
  const configWith = (rollout: string, deadline: string) =>
    loadConfig({ IMAGES: 'a=nginx', ROLLOUT_TIMEOUT_SECONDS: rollout, JOB_DEADLINE_SECONDS: deadline });

  it('warns when the rollout timeout leaves less than the report margin, naming what to raise', () => {
    assert.equal(REPORT_MARGIN_SECONDS, 30);
    assert.deepEqual(configWarnings(configWith('600', '330')), [
      'ROLLOUT_TIMEOUT_SECONDS=600 does not fit the Job\'s activeDeadlineSeconds=330 with 30s to report; the pass stops ' +
        'waiting after 300s. Raise cronJob.activeDeadlineSeconds (chart; its default follows configMap.rolloutTimeoutSeconds ' +
        'at helm upgrade) / JOB_ACTIVE_DEADLINE_SECONDS (template) or lower ROLLOUT_TIMEOUT_SECONDS',
    ]);
  });

  const cases: [rollout: string, deadline: string, budget: number, warns: boolean][] = [
    ['300', '', 300, false],
    ['300', '480', 300, false],
    ['300', '330', 300, false],
    ['301', '330', 300, true],
    ['600', '330', 300, true],
    ['60', '31', 1, true],
    ['60', '10', 1, true],
  ];
  for (const [rollout, deadline, budget, warns] of cases) {
    it(`ROLLOUT_TIMEOUT_SECONDS=${rollout}, JOB_DEADLINE_SECONDS=${JSON.stringify(deadline)}: waits ${String(budget)}s${warns ? ', warns' : ''}`, () => {
      const config = configWith(rollout, deadline);
      assert.equal(waitBudgetSeconds(config), budget);
      const warnings = configWarnings(config);
      assert.equal(warnings.length, warns ? 1 : 0, JSON.stringify(warnings));
      if (warns) assert.match(warnings[0]!, new RegExp(`stops waiting after ${String(budget)}s\\.`));
    });
  }

  it('gives both warnings at once, the schedule first', () => {
    const warnings = configWarnings(
      loadConfig({ IMAGES: 'a=nginx', CACHING_INTERVAL_HOURS: '1', SCHEDULED_INTERVAL_HOURS: '12', ROLLOUT_TIMEOUT_SECONDS: '900', JOB_DEADLINE_SECONDS: '480' }),
    );
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^CACHING_INTERVAL_HOURS=1 /);
    assert.match(warnings[1]!, /^ROLLOUT_TIMEOUT_SECONDS=900 .* after 450s\./);
  });
});

describe('refresh settings', () => {
  it('refreshes by digest unless told otherwise, and takes the plain-HTTP registries', () => {
    assert.equal(loadConfig({ IMAGES: 'a=nginx' }).refreshMode, 'digest');
    assert.equal(loadConfig({ IMAGES: 'a=nginx', REFRESH_MODE: ' never ' }).refreshMode, 'never');
    assert.deepEqual(loadConfig({ IMAGES: 'a=nginx', PLAIN_HTTP_REGISTRIES: 'registry.lan:5000; mirror.local;' }).plainHttpRegistries, ['mirror.local', 'registry.lan:5000']);
  });

  it('names REFRESH_MODE and PLAIN_HTTP_REGISTRIES when their values are wrong', () => {
    assert.equal(problemsOf({ IMAGES: 'a=nginx', REFRESH_MODE: 'hourly' }).REFRESH_MODE, 'expected one of digest, restart, never');
    assert.ok((problemsOf({ IMAGES: 'a=nginx', PLAIN_HTTP_REGISTRIES: 'http://registry.lan' }).PLAIN_HTTP_REGISTRIES ?? '').includes('"http://registry.lan" is not a registry host'));
  });
});

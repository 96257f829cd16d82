// Each kind of configuration value at its edges, as a user meets it: through loadConfig, with the
// sentence it reports for the variable (and the message line that names the variable and its value).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import type { Config, Environment } from '../src/config/config.ts';
import { isDnsLabel, isDnsSubdomain, parseScheduledIntervalHours } from '../src/config/config-parsers.ts';
import { problemsOf } from './support/config.ts';

const IMAGES = 'a=nginx';

/** The message line loadConfig writes for the variable: `  VARIABLE="value": problem`. */
function messageLine(env: Environment, variable: string): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const line = error.message.split('\n').find((candidate) => candidate.startsWith(`  ${variable}=`));
    assert.ok(line !== undefined, error.message);
    return line;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be rejected`);
}

function problemOf(variable: string, value: string): string {
  return problemsOf({ IMAGES, [variable]: value })[variable] ?? `(no problem for ${variable})`;
}

const accepted = (variable: string, value: string): Config => loadConfig({ IMAGES, [variable]: value });

describe('IMAGES, entry by entry', () => {
  it('trims names and images, keeps the order, and skips empty entries', () => {
    assert.deepEqual(loadConfig({ IMAGES: ' b = quay.io/x/b:1 ;; a=nginx ; ' }).images, [
      { name: 'b', image: 'quay.io/x/b:1' },
      { name: 'a', image: 'nginx' },
    ]);
  });

  it('splits an entry at its first "="', () => {
    assert.equal(problemsOf({ IMAGES: 'a=nginx=1' }).IMAGES, 'image "nginx=1" of "a" is not a valid image reference ([registry/]repository[:tag][@digest], lower-case repository)');
  });

  const cases: [images: string, problem: string][] = [
    [' ; ', 'expected at least one entry name=image (entries separated by ";")'],
    ['nginx', 'entry "nginx" has no "=" (expected name=image)'],
    [' =nginx', 'entry "=nginx" has an empty name (expected name=image)'],
    [`${'a'.repeat(64)}=nginx`, `name "${'a'.repeat(64)}" is longer than 63 characters`],
    ['Java=nginx', 'name "Java" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)'],
    ['-a=nginx', 'name "-a" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)'],
    ['a-=nginx', 'name "a-" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)'],
    ['a.b=nginx', 'name "a.b" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)'],
    ['kip-install-helper=nginx', 'name "kip-install-helper" is reserved for the puller\'s own containers'],
    ['kip-hold=nginx', 'name "kip-hold" is reserved for the puller\'s own containers'],
    ['a=nginx;b=redis;a=nginx', 'name "a" appears more than once'],
    ['a=nginx:bad!tag', 'image "nginx:bad!tag" of "a" is not a valid image reference ([registry/]repository[:tag][@digest], lower-case repository)'],
    ['a=', 'image "" of "a" is empty'],
  ];
  for (const [images, problem] of cases) {
    it(`IMAGES=${JSON.stringify(images)}: ${problem}`, () => assert.equal(problemsOf({ IMAGES: images }).IMAGES, problem));
  }

  it('takes names of 1 and 63 characters, with digits and inner dashes', () => {
    const name = `a${'-1'.repeat(31)}`;
    assert.equal(name.length, 63);
    assert.deepEqual(loadConfig({ IMAGES: `${name}=nginx;0=redis` }).images.map((image) => image.name), [name, '0']);
  });

  it('names the variable and the value as given', () => {
    assert.equal(messageLine({ IMAGES: ' nginx ' }, 'IMAGES'), '  IMAGES=" nginx ": entry "nginx" has no "=" (expected name=image)');
  });
});

describe('KIP_IMAGE', () => {
  it('is trimmed, and a bad one says why', () => {
    assert.equal(accepted('KIP_IMAGE', ' quay.io/x/helper:2 ').helperImage, 'quay.io/x/helper:2');
    assert.equal(problemOf('KIP_IMAGE', 'quay.io/x/helper:bad!'), 'image reference is not a valid image reference ([registry/]repository[:tag][@digest], lower-case repository)');
    assert.equal(messageLine({ IMAGES, KIP_IMAGE: 'a b' }, 'KIP_IMAGE'), '  KIP_IMAGE="a b": image reference contains whitespace');
  });
});

describe('quantities', () => {
  it('takes a quantity, trimmed', () => {
    assert.equal(accepted('CACHING_MEMORY_LIMIT', ' 64Mi ').resources.limits.memory, '64Mi');
    assert.equal(accepted('CACHING_CPU_LIMIT', '0').resources.limits.cpu, '0');
  });

  it('says what it expected', () => {
    assert.equal(problemOf('CACHING_MEMORY_LIMIT', ' -5Mi'), 'expected a non-negative quantity');
    assert.equal(
      problemOf('CACHING_MEMORY_LIMIT', '5MB'),
      'expected a Kubernetes quantity such as 10Mi, 1Gi, 500m or 0.2 (suffixes Ki Mi Gi Ti Pi Ei, n u m k M G T P E)',
    );
  });
});

describe('whole numbers within bounds', () => {
  const bounds: [variable: string, min: number, max: number, read: (config: Config) => unknown][] = [
    ['CACHING_INTERVAL_HOURS', 1, 8760, (config) => config.intervalHours],
    ['ROLLOUT_TIMEOUT_SECONDS', 1, 86400, (config) => config.rolloutTimeoutSeconds],
    ['CACHING_RUN_AS_USER', 1, 2147483647, (config) => config.runAsUser],
    ['MAX_IMAGES_PER_DAEMONSET', 1, 1000, (config) => config.maxImagesPerDaemonSet],
  ];
  for (const [variable, min, max, read] of bounds) {
    it(`${variable} takes ${String(min)} and ${String(max)}, "+2" and " 2 ", and refuses ${String(min - 1)} and ${String(max + 1)}`, () => {
      assert.equal(read(accepted(variable, String(min))), min);
      assert.equal(read(accepted(variable, String(max))), max);
      assert.equal(read(accepted(variable, '+2')), 2);
      assert.equal(read(accepted(variable, ' 2 ')), 2);
      const expected = `expected a whole number from ${String(min)} to ${String(max)}`;
      for (const bad of [String(min - 1), String(max + 1), '2.0', '1e2', '-2', '0x10', '2 3', '++2']) {
        assert.equal(problemOf(variable, bad), expected, bad);
      }
    });
  }

  it('names the variable and the value as given', () => {
    assert.equal(messageLine({ IMAGES, CACHING_INTERVAL_HOURS: '8761' }, 'CACHING_INTERVAL_HOURS'), '  CACHING_INTERVAL_HOURS="8761": expected a whole number from 1 to 8760');
  });
});

describe('SCHEDULED_INTERVAL_HOURS: the hour field of a cron schedule', () => {
  const cases: [raw: string, hours: number | undefined][] = [
    ['+6', 6],
    ['8760', 8760],
    ['0 23 * * *', 24],
    ['0 0 * * *', 24],
    ['0 24 * * *', undefined],
    ['0 */1 * * *', 1],
    ['0 */12 * * *', 12],
    ['0 */7 * * *', undefined],
    ['0 */0 * * *', undefined],
    ['0 */48 * * *', undefined],
    ['0 */6x * * *', undefined],
    ['0 x*/6 * * *', undefined],
    ['0 1-5 * * *', undefined],
    ['0 3x * * *', undefined],
    ['0 1e1 * * *', undefined],
    ['0 0x1 * * *', undefined],
    ['0 * * 6 *', undefined],
    ['0 * * * 0', undefined],
    ['0  */6 \t* *  *', 6],
    ['59 * * * *', 1],
  ];
  for (const [raw, hours] of cases) {
    it(`${JSON.stringify(raw)} → ${String(hours)}`, () => {
      assert.equal(parseScheduledIntervalHours(raw), hours);
      assert.equal(accepted('SCHEDULED_INTERVAL_HOURS', raw).scheduledIntervalHours, hours);
    });
  }

  it('refuses a schedule of 4 or 6 fields and a number out of range, saying where the value comes from', () => {
    const fields = 'expected a whole number of hours (the chart) or a cron schedule of 5 fields (the OpenShift template); the chart sets it from configMap.cachingIntervalHours, the template from the CronJob\'s schedule';
    assert.equal(problemOf('SCHEDULED_INTERVAL_HOURS', '0 * * *'), fields);
    assert.equal(problemOf('SCHEDULED_INTERVAL_HOURS', '0 0 * * * *'), fields);
    assert.equal(
      problemOf('SCHEDULED_INTERVAL_HOURS', '8761'),
      'expected a whole number from 1 to 8760; the chart sets it from configMap.cachingIntervalHours, the template from the CronJob\'s schedule',
    );
  });
});

describe('NODE_SELECTOR and DAEMONSET_ANNOTATIONS: label keys and values', () => {
  const labels = 'a JSON object of labels, e.g. {"kubernetes.io/os":"linux"}';
  const annotations = 'a JSON object of annotations, e.g. {"kubernetes.io/os":"linux"}';

  it('sorts the keys, and takes qualified names, empty and 63-character values', () => {
    const value = `a${'-b'.repeat(31)}`;
    assert.deepEqual(accepted('NODE_SELECTOR', '{"a/b":"v"}').nodeSelector, { 'a/b': 'v' });
    const config = accepted('NODE_SELECTOR', JSON.stringify({ zone: '', 'example.com/Pool_1.x': value, A: 'x.y_z-1' }));
    assert.deepEqual(Object.entries(config.nodeSelector), [['A', 'x.y_z-1'], ['example.com/Pool_1.x', value], ['zone', '']]);
    assert.deepEqual(accepted('NODE_SELECTOR', JSON.stringify({ ['a'.repeat(63)]: 'v', [`${'p'.repeat(253)}/n`]: 'v' })).nodeSelector, {
      ['a'.repeat(63)]: 'v',
      [`${'p'.repeat(253)}/n`]: 'v',
    });
  });

  const badKeys = ['-a', 'a-', '_a', 'a b', '', '/a', 'example.com/', 'Example.com/a', 'a/b/c', 'a'.repeat(64), `${'p'.repeat(254)}/n`, 'example..com/a'];
  for (const key of badKeys) {
    it(`refuses the key ${JSON.stringify(key)}, as a label and as an annotation key`, () => {
      assert.equal(problemOf('NODE_SELECTOR', JSON.stringify({ [key]: 'v' })), `"${key}" is not a valid label key`);
      assert.equal(problemOf('DAEMONSET_ANNOTATIONS', JSON.stringify({ [key]: 'v' })), `"${key}" is not a valid annotation key`);
    });
  }

  for (const value of ['-a', 'a-', 'a b', 'a'.repeat(64), 'a/b']) {
    it(`refuses the label value ${JSON.stringify(value)}, and takes it as an annotation`, () => {
      assert.equal(problemOf('NODE_SELECTOR', JSON.stringify({ zone: value })), `"${value}" is not a valid label value (at most 63 characters: letters, digits, "-", "_", ".")`);
      assert.deepEqual(accepted('DAEMONSET_ANNOTATIONS', JSON.stringify({ 'example.com/note': value })).daemonSetAnnotations, { 'example.com/note': value });
    });
  }

  it('says what it expected', () => {
    assert.equal(problemOf('NODE_SELECTOR', '["a"]'), `expected ${labels}`);
    assert.equal(problemOf('NODE_SELECTOR', 'null'), `expected ${labels}`);
    assert.equal(problemOf('DAEMONSET_ANNOTATIONS', '"x"'), `expected ${annotations}`);
    assert.equal(problemOf('NODE_SELECTOR', '{"zone":1}'), `value of "zone" must be a string; expected ${labels}`);
    assert.match(problemOf('NODE_SELECTOR', '{zone}'), new RegExp(`^not valid JSON \\(.+\\); expected ${labels.replace(/[{}.()]/g, '\\$&')}$`));
  });
});

describe('AFFINITY', () => {
  const shape = 'a JSON object with nodeAffinity, podAffinity or podAntiAffinity';

  it('takes each kind of affinity as given', () => {
    const affinity = { nodeAffinity: { a: 1 }, podAffinity: {}, podAntiAffinity: { b: [] } };
    assert.deepEqual(accepted('AFFINITY', JSON.stringify(affinity)).affinity, affinity);
  });

  it('says what it expected', () => {
    assert.equal(problemOf('AFFINITY', '[]'), `expected ${shape}`);
    assert.equal(problemOf('AFFINITY', '{"nodeAffinity":[]}'), `"nodeAffinity" must be an object; expected ${shape}`);
    assert.equal(problemOf('AFFINITY', '{"podAffinity":null}'), `"podAffinity" must be an object; expected ${shape}`);
    assert.equal(problemOf('AFFINITY', '{"podAntiAffinity":{},"zone":{}}'), `unknown field "zone"; expected ${shape}`);
  });
});

describe('TOLERATIONS', () => {
  const shape = 'a JSON array of tolerations, e.g. [{"key":"gpu","operator":"Exists","effect":"NoSchedule"}]';

  it('takes every field, an empty effect, an empty value with Exists, and a key without an operator', () => {
    const tolerations = [
      { key: 'gpu', operator: 'Equal', value: 'yes', effect: 'NoExecute', tolerationSeconds: 30 },
      { operator: 'Exists' },
      { key: '', operator: 'Exists', value: '', effect: '' },
      { key: 'zone', value: 'b', effect: 'PreferNoSchedule' },
      { key: 'x', effect: 'NoSchedule', tolerationSeconds: -1 },
    ];
    assert.deepEqual(accepted('TOLERATIONS', JSON.stringify(tolerations)).tolerations, tolerations);
  });

  const cases: [tolerations: unknown, problem: string][] = [
    [{}, `expected ${shape}`],
    [[{ key: 'a', operator: 'Exists' }, 'gpu'], `toleration #2 is not an object; expected ${shape}`],
    [[null], `toleration #1 is not an object; expected ${shape}`],
    [[{ key: 'a', operator: 'Exists', seconds: 1 }], 'toleration #1 has unknown field "seconds"'],
    [[{ key: 7, operator: 'Exists' }], 'toleration #1: "key" must be a string'],
    [[{ key: 'a', operator: 'exists' }], 'toleration #1: "operator" must be "Exists" or "Equal"'],
    [[{ key: 'a', value: 1 }], 'toleration #1: "value" must be a string'],
    [[{ key: 'a', operator: 'Exists', value: 'x' }], 'toleration #1: "value" must be empty when "operator" is "Exists"'],
    [[{ key: 'a', effect: 'NoSchedules' }], 'toleration #1: "effect" must be NoSchedule, PreferNoSchedule or NoExecute'],
    [[{ key: 'a', effect: 1 }], 'toleration #1: "effect" must be NoSchedule, PreferNoSchedule or NoExecute'],
    [[{ key: 'a', tolerationSeconds: 1.5 }], 'toleration #1: "tolerationSeconds" must be a whole number'],
    [[{ key: 'a', tolerationSeconds: '30' }], 'toleration #1: "tolerationSeconds" must be a whole number'],
    [[{ operator: 'Equal' }], 'toleration #1: an empty "key" needs "operator": "Exists"'],
    [[{ key: '', value: 'x' }], 'toleration #1: an empty "key" needs "operator": "Exists"'],
    [[{}], 'toleration #1: an empty "key" needs "operator": "Exists"'],
  ];
  for (const [tolerations, problem] of cases) {
    it(`${JSON.stringify(tolerations)}: ${problem}`, () => assert.equal(problemOf('TOLERATIONS', JSON.stringify(tolerations)), problem));
  }
});

describe('IMAGE_PULL_SECRETS and PLAIN_HTTP_REGISTRIES: ";"-separated lists', () => {
  it('sorts and de-duplicates Secret names, and takes a 253-character one', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(long.length, 253);
    assert.deepEqual(accepted('IMAGE_PULL_SECRETS', ` b;a.x ; b ;;${long}`).imagePullSecrets, ['a.x', long, 'b']);
  });

  for (const name of ['My_Secret', '-a', 'a-', 'a..b', 'a b', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`]) {
    it(`refuses the Secret name ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}… (${String(name.length)} characters)` : name)}`, () => {
      assert.equal(problemOf('IMAGE_PULL_SECRETS', `good;${name}`), `"${name}" is not a valid Secret name (DNS-1123 subdomain)`);
    });
  }

  it('takes hosts, host:port and bracketed IPv6 addresses, sorted and de-duplicated', () => {
    assert.deepEqual(accepted('PLAIN_HTTP_REGISTRIES', 'Registry.LAN:5000; [::1]:5000;[fe80::1];a;a;x-1.y:65535').plainHttpRegistries, [
      'Registry.LAN:5000', '[::1]:5000', '[fe80::1]', 'a', 'x-1.y:65535',
    ]);
  });

  for (const host of ['http://registry.lan', 'registry.lan/team', '-a', 'a-', 'a..b', 'a:123456', 'a:', '[::g]', '::1', 'a_b', 'a b']) {
    it(`refuses the registry host ${JSON.stringify(host)}`, () => {
      assert.equal(problemOf('PLAIN_HTTP_REGISTRIES', `good;${host}`), `"${host}" is not a registry host (host or host:port, as in an image reference)`);
    });
  }
});

describe('MAX_UNAVAILABLE', () => {
  it('takes a number of pods as a number and a percentage as text', () => {
    assert.equal(accepted('MAX_UNAVAILABLE', ' 1 ').maxUnavailable, 1);
    assert.equal(accepted('MAX_UNAVAILABLE', '250').maxUnavailable, 250);
    assert.equal(accepted('MAX_UNAVAILABLE', '1%').maxUnavailable, '1%');
    assert.equal(accepted('MAX_UNAVAILABLE', ' 100% ').maxUnavailable, '100%');
  });

  for (const bad of ['0', '0%', '101%', '1.5', '-1', '%', '5 %', '50%%', 'x5', '5x', 'x5%']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(problemOf('MAX_UNAVAILABLE', bad), 'expected a number of pods (at least 1) or a percentage from 1% to 100%'));
  }
});

describe('names', () => {
  it('PRIORITY_CLASS_NAME takes up to 253 characters, CRONJOB_NAME up to 52, both trimmed', () => {
    const long = `${'p'.repeat(63)}.${'q'.repeat(63)}.${'r'.repeat(63)}.${'s'.repeat(61)}`;
    assert.equal(accepted('PRIORITY_CLASS_NAME', ` ${long} `).priorityClassName, long);
    assert.equal(accepted('CRONJOB_NAME', ` ${'c'.repeat(52)} `).cronJobName, 'c'.repeat(52));
    assert.equal(accepted('CRONJOB_NAME', 'nightly.pull').cronJobName, 'nightly.pull');
  });

  it('says what it expected, with the bound of each', () => {
    assert.equal(problemOf('CRONJOB_NAME', 'c'.repeat(53)), 'expected a CronJob name: lower-case letters, digits, "-" and ".", at most 52 characters');
    assert.equal(problemOf('CRONJOB_NAME', 'Nightly'), 'expected a CronJob name: lower-case letters, digits, "-" and ".", at most 52 characters');
    assert.equal(
      problemOf('PRIORITY_CLASS_NAME', `${'p'.repeat(63)}.${'q'.repeat(63)}.${'r'.repeat(63)}.${'s'.repeat(62)}`),
      'expected a PriorityClass name: lower-case letters, digits, "-" and ".", at most 253 characters',
    );
    assert.equal(problemOf('PRIORITY_CLASS_NAME', 'high_priority'), 'expected a PriorityClass name: lower-case letters, digits, "-" and ".", at most 253 characters');
  });

  it('NAMESPACE and DAEMONSET_NAME are DNS-1123 labels of up to 63 characters', () => {
    assert.equal(accepted('NAMESPACE', 'n'.repeat(63)).namespace, 'n'.repeat(63));
    assert.equal(accepted('DAEMONSET_NAME', 'd'.repeat(63)).daemonSetName, 'd'.repeat(63));
    assert.equal(problemOf('NAMESPACE', 'n'.repeat(64)), 'expected a namespace name (DNS-1123 label, at most 63 characters)');
    assert.equal(problemOf('NAMESPACE', 'images.team'), 'expected a namespace name (DNS-1123 label, at most 63 characters)');
    assert.equal(problemOf('DAEMONSET_NAME', 'd'.repeat(64)), 'expected a DaemonSet name (DNS-1123 label, at most 63 characters)');
    assert.equal(problemOf('DAEMONSET_NAME', 'cache-'), 'expected a DaemonSet name (DNS-1123 label, at most 63 characters)');
  });
});

describe('isDnsLabel and isDnsSubdomain', () => {
  const labels: [text: string, label: boolean, subdomain: boolean][] = [
    ['a', true, true],
    ['0', true, true],
    ['a-0', true, true],
    ['a--b', true, true],
    ['-a', false, false],
    ['a-', false, false],
    ['A', false, false],
    ['a.b', false, true],
    ['a.-b', false, false],
    ['a-.b', false, false],
    ['a.', false, false],
    ['.a', false, false],
    ['', false, false],
    ['a_b', false, false],
    ['a'.repeat(63), true, true],
    ['a'.repeat(64), false, true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, false, true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false, false],
  ];
  for (const [text, label, subdomain] of labels) {
    const shown = text.length > 20 ? `${text.slice(0, 8)}… (${String(text.length)} characters)` : JSON.stringify(text);
    it(`${shown}: ${label ? 'a label' : 'no label'}, ${subdomain ? 'a subdomain' : 'no subdomain'}`, () => {
      assert.equal(isDnsLabel(text), label);
      assert.equal(isDnsSubdomain(text), subdomain);
    });
  }
});

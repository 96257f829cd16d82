// The metrics a pass pushes (src/metrics/): the exposition text, the push URL, METRICS_PUSHGATEWAY_URL,
// and the push's failures as warnings (with a stand-in fetch; test/metrics-pushgateway.test.ts pushes
// to the real Pushgateway).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { passMetricsFrom, renderExposition, pushPassMetrics, pushUrl, setsFromRollouts } from '../src/metrics/index.ts';
import type { PassOutcome } from '../src/pass/run.ts';
import type { PassMetrics } from '../src/metrics/index.ts';
import { escapeLabelValue, formatValue } from '../src/metrics/exposition.ts';

const FINISHED = new Date('2026-12-03T10:00:00.250Z');

function pass(overrides: Partial<PassMetrics> = {}): PassMetrics {
  return {
    namespace: 'k8s-image-puller',
    daemonSet: 'kubernetes-image-puller',
    sets: [{ set: 'default', nodesExpected: 3, nodesComplete: 2 }],
    images: [
      { set: 'default', image: 'che-code', state: 'current', nodes: 2 },
      { set: 'default', image: 'che-code', state: 'pulling', nodes: 1 },
    ],
    durationSeconds: 1.5,
    exitCode: 0,
    registryRequests: { 'quay.io': 2 },
    succeeded: true,
    finishedAt: FINISHED,
    ...overrides,
  };
}

describe('renderExposition', () => {
  it('renders every metric of a successful pass, exactly', () => {
    assert.equal(renderExposition(pass()), [
      '# HELP kip_last_run_timestamp_seconds Unix time at which the last pass finished, whatever its outcome.',
      '# TYPE kip_last_run_timestamp_seconds gauge',
      'kip_last_run_timestamp_seconds 1796292000.25',
      '# HELP kip_last_success_timestamp_seconds Unix time at which the last successful pass (exit code 0) finished.',
      '# TYPE kip_last_success_timestamp_seconds gauge',
      'kip_last_success_timestamp_seconds 1796292000.25',
      '# HELP kip_pass_succeeded 1 if the last pass succeeded (exit code 0), else 0.',
      '# TYPE kip_pass_succeeded gauge',
      'kip_pass_succeeded 1',
      '# HELP kip_pass_exit_code Exit code of the last pass: 0 healthy, 1 error, 2 invalid configuration, 3 not healthy by the deadline, 4 refused.',
      '# TYPE kip_pass_exit_code gauge',
      'kip_pass_exit_code 0',
      '# HELP kip_pass_duration_seconds Wall time of the last pass, in seconds.',
      '# TYPE kip_pass_duration_seconds gauge',
      'kip_pass_duration_seconds 1.5',
      '# HELP kip_set_nodes_expected Nodes the image set should be cached on, as of the last pass.',
      '# TYPE kip_set_nodes_expected gauge',
      'kip_set_nodes_expected{set="default"} 3',
      '# HELP kip_set_nodes_complete Nodes that hold every image of the set at the wanted digest, as of the last pass.',
      '# TYPE kip_set_nodes_complete gauge',
      'kip_set_nodes_complete{set="default"} 2',
      '# HELP kip_image_nodes Nodes by state of one image of a set (current, other-digest, pulling, failing), as of the last pass.',
      '# TYPE kip_image_nodes gauge',
      'kip_image_nodes{set="default",image="che-code",state="current"} 2',
      'kip_image_nodes{set="default",image="che-code",state="pulling"} 1',
      '# HELP kip_registry_requests Requests the last pass made to a registry, by host.',
      '# TYPE kip_registry_requests gauge',
      'kip_registry_requests{host="quay.io"} 2',
      '',
    ].join('\n'));
  });

  it('leaves out the last success when the pass failed, and says so in the other metrics', () => {
    const text = renderExposition(pass({ succeeded: false, exitCode: 3 }));
    assert.ok(!text.includes('kip_last_success_timestamp_seconds'), text);
    assert.match(text, /^kip_pass_succeeded 0$/m);
    assert.match(text, /^kip_pass_exit_code 3$/m);
    assert.match(text, /^kip_last_run_timestamp_seconds 1796292000.25$/m);
  });

  it('escapes label values: backslash, double quote, line feed', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    const text = renderExposition(pass({ images: [{ set: 'x', image: 'we"ird\\na\nme', state: 'failing', nodes: 1 }] }));
    assert.match(text, /^kip_image_nodes\{set="x",image="we\\"ird\\\\na\\nme",state="failing"\} 1$/m);
  });

  it('sorts samples, leaves out metrics with none, and writes Go float syntax', () => {
    const text = renderExposition(pass({
      sets: [{ set: 'gpu', nodesExpected: 1, nodesComplete: 1 }, { set: 'arm', nodesExpected: 0, nodesComplete: 0 }],
      images: [],
      registryRequests: {},
    }));
    assert.ok(text.indexOf('kip_set_nodes_expected{set="arm"}') < text.indexOf('kip_set_nodes_expected{set="gpu"}'));
    assert.ok(!text.includes('kip_image_nodes'));
    assert.ok(!text.includes('kip_registry_requests'));
    assert.deepEqual([NaN, Infinity, -Infinity, 0.1, 1e21].map(formatValue), ['NaN', '+Inf', '-Inf', '0.1', '1e+21']);
  });
});

describe('pushUrl', () => {
  it('puts job, namespace and daemonset in the path', () => {
    assert.equal(pushUrl('http://pg:9091/', 'ns', 'ds'), 'http://pg:9091/metrics/job/kubernetes-image-puller/namespace/ns/daemonset/ds');
    assert.equal(pushUrl('https://pg.example/prefix', 'ns', 'ds'), 'https://pg.example/prefix/metrics/job/kubernetes-image-puller/namespace/ns/daemonset/ds');
  });

  it('encodes a value with a slash, or an empty one, as the Pushgateway\'s base64', () => {
    assert.equal(pushUrl('http://pg', 'a/b', ''), `http://pg/metrics/job/kubernetes-image-puller/namespace@base64/${Buffer.from('a/b').toString('base64url')}/daemonset@base64/=`);
  });
});

describe('METRICS_PUSHGATEWAY_URL', () => {
  function problem(value: string): string {
    try {
      loadConfig({ IMAGES: 'a=nginx', METRICS_PUSHGATEWAY_URL: value });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const found = error.problems.find(({ variable }) => variable === 'METRICS_PUSHGATEWAY_URL');
      assert.ok(found, error.message);
      assert.equal(found.value, value);
      assert.ok(error.message.includes(`METRICS_PUSHGATEWAY_URL=${JSON.stringify(value)}`), error.message);
      return found.problem;
    }
    assert.fail(`${value} was accepted`);
  }

  it('is off when unset or blank', () => {
    assert.equal(loadConfig({ IMAGES: 'a=nginx' }).metricsPushgatewayUrl, undefined);
    assert.equal(loadConfig({ IMAGES: 'a=nginx', METRICS_PUSHGATEWAY_URL: ' ' }).metricsPushgatewayUrl, undefined);
  });

  it('takes an http(s) URL, with a path prefix, without its trailing slash', () => {
    assert.equal(loadConfig({ IMAGES: 'a=nginx', METRICS_PUSHGATEWAY_URL: ' http://pushgateway.monitoring:9091/ ' }).metricsPushgatewayUrl, 'http://pushgateway.monitoring:9091');
    assert.equal(loadConfig({ IMAGES: 'a=nginx', METRICS_PUSHGATEWAY_URL: 'https://pg.corp/push/' }).metricsPushgatewayUrl, 'https://pg.corp/push');
  });

  it('names the variable and value of anything else', () => {
    assert.match(problem('pushgateway:9091'), /is not http or https/);
    assert.match(problem('not a url'), /expected an http\(s\) URL/);
    assert.match(problem('ftp://pg'), /ftp: is not http or https/);
    assert.match(problem('http://pg:9091/?x=1'), /query or fragment/);
    assert.match(problem('http://pg:9091/#top'), /query or fragment/);
    assert.match(problem('http://user:secret@pg:9091'), /credentials/);
  });
});

describe('pushPassMetrics with a stand-in fetch', () => {
  const base = 'http://pg.test:9091';
  const url = `${base}/metrics/job/kubernetes-image-puller/namespace/k8s-image-puller/daemonset/kubernetes-image-puller`;

  it('PUTs a successful pass and POSTs a failed one, as text format 0.0.4', async () => {
    const calls: Array<{ url: string; method: string | undefined; body: string; type: string | null }> = [];
    const fake: typeof fetch = (input, init) => {
      calls.push({ url: input as string, method: init?.method, body: init?.body as string, type: new Headers(init?.headers).get('content-type') });
      return Promise.resolve(new Response(null, { status: 200 }));
    };
    assert.equal(await pushPassMetrics(base, pass(), { fetch: fake }), undefined);
    assert.equal(await pushPassMetrics(`${base}/`, pass({ succeeded: false, exitCode: 1 }), { fetch: fake }), undefined);
    assert.deepEqual(calls.map(({ url: to, method }) => [to, method]), [[url, 'PUT'], [url, 'POST']]);
    assert.equal(calls[0]!.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(calls[0]!.body, renderExposition(pass()));
  });

  it('turns a non-2xx answer, a thrown error and a passed deadline into a warning naming the URL', async () => {
    const answer = (status: number, body: string): typeof fetch => () => Promise.resolve(new Response(body, { status }));
    assert.equal(await pushPassMetrics(base, pass(), { fetch: answer(400, 'pushed metrics are\ninvalid') }), `metrics were not pushed to ${url}: PUT answered HTTP 400: pushed metrics are invalid; the pass's outcome is unchanged`);
    const refused: typeof fetch = () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) }));
    assert.equal(await pushPassMetrics(base, pass({ succeeded: false }), { fetch: refused }), `metrics were not pushed to ${url}: POST failed: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:9); the pass's outcome is unchanged`);
    let asked = false;
    const never: typeof fetch = () => { asked = true; return Promise.reject(new Error('not asked')); };
    assert.equal(await pushPassMetrics(base, pass(), { fetch: never, deadline: 1000, now: () => 2000 }), `metrics were not pushed to ${url}: the pass's deadline had passed; the pass's outcome is unchanged`);
    assert.equal(asked, false);
  });

  it('gives up at the timeout, or earlier at the deadline', async () => {
    const hang: typeof fetch = (_input, init) => new Promise((_resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
    });
    const started = Date.now();
    assert.equal(await pushPassMetrics(base, pass(), { fetch: hang, timeoutMs: 5000, deadline: Date.now() + 100 }), `metrics were not pushed to ${url}: PUT failed: timed out; the pass's outcome is unchanged`);
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  });
});

describe('passMetricsFrom', () => {
  const rollout = (desired: number, updated: number, available: number) => ({ complete: desired === updated, observed: true, desired, updated, ready: available, available });
  const section = (set: string, value: ReturnType<typeof rollout> | undefined) => ({ set, rollout: value }) as unknown as PassOutcome['daemonSets'][number];

  it('sums registry requests by host, and succeeds only on exit 0', () => {
    const metrics = passMetricsFrom({
      config: { namespace: 'ns', daemonSetName: 'ds' },
      outcome: undefined,
      exitCode: 2,
      durationMs: 1500,
      registryRequests: { total: 3, byHost: { 'quay.io': { HEAD: 2, GET: 1 } } },
      finishedAt: FINISHED,
    });
    assert.deepEqual(metrics, { namespace: 'ns', daemonSet: 'ds', sets: [], images: [], durationSeconds: 1.5, exitCode: 2, registryRequests: { 'quay.io': 3 }, succeeded: false, finishedAt: FINISHED });
  });

  it('estimates a set from its chunks\' rollouts until coverage gives it, and takes coverage when given', () => {
    const outcome = { daemonSets: [section('default', rollout(5, 5, 4)), section('default', rollout(5, 3, 5)), section('gpu', rollout(2, 2, 2)), section('arm', undefined)] };
    assert.deepEqual(setsFromRollouts(outcome), [{ set: 'default', nodesExpected: 5, nodesComplete: 3 }, { set: 'gpu', nodesExpected: 2, nodesComplete: 2 }]);
    const coverage = { sets: [{ set: 'default', nodesExpected: 5, nodesComplete: 1 }], images: [{ set: 'default', image: 'a', state: 'failing' as const, nodes: 4 }] };
    const metrics = passMetricsFrom({ config: { namespace: 'ns', daemonSetName: 'ds' }, outcome, exitCode: 0, durationMs: 1, finishedAt: FINISHED, coverage });
    assert.deepEqual([metrics.sets, metrics.images, metrics.succeeded], [coverage.sets, coverage.images, true]);
  });
});

// The chart's PrometheusRule (metrics.prometheusRule), rendered by the real helm and checked by the real
// promtool (both built from Go modules by `npm run binaries`): rendered only when enabled and the API
// exists; `promtool check rules` on what is rendered; `promtool test rules` with the input series of
// test/promtool/rules.test.yaml.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { renderChart, repoRoot } from '../e2e/packaging/fixtures.ts';
import type { KubeObject } from '../e2e/packaging/fixtures.ts';
import { prometheusBinary } from './support/prometheus-binaries.ts';

const API = 'monitoring.coreos.com/v1/PrometheusRule';
const NS = 'k8s-image-puller';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface Group {
  name: string;
  rules: Rule[];
}

function rulesOf(objects: KubeObject[]): KubeObject[] {
  return objects.filter((object) => object.kind === 'PrometheusRule');
}

function render(metrics: Record<string, unknown>, options: { apiVersions?: string[]; configMap?: Record<string, unknown> } = {}): KubeObject[] {
  return renderChart({
    values: { metrics, ...(options.configMap ? { configMap: options.configMap } : {}) },
    namespace: NS,
    args: (options.apiVersions ?? []).flatMap((api) => ['--api-versions', api]),
  });
}

function groupsOf(rule: KubeObject): Group[] {
  return (rule['spec'] as { groups: Group[] }).groups;
}

function promtool(args: string[], cwd: string): { code: number; output: string } {
  const res = spawnSync(prometheusBinary('promtool'), args, { cwd, encoding: 'utf8' });
  if (res.error) throw res.error;
  return { code: res.status ?? -1, output: `${res.stdout}${res.stderr}` };
}

function inTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kip-rules-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the PrometheusRule', () => {
  const enabled = { prometheusRule: { enabled: true, labels: { release: 'prometheus' } } };

  it('is not rendered by default, nor when enabled without the API, nor when disabled with it', () => {
    assert.equal(rulesOf(render({})).length, 0);
    assert.equal(rulesOf(render(enabled)).length, 0);
    assert.equal(rulesOf(render({ prometheusRule: { enabled: false } }, { apiVersions: [API] })).length, 0);
  });

  const [rule] = rulesOf(render(enabled, { apiVersions: [API] }));

  it('is rendered when enabled and the API exists, with the labels for a ruleSelector', () => {
    assert.ok(rule);
    assert.equal(rule.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(rule.metadata.namespace, NS);
    assert.equal(rule.metadata.labels?.['release'], 'prometheus');
    assert.equal(rule.metadata.labels?.['app.kubernetes.io/part-of'], 'kubernetes-image-puller');
    const alerts = groupsOf(rule).flatMap((group) => group.rules.map((item) => item.alert));
    assert.deepEqual(alerts, ['KubernetesImagePullerNoRecentSuccess', 'KubernetesImagePullerNoSuccessRecorded', 'KubernetesImagePullerCoverageLow']);
  });

  it('says what to check: the Job\'s log and the status ConfigMap', () => {
    for (const item of groupsOf(rule!).flatMap((group) => group.rules)) {
      assert.ok(item.annotations['summary'], item.alert);
      assert.match(item.annotations['description'] ?? '', /kubectl -n k8s-image-puller logs job\//, item.alert);
      assert.equal(item.labels['severity'], 'warning');
    }
    const coverage = groupsOf(rule!)[0]!.rules[2]!;
    assert.match(coverage.annotations['description'] ?? '', /get configmap kubernetes-image-puller-status/);
  });

  it('follows cachingIntervalHours: 3 intervals without success, 2 of low coverage', () => {
    const [six] = rulesOf(render({ prometheusRule: { enabled: true, alertLabels: { severity: 'page', team: 'ide' } } }, { apiVersions: [API], configMap: { cachingIntervalHours: '6' } }));
    const [stale, absent, coverage] = groupsOf(six!)[0]!.rules;
    assert.match(stale!.expr, / > 64800$/);
    assert.equal(absent!.for, '18h');
    assert.equal(coverage!.for, '12h');
    assert.deepEqual(coverage!.labels, { severity: 'page', team: 'ide' });
  });

  it('passes promtool check rules, annotations and all', () => {
    inTempDir((dir) => {
      writeFileSync(join(dir, 'rules.yaml'), dump({ groups: groupsOf(rule!) }));
      const result = promtool(['check', 'rules', 'rules.yaml'], dir);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /SUCCESS: 3 rules found/);
    });
  });

  it('fires as test/promtool/rules.test.yaml expects (promtool test rules)', () => {
    inTempDir((dir) => {
      // Annotations are left out: promtool would compare their text, which the tests above check.
      const groups = groupsOf(rule!).map((group) => ({ ...group, rules: group.rules.map((item) => Object.fromEntries(Object.entries(item).filter(([key]) => key !== 'annotations'))) }));
      writeFileSync(join(dir, 'rules.yaml'), dump({ groups }));
      copyFileSync(join(repoRoot, 'test/promtool/rules.test.yaml'), join(dir, 'rules.test.yaml'));
      const result = promtool(['test', 'rules', 'rules.test.yaml'], dir);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /SUCCESS/);
    });
  });
});

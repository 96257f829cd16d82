// One image runs the pass and provides the DaemonSet's helper, with one default tag everywhere it is
// spelled: the program's KIP_IMAGE default, the chart, the OpenShift templates, the Dockerfile and the
// README. The Go puller's image (…:next) has no /usr/local/bin/kip-helper, so it is never the default.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';
import { DEFAULTS } from '../src/config/config.ts';
import { loadTemplate } from '../e2e/lib/openshift-template.ts';
import { chartDir, openshiftDir, repoRoot } from '../e2e/packaging/fixtures.ts';

const GO_PULLER_IMAGE = 'quay.io/eclipse/kubernetes-image-puller:next';

function yamlFile(path: string): Record<string, unknown> {
  return load(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function parameterDefaults(file: string): Record<string, string> {
  return Object.fromEntries((loadTemplate(join(openshiftDir, file)).parameters ?? []).map((p) => [p.name, p.value ?? '']));
}

describe('the program\'s own image, one default everywhere', () => {
  const image = DEFAULTS.KIP_IMAGE;

  it('is not the Go puller\'s image, which lacks the helper', () => {
    assert.notEqual(image, GO_PULLER_IMAGE);
  });

  it('is what the chart runs by default, and its appVersion is the same tag', () => {
    const values = yamlFile(join(chartDir, 'values.yaml')) as { image: { repository: string; tag: string } };
    assert.equal(`${values.image.repository}:${values.image.tag}`, image);
    assert.equal(String(yamlFile(join(chartDir, 'Chart.yaml'))['appVersion']), values.image.tag);
  });

  it('is what the OpenShift template runs by default, and configmap.yaml\'s KIP_IMAGE', () => {
    const app = parameterDefaults('app.yaml');
    assert.equal(`${app['IMAGE'] ?? ''}:${app['IMAGE_TAG'] ?? ''}`, image);
    assert.equal(parameterDefaults('configmap.yaml')['KIP_IMAGE'], image);
  });

  it('is the default the README documents and the tag the Dockerfile is published under', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith('| `KIP_IMAGE` |'));
    assert.ok(row?.endsWith(`| \`${image}\` |`), `README KIP_IMAGE row: ${String(row)}`);
    assert.ok(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').includes(image), 'the Dockerfile names the image it is published as');
  });
});

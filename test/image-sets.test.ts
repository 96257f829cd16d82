// IMAGE_SETS and MAX_IMAGES_PER_DAEMONSET as loadConfig reads them: the sets, the fields they may
// leave out, and every problem named by its set and field.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { problemsOf } from './support/config.ts';

const sets = (...entries: unknown[]): string => JSON.stringify(entries);

describe('IMAGE_SETS', () => {
  it('is empty by default, so IMAGES alone is one set as before', () => {
    const config = loadConfig({ IMAGES: 'a=nginx:1' });
    assert.deepEqual(config.imageSets, []);
    assert.equal(config.maxImagesPerDaemonSet, undefined);
  });

  it('takes images as the IMAGES string or as a name → image map, in the order given, and keeps only the fields a set names', () => {
    const config = loadConfig({
      IMAGES: 'a=nginx:1',
      IMAGE_SETS: sets(
        { name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12.4.0-base-ubi9;torch=docker.io/pytorch/pytorch:2.3.0', tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
        { name: 'zone-b', images: { ide: 'quay.io/che-incubator/che-code:next', base: 'quay.io/devfile/base-developer-image:ubi9-latest' }, nodeSelector: { pool: 'general' }, affinity: { nodeAffinity: {} }, priorityClassName: '' },
      ),
    });
    assert.deepEqual(config.imageSets, [
      {
        name: 'gpu',
        images: [{ name: 'cuda', image: 'nvcr.io/nvidia/cuda:12.4.0-base-ubi9' }, { name: 'torch', image: 'docker.io/pytorch/pytorch:2.3.0' }],
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
      {
        name: 'zone-b',
        images: [{ name: 'ide', image: 'quay.io/che-incubator/che-code:next' }, { name: 'base', image: 'quay.io/devfile/base-developer-image:ubi9-latest' }],
        nodeSelector: { pool: 'general' },
        affinity: { nodeAffinity: {} },
        priorityClassName: '',
      },
    ]);
  });

  it('makes IMAGES optional: absent or blank, there is no default set', () => {
    const gpu = sets({ name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12' });
    assert.deepEqual(loadConfig({ IMAGE_SETS: gpu }).images, []);
    assert.deepEqual(loadConfig({ IMAGES: ' ', IMAGE_SETS: gpu }).images, []);
  });

  it('still requires IMAGES when IMAGE_SETS names no set, since a pass with nothing to cache would remove every DaemonSet', () => {
    assert.match(problemsOf({ IMAGE_SETS: '[]' }).IMAGES ?? '', /required.*unless IMAGE_SETS names a set/);
    assert.match(problemsOf({ IMAGE_SETS: ' ' }).IMAGES ?? '', /required/);
  });

  const rejected: [string, string, RegExp][] = [
    ['not JSON', '[{name: gpu}]', /not valid JSON.*expected a JSON array of sets/],
    ['an object instead of an array', '{"name":"gpu","images":"a=nginx"}', /expected a JSON array of sets/],
    ['an entry that is not an object', '["gpu"]', /^set #1 is not an object/],
    ['a set without a name', sets({ images: 'a=nginx' }), /^set #1 has no "name"/],
    ['a name that is not a DNS-1123 label', sets({ name: 'GPU', images: 'a=nginx' }), /^set #1: "name" "GPU" is not a DNS-1123 label/],
    ['the name of the IMAGES set', sets({ name: 'default', images: 'a=nginx' }), /^set "default": the name "default" is reserved for the IMAGES set/],
    ['a name given twice', sets({ name: 'gpu', images: 'a=nginx' }, { name: 'gpu', images: 'b=redis' }), /^set "gpu" appears more than once/],
    ['a set without images', sets({ name: 'gpu' }), /^set "gpu" has no "images"/],
    ['images of the wrong type', sets({ name: 'gpu', images: 5 }), /^set "gpu": "images" must be a string name=image;name=image or an object of name: image/],
    ['images with a duplicate name', sets({ name: 'gpu', images: 'a=nginx;a=redis' }), /^set "gpu": "images": name "a" appears more than once/],
    ['an image map with a non-string image', sets({ name: 'gpu', images: { a: 1 } }), /^set "gpu": "images": the image of "a" must be a string/],
    ['an image map with an invalid reference', sets({ name: 'gpu', images: { a: 'Quay.io/UPPER:1' } }), /^set "gpu": "images": image "Quay.io\/UPPER:1" of "a" is not a valid image reference/],
    ['an empty image map', sets({ name: 'gpu', images: {} }), /^set "gpu": "images": expected at least one/],
    ['a misspelt field', sets({ name: 'gpu', images: 'a=nginx', nodeselector: {} }), /^set "gpu" has unknown field "nodeselector"; expected name, images, nodeSelector, tolerations, affinity, priorityClassName/],
    ['a nodeSelector value that is not a string', sets({ name: 'gpu', images: 'a=nginx', nodeSelector: { zone: 1 } }), /^set "gpu": "nodeSelector": value of "zone" must be a string/],
    ['a toleration with an unknown operator', sets({ name: 'gpu', images: 'a=nginx', tolerations: [{ key: 'gpu', operator: 'In' }] }), /^set "gpu": "tolerations": toleration #1: "operator" must be "Exists" or "Equal"/],
    ['tolerations that are not a list', sets({ name: 'gpu', images: 'a=nginx', tolerations: { key: 'gpu' } }), /^set "gpu": "tolerations": expected a JSON array of tolerations/],
    ['a misspelt affinity', sets({ name: 'gpu', images: 'a=nginx', affinity: { nodeAfinity: {} } }), /^set "gpu": "affinity": unknown field "nodeAfinity"/],
    ['a PriorityClass name that is not a name', sets({ name: 'gpu', images: 'a=nginx', priorityClassName: 'Low_Priority' }), /^set "gpu": "priorityClassName": expected a PriorityClass name/],
    ['a PriorityClass name that is not a string', sets({ name: 'gpu', images: 'a=nginx', priorityClassName: 5 }), /^set "gpu": "priorityClassName" must be a string/],
  ];
  for (const [title, value, expected] of rejected) {
    it(`rejects ${title}, naming the set and the field`, () => {
      assert.match(problemsOf({ IMAGES: 'a=nginx', IMAGE_SETS: value }).IMAGE_SETS ?? '(no problem reported for IMAGE_SETS)', expected);
    });
  }

  it('reads the README\'s example: a general pool, a GPU pool behind a taint, one zone', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /## Image sets[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1] ?? '(no json example under "## Image sets")';
    const config = loadConfig({ IMAGE_SETS: example });
    assert.deepEqual(config.imageSets.map(({ name, images, tolerations, affinity }) => [name, images.length, tolerations?.length, affinity === undefined]), [
      ['general', 2, undefined, true],
      ['gpu', 2, 1, true],
      ['zone-a', 1, undefined, false],
    ]);
  });

  it('reports the problems of every set at once', () => {
    const problem = problemsOf({ IMAGES: 'a=nginx', IMAGE_SETS: sets({ name: 'gpu', images: {} }, { name: 'zone-b', images: 'a=nginx', tolerations: 'x' }) }).IMAGE_SETS ?? '';
    assert.match(problem, /^set "gpu": "images": .*; set "zone-b": "tolerations": /);
  });
});

describe('MAX_IMAGES_PER_DAEMONSET', () => {
  it('is no limit when unset or blank, and a whole number otherwise', () => {
    assert.equal(loadConfig({ IMAGES: 'a=nginx', MAX_IMAGES_PER_DAEMONSET: '' }).maxImagesPerDaemonSet, undefined);
    assert.equal(loadConfig({ IMAGES: 'a=nginx', MAX_IMAGES_PER_DAEMONSET: ' 5 ' }).maxImagesPerDaemonSet, 5);
  });

  for (const value of ['0', '2.5', 'five', '-1']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assert.match(problemsOf({ IMAGES: 'a=nginx', MAX_IMAGES_PER_DAEMONSET: value }).MAX_IMAGES_PER_DAEMONSET ?? '', /whole number from 1/);
    });
  }
});

describe('the DaemonSets the sets need, checked before any request', () => {
  it('rejects a set whose DaemonSet name would be longer than 63 characters, naming the set', () => {
    const name = 'a'.repeat(40);
    assert.match(
      problemsOf({ IMAGES: 'a=nginx', IMAGE_SETS: sets({ name, images: 'b=redis' }) }).IMAGE_SETS ?? '',
      new RegExp(`^set "${name}": its DaemonSet would be named "kubernetes-image-puller-${name}" \\(64 characters\\); a DaemonSet name is at most 63: shorten the set name or DAEMONSET_NAME`),
    );
  });

  it('counts the chunk suffix in that length', () => {
    const name = 'a'.repeat(38);
    const images = 'a=nginx;b=redis;c=busybox';
    assert.match(
      problemsOf({ IMAGES: 'x=nginx', IMAGE_SETS: sets({ name, images }), MAX_IMAGES_PER_DAEMONSET: '2' }).IMAGE_SETS ?? '',
      new RegExp(`^set "${name}": its DaemonSet would be named "kubernetes-image-puller-${name}-2" \\(64 characters\\)`),
    );
  });

  it('rejects the IMAGES set split into chunks whose names outgrow DAEMONSET_NAME', () => {
    const base = 'b'.repeat(62);
    assert.match(
      problemsOf({ IMAGES: 'a=nginx;b=redis', DAEMONSET_NAME: base, MAX_IMAGES_PER_DAEMONSET: '1' }).DAEMONSET_NAME ?? '',
      new RegExp(`^the IMAGES set: its DaemonSet would be named "${base}-2" \\(64 characters\\)`),
    );
  });

  it('rejects two sets that would share a DaemonSet, naming both', () => {
    assert.match(
      problemsOf({ IMAGES: 'x=nginx', IMAGE_SETS: sets({ name: 'gpu', images: 'a=nginx;b=redis' }, { name: 'gpu-2', images: 'c=busybox' }), MAX_IMAGES_PER_DAEMONSET: '1' }).IMAGE_SETS ?? '',
      /set "gpu-2" and chunk 2 of set "gpu" would both be the DaemonSet "kubernetes-image-puller-gpu-2"; rename one of them/,
    );
  });
});

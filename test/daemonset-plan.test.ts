// From the configuration to the DaemonSets of one install: one per set, or per chunk of a set
// split by MAX_IMAGES_PER_DAEMONSET; their names, labels and scheduling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkImages } from '../src/plan/chunks.ts';
import type { CachedImage } from '../src/config/config.ts';
import { loadConfig } from '../src/config/config.ts';
import type { Environment } from '../src/config/config.ts';
import { INSTALL_LABEL, SET_LABEL, planDaemonSets } from '../src/plan/daemonset-plan.ts';
import { desiredDaemonSet } from '../src/plan/desired.ts';

function images(count: number, from = 1): CachedImage[] {
  return Array.from({ length: count }, (_, index) => ({ name: `i${String(from + index)}`, image: `quay.io/example/i${String(from + index)}:1` }));
}

const imagesText = (list: CachedImage[]): string => list.map(({ name, image }) => `${name}=${image}`).join(';');
const plan = (env: Environment) => planDaemonSets(loadConfig(env));

describe('chunkImages', () => {
  it('keeps a set whole without a limit, or when it fits', () => {
    assert.deepEqual(chunkImages(images(5), undefined), [images(5)]);
    assert.deepEqual(chunkImages(images(5), 5), [images(5)]);
  });

  it('fills chunks in the order given, each up to the limit', () => {
    assert.deepEqual(chunkImages(images(5), 2), [images(2, 1), images(2, 3), images(1, 5)]);
  });

  it('appending an image moves no other image: only the last chunk grows, or a new one starts', () => {
    for (let max = 1; max <= 6; max += 1) {
      for (let count = 1; count <= 25; count += 1) {
        const before = chunkImages(images(count), max);
        const after = chunkImages(images(count + 1), max);
        assert.deepEqual(after.slice(0, before.length - 1), before.slice(0, -1), `max ${String(max)}, ${String(count)} → ${String(count + 1)} images`);
        assert.deepEqual(after[before.length - 1]?.slice(0, before.at(-1)?.length), before.at(-1));
        assert.ok(after.length - before.length <= 1);
      }
    }
  });

  it('removing an image leaves the chunks before it untouched (the ones after it shift by one image)', () => {
    const all = images(9);
    const before = chunkImages(all, 3);
    const after = chunkImages([...all.slice(0, 4), ...all.slice(5)], 3);
    assert.deepEqual(after[0], before[0]);
    assert.notDeepEqual(after[1], before[1]);
    assert.equal(after.length, 3);
  });
});

describe('planDaemonSets', () => {
  it('IMAGES alone: one DaemonSet, exactly the one the configuration has always described', () => {
    const config = loadConfig({ IMAGES: 'a=nginx:1;b=redis:7', NAMESPACE: 'cache', NODE_SELECTOR: '{"zone":"b"}' });
    const planned = planDaemonSets(config);
    assert.equal(planned.length, 1);
    assert.deepEqual([planned[0]?.set, planned[0]?.chunk, planned[0]?.chunks], ['default', 1, 1]);
    assert.equal(JSON.stringify(desiredDaemonSet(planned[0]!.config)), JSON.stringify(desiredDaemonSet(config)));
    assert.equal(planned[0]?.config.daemonSetName, 'kubernetes-image-puller');
  });

  it('adds one DaemonSet per set, named after DAEMONSET_NAME and the set, labelled with both', () => {
    const planned = plan({
      IMAGES: 'a=nginx:1',
      DAEMONSET_NAME: 'kip',
      IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: 'cuda=nvcr.io/nvidia/cuda:12' }, { name: 'zone-b', images: { ide: 'quay.io/che/code:next' } }]),
    });
    assert.deepEqual(planned.map(({ set, config }) => [set, config.daemonSetName, config.images.map(({ name }) => name)]), [
      ['default', 'kip', ['a']],
      ['gpu', 'kip-gpu', ['cuda']],
      ['zone-b', 'kip-zone-b', ['ide']],
    ]);
    const gpu = desiredDaemonSet(planned[1]!.config);
    const labels = { [INSTALL_LABEL]: 'kip', [SET_LABEL]: 'gpu' };
    assert.deepEqual(gpu.metadata.labels, { 'app.kubernetes.io/component': 'image-cache', 'app.kubernetes.io/instance': 'kip-gpu', 'app.kubernetes.io/name': 'kubernetes-image-puller', 'app.kubernetes.io/managed-by': 'kubernetes-image-puller', ...labels });
    assert.deepEqual(gpu.spec.template.metadata.labels, gpu.metadata.labels, 'pods carry the set too');
    assert.deepEqual(gpu.spec.selector.matchLabels, { 'app.kubernetes.io/instance': 'kip-gpu', 'app.kubernetes.io/name': 'kubernetes-image-puller' }, 'selectors never overlap');
  });

  it('a set inherits the scheduling it does not name and replaces what it names', () => {
    const planned = plan({
      IMAGES: 'a=nginx:1',
      NODE_SELECTOR: '{"kubernetes.io/os":"linux"}',
      TOLERATIONS: '[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]',
      AFFINITY: '{"nodeAffinity":{}}',
      PRIORITY_CLASS_NAME: 'cache-low',
      IMAGE_SETS: JSON.stringify([
        { name: 'inherits', images: 'b=redis:7' },
        { name: 'replaces', images: 'c=busybox:1', nodeSelector: { pool: 'gpu' }, tolerations: [], affinity: {}, priorityClassName: '' },
      ]),
    });
    const [, inherits, replaces] = planned.map(({ config }) => config);
    assert.deepEqual([inherits?.nodeSelector, inherits?.tolerations.length, inherits?.affinity, inherits?.priorityClassName], [{ 'kubernetes.io/os': 'linux' }, 1, { nodeAffinity: {} }, 'cache-low']);
    assert.deepEqual([replaces?.nodeSelector, replaces?.tolerations, replaces?.affinity, replaces?.priorityClassName], [{ pool: 'gpu' }, [], {}, undefined]);
    assert.deepEqual(planned.map(({ overrides }) => overrides), [[], ['images'], ['images', 'nodeSelector', 'tolerations', 'affinity', 'priorityClassName']]);
  });

  it('IMAGE_SETS alone: no DaemonSet under DAEMONSET_NAME itself', () => {
    const planned = plan({ IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: 'a=nginx' }]) });
    assert.deepEqual(planned.map(({ config }) => config.daemonSetName), ['kubernetes-image-puller-gpu']);
  });

  it('splits a set into chunks: the first keeps the set\'s name, the next ones add -2, -3', () => {
    const planned = plan({ IMAGES: imagesText(images(3)), DAEMONSET_NAME: 'kip', MAX_IMAGES_PER_DAEMONSET: '2', IMAGE_SETS: JSON.stringify([{ name: 'gpu', images: imagesText(images(5, 10)) }]) });
    assert.deepEqual(planned.map(({ set, chunk, chunks, config }) => [set, `${String(chunk)}/${String(chunks)}`, config.daemonSetName, config.images.length]), [
      ['default', '1/2', 'kip', 2],
      ['default', '2/2', 'kip-2', 1],
      ['gpu', '1/3', 'kip-gpu', 2],
      ['gpu', '2/3', 'kip-gpu-2', 2],
      ['gpu', '3/3', 'kip-gpu-3', 1],
    ]);
    assert.deepEqual(planned[0]?.config.setLabels, {}, 'the DaemonSet named DAEMONSET_NAME keeps the labels it always had');
    assert.deepEqual(planned[1]?.config.setLabels, { [INSTALL_LABEL]: 'kip', [SET_LABEL]: 'default' });
  });

  it('appending an image to a split set changes only its last DaemonSet', () => {
    const env = (count: number): Environment => ({ IMAGES: 'a=nginx', MAX_IMAGES_PER_DAEMONSET: '3', IMAGE_SETS: JSON.stringify([{ name: 'big', images: imagesText(images(count)) }]) });
    const before = plan(env(7)).map(({ config }) => desiredDaemonSet(config));
    const after = plan(env(8)).map(({ config }) => desiredDaemonSet(config));
    assert.equal(after.length, before.length);
    assert.deepEqual(after.slice(0, -1), before.slice(0, -1));
    assert.notDeepEqual(after.at(-1), before.at(-1));
  });
});

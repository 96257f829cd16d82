import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import type { Environment } from '../src/config/config.ts';
import { HOLD_CONTAINER, INSTALL_CONTAINER, desiredDaemonSet, hasMutableImages, selectorLabels } from '../src/plan/desired.ts';
import { podReservation } from '../src/plan/reservation.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function manyImages(count: number): string {
  return Array.from({ length: count }, (_, index) => `image-${String(index + 1)}=quay.io/example/image-${String(index + 1)}:v${String(index)}`).join(';');
}

/** The desired DaemonSet as JSON, built by a fresh Node process: its own clock, random seed and module state. */
function desiredInChildProcess(env: Environment): string {
  const script = `
    import { loadConfig } from ${JSON.stringify(new URL('../src/config/config.ts', import.meta.url).href)};
    import { desiredDaemonSet } from ${JSON.stringify(new URL('../src/plan/desired.ts', import.meta.url).href)};
    process.stdout.write(JSON.stringify(desiredDaemonSet(loadConfig(process.env))));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '--eval', script], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

const GOLDEN: Record<string, Environment> = {
  'one-image': { IMAGES: 'che-code=quay.io/che-incubator/che-code:next' },
  'thirty-images': { IMAGES: manyImages(30) },
  'digest-pinned': { IMAGES: `pinned=quay.io/example/pinned@${DIGEST};both=quay.io/example/both:1.0@${DIGEST}` },
  'scratch-image': { IMAGES: 'static=gcr.io/distroless/static-debian12:nonroot;empty=registry.local:5000/scratch-only', CACHING_RUN_AS_USER: '' },
  'all-scheduling-options': {
    IMAGES: 'a=nginx:1.27',
    NODE_SELECTOR: '{"zone":"b","kubernetes.io/os":"linux"}',
    TOLERATIONS: '[{"key":"gpu","operator":"Exists","effect":"NoSchedule"},{"key":"team","operator":"Equal","value":"ml","effect":"NoExecute","tolerationSeconds":60}]',
    AFFINITY: '{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"node-role","operator":"NotIn","values":["control-plane"]}]}]}}}',
    IMAGE_PULL_SECRETS: 'quay-pull;gcr-pull',
    PRIORITY_CLASS_NAME: 'image-cache-low',
    DAEMONSET_ANNOTATIONS: '{"example.com/owner":"platform-team"}',
    DAEMONSET_NAME: 'workspace-images',
    NAMESPACE: 'image-cache',
    MAX_UNAVAILABLE: '2',
  },
};

describe('desiredDaemonSet golden cases', () => {
  for (const [name, env] of Object.entries(GOLDEN)) {
    it(name, () => {
      const actual = `${JSON.stringify(desiredDaemonSet(loadConfig(env)), null, 2)}\n`;
      const file = new URL(`golden/${name}.json`, import.meta.url);
      if (UPDATE) writeFileSync(file, actual);
      assert.equal(actual, readFileSync(file, 'utf8'), `golden file test/golden/${name}.json differs; run with UPDATE_GOLDEN=1 after checking the change`);
    });
  }
});

describe('desiredDaemonSet properties', () => {
  it('is byte-identical when built in two separate processes (a clock, random or process state would differ)', () => {
    const env = GOLDEN['all-scheduling-options'] ?? {};
    const first = desiredInChildProcess(env);
    const second = desiredInChildProcess(env);
    assert.ok(first.startsWith('{"apiVersion":"apps/v1"'), first);
    assert.equal(first, second);
  });

  it('does not depend on the order of map keys or pull secrets in the input', () => {
    const a = desiredDaemonSet(loadConfig({ IMAGES: 'a=nginx', NODE_SELECTOR: '{"b":"2","a":"1"}', IMAGE_PULL_SECRETS: 'y;x' }));
    const b = desiredDaemonSet(loadConfig({ IMAGES: 'a=nginx', NODE_SELECTOR: '{"a":"1","b":"2"}', IMAGE_PULL_SECRETS: 'x;y' }));
    assert.equal(JSON.stringify(a), JSON.stringify(b));
  });

  it('reserves the same per node for 1 and for 30 images', () => {
    const one = desiredDaemonSet(loadConfig({ IMAGES: manyImages(1) }));
    const thirty = desiredDaemonSet(loadConfig({ IMAGES: manyImages(30) }));
    assert.equal(thirty.spec.template.spec.initContainers?.length, 31);
    assert.deepEqual(podReservation(thirty.spec.template.spec), podReservation(one.spec.template.spec));
    assert.deepEqual(podReservation(one.spec.template.spec), { requests: { cpu: 0.05, memory: 10 * 2 ** 20 }, limits: { cpu: 0.2, memory: 20 * 2 ** 20 } });
  });

  it('caches each image in an init container that runs the copied static helper', () => {
    const spec = desiredDaemonSet(loadConfig({ IMAGES: 'a=nginx:1;b=redis:7' })).spec.template.spec;
    assert.deepEqual(spec.initContainers?.map((container) => container.name), [INSTALL_CONTAINER, 'a', 'b']);
    assert.deepEqual(spec.initContainers?.[1]?.command, ['/kip/kip-helper', 'exit']);
    assert.deepEqual(spec.containers.map((container) => container.name), [HOLD_CONTAINER]);
  });

  it('pulls tags on every start and digests only when missing', () => {
    const spec = desiredDaemonSet(loadConfig({ IMAGES: `tag=nginx:1;pinned=nginx@${DIGEST};latest=nginx` })).spec.template.spec;
    const policies = Object.fromEntries((spec.initContainers ?? []).map((container) => [container.name, container.imagePullPolicy]));
    assert.deepEqual(policies, { 'kip-install-helper': 'Always', tag: 'Always', pinned: 'IfNotPresent', latest: 'Always' });
  });

  it('meets the restricted Pod Security Standard and mounts no token', () => {
    const spec = desiredDaemonSet(loadConfig({ IMAGES: 'a=nginx' })).spec.template.spec;
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.deepEqual(spec.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
    for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false, container.name);
      assert.deepEqual(container.securityContext?.capabilities, { drop: ['ALL'] }, container.name);
    }
    assert.ok((spec.terminationGracePeriodSeconds ?? 30) <= 5);
    assert.equal(spec.volumes?.some((volume) => 'hostPath' in volume), false);
  });

  it('leaves the UID to the platform when CACHING_RUN_AS_USER is blank (OpenShift restricted-v2)', () => {
    const spec = desiredDaemonSet(loadConfig({ IMAGES: 'a=nginx', CACHING_RUN_AS_USER: '' })).spec.template.spec;
    assert.equal('runAsUser' in (spec.securityContext ?? {}), false);
  });

  it('selects its pods by name and instance only', () => {
    const daemonSet = desiredDaemonSet(loadConfig({ IMAGES: 'a=nginx', DAEMONSET_NAME: 'cache' }));
    assert.deepEqual(daemonSet.spec.selector.matchLabels, selectorLabels({ daemonSetName: 'cache' }));
    for (const [key, value] of Object.entries(daemonSet.spec.selector.matchLabels)) {
      assert.equal(daemonSet.spec.template.metadata.labels?.[key], value);
    }
  });
});

describe('hasMutableImages (whether the periodic restart has anything to refresh)', () => {
  const mutable = (images: string) => hasMutableImages(loadConfig({ IMAGES: images }));

  it('is false when every image is pinned by digest', () => {
    assert.equal(mutable(`a=nginx@${DIGEST};b=quay.io/x/b@${DIGEST}`), false);
  });

  it('is false for the tag@digest form: the digest decides what is pulled', () => {
    assert.equal(mutable(`a=quay.io/x/a:1.0@${DIGEST}`), false);
  });

  it('is true when any image is a tag, or has neither tag nor digest (latest)', () => {
    assert.equal(mutable(`a=nginx@${DIGEST};b=redis:7`), true);
    assert.equal(mutable(`a=nginx@${DIGEST};b=redis`), true);
  });
});

describe('describeReservation', () => {
  it('prints the per-node reservation in Kubernetes units', async () => {
    const { describeReservation } = await import('../src/plan/reservation.ts');
    const spec = desiredDaemonSet(loadConfig({ IMAGES: manyImages(30), CACHING_MEMORY_REQUEST: '512Ki' })).spec.template.spec;
    assert.equal(describeReservation(podReservation(spec)), 'requests cpu=50m memory=512Ki, limits cpu=200m memory=20Mi');
  });
});

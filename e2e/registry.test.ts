// REFRESH_MODE=digest against a real registry (distribution v3) and the real control plane: the
// pass asks the registry once per tag, records the digests on the pod template, and rolls the
// DaemonSet only when a tag moved. The registry's own access log counts what the pass asked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apply,
  createTestNamespace,
  deleteNamespace,
  releaseNamespace,
  kubectl,
  listJson,
  podUids,
  waitForRollout,
  type KubeObject,
} from './lib/cluster.ts';
import { explain, runPass } from './lib/pass-runner.ts';
import { auditLogOrSkip, auditRequests, formatRequests, writesIn } from './lib/audit.ts';
import { expectPass, getPuller, passEnv } from './lib/puller.ts';
import { renderChart } from './packaging/fixtures.ts';
import { LocalRegistry, TokenIssuer, dockerConfigSecret, pullerManifestRequests } from './lib/registry.ts';

const DIGESTS = 'kubernetes-image-puller/digests';

function digestEnv(namespace: string, images: string, extra: Record<string, string> = {}): Record<string, string> {
  return passEnv(namespace, { IMAGES: images, REFRESH_MODE: 'digest', ...extra });
}

async function warningReasons(namespace: string): Promise<string[]> {
  const events = await listJson<KubeObject & { reason?: string; type?: string }>('events', { namespace });
  return events.filter((event) => event.type === 'Warning').map((event) => event.reason ?? '');
}

describe('refresh by digest, anonymous registry', { timeout: 300_000 }, () => {
  const registry = new LocalRegistry();
  let ns = '';
  let images = '';
  let first = { app: '', tools: '' };

  before(async () => {
    await registry.start();
    first = { app: registry.push('kip/app:v1', 'app one'), tools: registry.push('team/tools:latest', 'tools one') };
    images = `app=${registry.address}/kip/app:v1;tools=${registry.address}/team/tools;pinned=${registry.address}/kip/app@${first.app}`;
    ns = await createTestNamespace('kip-digest');
  });
  after(async () => {
    await registry.stop();
    await releaseNamespace(ns);
  });

  test('the first pass records the digest of every tag; the second writes nothing and makes one HEAD per tag', async (t) => {
    const created = expectPass(await runPass(digestEnv(ns, images)), 0);
    assert.equal(created.action, 'created');
    const annotation = JSON.parse((await getPuller(ns)).spec.template.metadata.annotations?.[DIGESTS] ?? '{}') as Record<string, string>;
    assert.deepEqual(annotation, { [`${registry.address}/kip/app:v1`]: first.app, [`${registry.address}/team/tools`]: first.tools });
    await waitForRollout(ns);
    const asked = registry.accessLog().length;
    const since = new Date();
    const result = await runPass(digestEnv(ns, images));
    const quiet = expectPass(result, 0);
    assert.equal(quiet.action, 'unchanged', explain(result));
    assert.deepEqual(pullerManifestRequests(registry.accessLog().slice(asked)).sort(), ['HEAD /v2/kip/app/manifests/v1', 'HEAD /v2/team/tools/manifests/latest']);
    if (auditLogOrSkip(t)) {
      const requests = await auditRequests({ since, namespace: ns });
      assert.deepEqual(writesIn(requests), [], formatRequests(requests));
    }
  });

  test('a re-pushed tag rolls the DaemonSet once; the pass after it is quiet', async () => {
    await waitForRollout(ns);
    const pods = await podUids(ns);
    const moved = registry.push('kip/app:v1', 'app two');
    assert.notEqual(moved, first.app);
    const result = await runPass(digestEnv(ns, images));
    const rolled = expectPass(result, 0);
    assert.equal(rolled.action, 'updated', explain(result));
    assert.deepEqual((rolled.registry as { moved?: string[] }).moved, [`${registry.address}/kip/app:v1`]);
    const after = await podUids(ns);
    assert.equal(after.filter((uid) => pods.includes(uid)).length, 0, 'every pod was replaced');
    assert.equal(expectPass(await runPass(digestEnv(ns, images)), 0).action, 'unchanged');
  });

  test('a registry that cannot be reached: DaemonSet unchanged, a Warning Event, the summary names the image', async () => {
    const before = (await getPuller(ns)).metadata.resourceVersion;
    await registry.stop();
    const result = await runPass(digestEnv(ns, images));
    const summary = expectPass(result, 0);
    const unresolved = (summary.registry as { unresolved?: { image: string; reason: string }[] }).unresolved ?? [];
    assert.deepEqual(unresolved.map(({ image, reason }) => [image, reason]).sort(), [[`${registry.address}/kip/app:v1`, 'unreachable'], [`${registry.address}/team/tools`, 'unreachable']], explain(result));
    assert.equal((await getPuller(ns)).metadata.resourceVersion, before);
    assert.ok((await warningReasons(ns)).includes('DigestUnknown'));
    await registry.start({ kind: 'none' }, Number(registry.address.split(':')[1]));
    assert.equal(expectPass(await runPass(digestEnv(ns, images)), 0).action, 'unchanged');
  });

  test('digest-pinned images cost no registry request at all', async () => {
    const pinnedNs = await createTestNamespace('kip-digest-pinned');
    try {
      const asked = registry.accessLog().length;
      expectPass(await runPass(digestEnv(pinnedNs, `pinned=${registry.address}/kip/app@${first.app}`)), 0);
      assert.deepEqual(pullerManifestRequests(registry.accessLog().slice(asked)), []);
    } finally {
      await deleteNamespace(pinnedNs);
    }
  });
});

describe('refresh by digest, private registries', { timeout: 300_000 }, () => {
  let ns = '';
  before(async () => {
    ns = await createTestNamespace('kip-digest-private');
  });
  after(async () => {
    await releaseNamespace(ns);
  });

  test('Basic auth with credentials from a dockerconfigjson Secret; a wrong password is a warning naming the Secret', async () => {
    const registry = new LocalRegistry();
    try {
      await registry.start();
      const digest = registry.push('private/app:1', 'private');
      await registry.stop();
      await registry.start({ kind: 'htpasswd' }, Number(registry.address.split(':')[1]));
      assert.notEqual(registry.password, '', 'the registry provisioned a password');
      await apply([dockerConfigSecret('basic-pull', ns, registry.address, 'docker', registry.password)]);
      const images = `app=${registry.address}/private/app:1`;
      const ok = expectPass(await runPass(digestEnv(ns, images, { IMAGE_PULL_SECRETS: 'basic-pull', DAEMONSET_NAME: 'basic' })), 0);
      assert.equal((ok.registry as { unresolved?: unknown[] }).unresolved, undefined);
      const annotation = (await getPuller(ns, 'basic')).spec.template.metadata.annotations?.[DIGESTS] ?? '';
      assert.equal((JSON.parse(annotation) as Record<string, string>)[`${registry.address}/private/app:1`], digest);

      await apply([dockerConfigSecret('basic-pull', ns, registry.address, 'docker', 'wrong')]);
      const result = await runPass(digestEnv(ns, images, { IMAGE_PULL_SECRETS: 'basic-pull', DAEMONSET_NAME: 'basic' }));
      const denied = expectPass(result, 0);
      const unresolved = (denied.registry as { unresolved?: { reason: string; message: string }[] }).unresolved ?? [];
      assert.equal(unresolved[0]?.reason, 'unauthorized', explain(result));
      assert.match(unresolved[0]?.message ?? '', /basic-pull/, 'the message names the Secret');
      assert.equal(denied.action, 'unchanged', 'the last known digest is kept');
    } finally {
      await registry.stop();
    }
  });

  test('the Bearer token flow, with the token fetched once per pass', async () => {
    const issuer = new TokenIssuer();
    const registry = new LocalRegistry();
    try {
      const token = await issuer.start();
      issuer.users.set('robot', 'bearer-secret');
      await registry.start();
      registry.push('private/one:1', 'one');
      registry.push('private/one:2', 'two');
      // crane refuses a token realm on a loopback address, so the images were pushed before auth was on.
      await registry.stop();
      await registry.start({ kind: 'token', token }, Number(registry.address.split(':')[1]));
      await apply([dockerConfigSecret('bearer-pull', ns, registry.address, 'robot', 'bearer-secret')]);
      const images = `one=${registry.address}/private/one:1;two=${registry.address}/private/one:2`;
      const result = await runPass(digestEnv(ns, images, { IMAGE_PULL_SECRETS: 'bearer-pull', DAEMONSET_NAME: 'bearer', NODE_EXTRA_CA_CERTS: issuer.certFile }));
      const summary = expectPass(result, 0);
      assert.equal((summary.registry as { unresolved?: unknown[] }).unresolved, undefined, explain(result));
      const annotation = JSON.parse((await getPuller(ns, 'bearer')).spec.template.metadata.annotations?.[DIGESTS] ?? '{}') as Record<string, string>;
      assert.equal(Object.keys(annotation).length, 2);
      assert.deepEqual(issuer.requests.filter((request) => request.user === 'robot').map((request) => request.scope), ['repository:private/one:pull'], 'one token for both tags of the repository');
    } finally {
      await registry.stop();
      issuer.stop();
    }
  });

  test('the chart\'s Role may get exactly the named pull Secret, and no other', async () => {
    const objects = renderChart({ namespace: ns, values: { configMap: { imagePullSecrets: ['basic-pull'] } } });
    await apply(objects.filter((object) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(object.kind)).map((object) => ({ ...object, metadata: { ...object.metadata, namespace: ns } })));
    const account = `system:serviceaccount:${ns}:k8s-image-puller`;
    const canI = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, '-n', ns, `--as=${account}`])).stdout.trim();
    assert.deepEqual(
      [await canI('get', 'secret/basic-pull'), await canI('get', 'secret/bearer-pull'), await canI('list', 'secrets'), await canI('watch', 'secrets')],
      ['yes', 'no', 'no', 'no'],
    );
  });
});

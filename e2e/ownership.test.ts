// A DaemonSet with the puller's name that someone else owns must be left alone: exit 4, no write.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { apply, createTestNamespace, deleteNamespace, waitFor } from './lib/cluster.ts';
import { runPass } from './lib/pass-runner.ts';
import { auditLogOrSkip, auditRequests, formatRequests, writesIn } from './lib/audit.ts';
import { assertSawPassRead, daemonSetName, expectPass, getPuller, passEnv } from './lib/puller.ts';

let ns = '';
after(async () => {
  if (ns !== '' && process.env.KIP_E2E_KEEP !== '1') await deleteNamespace(ns);
});

function foreignDaemonSet(namespace: string): object {
  const labels = { app: 'someone-else' };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: daemonSetName, namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'theirs',
              image: 'quay.io/someone/else:1',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

describe('a same-name DaemonSet not managed by the puller', { timeout: 60_000 }, () => {
  test('is refused with exit 4 and left untouched', async (t) => {
    ns = await createTestNamespace('kip-foreign');
    await apply([foreignDaemonSet(ns)]);
    // The DaemonSet controller writes its status (a new resourceVersion) until its pods are Ready.
    await waitFor('the foreign DaemonSet settled', async () => {
      const status = (await getPuller(ns)).status;
      return status?.desiredNumberScheduled !== undefined && status.desiredNumberScheduled > 0 && status.numberReady === status.desiredNumberScheduled;
    }, { timeoutMs: 30_000 });
    const before = await getPuller(ns);

    const since = new Date();
    const summary = expectPass(await runPass(passEnv(ns, { IMAGES: 'alpha=quay.io/kip-e2e/alpha:1.0' })), 4);
    assert.equal(summary.action, 'refused');

    const afterPass = await getPuller(ns);
    assert.equal(afterPass.metadata.uid, before.metadata.uid, 'same object');
    assert.equal(afterPass.metadata.resourceVersion, before.metadata.resourceVersion, 'resourceVersion');
    assert.deepEqual(afterPass.metadata.labels, { app: 'someone-else' });

    if (!auditLogOrSkip(t)) return;
    const seen = await auditRequests({ since });
    assertSawPassRead(seen, ns);
    const writes = writesIn(seen);
    assert.deepEqual(writes, [], `writes by the puller:\n${formatRequests(writes)}`);
  });
});

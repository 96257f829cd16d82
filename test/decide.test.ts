import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { REFRESH_EARLINESS_MS, confirmUpdate, decide, goPullerDeployment, refreshDue } from '../src/pass/decide.ts';
import type { DecisionInput } from '../src/pass/decide.ts';
import { REFRESHED_AT_ANNOTATION, desiredDaemonSet } from '../src/plan/desired.ts';
import { specDifferences } from '../src/pass/drift.ts';
import type { DaemonSet } from '../src/kube/k8s-types.ts';
import { goPullerDaemonSet } from './support/go-puller.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const HOUR = 3600 * 1000;
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

function desiredFor(images = 'a=nginx:1;b=redis:7', extra: Record<string, string> = {}): DaemonSet {
  return desiredDaemonSet(loadConfig({ IMAGES: images, NAMESPACE: 'cache', ...extra }));
}

/** What the API server hands back: our object plus identity, defaults written as it writes them. */
function asLive(desired: DaemonSet, refreshedAt = new Date(NOW.getTime() - 10 * 60 * 1000)): DaemonSet {
  const live = structuredClone(desired);
  live.metadata = { ...live.metadata, uid: 'uid-1', resourceVersion: '42', generation: 1, creationTimestamp: '2026-11-01T00:00:00Z' };
  live.spec.template.metadata = { ...live.spec.template.metadata, annotations: { [REFRESHED_AT_ANNOTATION]: refreshedAt.toISOString() } };
  live.spec.minReadySeconds = undefined;
  for (const container of live.spec.template.spec.initContainers ?? []) {
    for (const mount of container.volumeMounts ?? []) if (mount.readOnly === false) delete mount.readOnly;
    if (container.resources?.requests) container.resources.requests.cpu = '50m';
  }
  return live;
}

function input(live: DaemonSet | undefined, overrides: Partial<DecisionInput> = {}): DecisionInput {
  return { desired: desiredFor(), live, now: NOW, intervalHours: 1, hasMutableImages: true, refreshMode: 'restart', owner: undefined, ...overrides };
}

describe('decide', () => {
  it('creates an absent DaemonSet, stamping the refresh time', () => {
    const decision = decide(input(undefined));
    assert.equal(decision.action, 'create');
    assert.equal(decision.action === 'create' && decision.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], NOW.toISOString());
  });

  it('does nothing when the live object matches (server defaults and equal quantities are not drift)', () => {
    assert.deepEqual(decide(input(asLive(desiredFor()))), { action: 'none', tolerated: [] });
  });

  it('refuses a same-name DaemonSet it does not manage', () => {
    const live = asLive(desiredFor());
    delete live.metadata.labels?.['app.kubernetes.io/managed-by'];
    const decision = decide(input(live));
    assert.equal(decision.action, 'refuse');
    assert.match(decision.action === 'refuse' ? decision.reason : '', /not managed by kubernetes-image-puller.*left untouched/);
  });

  it('updates in place when an image changes, naming the field', () => {
    const decision = decide(input(asLive(desiredFor('a=nginx:2;b=redis:7')), { desired: desiredFor() }));
    assert.equal(decision.action, 'update');
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], ['spec.template.spec.initContainers[a].image']);
  });

  it('detects a container added by hand and an image changed by hand', () => {
    const added = asLive(desiredFor());
    added.spec.template.spec.containers.push({ name: 'intruder', image: 'busybox' });
    assert.deepEqual(decide(input(added)).action, 'update');
    const edited = asLive(desiredFor());
    const first = edited.spec.template.spec.initContainers?.[1];
    if (first) first.image = 'nginx:evil';
    const decision = decide(input(edited));
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], ['spec.template.spec.initContainers[a].image']);
  });

  it('detects fields slipped into the pod spec', () => {
    const live = asLive(desiredFor()) as DaemonSet & { spec: { template: { spec: { hostNetwork?: boolean } } } };
    live.spec.template.spec.hostNetwork = true;
    const decision = decide(input(live));
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], ['spec.template.spec.hostNetwork']);
  });

  it('detects resource, node selector and toleration drift', () => {
    const live = asLive(desiredFor());
    const desired = desiredFor('a=nginx:1;b=redis:7', {
      CACHING_MEMORY_LIMIT: '64Mi',
      NODE_SELECTOR: '{"zone":"b"}',
      TOLERATIONS: '[{"key":"gpu","operator":"Exists"}]',
    });
    const changed = specDifferences(desired, live);
    assert.ok(changed.includes('spec.template.spec.nodeSelector.zone'), changed.join());
    assert.ok(changed.includes('spec.template.spec.tolerations'), changed.join());
    assert.ok(changed.includes('spec.template.spec.initContainers[a].resources.limits.memory'), changed.join());
  });

  it('keeps labels, annotations, owners, finalizers and the live restart stamp, sends the resourceVersion, and asks the server first', () => {
    const live = asLive(desiredFor('a=nginx:0'));
    live.metadata.labels = { ...live.metadata.labels, 'team.example.com/cost-center': '42' };
    live.metadata.annotations = { 'deprecated.daemonset.template.generation': '1', 'backup.example.com/schedule': 'nightly' };
    live.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'u' }];
    live.metadata.finalizers = ['backup.example.com/protect'];
    const decision = decide(input(live));
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') return;
    assert.equal(decision.confirm, true);
    assert.equal(decision.body.metadata.resourceVersion, '42');
    assert.equal(decision.body.metadata.labels?.['team.example.com/cost-center'], '42');
    assert.deepEqual(decision.body.metadata.annotations, live.metadata.annotations);
    assert.deepEqual(decision.body.metadata.ownerReferences, live.metadata.ownerReferences);
    assert.deepEqual(decision.body.metadata.finalizers, ['backup.example.com/protect']);
    assert.equal(decision.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], live.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION]);
  });

  it('sees an empty list in the configuration that the live object lacks (the server judges whether it is valid)', () => {
    const desired = desiredFor('a=nginx:1', { AFFINITY: '{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}}' });
    const live = asLive(desiredFor('a=nginx:1'));
    const decision = decide(input(live, { desired }));
    assert.deepEqual(decision.action === 'update' ? [decision.confirm, decision.changed] : [], [true, ['spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms']]);
  });

  it('sees false and 0 that went missing or changed: they are values, not absence', () => {
    const desired = desiredFor('a=nginx:1', { TOLERATIONS: '[{"key":"spot","operator":"Exists","effect":"NoExecute","tolerationSeconds":0}]' });
    const live = asLive(desired);
    delete live.spec.template.spec.automountServiceAccountToken;
    delete live.spec.template.spec.enableServiceLinks;
    const first = live.spec.template.spec.initContainers?.[1];
    if (first?.securityContext) delete first.securityContext.allowPrivilegeEscalation;
    const toleration = live.spec.template.spec.tolerations?.[0];
    if (toleration) delete toleration.tolerationSeconds;
    const decision = decide(input(live, { desired }));
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], [
      'spec.template.spec.automountServiceAccountToken',
      'spec.template.spec.enableServiceLinks',
      'spec.template.spec.initContainers[a].securityContext.allowPrivilegeEscalation',
      'spec.template.spec.tolerations[0].tolerationSeconds',
    ]);
  });

  it('recreates when a live selector label has another value', () => {
    const live = asLive(desiredFor());
    live.spec.selector = { matchLabels: { ...live.spec.selector.matchLabels, 'app.kubernetes.io/instance': 'old-name' } };
    assert.equal(decide(input(live)).action, 'recreate');
  });

  it('adds the CronJob owner when the live one is owned only by something else of that name', () => {
    const owner = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'cron-uid' };
    const live = asLive(desiredFor());
    live.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'puller', uid: 'd' }];
    const decision = decide(input(live, { owner }));
    assert.deepEqual(decision.action === 'update' ? decision.body.metadata.ownerReferences : [], [...live.metadata.ownerReferences, owner]);
  });

  it('writes DAEMONSET_ANNOTATIONS onto a live DaemonSet that has no annotations at all', () => {
    const desired = desiredFor('a=nginx:1;b=redis:7', { DAEMONSET_ANNOTATIONS: '{"example.com/owner":"platform"}' });
    const live = asLive(desired);
    delete live.metadata.annotations;
    const decision = decide(input(live, { desired }));
    assert.deepEqual(decision.action === 'update' ? decision.body.metadata.annotations : {}, { 'example.com/owner': 'platform' });
  });

  it('recreates when the live selector has a label more than the desired one', () => {
    const live = asLive(desiredFor());
    live.spec.selector = { matchLabels: { ...live.spec.selector.matchLabels, team: 'a' } };
    assert.equal(decide(input(live)).action, 'recreate');
  });

  it('recreates only when the immutable selector differs', () => {
    const live = asLive(desiredFor());
    live.spec.selector = { matchLabels: { app: 'old-puller' } };
    const decision = decide(input(live));
    assert.equal(decision.action, 'recreate');
    if (decision.action !== 'recreate') return;
    assert.deepEqual([decision.uid, decision.changed], ['uid-1', ['spec.selector']]);
    assert.deepEqual(decision.body.spec.selector, desiredFor().spec.selector);
    assert.equal(decision.body.metadata.resourceVersion, undefined, 'a create carries no resourceVersion');
  });

  it('a recreate keeps the CronJob owner of a DaemonSet already owned, so helm uninstall still removes it', () => {
    const live = asLive(desiredFor());
    live.spec.selector = { matchLabels: { app: 'old-puller' } };
    const cronJob = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'cron-uid' };
    live.metadata.ownerReferences = [{ apiVersion: 'example.com/v1', kind: 'Backup', name: 'nightly', uid: 'b' }, cronJob];
    // Already owned: the pass looks up no owner to add.
    const decision = decide(input(live, { owner: undefined }));
    assert.equal(decision.action, 'recreate');
    assert.deepEqual(decision.action === 'recreate' && decision.body.metadata.ownerReferences, [cronJob]);
  });

  it('adds no owner when there is none to add: an update of an unowned DaemonSet writes no ownerReferences', () => {
    const decision = decide(input(asLive(desiredFor('a=nginx:0;b=redis:7')), { owner: undefined }));
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') return;
    assert.deepEqual(decision.changed, ['spec.template.spec.initContainers[a].image']);
    assert.equal(decision.body.metadata.ownerReferences, undefined);
  });

  it('writes a changed value of a DAEMONSET_ANNOTATIONS key, and keeps the annotations others set', () => {
    const desired = desiredFor('a=nginx:1;b=redis:7', { DAEMONSET_ANNOTATIONS: '{"example.com/owner":"platform"}' });
    const live = asLive(desiredFor('a=nginx:1;b=redis:7', { DAEMONSET_ANNOTATIONS: '{"example.com/owner":"ide-team"}' }));
    live.metadata.annotations = { ...live.metadata.annotations, 'deprecated.daemonset.template.generation': '3' };
    const decision = decide(input(live, { desired }));
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') return;
    assert.deepEqual([decision.changed, decision.confirm], [['metadata.annotations.example.com/owner'], false]);
    assert.deepEqual(decision.body.metadata.annotations, { 'deprecated.daemonset.template.generation': '3', 'example.com/owner': 'platform' });
  });

  it('leaves a `kubectl rollout restart` in place: its template annotation is not drift, and an update keeps it', () => {
    const restartedAt = { 'kubectl.kubernetes.io/restartedAt': '2026-11-24T11:30:00Z' };
    const restarted = (daemonSet: DaemonSet): DaemonSet => {
      daemonSet.spec.template.metadata.annotations = { ...daemonSet.spec.template.metadata.annotations, ...restartedAt };
      return daemonSet;
    };
    assert.deepEqual(decide(input(restarted(asLive(desiredFor())))), { action: 'none', tolerated: [] });
    const decision = decide(input(restarted(asLive(desiredFor('a=nginx:0;b=redis:7')))));
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') return;
    assert.deepEqual(decision.changed, ['spec.template.spec.initContainers[a].image']);
    assert.equal(decision.body.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], restartedAt['kubectl.kubernetes.io/restartedAt']);
    const timed = decide(input(restarted(asLive(desiredFor(), new Date(NOW.getTime() - HOUR)))));
    assert.equal(timed.action === 'update' && timed.restart && timed.body.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], restartedAt['kubectl.kubernetes.io/restartedAt']);
  });

  it('replaces the owner of a CronJob renamed since (CRONJOB_NAME changed), keeping owners that are not CronJobs', () => {
    const owner = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'cron-uid' };
    const live = asLive(desiredFor());
    const other = { apiVersion: 'example.com/v1', kind: 'Backup', name: 'nightly', uid: 'b' };
    live.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'old-puller', uid: 'old' }, other];
    const decision = decide(input(live, { owner }));
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') return;
    assert.deepEqual(decision.changed, ['metadata.ownerReferences']);
    assert.deepEqual(decision.body.metadata.ownerReferences, [other, owner]);
  });

  it('adds the CronJob owner when it is missing, and only then', () => {
    const owner = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'cron-uid' };
    const live = asLive(desiredFor());
    const decision = decide(input(live, { owner }));
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], ['metadata.ownerReferences']);
    live.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'u' }];
    assert.equal(decide(input(live, { owner })).action, 'none');
  });

  it('restarts tagged images once the interval has passed, not before', () => {
    const due = decide(input(asLive(desiredFor(), new Date(NOW.getTime() - HOUR))));
    assert.equal(due.action, 'update');
    assert.equal(due.action === 'update' && due.restart, true);
    assert.deepEqual(due.action === 'update' ? due.changed : ['x'], []);
    assert.equal(due.action === 'update' && due.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], NOW.toISOString());
    assert.equal(decide(input(asLive(desiredFor(), new Date(NOW.getTime() - 20 * 60 * 1000)))).action, 'none');
  });

  it('restarts on a timer only in restart mode', () => {
    const live = asLive(desiredFor(), new Date(NOW.getTime() - 48 * HOUR));
    assert.equal(decide(input(live, { refreshMode: 'restart' })).action, 'update');
    assert.equal(decide(input(live, { refreshMode: 'digest' })).action, 'none');
    assert.equal(decide(input(live, { refreshMode: 'never' })).action, 'none');
  });

  it('never restarts digest-pinned images', () => {
    const desired = desiredFor(`a=nginx@${DIGEST}`);
    const live = asLive(desired, new Date(NOW.getTime() - 48 * HOUR));
    assert.equal(decide(input(live, { desired, hasMutableImages: false })).action, 'none');
  });

  it('waits for a DaemonSet that is being deleted', () => {
    const live = asLive(desiredFor());
    live.metadata.deletionTimestamp = NOW.toISOString();
    assert.equal(decide(input(live)).action, 'wait-for-deletion');
  });
});


describe('goPullerDeployment: the Go puller\'s DaemonSet, recognized precisely', () => {
  const cases: Array<{ why: string; edit: (ds: DaemonSet) => void; deployment: string | undefined }> = [
    { why: 'its selector and its owner, a Deployment', edit: () => undefined, deployment: 'kubernetes-image-puller' },
    { why: 'a Deployment of another name (DEPLOYMENT_NAME)', edit: (ds) => { ds.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'che-puller', uid: 'u' }]; }, deployment: 'che-puller' },
    { why: 'no owner', edit: (ds) => { delete ds.metadata.ownerReferences; }, deployment: undefined },
    { why: 'owned by something else', edit: (ds) => { ds.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u' }]; }, deployment: undefined },
    { why: 'a Deployment of another API group', edit: (ds) => { ds.metadata.ownerReferences = [{ apiVersion: 'example.com/v1', kind: 'Deployment', name: 'x', uid: 'u' }]; }, deployment: undefined },
    { why: 'without the legacy "test" label', edit: (ds) => { delete ds.spec.selector.matchLabels['test']; }, deployment: undefined },
    { why: 'the legacy label with another value', edit: (ds) => { ds.spec.selector.matchLabels['test'] = 'other'; }, deployment: undefined },
    { why: 'a selector with one more label', edit: (ds) => { ds.spec.selector.matchLabels['team'] = 'a'; }, deployment: undefined },
    { why: 'a selector with expressions as well', edit: (ds) => { (ds.spec.selector as { matchExpressions?: unknown[] }).matchExpressions = [{ key: 'a', operator: 'Exists' }]; }, deployment: undefined },
  ];
  for (const c of cases) {
    it(`${c.why} → ${String(c.deployment)}`, () => {
      const ds = goPullerDaemonSet();
      c.edit(ds);
      assert.equal(goPullerDeployment(ds), c.deployment);
    });
  }

  it('does not take this program\'s own DaemonSet for one', () => {
    assert.equal(goPullerDeployment(asLive(desiredFor())), undefined);
  });
});

describe('decide, with a DaemonSet left by the Go puller', () => {
  it('takes it over when its Deployment is gone, as a recreate carrying the old UID', () => {
    const owner = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'puller', uid: 'cron-uid' };
    const decision = decide(input(goPullerDaemonSet(), { goPullerDeploymentState: 'absent', owner }));
    assert.equal(decision.action, 'take-over');
    if (decision.action !== 'take-over') return;
    assert.equal(decision.uid, 'go-ds-uid');
    assert.equal(decision.deployment, 'kubernetes-image-puller');
    assert.equal(decision.deploymentState, 'absent');
    assert.deepEqual(decision.body.spec.selector, desiredFor().spec.selector);
    assert.deepEqual(decision.body.metadata.ownerReferences, [owner], 'owned by the CronJob only, not by the Go Deployment');
    assert.equal(decision.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], NOW.toISOString());
  });

  it('takes it over when its Deployment is being deleted', () => {
    const decision = decide(input(goPullerDaemonSet(), { goPullerDeploymentState: 'being-deleted' }));
    assert.equal(decision.action, 'take-over');
    assert.equal(decision.action === 'take-over' && decision.deploymentState, 'being-deleted');
  });

  it('refuses while its Deployment still runs, naming the Deployment and what to do', () => {
    const decision = decide(input(goPullerDaemonSet(), { goPullerDeploymentState: 'exists' }));
    assert.equal(decision.action, 'refuse');
    const reason = decision.action === 'refuse' ? decision.reason : '';
    assert.match(reason, /Go kubernetes-image-puller/);
    assert.match(reason, /whose Deployment cache\/kubernetes-image-puller still runs;/);
    assert.match(reason, /left untouched/);
    assert.match(reason, /kubectl -n cache delete deployment kubernetes-image-puller/);
  });

  it('refuses when nobody looked at the Deployment, rather than guess, and says it is not known', () => {
    const decision = decide(input(goPullerDaemonSet()));
    assert.equal(decision.action, 'refuse');
    assert.match(decision.action === 'refuse' ? decision.reason : '', /and whether its Deployment cache\/kubernetes-image-puller still runs is not known; it was left untouched/);
  });

  it('waits while the Go puller deletes its own DaemonSet (it does on SIGTERM)', () => {
    const live = goPullerDaemonSet();
    live.metadata.deletionTimestamp = NOW.toISOString();
    assert.equal(decide(input(live, { goPullerDeploymentState: 'absent' })).action, 'wait-for-deletion');
  });

  it('refuses any other foreign DaemonSet, whatever is said about a Deployment', () => {
    const live = goPullerDaemonSet();
    live.spec.selector.matchLabels = { app: 'someone-else' };
    const decision = decide(input(live, { goPullerDeploymentState: 'absent' }));
    assert.equal(decision.action, 'refuse');
    assert.match(decision.action === 'refuse' ? decision.reason : '', /not managed by kubernetes-image-puller/);
  });
});

describe('confirmUpdate', () => {
  function proposal(live: DaemonSet) {
    const decision = decide(input(live));
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') throw new Error('expected an update');
    return decision;
  }
  /** A live object a mutating policy has added a template label to. */
  function mutatedLive(): DaemonSet {
    const live = asLive(desiredFor());
    live.spec.template.metadata.labels = { ...live.spec.template.metadata.labels, 'policy.example/team': 'platform' };
    return live;
  }

  it('writes nothing when the server would store the same spec (admission puts the difference back)', () => {
    const live = mutatedLive();
    const proposed = proposal(live);
    assert.deepEqual(proposed.changed, ['spec.template.metadata.labels.policy.example/team']);
    const preview = structuredClone(live);
    assert.deepEqual(confirmUpdate({ proposed, preview, live, now: NOW, restartDue: false }), { action: 'none', tolerated: ['spec.template.metadata.labels.policy.example/team'] });
  });

  it('still restarts on schedule when the only local difference is tolerated', () => {
    const live = mutatedLive();
    const decision = confirmUpdate({ proposed: proposal(live), preview: structuredClone(live), live, now: NOW, restartDue: true });
    assert.equal(decision.action, 'update');
    assert.equal(decision.action === 'update' && decision.restart, true);
    assert.equal(decision.action === 'update' && decision.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], NOW.toISOString());
  });

  it('writes a real change, naming the fields the server would change, and stamps the refresh for a template change', () => {
    const live = asLive(desiredFor('a=nginx:0;b=redis:7'));
    const proposed = proposal(live);
    const preview = { ...structuredClone(proposed.body), metadata: { ...proposed.body.metadata, generation: 2 } };
    const decision = confirmUpdate({ proposed, preview, live, now: NOW, restartDue: false });
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') return;
    assert.deepEqual(decision.changed, ['spec.template.spec.initContainers[a].image']);
    assert.equal(decision.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], NOW.toISOString());
  });

  it('names the local spec differences when the server would change the spec but its preview shows none of them', () => {
    const live = asLive(desiredFor('a=nginx:0;b=redis:7'));
    const proposed = proposal(live);
    // The server's preview equals the live spec (say, a webhook rewrote the image back), yet it bumps the generation.
    const preview = { ...structuredClone(live), metadata: { ...live.metadata, generation: 2 } };
    const decision = confirmUpdate({ proposed, preview, live, now: NOW, restartDue: false });
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], ['spec.template.spec.initContainers[a].image']);
  });

  it('names a metadata change once beside the local spec changes the preview does not show', () => {
    const live = asLive(desiredFor('a=nginx:0;b=redis:7'));
    delete live.metadata.labels?.['app.kubernetes.io/component'];
    const proposed = proposal(live);
    const preview = { ...structuredClone(live), metadata: { ...live.metadata, generation: 2 } };
    const decision = confirmUpdate({ proposed, preview, live, now: NOW, restartDue: false });
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], ['metadata.labels.app.kubernetes.io/component', 'spec.template.spec.initContainers[a].image']);
  });

  it('stamps the refresh when any of the changes is inside the pod template', () => {
    const live = asLive(desiredFor('a=nginx:0;b=redis:7'), new Date(NOW.getTime() - 10 * 60 * 1000));
    const desired = desiredFor('a=nginx:1;b=redis:7', { MAX_UNAVAILABLE: '3' });
    const decision = decide(input(live, { desired }));
    if (decision.action !== 'update') throw new Error('expected an update');
    const preview = { ...structuredClone(decision.body), metadata: { ...decision.body.metadata, generation: 2 } };
    const confirmed = confirmUpdate({ proposed: decision, preview, live, now: NOW, restartDue: false });
    assert.equal(confirmed.action === 'update' && confirmed.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], NOW.toISOString());
  });

  it('stamps the refresh only for a change that rolls the pods: not for one outside the pod template', () => {
    const live = asLive(desiredFor(), new Date(NOW.getTime() - 10 * 60 * 1000));
    const desired = desiredFor('a=nginx:1;b=redis:7', { MAX_UNAVAILABLE: '3' });
    const decision = decide(input(live, { desired }));
    assert.equal(decision.action, 'update');
    if (decision.action !== 'update') return;
    assert.deepEqual(decision.changed, ['spec.updateStrategy.rollingUpdate.maxUnavailable']);
    const preview = { ...structuredClone(decision.body), metadata: { ...decision.body.metadata, generation: 2 } };
    const confirmed = confirmUpdate({ proposed: decision, preview, live, now: NOW, restartDue: false });
    assert.equal(confirmed.action, 'update');
    if (confirmed.action !== 'update') return;
    assert.deepEqual([confirmed.changed, confirmed.restart], [['spec.updateStrategy.rollingUpdate.maxUnavailable'], false]);
    assert.equal(confirmed.body.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION], live.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION]);
  });

  it('keeps metadata changes when the spec is unchanged', () => {
    const live = mutatedLive();
    live.metadata.labels = { ...live.metadata.labels, 'app.kubernetes.io/managed-by': 'kubernetes-image-puller' };
    delete live.metadata.labels['app.kubernetes.io/name'];
    const proposed = proposal(live);
    const decision = confirmUpdate({ proposed, preview: structuredClone(live), live, now: NOW, restartDue: false });
    assert.deepEqual(decision.action === 'update' ? decision.changed : [], ['metadata.labels.app.kubernetes.io/name']);
  });
});

describe('refreshDue', () => {
  const live = (stamp: string | undefined): DaemonSet => {
    const daemonSet = asLive(desiredFor());
    daemonSet.spec.template.metadata.annotations = stamp === undefined ? {} : { [REFRESHED_AT_ANNOTATION]: stamp };
    return daemonSet;
  };
  it('counts a run up to 10 minutes early as due', () => {
    assert.equal(refreshDue(live(new Date(NOW.getTime() - 50 * 60 * 1000).toISOString()), NOW, 1), true);
    assert.equal(refreshDue(live(new Date(NOW.getTime() - 49 * 60 * 1000).toISOString()), NOW, 1), false);
    const unstamped = asLive(desiredFor());
    delete unstamped.spec.template.metadata.annotations;
    unstamped.metadata.creationTimestamp = new Date(NOW.getTime() - 2 * HOUR).toISOString();
    assert.equal(refreshDue(unstamped, NOW, 1), true, 'no template annotations at all');
  });

  it('counts a run that starts a little early as due', () => {
    const stamp = new Date(NOW.getTime() - 5 * HOUR + REFRESH_EARLINESS_MS).toISOString();
    assert.equal(refreshDue(live(stamp), NOW, 5), true);
    assert.equal(refreshDue(live(new Date(NOW.getTime() - 4 * HOUR).toISOString()), NOW, 5), false);
  });
  it('falls back to the creation time, and treats a garbled stamp as due', () => {
    assert.equal(refreshDue(live(undefined), NOW, 1), true);
    const recent = live(undefined);
    recent.metadata.creationTimestamp = new Date(NOW.getTime() - 20 * 60 * 1000).toISOString();
    assert.equal(refreshDue(recent, NOW, 1), false, 'created 20 minutes ago, hourly');
    delete recent.metadata.creationTimestamp;
    assert.equal(refreshDue(recent, NOW, 1), true, 'neither stamp nor creation time');
    assert.equal(refreshDue(live('yesterday'), NOW, 1), true);
  });
});

describe('specDifferences: what counts as drift', () => {
  const desired = desiredFor();
  const podSpec = (live: DaemonSet): Record<string, unknown> => live.spec.template.spec as unknown as Record<string, unknown>;
  const setSizeLimit = (live: DaemonSet, size: string): void => {
    const emptyDir = live.spec.template.spec.volumes?.[0]?.emptyDir;
    if (emptyDir) emptyDir.sizeLimit = size;
  };
  const cases: Array<{ why: string; edit: (live: DaemonSet) => void; changed: string[] }> = [
    { why: 'nothing changed', edit: () => undefined, changed: [] },
    { why: 'the server writes null for an unset field', edit: (live) => { podSpec(live).hostname = null; }, changed: [] },
    { why: 'an empty string is unset', edit: (live) => { podSpec(live).subdomain = ''; }, changed: [] },
    { why: 'a value where the desired object has none', edit: (live) => { podSpec(live).hostname = 'h'; }, changed: ['spec.template.spec.hostname'] },
    { why: 'the template\'s creation time is the server\'s', edit: (live) => { (live.spec.template.metadata as Record<string, unknown>).creationTimestamp = '2026-11-01T00:00:00Z'; }, changed: [] },
    { why: 'a restart stamp, and kubectl\'s, are not configuration', edit: (live) => { live.spec.template.metadata.annotations = { [REFRESHED_AT_ANNOTATION]: 'x', 'kubectl.kubernetes.io/restartedAt': 'y' }; }, changed: [] },
    { why: 'another template annotation is', edit: (live) => { live.spec.template.metadata.annotations = { 'example.com/x': 'y' }; }, changed: ['spec.template.metadata.annotations.example.com/x'] },
    { why: 'a size limit written in bytes is the same quantity', edit: (live) => { setSizeLimit(live, '16777216'); }, changed: [] },
    { why: 'a different size limit', edit: (live) => { setSizeLimit(live, '32Mi'); }, changed: ['spec.template.spec.volumes[kip-helper].emptyDir.sizeLimit'] },
    { why: 'a memory limit in bytes is the same quantity', edit: (live) => { const first = live.spec.template.spec.initContainers?.[1]; if (first?.resources?.limits) first.resources.limits.memory = '20971520'; }, changed: [] },
    { why: 'a quantity outside resources compares as text', edit: (live) => { live.spec.template.spec.nodeSelector = { size: '1Gi' }; }, changed: ['spec.template.spec.nodeSelector.size'] },
    { why: 'containers in another order', edit: (live) => { live.spec.template.spec.initContainers?.reverse(); }, changed: ['spec.template.spec.initContainers'] },
    { why: 'a container less', edit: (live) => { live.spec.template.spec.initContainers?.pop(); }, changed: ['spec.template.spec.initContainers'] },
  ];
  for (const c of cases) {
    it(`${c.why} → ${c.changed.length === 0 ? 'no difference' : c.changed.join(', ')}`, () => {
      const live = asLive(desired);
      live.spec.template.metadata.annotations = {};
      c.edit(live);
      assert.deepEqual(specDifferences(desired, live), c.changed);
    });
  }

  it('a map the server wrote as null differs from the desired map', () => {
    const live = asLive(desired);
    live.spec.template.metadata.annotations = {};
    (live.spec.updateStrategy as unknown as Record<string, unknown>).rollingUpdate = null;
    assert.deepEqual(specDifferences(desired, live), ['spec.updateStrategy.rollingUpdate']);
  });

  it('compares a value that looks like a quantity as text outside resources', () => {
    const selected = desiredFor('a=nginx:1;b=redis:7', { NODE_SELECTOR: '{"size":"1024Mi"}' });
    const live = asLive(selected);
    live.spec.template.metadata.annotations = {};
    live.spec.template.spec.nodeSelector = { size: '1Gi' };
    assert.deepEqual(specDifferences(selected, live), ['spec.template.spec.nodeSelector.size']);
  });

  it('lists several differences in the order of the fields, by name', () => {
    const live = asLive(desired);
    live.spec.template.metadata.annotations = {};
    live.spec.template.spec.nodeSelector = { zone: 'b' };
    podSpec(live).hostname = 'h';
    podSpec(live).dnsPolicy = 'None';
    assert.deepEqual(specDifferences(desired, live), ['spec.template.spec.dnsPolicy', 'spec.template.spec.hostname', 'spec.template.spec.nodeSelector.zone']);
  });
});

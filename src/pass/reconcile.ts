// The writing half of a pass: read the DaemonSet, decide, confirm with the API server, act. Every
// write this program makes happens here, and `decision` says why.
import { ApiError } from '../kube/cluster.ts';
import type { Cluster } from '../kube/cluster.ts';
import { confirmUpdate, decide, ownedByCronJob, restartDue } from './decide.ts';
import type { Decision } from './decide.ts';
import { desiredDaemonSet, hasMutableImages } from '../plan/desired.ts';
import { ExitCode } from './exit-codes.ts';
import type { DaemonSet, OwnerReference } from '../kube/k8s-types.ts';
import { variablesForFields } from './rejected-fields.ts';
import { FIRST_POLL_MS, PassError } from './context.ts';
import { digestRefresher, rateLimitWarnings } from './digests.ts';
import type { DigestRefresh } from './digests.ts';
import type { PassContext } from './context.ts';
import { readGoPullerDeployment } from './go-puller.ts';

export type Action = 'created' | 'updated' | 'restarted' | 'recreated' | 'took-over' | 'unchanged' | 'refused' | 'failed';

export interface Reconciled {
  daemonSet: DaemonSet;
  action: Action;
  changed: string[];
  /** Local differences the API server's dry run showed to be no change (admission, defaults). */
  tolerated: string[];
}

export interface ReconcileResult extends Reconciled {
  refresh: DigestRefresh;
}

const MAX_CONFLICTS = 5;
const MAX_CHANGED_IN_EVENT = 20;
const PREVIEW_SUFFIX = '-kip-preview';

function isConflict(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 409 || (error.status === 404 && error.verb === 'update'));
}

/**
 * A 400 or 422 on our own object means the configuration produced something the API server will
 * not store: report it as invalid configuration (exit 2), naming the variable where possible.
 */
function asRejectedConfiguration(error: unknown): unknown {
  if (!(error instanceof ApiError) || (error.status !== 400 && error.status !== 422) || error.resource !== 'daemonsets.apps') return error;
  const variables = variablesForFields(error.fields);
  const problem = `the API server rejected it: ${error.message}`;
  return new PassError(
    `the API server rejected the DaemonSet built from the configuration: ${error.message}`,
    ExitCode.invalidConfig,
    (variables.length === 0 ? ['(the DaemonSet as a whole)'] : variables).map((variable) => ({ variable, problem })),
  );
}

export async function validated<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw asRejectedConfiguration(error);
  }
}

/** The CronJob owner to add, looked up only when the live object lacks it. */
async function ownerToAdd(ctx: PassContext, live: DaemonSet | undefined): Promise<OwnerReference | undefined> {
  const name = ctx.config.cronJobName;
  if (name === undefined || (live !== undefined && ownedByCronJob(live, name))) return undefined;
  const uid = await ctx.retrying(() => ctx.cluster.readCronJobUid(name));
  if (uid === undefined) {
    ctx.log.warn('the CronJob named by CRONJOB_NAME was not found; the DaemonSet gets no owner', { cronJob: name });
    return undefined;
  }
  return { apiVersion: 'batch/v1', kind: 'CronJob', name, uid, controller: false, blockOwnerDeletion: false };
}

/** Before a write that rolls the pods because tags moved: say so, and warn of registry budgets a roll would exceed. */
async function announceRefresh(ctx: PassContext, decision: Decision, live: DaemonSet | undefined, refresh: DigestRefresh): Promise<void> {
  if (decision.action !== 'update' || live === undefined || refresh.moved.length === 0) return;
  await ctx.record(live, 'Normal', 'TagsMoved', `re-pulling on every node, ${String(ctx.config.maxUnavailable)} at a time: ${refresh.moved.join(', ')}`);
  for (const warning of rateLimitWarnings(refresh.rateLimits, live.status?.desiredNumberScheduled ?? 0)) await ctx.record(live, 'Warning', 'RegistryRateLimit', warning);
}

async function decideWithServer(ctx: PassContext, desired: DaemonSet, live: DaemonSet | undefined): Promise<Decision> {
  const facts = { now: ctx.now(), intervalHours: ctx.config.intervalHours, hasMutableImages: hasMutableImages(ctx.config), refreshMode: ctx.config.refreshMode };
  const decision = decide({ desired, live, ...facts, owner: await ownerToAdd(ctx, live), goPullerDeploymentState: await readGoPullerDeployment(ctx, live) });
  if (decision.action !== 'update' || !decision.confirm || live === undefined) return decision;
  const preview = await ctx.retrying(() => validated(() => ctx.cluster.previewReplace(decision.body)));
  return confirmUpdate({ proposed: decision, preview, live, now: facts.now, restartDue: restartDue(facts, live) });
}

/** Validates a replacement object strictly without touching the live one: a dry-run create under a spare name. */
export function previewUnderSpareName(cluster: Cluster, body: DaemonSet): Promise<DaemonSet> {
  return cluster.previewCreate({ ...body, metadata: { ...body.metadata, name: `${body.metadata.name ?? ''}${PREVIEW_SUFFIX}` } });
}

async function act(ctx: PassContext, decision: Decision, live: DaemonSet | undefined): Promise<Reconciled | undefined> {
  const { cluster, config } = ctx;
  switch (decision.action) {
    case 'none':
      if (live === undefined) throw new Error('decided "none" without a live DaemonSet');
      return { daemonSet: live, action: 'unchanged', changed: [], tolerated: decision.tolerated };
    case 'refuse':
      throw new PassError(decision.reason, ExitCode.refused);
    case 'wait-for-deletion':
      await ctx.sleep(FIRST_POLL_MS, ctx.signal);
      return undefined;
    case 'create': {
      const created = await validated(() => cluster.createDaemonSet(decision.body));
      await ctx.record(created, 'Normal', 'Created', `created with ${String(config.images.length)} image(s)`);
      return { daemonSet: created, action: 'created', changed: ['daemonset'], tolerated: [] };
    }
    case 'update': {
      const updated = await validated(() => cluster.replaceDaemonSet(decision.body));
      if (decision.changed.length > 0) await ctx.record(updated, 'Normal', 'Updated', `changed: ${decision.changed.slice(0, MAX_CHANGED_IN_EVENT).join(', ')}`);
      if (decision.restart) await ctx.record(updated, 'Normal', 'Restarted', `rolling restart to re-pull tagged images (every ${String(config.intervalHours)}h)`);
      return { daemonSet: updated, action: decision.changed.length === 0 ? 'restarted' : 'updated', changed: decision.changed, tolerated: [] };
    }
    case 'recreate':
    case 'take-over': {
      // Everything that can fail before the delete is done first, so a failure never leaves the cluster without a DaemonSet.
      await validated(() => previewUnderSpareName(cluster, decision.body));
      try {
        await cluster.deleteDaemonSet(config.daemonSetName, decision.uid);
      } catch (error) {
        // Gone already (an earlier attempt of this retry deleted it before the create failed).
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      const created = await validated(() => cluster.createDaemonSet(decision.body));
      if (decision.action === 'take-over') {
        const why = decision.deploymentState === 'absent' ? 'is gone' : 'is being deleted';
        await ctx.record(created, 'Normal', 'TookOver', `replaced the DaemonSet left by the Go kubernetes-image-puller, whose Deployment ${decision.deployment} ${why}`);
        return { daemonSet: created, action: 'took-over', changed: ['daemonset'], tolerated: [] };
      }
      await ctx.record(created, 'Normal', 'Recreated', `recreated because ${decision.changed.join(', ')} cannot change in place`);
      return { daemonSet: created, action: 'recreated', changed: decision.changed, tolerated: [] };
    }
  }
}

/**
 * Brings the DaemonSet to the desired state, reading again after a conflict with another writer.
 * @param listed the DaemonSet as the pass's LIST of its own found it, so that the first look costs
 *   no request. Without it the DaemonSet is read by name: one that is not the puller's is not in
 *   that LIST, and must be seen (and refused) before anything is sent under its name.
 */
export async function reconcile(ctx: PassContext, listed?: DaemonSet): Promise<ReconcileResult> {
  const refreshFor = digestRefresher(ctx, ctx.registry);
  let conflicts = 0;
  let known = listed;
  while (ctx.mayPoll()) {
    const live = known ?? await ctx.retrying(() => ctx.cluster.readDaemonSet(ctx.config.daemonSetName));
    known = undefined;
    try {
      const refresh = await refreshFor(live);
      const desired = desiredDaemonSet(ctx.config, refresh.templateAnnotations);
      const decision = await decideWithServer(ctx, desired, live);
      ctx.log.debug('decision', { action: decision.action, ...('changed' in decision ? { changed: decision.changed } : {}), ...('tolerated' in decision ? { tolerated: decision.tolerated } : {}) });
      await ctx.onDecision?.(decision);
      await announceRefresh(ctx, decision, live, refresh);
      const result = await ctx.retrying(() => act(ctx, decision, live));
      if (result !== undefined) {
        if (refresh.unresolved.length > 0) {
          await ctx.record(result.daemonSet, 'Warning', 'DigestUnknown', `kept the last known digest of: ${refresh.unresolved.map(({ image, reason }) => `${image} (${reason})`).join(', ')}`);
        }
        return { ...result, refresh };
      }
    } catch (error) {
      // Another writer got there first (a concurrent pass, a hand edit): look again.
      if (!isConflict(error) || ++conflicts >= MAX_CONFLICTS) throw error;
      ctx.log.debug('conflict, reading again', { error: (error as Error).message });
    }
  }
  throw new PassError(
    ctx.interrupted() ? 'interrupted before the DaemonSet was reconciled' : 'the old DaemonSet was still being deleted at the deadline; the next pass creates it',
    ctx.interrupted() ? ExitCode.unhealthy : ExitCode.error,
  );
}

// What one pass should do, given the desired DaemonSet, the live one and the time. Pure: the
// pass (pass.ts) carries out the decision.
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import { MANAGED_BY_LABEL, REFRESHED_AT_ANNOTATION } from '../plan/desired.ts';
import { RESTART_ANNOTATIONS, metadataDifferences, specDifferences } from './drift.ts';
import type { DeploymentRecord } from '../kube/cluster.ts';
import { foreignReason } from './ownership.ts';
import type { RefreshMode } from '../config/config.ts';
import type { DaemonSet, OwnerReference } from '../kube/k8s-types.ts';

export type Decision =
  | { action: 'create'; body: DaemonSet }
  | UpdateDecision
  | { action: 'recreate'; body: DaemonSet; changed: string[]; uid: string }
  | TakeOverDecision
  | { action: 'refuse'; reason: string }
  | { action: 'wait-for-deletion' }
  | { action: 'none'; tolerated: string[] };

export interface UpdateDecision {
  action: 'update';
  body: DaemonSet;
  changed: string[];
  /** A scheduled rolling restart, so that nodes pull tagged images afresh. */
  restart: boolean;
  /**
   * The local comparison found spec differences: ask the API server (a dry run) whether the
   * update would really change the stored object before writing it. Until then the body keeps
   * the live refresh stamp, so the stamp alone never makes a difference.
   */
  confirm: boolean;
}

/** Replace the DaemonSet the Go puller left (delete exactly `uid`, then create), as a recreate does. */
export interface TakeOverDecision {
  action: 'take-over';
  body: DaemonSet;
  uid: string;
  /** The Go puller's Deployment that owned it. */
  deployment: string;
  deploymentState: 'absent' | 'being-deleted';
}

export interface DecisionInput {
  desired: DaemonSet;
  live: DaemonSet | undefined;
  now: Date;
  intervalHours: number;
  /** Whether any image is referenced by tag, so it can change behind the same name. */
  hasMutableImages: boolean;
  /** Only `restart` rolls on a timer; `digest` rolls when the digests annotation changes, `never` not at all. */
  refreshMode: RefreshMode;
  /** The CronJob owner to add when the live object lacks it; undefined when there is none to add. */
  owner: OwnerReference | undefined;
  /** The state of the Deployment that owns a DaemonSet left by the Go puller; read only for such a DaemonSet. */
  goPullerDeploymentState?: GoPullerDeploymentState;
}

/** The selector of the Go puller's DaemonSet (utils/clusterutils.go), legacy "test" label included. */
const GO_PULLER_SELECTOR: Readonly<Record<string, string>> = { 'app.kubernetes.io/name': 'image-puller', test: 'daemonset-test' };

function hasExactly(labels: Record<string, string>, expected: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(expected);
  return Object.keys(labels).length === keys.length && keys.every((key) => labels[key] === expected[key]);
}

/**
 * The Deployment that owns `live` when `live` is the DaemonSet the Go puller creates: exactly its
 * selector and, among its owners, an apps Deployment. Anything else is undefined.
 */
export function goPullerOwner(live: DaemonSet): OwnerReference | undefined {
  const selector = live.spec.selector as DaemonSet['spec']['selector'] & { matchExpressions?: unknown[] };
  if ((selector.matchExpressions ?? []).length > 0 || !hasExactly(selector.matchLabels, GO_PULLER_SELECTOR)) return undefined;
  return (live.metadata.ownerReferences ?? []).find((ref) => ref.kind === 'Deployment' && ref.apiVersion.startsWith('apps/'));
}

/** The name of the Deployment that owns the Go puller's DaemonSet `live`; undefined for any other DaemonSet. */
export function goPullerDeployment(live: DaemonSet): string | undefined {
  return goPullerOwner(live)?.name;
}

/**
 * What the Deployment read under the owner's name says about the Go puller that left its DaemonSet.
 * - `absent`: no Deployment of that name; the owner is gone.
 * - `being-deleted`: the owner itself (same UID) is going, and its dependents go with it.
 * - `orphaning`: the owner is going with `--cascade=orphan` (the "orphan" finalizer), whose whole
 *   point is to keep the DaemonSet: it is not taken.
 * - `replaced`: a Deployment of that name that is not the owner (another UID); it says nothing
 *   about the Go puller that made the DaemonSet.
 * - `exists`: the owner still runs.
 */
export type GoPullerDeploymentState = 'exists' | 'being-deleted' | 'absent' | 'orphaning' | 'replaced';

/** The Kubernetes finalizer of a deletion with propagationPolicy Orphan (metav1.FinalizerOrphanDependents). */
export const ORPHAN_FINALIZER = 'orphan';

export function goPullerDeploymentState(owner: OwnerReference, found: DeploymentRecord | undefined): GoPullerDeploymentState {
  if (found === undefined) return 'absent';
  if (found.uid !== owner.uid) return 'replaced';
  if (!found.deleting) return 'exists';
  return found.finalizers.includes(ORPHAN_FINALIZER) ? 'orphaning' : 'being-deleted';
}

/** A CronJob run starts a little after the previous one did; this much early still counts as due. */
export const REFRESH_EARLINESS_MS = 10 * 60 * 1000;

export function refreshDue(live: DaemonSet, now: Date, intervalHours: number): boolean {
  const recorded = live.spec.template.metadata.annotations?.[REFRESHED_AT_ANNOTATION] ?? live.metadata.creationTimestamp;
  const last = recorded === undefined ? Number.NaN : Date.parse(recorded);
  if (Number.isNaN(last)) return true;
  return now.getTime() - last >= intervalHours * 3600 * 1000 - REFRESH_EARLINESS_MS;
}

/** Whether the object already names this CronJob among its owners. */
export function ownedByCronJob(daemonSet: DaemonSet, cronJobName: string): boolean {
  return (daemonSet.metadata.ownerReferences ?? []).some((ref) => ref.kind === 'CronJob' && ref.name === cronJobName);
}

function lacksOwner(live: DaemonSet, owner: OwnerReference | undefined): boolean {
  return owner !== undefined && !ownedByCronJob(live, owner.name);
}

function withOwner(body: DaemonSet, owner: OwnerReference | undefined): DaemonSet {
  if (owner === undefined || ownedByCronJob(body, owner.name)) return body;
  const others = (body.metadata.ownerReferences ?? []).filter((ref) => ref.kind !== 'CronJob');
  return { ...body, metadata: { ...body.metadata, ownerReferences: [...others, owner] } };
}

/** Whether this pass should roll the pods so that tagged images are pulled again. */
export function restartDue(input: Pick<DecisionInput, 'hasMutableImages' | 'now' | 'intervalHours' | 'refreshMode'>, live: DaemonSet): boolean {
  return input.refreshMode === 'restart' && input.hasMutableImages && refreshDue(live, input.now, input.intervalHours);
}

function sameSelector(desired: DaemonSet, live: DaemonSet): boolean {
  const a = desired.spec.selector.matchLabels;
  const b = live.spec.selector.matchLabels;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

export function withRefreshedAt(body: DaemonSet, at: string): DaemonSet {
  const template = body.spec.template;
  return {
    ...body,
    spec: {
      ...body.spec,
      template: { ...template, metadata: { ...template.metadata, annotations: { ...template.metadata.annotations, [REFRESHED_AT_ANNOTATION]: at } } },
    },
  };
}

/** The object to PUT: desired spec, with labels, annotations, owners and finalizers others set kept. */
function replacement(desired: DaemonSet, live: DaemonSet): DaemonSet {
  const liveTemplateAnnotations = live.spec.template.metadata.annotations ?? {};
  const keptRestartAnnotations = Object.fromEntries(
    RESTART_ANNOTATIONS.filter((key) => key in liveTemplateAnnotations).map((key) => [key, liveTemplateAnnotations[key] ?? '']),
  );
  const templateAnnotations = { ...desired.spec.template.metadata.annotations, ...keptRestartAnnotations };
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      ...(live.metadata.resourceVersion === undefined ? {} : { resourceVersion: live.metadata.resourceVersion }),
      labels: { ...live.metadata.labels, ...desired.metadata.labels },
      ...(live.metadata.annotations === undefined && desired.metadata.annotations === undefined
        ? {}
        : { annotations: { ...live.metadata.annotations, ...desired.metadata.annotations } }),
      ...(live.metadata.ownerReferences === undefined ? {} : { ownerReferences: live.metadata.ownerReferences }),
      ...(live.metadata.finalizers === undefined ? {} : { finalizers: live.metadata.finalizers }),
    },
    spec: {
      ...desired.spec,
      template: {
        ...desired.spec.template,
        metadata: {
          ...desired.spec.template.metadata,
          ...(Object.keys(templateAnnotations).length === 0 ? {} : { annotations: templateAnnotations }),
        },
      },
    },
  };
}

/**
 * A DaemonSet this program does not manage. The Go puller's is replaced once its Deployment is
 * gone or going, so that switching needs no manual step; while that Deployment runs, the Go puller
 * would delete and recreate the DaemonSet every interval, so it is left alone. Any other is refused.
 */
function decideForeign(input: DecisionInput, live: DaemonSet): Decision {
  const { desired } = input;
  const name = `${desired.metadata.namespace ?? ''}/${desired.metadata.name ?? ''}`;
  const deployment = goPullerDeployment(live);
  if (deployment === undefined) return { action: 'refuse', reason: foreignReason(desired, live) ?? `DaemonSet ${name} is not this program's` };
  if (live.metadata.deletionTimestamp !== undefined) return { action: 'wait-for-deletion' };
  const state = input.goPullerDeploymentState;
  if (state === 'absent' || state === 'being-deleted') {
    const body = withRefreshedAt(withOwner(desired, input.owner), input.now.toISOString());
    return { action: 'take-over', body, uid: live.metadata.uid ?? '', deployment, deploymentState: state };
  }
  const namespace = desired.metadata.namespace ?? '';
  const origin = `DaemonSet ${name} was created by the Go kubernetes-image-puller`;
  if (state === 'orphaning') {
    return {
      action: 'refuse',
      reason: `${origin}, whose Deployment ${namespace}/${deployment} is being deleted with --cascade=orphan, which keeps its DaemonSet; it was left untouched. Delete that DaemonSet yourself for this program to create its own.`,
    };
  }
  if (state === 'replaced') {
    return {
      action: 'refuse',
      reason: `${origin} for Deployment ${namespace}/${deployment} with UID ${goPullerOwner(live)?.uid ?? ''}, and the Deployment of that name now is another object; it was left untouched. Once no Deployment ${namespace}/${deployment} is left (or once you delete that DaemonSet), the next pass replaces it.`,
    };
  }
  const why = state === 'exists' ? `whose Deployment ${namespace}/${deployment} still runs` : `and whether its Deployment ${namespace}/${deployment} still runs is not known`;
  return {
    action: 'refuse',
    reason: `${origin}, ${why}; it was left untouched. Remove the Go puller (uninstall its release, or kubectl -n ${namespace} delete deployment ${deployment}) and the next pass replaces its DaemonSet.`,
  };
}

export function decide(input: DecisionInput): Decision {
  const { desired, live, now } = input;
  const stamp = now.toISOString();
  if (live === undefined) return { action: 'create', body: withRefreshedAt(withOwner(desired, input.owner), stamp) };
  if (live.metadata.labels?.[MANAGED_BY_LABEL] !== PROGRAM_NAME) return decideForeign(input, live);
  // Ours, but perhaps another install's (image sets): never changed by this one.
  const foreign = foreignReason(desired, live);
  if (foreign !== undefined) return { action: 'refuse', reason: foreign };
  if (live.metadata.deletionTimestamp !== undefined) return { action: 'wait-for-deletion' };
  if (!sameSelector(desired, live)) {
    const owner = input.owner ?? (live.metadata.ownerReferences ?? []).find((ref) => ref.kind === 'CronJob');
    return { action: 'recreate', body: withRefreshedAt(withOwner(desired, owner), stamp), changed: ['spec.selector'], uid: live.metadata.uid ?? '' };
  }
  const specChanges = specDifferences(desired, live);
  const ownerMissing = lacksOwner(live, input.owner);
  const changed = [...metadataDifferences(desired, live), ...(ownerMissing ? ['metadata.ownerReferences'] : []), ...specChanges];
  const body = withOwner(replacement(desired, live), ownerMissing ? input.owner : undefined);
  if (specChanges.length > 0) return { action: 'update', body, changed, restart: false, confirm: true };
  const restart = restartDue(input, live);
  if (changed.length === 0 && !restart) return { action: 'none', tolerated: [] };
  return { action: 'update', body: restart ? withRefreshedAt(body, stamp) : body, changed, restart, confirm: false };
}

export interface Confirmation {
  proposed: UpdateDecision;
  /** The API server's dry run of `proposed.body`. */
  preview: DaemonSet;
  live: DaemonSet;
  now: Date;
  restartDue: boolean;
}

/**
 * After the dry run: write only what would really change. The server bumps `generation` exactly
 * when the spec changes, so a difference that admission puts back (a label a mutating policy
 * adds, a default it fills in) is tolerated, and a real one is written.
 */
export function confirmUpdate({ proposed, preview, live, now, restartDue: restart }: Confirmation): Decision {
  const notSpec = proposed.changed.filter((path) => !path.startsWith('spec.'));
  const stamp = now.toISOString();
  if (preview.metadata.generation !== live.metadata.generation) {
    const serverChanges = specDifferences(preview, live);
    const specChanges = serverChanges.length > 0 ? serverChanges : proposed.changed.filter((path) => path.startsWith('spec.'));
    // Any template change rolls every pod, which pulls tagged images afresh: that is a refresh too.
    const rolls = specChanges.some((path) => path.startsWith('spec.template'));
    return { action: 'update', body: rolls ? withRefreshedAt(proposed.body, stamp) : proposed.body, changed: [...notSpec, ...specChanges], restart: false, confirm: false };
  }
  const tolerated = proposed.changed.filter((path) => path.startsWith('spec.'));
  if (notSpec.length === 0 && !restart) return { action: 'none', tolerated };
  return { action: 'update', body: restart ? withRefreshedAt(proposed.body, stamp) : proposed.body, changed: notSpec, restart, confirm: false };
}

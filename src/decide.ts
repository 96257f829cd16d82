// What one pass should do, given the desired DaemonSet, the live one and the time. Pure: the
// pass (pass.ts) carries out the decision.
import { REFRESHED_AT_ANNOTATION } from './desired.ts';
import { RESTART_ANNOTATIONS, metadataDifferences, specDifferences } from './drift.ts';
import { foreignReason } from './ownership.ts';
import type { RefreshMode } from './config.ts';
import type { DaemonSet, OwnerReference } from './k8s-types.ts';

export type Decision =
  | { action: 'create'; body: DaemonSet }
  | UpdateDecision
  | { action: 'recreate'; body: DaemonSet; changed: string[]; uid: string }
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

export function decide(input: DecisionInput): Decision {
  const { desired, live, now } = input;
  const stamp = now.toISOString();
  if (live === undefined) return { action: 'create', body: withRefreshedAt(withOwner(desired, input.owner), stamp) };
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

// What one pass should do, given the desired DaemonSet, the live one and the time. Pure: the
// pass (pass.ts) carries out the decision.
import { MANAGED_BY_LABEL, PROGRAM_NAME, REFRESHED_AT_ANNOTATION } from './desired.ts';
import { RESTART_ANNOTATIONS, metadataDifferences, specDifferences } from './drift.ts';
import type { DaemonSet, OwnerReference } from './k8s-types.ts';

export type Decision =
  | { action: 'create'; body: DaemonSet }
  | { action: 'update'; body: DaemonSet; changed: string[]; restart: boolean }
  | { action: 'recreate'; body: DaemonSet; changed: string[]; uid: string }
  | { action: 'refuse'; reason: string }
  | { action: 'wait-for-deletion' }
  | { action: 'none' };

export interface DecisionInput {
  desired: DaemonSet;
  live: DaemonSet | undefined;
  now: Date;
  intervalHours: number;
  /** Whether any image is referenced by tag, so it can change behind the same name. */
  hasMutableImages: boolean;
  /** The CronJob that should own the DaemonSet, when the pass runs from one. */
  owner: OwnerReference | { kind: 'CronJob'; name: string } | undefined;
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

function hasOwner(live: DaemonSet, owner: DecisionInput['owner']): boolean {
  return owner === undefined || ownedByCronJob(live, owner.name);
}

function sameSelector(desired: DaemonSet, live: DaemonSet): boolean {
  const a = desired.spec.selector.matchLabels;
  const b = live.spec.selector.matchLabels;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function withRefreshedAt(body: DaemonSet, at: string): DaemonSet {
  const template = body.spec.template;
  return {
    ...body,
    spec: {
      ...body.spec,
      template: { ...template, metadata: { ...template.metadata, annotations: { ...template.metadata.annotations, [REFRESHED_AT_ANNOTATION]: at } } },
    },
  };
}

/** The object to PUT: desired spec, with labels, annotations and owners others set kept. */
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
  if (live === undefined) return { action: 'create', body: withRefreshedAt(desired, stamp) };
  if (live.metadata.labels?.[MANAGED_BY_LABEL] !== PROGRAM_NAME) {
    const managedBy = live.metadata.labels?.[MANAGED_BY_LABEL];
    return {
      action: 'refuse',
      reason: `DaemonSet ${desired.metadata.namespace ?? ''}/${desired.metadata.name ?? ''} exists but is not managed by ${PROGRAM_NAME} (label ${MANAGED_BY_LABEL} is ${managedBy === undefined ? 'absent' : `"${managedBy}"`}); it was left untouched. Delete it or choose another DAEMONSET_NAME.`,
    };
  }
  if (live.metadata.deletionTimestamp !== undefined) return { action: 'wait-for-deletion' };
  if (!sameSelector(desired, live)) {
    return { action: 'recreate', body: withRefreshedAt(desired, stamp), changed: ['spec.selector'], uid: live.metadata.uid ?? '' };
  }
  const specChanges = specDifferences(desired, live);
  const metadataChanges = metadataDifferences(desired, live);
  const ownerMissing = !hasOwner(live, input.owner);
  const restart = specChanges.length === 0 && input.hasMutableImages && refreshDue(live, now, input.intervalHours);
  const changed = [...metadataChanges, ...specChanges, ...(ownerMissing ? ['metadata.ownerReferences'] : [])];
  if (changed.length === 0 && !restart) return { action: 'none' };
  const body = replacement(desired, live);
  // Any template change rolls every pod, which pulls tagged images afresh: that is a refresh too.
  const rolls = restart || specChanges.some((path) => path.startsWith('spec.template'));
  return { action: 'update', body: rolls ? withRefreshedAt(body, stamp) : body, changed, restart };
}

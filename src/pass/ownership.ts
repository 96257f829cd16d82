// Whose a DaemonSet is. The puller's own carry its managed-by label; among those, each install's
// carry the install label (DAEMONSET_NAME), except the DaemonSet named DAEMONSET_NAME itself, which
// keeps the labels it had before image sets existed: its own name stands for the install then.
import { INSTALL_LABEL } from '../plan/daemonset-plan.ts';
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import { MANAGED_BY_LABEL } from '../plan/desired.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';

/** The install a DaemonSet of the puller belongs to. */
export function installOf(daemonSet: DaemonSet): string {
  return daemonSet.metadata.labels?.[INSTALL_LABEL] ?? daemonSet.metadata.name ?? '';
}

/** Why the live DaemonSet is not this install's to change, or undefined when it is. */
export function foreignReason(desired: DaemonSet, live: DaemonSet): string | undefined {
  const what = `DaemonSet ${desired.metadata.namespace ?? ''}/${desired.metadata.name ?? ''}`;
  const managedBy = live.metadata.labels?.[MANAGED_BY_LABEL];
  if (managedBy !== PROGRAM_NAME) {
    return `${what} exists but is not managed by ${PROGRAM_NAME} (label ${MANAGED_BY_LABEL} is ${managedBy === undefined ? 'absent' : `"${managedBy}"`}); it was left untouched. Delete it or choose another DAEMONSET_NAME.`;
  }
  const theirs = installOf(live);
  const ours = installOf(desired);
  if (theirs === ours) return undefined;
  return `${what} belongs to the install "${theirs}" (label ${INSTALL_LABEL}, or its own name without that label), not to "${ours}"; it was left untouched. Rename the set or choose another DAEMONSET_NAME.`;
}

/**
 * Whether a pass may delete this DaemonSet, which no set of its configuration describes any more:
 * only the puller's, of this install, not on its way out already, and not owned by another CronJob.
 */
export function removable(daemonSet: DaemonSet, installName: string, cronJobName: string | undefined): boolean {
  if (daemonSet.metadata.labels?.[MANAGED_BY_LABEL] !== PROGRAM_NAME || installOf(daemonSet) !== installName) return false;
  if (daemonSet.metadata.deletionTimestamp !== undefined) return false;
  const cronJobs = (daemonSet.metadata.ownerReferences ?? []).filter((ref) => ref.kind === 'CronJob');
  return cronJobName === undefined || cronJobs.every((ref) => ref.name === cronJobName);
}

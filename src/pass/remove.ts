// Deletes the DaemonSets of sets removed from the configuration. Only ones the LIST showed to be
// this install's (ownership.ts) reach here, and each is deleted by UID, so an object recreated
// under that name meanwhile (someone else's, perhaps) is left alone.
import { ApiError } from '../kube/cluster.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { describeApiError } from './api-errors.ts';
import type { PassContext } from './context.ts';

export interface Removal {
  removed: string[];
  /** Sentences naming each DaemonSet that could not be deleted and why. */
  failures: string[];
}

export async function removeDaemonSets(ctx: PassContext, daemonSets: readonly DaemonSet[]): Promise<Removal> {
  const removal: Removal = { removed: [], failures: [] };
  await Promise.all(daemonSets.map(async ({ metadata: { name = '', uid = '' } }) => {
    try {
      await ctx.retrying(() => ctx.cluster.deleteDaemonSet(name, uid));
      removal.removed.push(name);
      ctx.log.info('deleted the DaemonSet of a set no longer in the configuration', { daemonset: name });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Gone already, or replaced by another object of that name: nothing of ours is left to delete.
      if (error.status === 404 || error.status === 409) return;
      removal.failures.push(`could not delete DaemonSet ${name}, whose set is no longer in the configuration: ${describeApiError(error, ctx.config.namespace)}`);
    }
  }));
  removal.removed.sort();
  return removal;
}

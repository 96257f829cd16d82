// The pass's one read: a LIST of the puller's DaemonSets in the namespace, by label. It gives each
// planned DaemonSet as it is now (absent, this install's, or someone else's under that name) and
// this install's DaemonSets that no set describes any more.
import { ApiError } from '../kube/cluster.ts';
import type { PlannedDaemonSet } from '../plan/daemonset-plan.ts';
import { OWN_SELECTOR } from '../plan/desired.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { removable } from './ownership.ts';
import type { PassContext } from './context.ts';

export { OWN_SELECTOR } from '../plan/desired.ts';


export interface OwnDaemonSets {
  /** Each planned DaemonSet by name, as found; undefined when there is none. */
  live: Map<string, DaemonSet | undefined>;
  /** This install's DaemonSets that no planned one names: their sets were removed from the configuration. */
  removable: DaemonSet[];
  warnings: string[];
  /** Whether the ServiceAccount may list DaemonSets (false: the pass read each by name). */
  listed: boolean;
}

export async function readOwnDaemonSets(ctx: PassContext, plan: readonly PlannedDaemonSet[]): Promise<OwnDaemonSets> {
  const wanted = plan.map(({ config }) => config.daemonSetName);
  let listed: DaemonSet[];
  try {
    listed = await ctx.retrying(() => ctx.cluster.listDaemonSets(OWN_SELECTOR));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    return readOneByOne(ctx, wanted, error);
  }
  const byName = new Map(listed.map((daemonSet) => [daemonSet.metadata.name ?? '', daemonSet]));
  return {
    live: new Map(wanted.map((name) => [name, byName.get(name)])),
    removable: listed.filter((daemonSet) => !wanted.includes(daemonSet.metadata.name ?? '') && removable(daemonSet, ctx.config.daemonSetName, ctx.config.cronJobName)),
    warnings: [],
    listed: true,
  };
}

/** A Role made before image sets grants get but not list: the pass still works, one GET per DaemonSet. */
async function readOneByOne(ctx: PassContext, wanted: readonly string[], forbidden: ApiError): Promise<OwnDaemonSets> {
  const found = await Promise.all(wanted.map((name) => ctx.retrying(() => ctx.cluster.readDaemonSet(name))));
  return {
    live: new Map(wanted.map((name, index) => [name, found[index]])),
    removable: [],
    listed: false,
    warnings: [
      `the ServiceAccount may not "list" daemonsets in namespace ${ctx.config.namespace} (403 Forbidden: ${forbidden.message}), so each DaemonSet was read by name and those of sets removed from the configuration were not looked for; add "list" to the verbs of its Role's daemonsets rule (helm upgrade, or process openshift/serviceaccount.yaml again)`,
    ],
  };
}

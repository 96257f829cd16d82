// Switching from the Go puller: when the live DaemonSet is the one the Go puller left, whether its
// Deployment still runs decides between taking it over and refusing (decide.ts). Only that
// DaemonSet costs the extra read.
import { ApiError } from '../kube/cluster.ts';
import { goPullerDeploymentState, goPullerOwner } from './decide.ts';
import type { GoPullerDeploymentState } from './decide.ts';
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import { MANAGED_BY_LABEL } from '../plan/desired.ts';
import { ExitCode } from './exit-codes.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { PassError } from './context.ts';
import type { PassContext } from './context.ts';

/**
 * The state of the Go puller's Deployment when `live` is its DaemonSet; undefined otherwise. The
 * Deployment is read by the owner's name and compared with the owner by UID.
 */
export async function readGoPullerDeployment(ctx: PassContext, live: DaemonSet | undefined): Promise<GoPullerDeploymentState | undefined> {
  if (live === undefined || live.metadata.labels?.[MANAGED_BY_LABEL] === PROGRAM_NAME || live.metadata.deletionTimestamp !== undefined) return undefined;
  const owner = goPullerOwner(live);
  if (owner === undefined) return undefined;
  const deployment = owner.name;
  try {
    return goPullerDeploymentState(owner, await ctx.retrying(() => ctx.cluster.readDeployment(deployment)));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 403)) throw error;
    // The Role may read only the Deployment it was installed for; another name is a setting to fix, not a retry.
    throw new PassError(
      `DaemonSet ${ctx.config.namespace}/${ctx.config.daemonSetName} was created by the Go kubernetes-image-puller, and this pass may not read Deployment ${ctx.config.namespace}/${deployment}, which owns it, to learn whether it still runs; it was left untouched. Install with deploymentName=${deployment} (chart) or DEPLOYMENT_NAME=${deployment} (openshift/app.yaml), or delete that DaemonSet.`,
      ExitCode.refused,
    );
  }
}

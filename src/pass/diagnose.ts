// Why a rollout is not complete: what the pods report (image pull errors, scheduling) and, when
// pods are missing altogether, what the DaemonSet controller said when it could not create them
// (a ResourceQuota, a LimitRange, a missing PriorityClass, PodSecurity).
import { selectorLabels } from '../plan/desired.ts';
import { Diagnosis, summarize, summarizeWarningEvents } from './health.ts';
import type { Rollout } from './health.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import type { PassContext } from './context.ts';

function describeFailure(what: string, error: unknown): string {
  return `could not ${what}: ${error instanceof Error ? error.message : String(error)}`;
}

export async function diagnose(ctx: PassContext, daemonSet: DaemonSet, rollout: Rollout): Promise<string[]> {
  const diagnosis = new Diagnosis();
  const selector = Object.entries(selectorLabels(ctx.config)).map(([key, value]) => `${key}=${value}`).join(',');
  try {
    await ctx.cluster.visitPods(selector, (pod) => { diagnosis.addPod(pod); });
  } catch (error) {
    return [describeFailure('list the DaemonSet\'s pods', error)];
  }
  let controllerLines: string[] = [];
  const uid = daemonSet.metadata.uid;
  if (diagnosis.podsSeen < rollout.desired && uid !== undefined) {
    try {
      controllerLines = summarizeWarningEvents(await ctx.cluster.listWarningEvents(uid));
    } catch (error) {
      controllerLines = [describeFailure('read the DaemonSet\'s Events', error)];
    }
  }
  const lines = summarize(diagnosis.groups(), rollout, controllerLines);
  await ctx.record(daemonSet, 'Warning', 'Unhealthy', `${String(rollout.available)}/${String(rollout.desired)} available: ${lines.join('; ')}`);
  return lines;
}

// The waiting half of a pass: poll the DaemonSet's status until its rollout completes or the
// deadline comes. The last look happens at the deadline itself, not a poll before it. The DaemonSets
// of a pass over several read their status through one reader (status-reader.ts): a LIST per poll.
import { ExitCode } from './exit-codes.ts';
import { rolloutOf } from './health.ts';
import type { Rollout } from './health.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { FIRST_POLL_MS, MAX_POLL_MS, PassError } from './context.ts';
import type { PassContext } from './context.ts';

export interface RolloutWait {
  rollout: Rollout;
  /** The DaemonSet as last read. */
  latest: DaemonSet;
  /** Time spent waiting on the controllers, as opposed to the pass's own work. */
  waitedMs: number;
}

export async function awaitRollout(ctx: PassContext, daemonSet: DaemonSet): Promise<RolloutWait> {
  let latest = daemonSet;
  let rollout = rolloutOf(daemonSet);
  let poll = FIRST_POLL_MS;
  const waitFrom = ctx.nowMs();
  while (!rollout.complete && ctx.mayPoll()) {
    await ctx.sleep(Math.min(poll, ctx.deadline - ctx.nowMs()), ctx.signal);
    if (ctx.interrupted()) break;
    poll = Math.min(poll * 1.5, MAX_POLL_MS);
    const name = ctx.config.daemonSetName;
    const read = await (ctx.readStatus === undefined ? ctx.retrying(() => ctx.cluster.readDaemonSet(name)) : ctx.readStatus(name));
    if (read === undefined) throw new PassError('the DaemonSet was deleted while this pass waited for its rollout', ExitCode.error);
    latest = read;
    rollout = rolloutOf(read);
  }
  return { rollout, latest, waitedMs: ctx.nowMs() - waitFrom };
}

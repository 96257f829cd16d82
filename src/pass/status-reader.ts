// How the DaemonSets of one pass read their status while they wait for their rollouts: through one
// reader, so that polls made side by side become one LIST of the install's DaemonSets answering
// every waiter, instead of a GET per DaemonSet. A waiter is answered by a LIST sent after it asked;
// asks that come while a LIST is in flight wait for the next one, sent when that one returns.
import { ApiError } from '../kube/cluster.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import type { PassContext } from './context.ts';
import { OWN_SELECTOR } from './own-daemonsets.ts';

/** The DaemonSet of that name as it is now; undefined when there is none. */
export type StatusReader = (name: string) => Promise<DaemonSet | undefined>;

interface Waiter {
  name: string;
  resolve: (daemonSet: DaemonSet | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * @param listable false when the pass already found it may not list DaemonSets (403): then, as from
 *   a 403 on any poll, each DaemonSet is read by name as readOneByOne does.
 */
export function sharedStatusReader(ctx: PassContext, listable = true): StatusReader {
  let byList = listable;
  let waiting: Waiter[] = [];
  let scheduled = false;
  let inFlight = false;

  const readByName = (name: string): Promise<DaemonSet | undefined> => ctx.retrying(() => ctx.cluster.readDaemonSet(name));

  async function look(names: readonly string[]): Promise<Map<string, DaemonSet | undefined>> {
    if (byList) {
      try {
        const listed = await ctx.retrying(() => ctx.cluster.listDaemonSets(OWN_SELECTOR));
        const byName = new Map<string, DaemonSet | undefined>(listed.map((daemonSet) => [daemonSet.metadata.name ?? '', daemonSet]));
        // One missing from the LIST was deleted, or lost our labels: a GET tells which.
        const missing = names.filter((name) => !byName.has(name));
        const found = await Promise.all(missing.map(readByName));
        missing.forEach((name, index) => byName.set(name, found[index]));
        return byName;
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 403) throw error;
        byList = false;
      }
    }
    const found = await Promise.all(names.map(readByName));
    return new Map(names.map((name, index) => [name, found[index]]));
  }

  async function send(): Promise<void> {
    const batch = waiting;
    waiting = [];
    inFlight = true;
    try {
      const answers = await look([...new Set(batch.map(({ name }) => name))]);
      for (const { name, resolve } of batch) resolve(answers.get(name));
    } catch (error) {
      for (const { reject } of batch) reject(error);
    } finally {
      inFlight = false;
      schedule();
    }
  }

  // Polls that fall due together (their timers fire in one turn of the event loop) join one LIST:
  // it is sent once that turn's callbacks have run.
  function schedule(): void {
    if (scheduled || inFlight || waiting.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void send();
    });
  }

  return (name) => new Promise((resolve, reject) => {
    waiting.push({ name, resolve, reject });
    schedule();
  });
}

// Exit 2 means nothing was written, also when a pass has several DaemonSets: one whose object the
// API server rejects must stop the others' writes too. So a DaemonSet that is about to write
// waits here until every DaemonSet of the pass has decided; the writes go ahead only if no
// decision ended in a rejection. A DaemonSet with nothing to write, or that failed, only says so.
import type { Decision } from './decide.ts';

export interface WriteGate {
  /** Waits for every DaemonSet's decision; resolves to those rejected: `name` may write when there are none. */
  mayWrite(name: string): Promise<string[]>;
  /** `name` will not write this pass (nothing to do, refused, failed), or was rejected. */
  settle(name: string, rejected: boolean): void;
}

export function createWriteGate(names: readonly string[]): WriteGate {
  const pending = new Set(names);
  const rejectedNames: string[] = [];
  let open: (rejected: string[]) => void = () => undefined;
  const opened = new Promise<string[]>((resolve) => {
    open = resolve;
  });
  const arrive = (name: string, rejected: boolean): void => {
    if (!pending.delete(name)) return;
    if (rejected) rejectedNames.push(name);
    if (pending.size === 0) open(rejectedNames);
  };
  return {
    mayWrite(name) {
      arrive(name, false);
      return opened;
    },
    settle: arrive,
  };
}

/** Whether acting on the decision writes: a take-over deletes and creates, as a recreate does. */
export function writes(decision: Decision): boolean {
  return decision.action === 'create' || decision.action === 'update' || decision.action === 'recreate' || decision.action === 'take-over';
}

// The cluster as the DaemonSets of one pass share it. They run side by side, so requests are
// bounded: at most a few in flight, the rest wait their turn (a DaemonSet waiting for its rollout
// sleeps between polls and holds no turn meanwhile). Reads that every DaemonSet would make alike —
// the CronJob's UID, the pull Secrets — are made once per pass.
import type { Cluster } from '../kube/cluster.ts';

export const MAX_REQUESTS_IN_FLIGHT = 4;

/** At most `slots` requests at once, the rest in order of arrival. */
export function limiter(slots: number): <T>(request: () => Promise<T>) => Promise<T> {
  let free = slots;
  const waiting: (() => void)[] = [];
  return async (request) => {
    if (free > 0) free -= 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await request();
    } finally {
      // The turn passes straight to the next in line, so `free` counts only unclaimed slots.
      const next = waiting.shift();
      if (next === undefined) free += 1;
      else next();
    }
  };
}

function once<T>(read: (name: string) => Promise<T>): (name: string) => Promise<T> {
  const reads = new Map<string, Promise<T>>();
  return (name) => {
    let result = reads.get(name);
    if (result === undefined) {
      result = read(name);
      reads.set(name, result);
      // A failure is not remembered: the retry policy may ask again.
      result.catch(() => reads.delete(name));
    }
    return result;
  };
}

export function shareCluster(cluster: Cluster, maxInFlight = MAX_REQUESTS_IN_FLIGHT): Cluster {
  const turn = limiter(maxInFlight);
  return {
    readDaemonSet: (name) => turn(() => cluster.readDaemonSet(name)),
    listDaemonSets: (selector) => turn(() => cluster.listDaemonSets(selector)),
    previewCreate: (body) => turn(() => cluster.previewCreate(body)),
    previewReplace: (body) => turn(() => cluster.previewReplace(body)),
    createDaemonSet: (body) => turn(() => cluster.createDaemonSet(body)),
    replaceDaemonSet: (body) => turn(() => cluster.replaceDaemonSet(body)),
    deleteDaemonSet: (name, uid) => turn(() => cluster.deleteDaemonSet(name, uid)),
    visitPods: (selector, visit) => turn(() => cluster.visitPods(selector, visit)),
    readCronJobUid: once((name) => turn(() => cluster.readCronJobUid(name))),
    readSecret: once((name) => turn(() => cluster.readSecret(name))),
    readDeployment: once((name) => turn(() => cluster.readDeployment(name))),
    readConfigMap: (name) => turn(() => cluster.readConfigMap(name)),
    writeConfigMap: (name, data, labels, resourceVersion) => turn(() => cluster.writeConfigMap(name, data, labels, resourceVersion)),
    listNodeNames: (selector) => turn(() => cluster.listNodeNames(selector)),
    patchNodeLabel: (node, key, value) => turn(() => cluster.patchNodeLabel(node, key, value)),
    listWarningEvents: (uid) => turn(() => cluster.listWarningEvents(uid)),
    recordEvent: (daemonSet, type, reason, message) => turn(() => cluster.recordEvent(daemonSet, type, reason, message)),
    requests: () => cluster.requests(),
  };
}

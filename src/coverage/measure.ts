// Coverage of live DaemonSets: one paged LIST of the install's pods (whatever the number of its
// DaemonSets), each pod handed as it arrives to the counter of the DaemonSet it belongs to.
import type { Cluster } from '../kube/cluster.ts';
import { SET_LABEL } from '../plan/daemonset-plan.ts';
import { DEFAULT_SET } from '../config/image-sets.ts';
import { INSTALL_CONTAINER } from '../plan/desired.ts';
import type { DaemonSet, Pod } from '../kube/k8s-types.ts';
import { OWN_SELECTOR } from '../plan/desired.ts';
import { DIGESTS_ANNOTATION, parseDigests } from '../registry/moved.ts';
import { CoverageCounter, expectedImages } from './count.ts';
import type { DaemonSetCoverage } from './report.ts';

const INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** The images a live DaemonSet caches: its init containers but the one that installs the helper. */
export function cachedImages(daemonSet: DaemonSet): string[] {
  return (daemonSet.spec.template.spec.initContainers ?? []).filter((container) => container.name !== INSTALL_CONTAINER).map((container) => container.image);
}

export interface MeasuredDaemonSet {
  daemonSet: DaemonSet;
  /** Tag images whose recorded digest this pass could not confirm: their basis is the majority. */
  unconfirmed?: ReadonlySet<string>;
}

/** `alsoVisit`, when given, sees every pod listed, with the name of the DaemonSet it belongs to. */
export async function measureCoverage(cluster: Pick<Cluster, 'visitPods'>, measured: readonly MeasuredDaemonSet[], alsoVisit?: (pod: Pod, daemonSet: string) => void): Promise<DaemonSetCoverage[]> {
  const counters = new Map(measured.map(({ daemonSet, unconfirmed }) => {
    const recorded = parseDigests(daemonSet.spec.template.metadata.annotations?.[DIGESTS_ANNOTATION]).digests;
    return [daemonSet.metadata.name ?? '', new CoverageCounter(expectedImages(cachedImages(daemonSet), recorded, unconfirmed))];
  }));
  if (counters.size > 0 || alsoVisit !== undefined) {
    await cluster.visitPods(OWN_SELECTOR, (pod) => {
      const daemonSet = pod.metadata.labels?.[INSTANCE_LABEL] ?? '';
      counters.get(daemonSet)?.addPod(pod);
      alsoVisit?.(pod, daemonSet);
    });
  }
  return measured.map(({ daemonSet }) => ({
    daemonSet: daemonSet.metadata.name ?? '',
    set: daemonSet.metadata.labels?.[SET_LABEL] ?? DEFAULT_SET,
    coverage: (counters.get(daemonSet.metadata.name ?? '') ?? new CoverageCounter([])).result(daemonSet.status?.desiredNumberScheduled ?? 0),
  }));
}

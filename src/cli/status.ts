// `kubernetes-image-puller status`: which node holds which image, read from the cluster with the
// user's kubeconfig. It reads the install's DaemonSets and pods and writes nothing.
import type { Cluster } from '../kube/cluster.ts';
import { INSTALL_LABEL } from '../plan/daemonset-plan.ts';
import { measureCoverage } from '../coverage/measure.ts';
import { coverageDocument, plural, shortDigest, topReason } from '../coverage/report.ts';
import type { DaemonSetCoverage } from '../coverage/report.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { OWN_SELECTOR } from '../plan/desired.ts';

export const MAX_NODE_LINES = 20;

/** This install's DaemonSets: the one named after it and those of its image sets. */
export function installDaemonSets(listed: readonly DaemonSet[], install: string): DaemonSet[] {
  return listed
    .filter((daemonSet) => daemonSet.metadata.name === install || daemonSet.metadata.labels?.[INSTALL_LABEL] === install)
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

export async function readStatus(cluster: Pick<Cluster, 'listDaemonSets' | 'visitPods'>, install: string): Promise<DaemonSetCoverage[]> {
  const daemonSets = installDaemonSets(await cluster.listDaemonSets(OWN_SELECTOR), install);
  return measureCoverage(cluster, daemonSets.map((daemonSet) => ({ daemonSet })));
}

function table(rows: readonly string[][]): string[] {
  const widths = rows.reduce<number[]>((max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join('  ').trimEnd());
}

/** The table a person reads at a glance: one row per image, then only the nodes that are not complete. */
export function statusTable(entries: readonly DaemonSetCoverage[], where: { namespace: string; install: string }): string {
  if (entries.length === 0) return `no DaemonSet of install "${where.install}" in namespace ${where.namespace} (run a pass first, or pass --name and -n)\n`;
  const lines: string[] = [];
  for (const { daemonSet, set, coverage } of entries) {
    lines.push(`DaemonSet ${daemonSet} (set ${set}): ${String(coverage.complete)}/${String(coverage.expected)} nodes complete${coverage.withPod < coverage.expected ? `, ${String(coverage.expected - coverage.withPod)} without a pod yet` : ''}`);
    const rows = [['IMAGE', 'BASIS', 'CURRENT', 'OTHER DIGEST', 'PULLING', 'FAILING', 'TOP REASON']];
    for (const image of coverage.images) {
      const pulling = image.pulling.reduce((sum, reason) => sum + reason.nodes, 0);
      const failing = image.failing.reduce((sum, reason) => sum + reason.nodes, 0);
      const other = image.otherDigests.reduce((sum, digest) => sum + digest.nodes, 0);
      const current = image.unverified === 0 ? String(image.current) : `${String(image.current)} (+${String(image.unverified)} unverified)`;
      rows.push([image.image, image.basis, `${current}/${String(coverage.expected)}`, String(other), String(pulling), String(failing), topReason(image)]);
    }
    lines.push(...table(rows).map((line) => `  ${line}`));
    if (coverage.incompleteNodes > 0) {
      lines.push(`  nodes not complete (${String(coverage.incompleteNodes)}):`);
      const listed = coverage.incomplete.slice(0, MAX_NODE_LINES);
      for (const node of listed) {
        const what = node.images.map((image) => `${image.image} ${image.state}${image.state === 'other-digest' ? ` ${shortDigest(image.detail)}` : image.state === 'unverified' ? '' : ` (${image.detail})`}`).join('; ');
        lines.push(`    ${node.node}: ${what}`);
      }
      if (coverage.incompleteNodes > listed.length) lines.push(`    and ${plural(coverage.incompleteNodes - listed.length, 'more node')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function statusJson(entries: readonly DaemonSetCoverage[]): string {
  return `${JSON.stringify(coverageDocument(entries), null, 2)}\n`;
}

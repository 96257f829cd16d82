// What the Go puller leaves in a namespace, for the take-over tests: its DaemonSet
// (utils/clusterutils.go), with its legacy selector, owned by its Deployment.
import type { DaemonSet } from '../../src/kube/k8s-types.ts';

export function goPullerDaemonSet(deployment = 'kubernetes-image-puller'): DaemonSet {
  const labels = { test: 'daemonset-test', 'app.kubernetes.io/name': 'image-puller' };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'kubernetes-image-puller',
      namespace: 'cache',
      uid: 'go-ds-uid',
      resourceVersion: '7',
      generation: 1,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: 'go-deployment-uid' }],
    },
    spec: {
      selector: { matchLabels: { ...labels } },
      template: { metadata: { labels: { ...labels } }, spec: { containers: [{ name: 'che-code', image: 'quay.io/che-incubator/che-code:next', command: ['/kip/sleep'] }] } },
    },
  };
}

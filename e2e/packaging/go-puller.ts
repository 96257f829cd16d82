// What the Go puller leaves in a namespace, built from the facts in its source (utils/clusterutils.go,
// deploy/helm): its Deployment with DEPLOYMENT_NAME and the ConfigMap it reads, and the DaemonSet it
// creates, with its legacy selector and an ownerReference to that Deployment. kwok runs no Go program,
// so the tests create the DaemonSet as the program would. Every pod template passes the restricted
// Pod Security Standard the test namespaces enforce.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apply, getJson, kubectl } from '../lib/cluster.ts';

export const GO_PULLER_IMAGE = 'quay.io/eclipse/kubernetes-image-puller:next';
export const GO_PULLER_SELECTOR = { test: 'daemonset-test', 'app.kubernetes.io/name': 'image-puller' };
/** Keeps a deleted Deployment "being deleted" until the test lets it go. */
const HOLD_FINALIZER = 'kip-e2e.example.com/hold';

const restrictedPod = { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } };
const restrictedContainer = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true };

export function goPullerDeployment(namespace: string, name: string): object {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: 'default',
          securityContext: restrictedPod,
          containers: [{
            name,
            image: GO_PULLER_IMAGE,
            env: [{ name: 'DEPLOYMENT_NAME', value: name }],
            envFrom: [{ configMapRef: { name: 'k8s-image-puller' } }],
            securityContext: restrictedContainer,
          }],
        },
      },
    },
  };
}

/** The Go puller's ConfigMap as its OpenShift template writes it. */
export function goPullerConfigMap(namespace: string, images: string): object {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'k8s-image-puller', namespace },
    data: {
      IMAGES: images,
      DAEMONSET_NAME: 'kubernetes-image-puller',
      CACHING_INTERVAL_HOURS: '1',
      NAMESPACE: namespace,
      CACHING_MEMORY_REQUEST: '10Mi',
      CACHING_MEMORY_LIMIT: '20Mi',
      CACHING_CPU_REQUEST: '.05',
      CACHING_CPU_LIMIT: '.2',
      NODE_SELECTOR: '{}',
      IMAGE_PULL_SECRETS: '',
      AFFINITY: '{}',
      TOLERATIONS: '[]',
      KIP_IMAGE: GO_PULLER_IMAGE,
    },
  };
}

/** The DaemonSet the Go puller creates, owned by its Deployment (not as controller). */
export async function createGoPullerDaemonSet(namespace: string, deployment: string, images: Array<[string, string]>): Promise<void> {
  const owner = await getJson('deployment', deployment, namespace);
  if (owner === undefined) throw new Error(`Deployment ${namespace}/${deployment} does not exist`);
  await apply([{
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'kubernetes-image-puller',
      namespace,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: owner.metadata.uid }],
    },
    spec: {
      selector: { matchLabels: GO_PULLER_SELECTOR },
      template: {
        metadata: { labels: GO_PULLER_SELECTOR, name: 'test-po' },
        spec: {
          securityContext: restrictedPod,
          terminationGracePeriodSeconds: 1,
          volumes: [{ name: 'kip', emptyDir: { sizeLimit: '50Mi' } }],
          initContainers: [{
            name: 'copy-sleep',
            image: GO_PULLER_IMAGE,
            command: ['/bin/sh'],
            args: ['-c', 'cp /bin/sleep /kip/sleep'],
            volumeMounts: [{ name: 'kip', mountPath: '/kip' }],
            securityContext: restrictedContainer,
          }],
          containers: images.map(([name, image]) => ({
            name,
            image,
            command: ['/kip/sleep'],
            args: ['720h'],
            volumeMounts: [{ name: 'kip', mountPath: '/kip' }],
            securityContext: restrictedContainer,
          })),
        },
      },
    },
  }]);
}

/** Lets a Deployment held by HOLD_FINALIZER go, so its namespace can be deleted. */
export async function releaseHold(namespace: string, deployment: string): Promise<void> {
  await kubectl(['patch', 'deployment', deployment, '-n', namespace, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
}

/**
 * A stand-in for the upstream chart (deploy/helm): the objects it renders from a values file in its
 * current layout — ServiceAccount, Role, RoleBinding, ConfigMap and the Go puller's Deployment, held
 * by HOLD_FINALIZER so that its deletion by `helm upgrade` can be observed. Returns the chart's path.
 */
export function writeUpstreamChart(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kip-upstream-chart-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: kubernetes-image-puller\nversion: 1.1.2\nappVersion: next\n');
  writeFileSync(join(dir, 'templates', 'serviceaccount.yaml'), `apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Values.serviceAccount.name }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ .Values.serviceAccount.name }}
rules:
  - apiGroups: [apps]
    resources: [daemonsets]
    verbs: [create, delete, list, watch, get]
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .Values.serviceAccount.name }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ .Values.serviceAccount.name }}
subjects:
  - kind: ServiceAccount
    name: {{ .Values.serviceAccount.name }}
`);
  writeFileSync(join(dir, 'templates', 'configmap.yaml'), `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Values.configMap.name }}
data:
  IMAGES: {{ .Values.configMap.images | quote }}
  DAEMONSET_NAME: {{ .Values.deploymentName | quote }}
  CACHING_INTERVAL_HOURS: {{ .Values.configMap.cachingIntervalHours | quote }}
  NAMESPACE: {{ .Release.Namespace | quote }}
  CACHING_MEMORY_REQUEST: {{ .Values.configMap.cachingMemoryRequest | quote }}
  CACHING_MEMORY_LIMIT: {{ .Values.configMap.cachingMemoryLimit | quote }}
  KIP_IMAGE: {{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
`);
  writeFileSync(join(dir, 'templates', 'app.yaml'), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Values.deploymentName }}
  finalizers: [${HOLD_FINALIZER}]
  annotations: {{ toJson .Values.deploymentAnnotations }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Values.deploymentName }}}
  strategy: {{ toJson .Values.updateStrategy }}
  template:
    metadata:
      labels: {app: {{ .Values.deploymentName }}}
    spec:
      serviceAccountName: {{ .Values.serviceAccount.name }}
      securityContext: ${JSON.stringify(restrictedPod)}
      containers:
        - name: {{ .Values.deploymentName }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          env:
            - name: DEPLOYMENT_NAME
              value: {{ .Values.deploymentName }}
          envFrom:
            - configMapRef:
                name: {{ .Values.configMap.name }}
          resources: {{ toJson .Values.resources }}
          securityContext: {{ toJson .Values.containerSecurityContext }}
`);
  return dir;
}

// The DaemonSet this program wants, as a pure function of the configuration. Same config, same
// bytes: maps are sorted and every field the API server would default is spelled out, so that
// comparing it with the live object (drift.ts) is exact.
//
// Design: one init container per image. Each runs a static no-op helper copied from KIP_IMAGE,
// so images without a shell or libc work, and exits at once; a single `kip-hold` container keeps
// the pod (and with it the exited init containers that reference the images) alive. Kubernetes
// reserves max(init containers) rather than their sum, so the per-node cost is one container's
// request whatever the number of images.
import type { Config } from '../config/config.ts';
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import { isDigestPinned } from '../config/image-ref.ts';
import type { Container, DaemonSet, Json } from '../kube/k8s-types.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Every DaemonSet the puller made carries both; the one named DAEMONSET_NAME has no other label of ours. */
export const OWN_SELECTOR = `${MANAGED_BY_LABEL}=${PROGRAM_NAME},app.kubernetes.io/name=${PROGRAM_NAME}`;
export const REFRESHED_AT_ANNOTATION = `${PROGRAM_NAME}/refreshed-at`;
export const HELPER_IN_IMAGE = '/usr/local/bin/kip-helper';
export const HELPER_DIR = '/kip';
export const INSTALL_CONTAINER = 'kip-install-helper';
export const HOLD_CONTAINER = 'kip-hold';
const HELPER_VOLUME = 'kip-helper';

export function selectorLabels(config: Pick<Config, 'daemonSetName'>): Record<string, string> {
  return {
    'app.kubernetes.io/instance': config.daemonSetName,
    'app.kubernetes.io/name': PROGRAM_NAME,
  };
}

export function ownedLabels(config: Pick<Config, 'daemonSetName' | 'setLabels'>): Record<string, string> {
  return {
    'app.kubernetes.io/component': 'image-cache',
    ...selectorLabels(config),
    [MANAGED_BY_LABEL]: PROGRAM_NAME,
    ...config.setLabels,
  };
}

function restrictedContainerSecurity(): Record<string, Json> {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
  };
}

type HelperMount = 'writable' | 'read-only' | 'none';

function container(config: Config, name: string, image: string, command: string[], pullPolicy: string, mount: HelperMount): Container {
  return {
    name,
    image,
    imagePullPolicy: pullPolicy,
    command,
    resources: {
      limits: { ...config.resources.limits },
      requests: { ...config.resources.requests },
    },
    securityContext: restrictedContainerSecurity(),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    // readOnly: false is what the server leaves out, so it is left out here too.
    ...(mount === 'none' ? {} : { volumeMounts: [{ name: HELPER_VOLUME, mountPath: HELPER_DIR, ...(mount === 'read-only' ? { readOnly: true } : {}) }] }),
  };
}

/** Tags move, so they are pulled on every pod start; a digest never changes, so it is pulled once. */
export function pullPolicyFor(image: string): 'Always' | 'IfNotPresent' {
  return isDigestPinned(image) ? 'IfNotPresent' : 'Always';
}

export function hasMutableImages(config: Pick<Config, 'images'>): boolean {
  return config.images.some(({ image }) => !isDigestPinned(image));
}

/**
 * @param templateAnnotations annotations for the pod template (the resolved digests): a change to
 *   them rolls the pods.
 */
export function desiredDaemonSet(config: Config, templateAnnotations: Record<string, string> = {}): DaemonSet {
  const helper = `${HELPER_DIR}/kip-helper`;
  const helperPullPolicy = pullPolicyFor(config.helperImage);
  const podSecurity: Record<string, Json> = {
    runAsNonRoot: true,
    ...(config.runAsUser === undefined ? {} : { runAsUser: config.runAsUser, runAsGroup: config.runAsUser }),
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const initContainers = [
    container(config, INSTALL_CONTAINER, config.helperImage, [HELPER_IN_IMAGE, 'install', HELPER_DIR], helperPullPolicy, 'writable'),
    ...config.images.map(({ name, image }) => container(config, name, image, [helper, 'exit'], pullPolicyFor(image), 'read-only')),
  ];
  const hold = container(config, HOLD_CONTAINER, config.helperImage, [HELPER_IN_IMAGE, 'sleep'], helperPullPolicy, 'none');

  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: config.daemonSetName,
      namespace: config.namespace,
      labels: ownedLabels(config),
      ...(Object.keys(config.daemonSetAnnotations).length === 0 ? {} : { annotations: { ...config.daemonSetAnnotations } }),
    },
    spec: {
      selector: { matchLabels: selectorLabels(config) },
      updateStrategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: 0, maxUnavailable: config.maxUnavailable },
      },
      revisionHistoryLimit: 3,
      template: {
        metadata: { labels: ownedLabels(config), ...(Object.keys(templateAnnotations).length === 0 ? {} : { annotations: { ...templateAnnotations } }) },
        spec: {
          ...(Object.keys(config.affinity).length === 0 ? {} : { affinity: config.affinity }),
          automountServiceAccountToken: false,
          containers: [hold],
          dnsPolicy: 'ClusterFirst',
          enableServiceLinks: false,
          ...(config.imagePullSecrets.length === 0 ? {} : { imagePullSecrets: config.imagePullSecrets.map((name) => ({ name })) }),
          initContainers,
          ...(Object.keys(config.nodeSelector).length === 0 ? {} : { nodeSelector: { ...config.nodeSelector } }),
          ...(config.priorityClassName === undefined ? {} : { priorityClassName: config.priorityClassName }),
          restartPolicy: 'Always',
          schedulerName: 'default-scheduler',
          securityContext: podSecurity,
          terminationGracePeriodSeconds: 5,
          ...(config.tolerations.length === 0 ? {} : { tolerations: config.tolerations.map((toleration) => ({ ...toleration })) }),
          volumes: [{ name: HELPER_VOLUME, emptyDir: { sizeLimit: '16Mi' } }],
        },
      },
    },
  };
}

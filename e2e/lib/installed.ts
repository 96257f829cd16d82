// What the installed-image scenarios need beyond the harness: the image built from the Dockerfile
// (e2e/image/build.sh, the script behind `npm run image`), and the Jobs, pods and containers that
// the CronJob controller and the real node's kubelet make of it.
import { join } from 'node:path';
import { kubectl, kubectlOk, listJson, repoRoot, run, waitFor, type KubeObject, type Pod } from './cluster.ts';
import { explain, summaryOf, type PassSummary } from './pass-runner.ts';
import { ctr, realNode, realNodeTaint } from './real-node.ts';

/** Builds the repository's Dockerfile (cached by its inputs) and pushes it to the local registry. */
export async function buildImage(reference: string): Promise<void> {
  const result = await run('bash', [join(repoRoot, 'e2e', 'image', 'build.sh'), '--push', reference], { timeoutMs: 15 * 60_000 });
  if (result.code !== 0) throw new Error(`bash e2e/image/build.sh --push ${reference} failed\n${explain(result)}`);
  process.stdout.write(result.stdout.replace(/^/gm, '# '));
}

/** Scheduling onto the real node only: its hostname and its taint. */
export const onRealNode = {
  nodeSelector: { 'kubernetes.io/hostname': realNode },
  tolerations: [{ key: realNodeTaint, operator: 'Exists', effect: 'NoSchedule' }],
};

export type Job = KubeObject & {
  metadata: KubeObject['metadata'] & { creationTimestamp: string; ownerReferences?: Array<{ kind: string; name: string }> };
  spec: { template: { spec: Record<string, unknown> } };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string }>; failed?: number; succeeded?: number };
};

export type ContainerStatus = {
  name: string;
  containerID?: string;
  imageID: string;
  ready: boolean;
  state?: { terminated?: { exitCode: number; reason?: string } };
};
export type RealPod = Pod & {
  status?: Pod['status'] & { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
};

const finished = (job: Job): string | undefined =>
  job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;

/** Waits until the Job is Complete or Failed and returns it with that condition. */
export async function waitForJob(namespace: string, name: string, timeoutMs = 120_000): Promise<{ job: Job; outcome: string }> {
  return waitFor(
    `Job ${namespace}/${name} to finish`,
    async () => {
      const job = JSON.parse(await kubectlOk(['get', 'job', name, '-n', namespace, '-o', 'json'])) as Job;
      const outcome = finished(job);
      return outcome === undefined ? undefined : { job, outcome };
    },
    { timeoutMs, intervalMs: 500 },
  );
}

export async function podsOfJob(namespace: string, job: string): Promise<RealPod[]> {
  return listJson<RealPod>('pods', { namespace, selector: `batch.kubernetes.io/job-name=${job}` });
}

/** `kubectl logs job/<name>`, as a user reads it. */
export async function jobLogs(namespace: string, job: string): Promise<string> {
  return kubectlOk(['logs', `job/${job}`, '-n', namespace]);
}

/** The summary line a pass's log ends with. */
export function logSummary(logs: string): PassSummary | undefined {
  const lines = logs.trimEnd().split('\n');
  return summaryOf({ code: 0, stdout: lines[lines.length - 1] ?? '', stderr: '', closedAt: 0 });
}

/** The OCI runtime spec containerd gave the container: the user and root filesystem runc really used. */
export async function runtimeSpec(containerID: string): Promise<{ process: { user: { uid: number; gid: number } }; root: { readonly?: boolean } }> {
  const id = containerID.replace(/^containerd:\/\//, '');
  const info = JSON.parse(await ctr(['containers', 'info', id])) as { Spec: { process: { user: { uid: number; gid: number } }; root: { readonly?: boolean } } };
  return info.Spec;
}

/**
 * A pod of the image on the real node that passes the restricted Pod Security Standard, its root
 * filesystem read-only; `user` picks a UID and group as OpenShift's restricted-v2 would.
 */
export function imagePod(
  name: string,
  image: string,
  opts: { args?: string[]; command?: string[]; env?: Record<string, string>; user?: { runAsUser: number; runAsGroup: number } },
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...onRealNode,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, ...opts.user },
      containers: [
        {
          name: 'main',
          image,
          imagePullPolicy: 'IfNotPresent',
          ...(opts.command ? { command: opts.command } : {}),
          ...(opts.args ? { args: opts.args } : {}),
          env: Object.entries(opts.env ?? {}).map(([envName, value]) => ({ name: envName, value })),
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

/** Waits for a pod to end and returns it with its logs. */
export async function podResult(namespace: string, name: string, timeoutMs = 120_000): Promise<{ pod: RealPod; logs: string }> {
  const pod = await waitFor(
    `pod ${namespace}/${name} to end`,
    async () => {
      const current = JSON.parse(await kubectlOk(['get', 'pod', name, '-n', namespace, '-o', 'json'])) as RealPod;
      return current.status?.phase === 'Succeeded' || current.status?.phase === 'Failed' ? current : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
  const logs = await kubectl(['logs', name, '-n', namespace]);
  return { pod, logs: logs.stdout + logs.stderr };
}

// The one adapter over @kubernetes/client-node. It binds the namespace, sets our User-Agent,
// counts requests, converts the client's model classes into plain data and its exceptions into
// ApiError.
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  dumpYaml,
  setHeaderMiddleware,
} from '@kubernetes/client-node';
import type { ConfigurationOptions, V1DaemonSet } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { ApiError } from './cluster.ts';
import type { Cluster, EventType, RequestCounts } from './cluster.ts';
import { PROGRAM_NAME } from './desired.ts';
import type { DaemonSet, Pod } from './k8s-types.ts';

// Pages of 250 pods bound the memory a diagnosis needs on large clusters.
const PAGE_SIZE = 250;

/** Model classes carry Dates and undefined fields; the rest of the program compares plain JSON. */
function plain(value: object): unknown {
  return JSON.parse(JSON.stringify(value));
}

function parseStatusBody(body: unknown): { reason?: string; message?: string } {
  if (typeof body !== 'string') return {};
  try {
    return JSON.parse(body) as { reason?: string; message?: string };
  } catch {
    return {};
  }
}

function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  const value = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

function toApiError(error: unknown, verb: string, resource: string): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ApiException) {
    const status = parseStatusBody(error.body);
    const retryAfterSeconds = retryAfter(error.headers);
    return new ApiError(
      {
        status: error.code,
        ...(status.reason === undefined ? {} : { reason: status.reason }),
        message: status.message ?? `HTTP ${String(error.code)}`,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        verb,
        resource,
      },
      { cause: error },
    );
  }
  const code = networkCode(error) ?? (error instanceof Error ? error.message : String(error));
  return new ApiError({ status: 0, message: `cannot reach the API server (${code})`, verb, resource }, { cause: error });
}

export function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

export function createCluster(kubeConfig: KubeConfig, namespace: string, daemonSetName: string, version: string): Cluster {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const counts: RequestCounts = { total: 0, byVerb: {} };
  const userAgent = setHeaderMiddleware('User-Agent', `${PROGRAM_NAME}/${version}`);
  const options: ConfigurationOptions = {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: (request) => {
          const method = request.getHttpMethod();
          counts.total += 1;
          counts.byVerb[method] = (counts.byVerb[method] ?? 0) + 1;
          return userAgent.pre(request);
        },
        post: (response) => userAgent.post(response),
      },
    ],
  };

  async function call<T>(verb: string, resource: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toApiError(error, verb, resource);
    }
  }

  const name = daemonSetName;
  return {
    async readDaemonSet() {
      try {
        return plain(await call('get', 'daemonsets.apps', () => apps.readNamespacedDaemonSet({ name, namespace }, options))) as DaemonSet;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    async createDaemonSet(body) {
      const created = await call('create', 'daemonsets.apps', () =>
        apps.createNamespacedDaemonSet({ namespace, body: body as V1DaemonSet, fieldManager: PROGRAM_NAME }, options));
      return plain(created) as DaemonSet;
    },
    async replaceDaemonSet(body) {
      const replaced = await call('update', 'daemonsets.apps', () =>
        apps.replaceNamespacedDaemonSet({ name, namespace, body: body as V1DaemonSet, fieldManager: PROGRAM_NAME }, options));
      return plain(replaced) as DaemonSet;
    },
    async deleteDaemonSet(uid) {
      await call('delete', 'daemonsets.apps', () =>
        apps.deleteNamespacedDaemonSet(
          { name, namespace, body: { propagationPolicy: 'Background', preconditions: { uid } } },
          options,
        ));
    },
    async *listPods(labelSelector) {
      let continueToken: string | undefined;
      do {
        const page = await call('list', 'pods', () =>
          core.listNamespacedPod(
            { namespace, labelSelector, limit: PAGE_SIZE, ...(continueToken === undefined ? {} : { _continue: continueToken }) },
            options,
          ));
        continueToken = page.metadata?._continue || undefined;
        // The model instances have the plain shape where it matters here; skipping the copy halves the memory.
        yield page.items as unknown as Pod[];
      } while (continueToken !== undefined);
    },
    async readCronJobUid(cronJobName) {
      try {
        const cronJob = await call('get', 'cronjobs.batch', () => batch.readNamespacedCronJob({ name: cronJobName, namespace }, options));
        return cronJob.metadata?.uid;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    async recordEvent(daemonSet: DaemonSet, type: EventType, reason: string, message: string) {
      const now = new Date();
      await call('create', 'events', () =>
        core.createNamespacedEvent(
          {
            namespace,
            body: {
              metadata: { generateName: `${name}.`, namespace },
              involvedObject: {
                apiVersion: 'apps/v1',
                kind: 'DaemonSet',
                name,
                namespace,
                ...(daemonSet.metadata.uid === undefined ? {} : { uid: daemonSet.metadata.uid }),
                ...(daemonSet.metadata.resourceVersion === undefined ? {} : { resourceVersion: daemonSet.metadata.resourceVersion }),
              },
              type,
              reason,
              message: message.slice(0, 1024),
              source: { component: PROGRAM_NAME },
              reportingComponent: PROGRAM_NAME,
              reportingInstance: hostname().slice(0, 128),
              firstTimestamp: now,
              lastTimestamp: now,
              count: 1,
            },
          },
          options,
        ));
    },
    requests() {
      return { total: counts.total, byVerb: { ...counts.byVerb } };
    },
  };
}

export function toYaml(value: unknown): string {
  return dumpYaml(value, { noRefs: true, lineWidth: -1 });
}

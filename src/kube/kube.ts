// The one adapter over @kubernetes/client-node. It binds the namespace, sets our User-Agent,
// counts requests, bounds each one in time, sends our objects as they are (the client's typed
// serializer would drop unknown fields) and converts the client's exceptions into ApiError.
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  dumpYaml,
  setHeaderMiddleware,
} from '@kubernetes/client-node';
import type { ConfigurationOptions, CoreV1Event, RequestContext, ResponseContext, V1DaemonSet } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { ApiError, ClusterConfigError } from './cluster.ts';
import type { Cluster, ConfigMapRecord, DeploymentRecord, EventType, RequestCounts, SecretData, WarningEvent } from './cluster.ts';
import { PROGRAM_NAME } from '../config/daemonset-names.ts';
import type { DaemonSet, Pod } from './k8s-types.ts';
import { splitListItems } from './list-items.ts';
import { podFields } from './pod-fields.ts';

// Pages of 500 pods bound the memory of the coverage and of a diagnosis on large clusters: one page
// at a time, each pod cut down to what a pass reads as it arrives (see receivingItems), is what a pass
// holds of its pods (nodes and events are paged the same).
const PAGE_SIZE = 500;
// A pass's own DaemonSets are few: one page is one request, however many sets there are.
const DAEMONSET_PAGE_SIZE = 500;
/** A request may take this long at most; the pass's deadline shortens it, down to a floor that leaves the report time to read. */
const MAX_REQUEST_MS = 30_000;
const MIN_REQUEST_MS = 1_000;
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Network failures that another try can cure; anything else (TLS, DNS, a missing plugin) cannot. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);
const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

export interface ClusterOptions {
  namespace: string;
  version: string;
  /** Aborted on SIGTERM: every request in flight ends with it. */
  signal?: AbortSignal;
  /** When the pass stops waiting (epoch ms); requests in flight then end too. */
  deadline?: () => number;
}

/** Model classes carry Dates and undefined fields; the rest of the program compares plain JSON. */
function plain(value: object): unknown {
  return JSON.parse(JSON.stringify(value));
}

interface StatusBody {
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string }[] };
}

function parseStatusBody(body: unknown): StatusBody {
  if (typeof body !== 'string') return {};
  try {
    return JSON.parse(body) as StatusBody;
  } catch {
    return {};
  }
}

/** Fields named by a 422's causes, or by a strict decoding error's message. */
function rejectedFields(status: StatusBody): string[] {
  const fromCauses = (status.details?.causes ?? []).flatMap((cause) => (cause.field === undefined || cause.field === '' ? [] : [cause.field]));
  const fromMessage = [...(status.message ?? '').matchAll(/(?:unknown|duplicate) field "([^"]+)"/g)].map((match) => match[1] ?? '');
  return [...new Set([...fromCauses, ...fromMessage])];
}

function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  const value = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function errorChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && chain.length < 6; current = current.cause) chain.push(current);
  return chain;
}

function networkCode(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describeNetworkFailure(error: unknown): { message: string; retryable: boolean } {
  const chain = errorChain(error);
  if (chain.some((link) => link.name === 'TimeoutError')) return { message: 'the API server did not answer in time', retryable: true };
  if (chain.some((link) => link.name === 'AbortError')) return { message: 'the request was cancelled (the pass was interrupted)', retryable: false };
  const code = networkCode(error);
  const detail = chain.at(-1)?.message.split('\n')[0] ?? String(error);
  if (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) return { message: `cannot reach the API server (${code})`, retryable: true };
  if (code !== undefined && TLS_CODE.test(code)) return { message: `the API server's TLS certificate was not accepted (${code}: ${detail}); check the kubeconfig's certificate-authority`, retryable: false };
  return { message: `cannot talk to the API server (${code === undefined ? detail : `${code}: ${detail}`})`, retryable: false };
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
        fields: rejectedFields(status),
      },
      { cause: error },
    );
  }
  const failure = describeNetworkFailure(error);
  return new ApiError({ status: 0, message: failure.message, verb, resource, retryable: failure.retryable }, { cause: error });
}

/**
 * The kubeconfig the pass uses: $KUBECONFIG, else ~/.kube/config, else the pod's ServiceAccount.
 * client-node would otherwise fall back to http://localhost:8080 and retry it until the deadline.
 */
export function loadKubeConfig(env: Record<string, string | undefined> = process.env): KubeConfig {
  const kubeConfig = new KubeConfig();
  const named = env.KUBECONFIG ?? '';
  if (named !== '') {
    const files = named.split(delimiter).filter((file) => file !== '');
    const missing = files.filter((file) => !existsSync(file));
    if (missing.length === files.length) throw new ClusterConfigError(`KUBECONFIG=${named} names no file that exists; point it at a kubeconfig or unset it`);
    files.filter((file) => !missing.includes(file)).forEach((file, index) => {
      if (index === 0) kubeConfig.loadFromFile(file);
      else kubeConfig.mergeConfig(loadKubeConfigFile(file));
    });
    return kubeConfig;
  }
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) {
    kubeConfig.loadFromFile(home);
    return kubeConfig;
  }
  if (existsSync(SERVICE_ACCOUNT_TOKEN) && env.KUBERNETES_SERVICE_HOST !== undefined) {
    kubeConfig.loadFromCluster();
    return kubeConfig;
  }
  throw new ClusterConfigError(
    `no cluster configuration: KUBECONFIG is not set, ${home} does not exist and this is not a pod with a ServiceAccount token; set KUBECONFIG or run the pass in the cluster`,
  );
}

function loadKubeConfigFile(file: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(file);
  return kubeConfig;
}

/** Replaces the body client-node serialized with the object as given, so no field is dropped. */
function sendAsIs(body: unknown): (request: RequestContext) => void {
  return (request) => {
    request.setBody(JSON.stringify(body));
  };
}

/**
 * The one request helper every operation below goes through: the namespace, the typed clients,
 * request options that count the request, bound it in time and set our User-Agent, and `call`,
 * which turns whatever a request throws into an ApiError naming its verb and resource.
 */
interface Requests {
  namespace: string;
  apps: AppsV1Api;
  core: CoreV1Api;
  batch: BatchV1Api;
  counts: RequestCounts;
  /** Options for a request whose body, if any, client-node may serialize. */
  reading: ConfigurationOptions;
  /** Options for a request that sends `body` as it is. */
  sending(body: unknown): ConfigurationOptions;
  /** Options for a JSON merge patch of `body`. */
  mergePatching(body: unknown): ConfigurationOptions;
  /**
   * Options for a list whose items are handed to `take` one at a time, each parsed from the response
   * as it arrives, while client-node is given only the list's metadata: a page parsed whole, and
   * then copied by the client's typed deserializer, holds every item twice (a page of 500 pods of 20
   * images is ~16 MB of JSON; the two copies cost ~75 MiB and ~80 MiB of peak RSS).
   */
  receivingItems(take: (item: unknown) => void): ConfigurationOptions;
  call<T>(verb: string, resource: string, request: () => Promise<T>): Promise<T>;
}

function createRequests(kubeConfig: KubeConfig, options: ClusterOptions): Requests {
  const counts: RequestCounts = { total: 0, byVerb: {} };
  const userAgent = setHeaderMiddleware('User-Agent', `${PROGRAM_NAME}/${options.version}`);

  function requestSignal(): AbortSignal {
    const untilDeadline = options.deadline === undefined ? MAX_REQUEST_MS : options.deadline() - Date.now();
    const timeout = AbortSignal.timeout(Math.max(MIN_REQUEST_MS, Math.min(MAX_REQUEST_MS, untilDeadline)));
    return options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  }

  function requestOptions(adjust?: (request: RequestContext) => void, received?: (response: ResponseContext) => void): ConfigurationOptions {
    return {
      middlewareMergeStrategy: 'append',
      middleware: [
        {
          pre: (request) => {
            const method = request.getHttpMethod();
            counts.total += 1;
            counts.byVerb[method] = (counts.byVerb[method] ?? 0) + 1;
            request.setSignal(requestSignal());
            adjust?.(request);
            return userAgent.pre(request);
          },
          post: (response) => {
            received?.(response);
            return userAgent.post(response);
          },
        },
      ],
    };
  }

  return {
    namespace: options.namespace,
    apps: kubeConfig.makeApiClient(AppsV1Api),
    core: kubeConfig.makeApiClient(CoreV1Api),
    batch: kubeConfig.makeApiClient(BatchV1Api),
    counts,
    reading: requestOptions(),
    sending: (body) => requestOptions(sendAsIs(body)),
    mergePatching: (body) => requestOptions((request) => {
      sendAsIs(body)(request);
      request.setHeaderParam('Content-Type', 'application/merge-patch+json');
    }),
    receivingItems: (take) => requestOptions(undefined, (response) => {
      if (response.httpStatusCode < 200 || response.httpStatusCode > 299) return;
      const body = response.body;
      const stream = body.stream();
      if (stream === null) return;
      response.body = {
        text: () => splitListItems(stream, (json) => { take(JSON.parse(json)); }),
        binary: () => body.binary(),
        stream: () => stream,
      };
    }),
    async call(verb, resource, request) {
      try {
        return await request();
      } catch (error) {
        throw toApiError(error, verb, resource);
      }
    },
  };
}

/** The object a read returns, or undefined when the server has none (404). */
async function unlessMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

interface ListPage<T> {
  metadata?: { _continue?: string };
  items: T[];
}

/** A list, one page a request, the next asked only when the caller wants it. */
async function* pagesOf<T>(list: (page: { _continue?: string }) => Promise<ListPage<T>>): AsyncGenerator<T[]> {
  let continueToken: string | undefined;
  do {
    const page = await list(continueToken === undefined ? {} : { _continue: continueToken });
    continueToken = page.metadata?._continue || undefined;
    yield page.items;
  } while (continueToken !== undefined);
}

async function readDaemonSet(requests: Requests, name: string): Promise<DaemonSet | undefined> {
  const { apps, namespace, reading } = requests;
  const daemonSet = await unlessMissing(requests.call('get', 'daemonsets.apps', () => apps.readNamespacedDaemonSet({ name, namespace }, reading)));
  return daemonSet === undefined ? undefined : plain(daemonSet) as DaemonSet;
}

async function listDaemonSets(requests: Requests, labelSelector: string): Promise<DaemonSet[]> {
  const { apps, namespace, reading } = requests;
  const daemonSets: DaemonSet[] = [];
  for await (const items of pagesOf((page) =>
    requests.call('list', 'daemonsets.apps', () => apps.listNamespacedDaemonSet({ namespace, labelSelector, limit: DAEMONSET_PAGE_SIZE, ...page }, reading)))) {
    daemonSets.push(...(plain(items) as DaemonSet[]));
  }
  return daemonSets;
}

function createDaemonSet(requests: Requests, body: DaemonSet, dryRun: boolean): Promise<DaemonSet> {
  const { apps, namespace } = requests;
  return requests.call('create', 'daemonsets.apps', async () =>
    plain(await apps.createNamespacedDaemonSet(
      { namespace, body: body as V1DaemonSet, fieldManager: PROGRAM_NAME, fieldValidation: 'Strict', ...(dryRun ? { dryRun: 'All' } : {}) },
      requests.sending(body),
    )) as DaemonSet);
}

function replaceDaemonSet(requests: Requests, body: DaemonSet, dryRun: boolean): Promise<DaemonSet> {
  const { apps, namespace } = requests;
  return requests.call('update', 'daemonsets.apps', async () =>
    plain(await apps.replaceNamespacedDaemonSet(
      { name: body.metadata.name ?? '', namespace, body: body as V1DaemonSet, fieldManager: PROGRAM_NAME, fieldValidation: 'Strict', ...(dryRun ? { dryRun: 'All' } : {}) },
      requests.sending(body),
    )) as DaemonSet);
}

async function deleteDaemonSet(requests: Requests, name: string, uid: string): Promise<void> {
  const { apps, namespace, reading } = requests;
  await requests.call('delete', 'daemonsets.apps', () =>
    apps.deleteNamespacedDaemonSet({ name, namespace, body: { propagationPolicy: 'Background', preconditions: { uid } } }, reading));
}

async function visitPods(requests: Requests, labelSelector: string, visit: (pod: Pod) => void): Promise<void> {
  const { core, namespace } = requests;
  const receiving = requests.receivingItems((item) => { visit(podFields(item)); });
  for await (const deserialized of pagesOf((page) =>
    requests.call('list', 'pods', () => core.listNamespacedPod({ namespace, labelSelector, limit: PAGE_SIZE, ...page }, receiving)))) {
    // client-node saw no item (receivingItems took them); this is for a response it could not stream.
    for (const pod of deserialized) visit(podFields(plain(pod)));
  }
}

async function readCronJobUid(requests: Requests, name: string): Promise<string | undefined> {
  const { batch, namespace, reading } = requests;
  const cronJob = await unlessMissing(requests.call('get', 'cronjobs.batch', () => batch.readNamespacedCronJob({ name, namespace }, reading)));
  return cronJob?.metadata?.uid;
}

async function readDeployment(requests: Requests, name: string): Promise<DeploymentRecord | undefined> {
  const { apps, namespace, reading } = requests;
  const deployment = await unlessMissing(requests.call('get', 'deployments.apps', () => apps.readNamespacedDeployment({ name, namespace }, reading)));
  if (deployment === undefined) return undefined;
  return { uid: deployment.metadata?.uid ?? '', deleting: deployment.metadata?.deletionTimestamp !== undefined, finalizers: [...(deployment.metadata?.finalizers ?? [])] };
}

async function readSecret(requests: Requests, name: string): Promise<SecretData | undefined> {
  const { core, namespace, reading } = requests;
  const secret = await unlessMissing(requests.call('get', 'secrets', () => core.readNamespacedSecret({ name, namespace }, reading)));
  return secret === undefined ? undefined : { type: secret.type ?? '', data: { ...secret.data } };
}

async function readConfigMap(requests: Requests, name: string): Promise<ConfigMapRecord | undefined> {
  const { core, namespace, reading } = requests;
  const configMap = await unlessMissing(requests.call('get', 'configmaps', () => core.readNamespacedConfigMap({ name, namespace }, reading)));
  return configMap === undefined ? undefined : { data: { ...configMap.data }, resourceVersion: configMap.metadata?.resourceVersion ?? '' };
}

async function writeConfigMap(requests: Requests, name: string, data: Record<string, string>, labels: Record<string, string>, resourceVersion: string | undefined): Promise<void> {
  const { core, namespace } = requests;
  if (resourceVersion === undefined) {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data };
    await requests.call('create', 'configmaps', () => core.createNamespacedConfigMap({ namespace, body }, requests.sending(body)));
    return;
  }
  // The version makes the patch conditional: a pass that read an older one gets 409, not a silent overwrite.
  const patch = { metadata: { resourceVersion }, data };
  await requests.call('patch', 'configmaps', () => core.patchNamespacedConfigMap({ name, namespace, body: patch }, requests.mergePatching(patch)));
}

async function listNodeNames(requests: Requests, labelSelector: string): Promise<string[]> {
  const { core, reading } = requests;
  const names: string[] = [];
  for await (const items of pagesOf((page) =>
    requests.call('list', 'nodes', () => core.listNode({ labelSelector, limit: PAGE_SIZE, ...page }, reading)))) {
    names.push(...items.map((node) => node.metadata?.name ?? ''));
  }
  return names;
}

async function patchNodeLabel(requests: Requests, node: string, key: string, value: string | null): Promise<void> {
  const { core } = requests;
  const patch = { metadata: { labels: { [key]: value } } };
  await requests.call('patch', 'nodes', () => core.patchNode({ name: node, body: patch }, requests.mergePatching(patch)));
}

async function listWarningEvents(requests: Requests, daemonSetUid: string): Promise<WarningEvent[]> {
  const { core, namespace, reading } = requests;
  const list = await requests.call('list', 'events', () =>
    core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${daemonSetUid},type=Warning`, limit: PAGE_SIZE }, reading));
  return list.items.map((event) => ({
    reason: event.reason ?? '',
    message: event.message ?? '',
    count: event.series?.count ?? event.count ?? 1,
  }));
}

/** An Event on the DaemonSet, as `kubectl describe` shows it. */
function eventOn(namespace: string, daemonSet: DaemonSet, type: EventType, reason: string, message: string): CoreV1Event {
  const now = new Date();
  const name = daemonSet.metadata.name ?? '';
  return {
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
  };
}

async function recordEvent(requests: Requests, daemonSet: DaemonSet, type: EventType, reason: string, message: string): Promise<void> {
  const { core, namespace, reading } = requests;
  const body = eventOn(namespace, daemonSet, type, reason, message);
  await requests.call('create', 'events', () => core.createNamespacedEvent({ namespace, body }, reading));
}

export function createCluster(kubeConfig: KubeConfig, options: ClusterOptions): Cluster {
  const requests = createRequests(kubeConfig, options);
  return {
    readDaemonSet: (name) => readDaemonSet(requests, name),
    listDaemonSets: (labelSelector) => listDaemonSets(requests, labelSelector),
    previewCreate: (body) => createDaemonSet(requests, body, true),
    previewReplace: (body) => replaceDaemonSet(requests, body, true),
    createDaemonSet: (body) => createDaemonSet(requests, body, false),
    replaceDaemonSet: (body) => replaceDaemonSet(requests, body, false),
    deleteDaemonSet: (name, uid) => deleteDaemonSet(requests, name, uid),
    visitPods: (labelSelector, visit) => visitPods(requests, labelSelector, visit),
    readCronJobUid: (cronJobName) => readCronJobUid(requests, cronJobName),
    readDeployment: (deploymentName) => readDeployment(requests, deploymentName),
    readSecret: (secretName) => readSecret(requests, secretName),
    readConfigMap: (configMapName) => readConfigMap(requests, configMapName),
    writeConfigMap: (configMapName, data, labels, resourceVersion) => writeConfigMap(requests, configMapName, data, labels, resourceVersion),
    listNodeNames: (labelSelector) => listNodeNames(requests, labelSelector),
    patchNodeLabel: (node, key, value) => patchNodeLabel(requests, node, key, value),
    listWarningEvents: (daemonSetUid) => listWarningEvents(requests, daemonSetUid),
    recordEvent: (daemonSet, type, reason, message) => recordEvent(requests, daemonSet, type, reason, message),
    requests: () => ({ total: requests.counts.total, byVerb: { ...requests.counts.byVerb } }),
  };
}

export function toYaml(value: unknown): string {
  return dumpYaml(value, { noRefs: true, lineWidth: -1 });
}

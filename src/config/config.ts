// Turns the environment (a ConfigMap's keys, and the few the chart or template sets on the Job's pod)
// into a typed Config, or one ConfigError that lists every bad variable at once. Nothing here touches
// the cluster.
import { EnvError, EnvMissingError, cleanEnv, makeValidator } from 'envalid';
import type { ReporterOptions } from 'envalid';
import {
  InvalidValue,
  MAX_INTERVAL_HOURS,
  isDnsLabel,
  parseAffinity,
  parseImage,
  parseImages,
  parseLabelMap,
  parseMaxUnavailable,
  parseName,
  parsePullSecrets,
  parseRegistryHosts,
  parseQuantityText,
  parseScheduledIntervalHours,
  parseTolerations,
  parseWholeNumber,
} from './config-parsers.ts';
import type { CachedImage, Toleration } from './config-parsers.ts';
import { planProblems } from './daemonset-names.ts';
import { parseImageSets } from './image-sets.ts';
import type { ImageSet } from './image-sets.ts';
import type { Json } from '../kube/k8s-types.ts';
import { parsePushgatewayUrl } from './pushgateway-url.ts';
import { parseQuantity } from './quantity.ts';

export type { CachedImage, Toleration } from './config-parsers.ts';
export type { ImageSet } from './image-sets.ts';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/**
 * How tagged images are refreshed: `digest` asks the registry once per pass and rolls only when a
 * tag moved; `restart` rolls every CACHING_INTERVAL_HOURS (for nodes that pull through mirrors the
 * pass cannot see); `never` leaves tags as first pulled.
 */
export const REFRESH_MODES = ['digest', 'restart', 'never'] as const;
export type RefreshMode = (typeof REFRESH_MODES)[number];

export interface Config {
  namespace: string;
  daemonSetName: string;
  /** IMAGES: the set "default"; empty when only IMAGE_SETS is given. */
  images: CachedImage[];
  /** IMAGE_SETS: more sets, each a DaemonSet of its own (daemonset-plan.ts). */
  imageSets: ImageSet[];
  /** MAX_IMAGES_PER_DAEMONSET: a larger set is split into chunks (chunks.ts); undefined is no limit. */
  maxImagesPerDaemonSet: number | undefined;
  /**
   * Labels that tie a DaemonSet to its install and set, on it and on its pods. Empty for the
   * DaemonSet named DAEMONSET_NAME, which keeps the labels it always had.
   */
  setLabels: Record<string, string>;
  intervalHours: number;
  resources: {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
  };
  nodeSelector: Record<string, string>;
  affinity: Record<string, Json>;
  tolerations: Toleration[];
  imagePullSecrets: string[];
  helperImage: string;
  daemonSetAnnotations: Record<string, string>;
  priorityClassName: string | undefined;
  runAsUser: number | undefined;
  maxUnavailable: string | number;
  rolloutTimeoutSeconds: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  cronJobName: string | undefined;
  /** The Job's activeDeadlineSeconds: the pass must have reported before it. */
  jobDeadlineSeconds: number | undefined;
  /** The CACHING_INTERVAL_HOURS the CronJob's schedule was made for, when it was made for one. */
  scheduledIntervalHours: number | undefined;
  refreshMode: RefreshMode;
  /** Registries reached over plain HTTP besides loopback ones (host or host:port). */
  plainHttpRegistries: string[];
  /** Label the nodes that hold every image of a set at its current digest (warm-node labels). */
  nodeLabels: boolean;
  /** METRICS_PUSHGATEWAY_URL without trailing slash; undefined: no metrics are pushed. */
  metricsPushgatewayUrl: string | undefined;
}

export interface ConfigProblem {
  variable: string;
  value: string | undefined;
  problem: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(
      `invalid configuration, nothing was changed in the cluster:\n${problems
        .map(({ variable, value, problem }) => `  ${variable}=${JSON.stringify(value ?? '')}: ${problem}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * This program's own image: it runs the pass and holds /usr/local/bin/kip-helper. The chart, the
 * OpenShift templates, the Dockerfile and the README use the same reference (test/program-image.test.ts).
 */
export const PROGRAM_IMAGE = 'quay.io/eclipse/kubernetes-image-puller:latest';

/** Defaults are raw strings and go through the same parsers as user input. */
export const DEFAULTS = {
  CACHING_INTERVAL_HOURS: '1',
  CACHING_MEMORY_REQUEST: '10Mi',
  CACHING_MEMORY_LIMIT: '20Mi',
  CACHING_CPU_REQUEST: '.05',
  CACHING_CPU_LIMIT: '.2',
  DAEMONSET_NAME: 'kubernetes-image-puller',
  NAMESPACE: 'k8s-image-puller',
  NODE_SELECTOR: '{}',
  IMAGE_PULL_SECRETS: '',
  AFFINITY: '{}',
  TOLERATIONS: '[]',
  KIP_IMAGE: PROGRAM_IMAGE,
  DAEMONSET_ANNOTATIONS: '{}',
  PRIORITY_CLASS_NAME: '',
  CACHING_RUN_AS_USER: '65532',
  MAX_UNAVAILABLE: '10%',
  ROLLOUT_TIMEOUT_SECONDS: '300',
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'json',
  CRONJOB_NAME: '',
  JOB_DEADLINE_SECONDS: '',
  SCHEDULED_INTERVAL_HOURS: '',
  REFRESH_MODE: 'digest',
  PLAIN_HTTP_REGISTRIES: '',
  IMAGE_SETS: '',
  MAX_IMAGES_PER_DAEMONSET: '',
  NODE_LABELS: 'false',
  METRICS_PUSHGATEWAY_URL: '',
} as const;

/** Variables whose empty value means "use the default" (a ConfigMap key left blank). */
const BLANK_MEANS_DEFAULT = new Set<string>([
  'CACHING_INTERVAL_HOURS', 'CACHING_MEMORY_REQUEST', 'CACHING_MEMORY_LIMIT', 'CACHING_CPU_REQUEST',
  'CACHING_CPU_LIMIT', 'DAEMONSET_NAME', 'NAMESPACE', 'KIP_IMAGE', 'MAX_UNAVAILABLE',
  'ROLLOUT_TIMEOUT_SECONDS', 'LOG_LEVEL', 'LOG_FORMAT', 'REFRESH_MODE', 'NODE_LABELS',
]);

function validator<T>(parse: (raw: string) => T) {
  return makeValidator<T>((raw) => {
    try {
      return parse(raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw new EnvError(error.message);
      throw error;
    }
  });
}

/** envalid refuses undefined results, so an optional value travels in a box. */
function optional<T>(parse: (raw: string) => T) {
  return (raw: string): { value: T | undefined } => ({ value: raw.trim() === '' ? undefined : parse(raw) });
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    const text = raw.trim();
    if (!(choices as readonly string[]).includes(text)) throw new InvalidValue(`expected one of ${choices.join(', ')}`);
    return text as T;
  };
}

/** For a variable the chart or the template sets on the Job's pod: the message says where to fix it. */
function setFrom<T>(origin: string, parse: (raw: string) => T) {
  return (raw: string): T => {
    try {
      return parse(raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw new InvalidValue(`${error.message}; ${origin}`);
      throw error;
    }
  };
}

function namespaceName(raw: string): string {
  const text = raw.trim();
  if (!isDnsLabel(text)) throw new InvalidValue('expected a namespace name (DNS-1123 label, at most 63 characters)');
  return text;
}

function daemonSetName(raw: string): string {
  const text = raw.trim();
  if (!isDnsLabel(text)) throw new InvalidValue('expected a DaemonSet name (DNS-1123 label, at most 63 characters)');
  return text;
}

const SPECS = {
  IMAGES: validator(parseImages)({ desc: 'images to cache, as name=image;name=image' }),
  CACHING_INTERVAL_HOURS: validator((raw) => parseWholeNumber(raw, 1, MAX_INTERVAL_HOURS))(),
  CACHING_MEMORY_REQUEST: validator(parseQuantityText)(),
  CACHING_MEMORY_LIMIT: validator(parseQuantityText)(),
  CACHING_CPU_REQUEST: validator(parseQuantityText)(),
  CACHING_CPU_LIMIT: validator(parseQuantityText)(),
  DAEMONSET_NAME: validator(daemonSetName)(),
  NAMESPACE: validator(namespaceName)(),
  NODE_SELECTOR: validator((raw) => parseLabelMap(raw, 'labels'))(),
  IMAGE_PULL_SECRETS: validator(parsePullSecrets)(),
  AFFINITY: validator(parseAffinity)(),
  TOLERATIONS: validator(parseTolerations)(),
  KIP_IMAGE: validator(parseImage)(),
  DAEMONSET_ANNOTATIONS: validator((raw) => parseLabelMap(raw, 'annotations'))(),
  PRIORITY_CLASS_NAME: validator(optional((raw) => parseName(raw, 'PriorityClass name', 253)))(),
  CACHING_RUN_AS_USER: validator(optional((raw) => parseWholeNumber(raw, 1, 2147483647)))(),
  MAX_UNAVAILABLE: validator(parseMaxUnavailable)(),
  ROLLOUT_TIMEOUT_SECONDS: validator((raw) => parseWholeNumber(raw, 1, 86400))(),
  LOG_LEVEL: validator(oneOf(LOG_LEVELS))(),
  LOG_FORMAT: validator(oneOf(LOG_FORMATS))(),
  CRONJOB_NAME: validator(optional((raw) => parseName(raw, 'CronJob name', 52)))(),
  REFRESH_MODE: validator(oneOf(REFRESH_MODES))(),
  PLAIN_HTTP_REGISTRIES: validator(parseRegistryHosts)(),
  IMAGE_SETS: validator(parseImageSets)(),
  MAX_IMAGES_PER_DAEMONSET: validator(optional((raw) => parseWholeNumber(raw, 1, 1000)))(),
  NODE_LABELS: validator(oneOf(['true', 'false'] as const))(),
  METRICS_PUSHGATEWAY_URL: validator(optional(parsePushgatewayUrl))(),
  JOB_DEADLINE_SECONDS: validator(optional(setFrom(
    "it is the Job's activeDeadlineSeconds: cronJob.activeDeadlineSeconds (chart) or JOB_ACTIVE_DEADLINE_SECONDS (template)",
    (raw) => parseWholeNumber(raw, 1, 86400),
  )))(),
  SCHEDULED_INTERVAL_HOURS: validator(optional(setFrom(
    "the chart sets it from configMap.cachingIntervalHours, the template from the CronJob's schedule",
    parseScheduledIntervalHours,
  )))(),
};

export type Environment = Record<string, string | undefined>;

function isSet(env: Environment, name: string): boolean {
  const value = env[name];
  return value !== undefined && !(value.trim() === '' && BLANK_MEANS_DEFAULT.has(name));
}

/**
 * Kubernetes gives a container that has only a limit a request equal to it. Likewise a request
 * left to its default follows a limit below that default, instead of exceeding it; a request that
 * was set is checked against the limit as given (crossChecks).
 */
function requestsFollowingLowerLimits(env: Environment, merged: Record<string, string>): Record<string, string> {
  const adjusted = { ...merged };
  for (const kind of ['MEMORY', 'CPU'] as const) {
    const request = `CACHING_${kind}_REQUEST` as const;
    const limit = (merged[`CACHING_${kind}_LIMIT`] ?? '').trim();
    const limited = parseQuantity(limit);
    const defaultRequest = parseQuantity(DEFAULTS[request]);
    if (isSet(env, request) || limited === undefined || defaultRequest === undefined || limited >= defaultRequest) continue;
    adjusted[request] = limit;
  }
  return adjusted;
}

function withDefaults(env: Environment): Record<string, string> {
  const merged: Record<string, string> = { ...DEFAULTS };
  for (const name of Object.keys(SPECS)) {
    if (isSet(env, name)) merged[name] = env[name] ?? '';
  }
  return requestsFollowingLowerLimits(env, merged);
}

const IMAGES_REQUIRED = 'is required (name=image;name=image), unless IMAGE_SETS names a set';

/** With IMAGE_SETS given, IMAGES may be left out or blank: then there is no "default" set. */
function imagesLeftToSets(raw: Record<string, string>): boolean {
  return (raw.IMAGES ?? '').trim() === '' && (raw.IMAGE_SETS ?? '').trim() !== '';
}

const SPECS_WITHOUT_IMAGES = { ...SPECS, IMAGES: validator((): CachedImage[] => [])({ default: [] }) };

function collectProblems(raw: Record<string, string>) {
  return ({ errors }: ReporterOptions<typeof SPECS>): void => {
    const problems = Object.entries(errors).map(([variable, error]): ConfigProblem => ({
      variable,
      value: raw[variable],
      problem: error instanceof EnvMissingError ? IMAGES_REQUIRED : error.message,
    }));
    if (problems.length > 0) throw new ConfigError(problems);
  };
}

/** Compares the trimmed values, as they reach the manifest; an unparsable one is reported by its own check. */
function requestWithinLimit(kind: string, rawRequest: string, rawLimit: string): ConfigProblem | undefined {
  const limit = rawLimit.trim();
  const requested = parseQuantity(rawRequest.trim());
  const limited = parseQuantity(limit);
  if (requested === undefined || limited === undefined || requested <= limited) return undefined;
  return {
    variable: `CACHING_${kind}_REQUEST`,
    value: rawRequest,
    problem: `is above CACHING_${kind}_LIMIT=${limit}; a request may not exceed its limit`,
  };
}

function crossChecks(raw: Record<string, string>): ConfigProblem[] {
  const memory = requestWithinLimit('MEMORY', raw.CACHING_MEMORY_REQUEST ?? '', raw.CACHING_MEMORY_LIMIT ?? '');
  const cpu = requestWithinLimit('CPU', raw.CACHING_CPU_REQUEST ?? '', raw.CACHING_CPU_LIMIT ?? '');
  return [memory, cpu].filter((problem) => problem !== undefined);
}

/** Validates every variable and reports all problems together as one ConfigError. */
export function loadConfig(env: Environment): Config {
  const raw = withDefaults(env);
  const related = crossChecks(raw);
  let clean;
  try {
    clean = cleanEnv(raw, imagesLeftToSets(raw) ? SPECS_WITHOUT_IMAGES : SPECS, { reporter: collectProblems(raw) });
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError([...error.problems, ...related]);
    throw error;
  }
  if (related.length > 0) throw new ConfigError(related);
  const config: Config = {
    namespace: clean.NAMESPACE,
    daemonSetName: clean.DAEMONSET_NAME,
    images: clean.IMAGES,
    imageSets: clean.IMAGE_SETS,
    maxImagesPerDaemonSet: clean.MAX_IMAGES_PER_DAEMONSET.value,
    setLabels: {},
    intervalHours: clean.CACHING_INTERVAL_HOURS,
    resources: {
      requests: { cpu: clean.CACHING_CPU_REQUEST, memory: clean.CACHING_MEMORY_REQUEST },
      limits: { cpu: clean.CACHING_CPU_LIMIT, memory: clean.CACHING_MEMORY_LIMIT },
    },
    nodeSelector: clean.NODE_SELECTOR,
    affinity: clean.AFFINITY,
    tolerations: clean.TOLERATIONS,
    imagePullSecrets: clean.IMAGE_PULL_SECRETS,
    helperImage: clean.KIP_IMAGE,
    daemonSetAnnotations: clean.DAEMONSET_ANNOTATIONS,
    priorityClassName: clean.PRIORITY_CLASS_NAME.value,
    runAsUser: clean.CACHING_RUN_AS_USER.value,
    maxUnavailable: clean.MAX_UNAVAILABLE,
    rolloutTimeoutSeconds: clean.ROLLOUT_TIMEOUT_SECONDS,
    logLevel: clean.LOG_LEVEL,
    logFormat: clean.LOG_FORMAT,
    cronJobName: clean.CRONJOB_NAME.value,
    jobDeadlineSeconds: clean.JOB_DEADLINE_SECONDS.value,
    scheduledIntervalHours: clean.SCHEDULED_INTERVAL_HOURS.value,
    refreshMode: clean.REFRESH_MODE,
    plainHttpRegistries: clean.PLAIN_HTTP_REGISTRIES,
    nodeLabels: clean.NODE_LABELS === 'true',
    metricsPushgatewayUrl: clean.METRICS_PUSHGATEWAY_URL.value,
  };
  // Nothing to cache would make a pass remove every DaemonSet of the install: that is a mistake, not a wish.
  if (config.images.length === 0 && config.imageSets.length === 0) throw new ConfigError([{ variable: 'IMAGES', value: raw.IMAGES, problem: IMAGES_REQUIRED }]);
  const planned = planProblems(config);
  if (planned.length > 0) throw new ConfigError(planned.map(({ variable, problem }) => ({ variable, value: raw[variable], problem })));
  return config;
}

/** Seconds the pass keeps before its Job's deadline to record Events and log its summary. */
export const REPORT_MARGIN_SECONDS = 30;

/** How long the pass may wait for the rollout and still report before the Job is killed. */
export function waitBudgetSeconds(config: Config): number {
  if (config.jobDeadlineSeconds === undefined) return config.rolloutTimeoutSeconds;
  return Math.max(1, Math.min(config.rolloutTimeoutSeconds, config.jobDeadlineSeconds - REPORT_MARGIN_SECONDS));
}

/**
 * Hours between the runs of the schedule made for `hours` (the chart's "kip.schedule"): an interval
 * that does not divide a day runs hourly.
 */
function hoursBetweenRuns(hours: number): number {
  return 24 % hours === 0 ? hours : 1;
}

/**
 * The pass re-pulls once the interval has elapsed at a run, so runs every P hours keep an interval N
 * exact when P divides N; extra runs in between only reconcile. Otherwise the re-pull waits for the
 * next run after N hours.
 */
function scheduleWarning(intervalHours: number, scheduledIntervalHours: number): string | undefined {
  const period = hoursBetweenRuns(scheduledIntervalHours);
  if (intervalHours % period === 0) return undefined;
  const actual = Math.ceil(intervalHours / period) * period;
  return (
    `CACHING_INTERVAL_HOURS=${String(intervalHours)} in the ConfigMap, but the CronJob's schedule was made for ` +
    `${String(scheduledIntervalHours)}h, so tagged images are re-pulled every ${String(actual)}h; run helm upgrade ` +
    `(or process openshift/app.yaml again with SCHEDULE_HOURS="*") so the schedule follows it`
  );
}

function deadlineWarning(config: Config): string | undefined {
  const deadline = config.jobDeadlineSeconds;
  if (deadline === undefined || config.rolloutTimeoutSeconds + REPORT_MARGIN_SECONDS <= deadline) return undefined;
  return (
    `ROLLOUT_TIMEOUT_SECONDS=${String(config.rolloutTimeoutSeconds)} does not fit the Job's ` +
    `activeDeadlineSeconds=${String(deadline)} with ${String(REPORT_MARGIN_SECONDS)}s to report; the pass stops ` +
    `waiting after ${String(waitBudgetSeconds(config))}s. Raise cronJob.activeDeadlineSeconds (chart; its default ` +
    `follows configMap.rolloutTimeoutSeconds at helm upgrade) / JOB_ACTIVE_DEADLINE_SECONDS (template) or lower ` +
    `ROLLOUT_TIMEOUT_SECONDS`
  );
}

/** Settings that are valid but do not fit together: the pass still runs, and says what to change. */
export function configWarnings(config: Config): string[] {
  const schedule = config.scheduledIntervalHours === undefined
    ? undefined
    : scheduleWarning(config.intervalHours, config.scheduledIntervalHours);
  return [schedule, deadlineWarning(config)].filter((warning) => warning !== undefined);
}

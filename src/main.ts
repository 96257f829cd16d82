// Command line entry: parse flags, load the configuration, run one pass, log one summary line and
// set the exit code. The process ends when nothing is left to do; only a connection that still holds
// it after the summary is cut short, and then only once stdout has written out every log line.
import packageJson from '../package.json' with { type: 'json' };
import { ApiError, ClusterConfigError } from './kube/cluster.ts';
import { ConfigError, DEFAULTS, configWarnings, loadConfig, waitBudgetSeconds } from './config/config.ts';
import type { Config, ConfigProblem } from './config/config.ts';
import { planDaemonSets } from './plan/daemonset-plan.ts';
import type { PlannedDaemonSet } from './plan/daemonset-plan.ts';
import { desiredDaemonSet } from './plan/desired.ts';
import { ExitCode } from './pass/exit-codes.ts';
import { earlyLogger } from './cli/log.ts';
import { USAGE, parseArguments } from './cli/arguments.ts';
import type { StatusRequest } from './cli/arguments.ts';
import { nodeTooOld } from './cli/node-version.ts';
import { passSummary } from './cli/summary.ts';
import type { Cluster } from './kube/cluster.ts';
import type { Logger, PassOutcome, RejectedValue } from './pass/run.ts';
import type { RegistryRequestCounts } from './registry/client.ts';
import { describeApiError, runPass } from './pass/run.ts';
import { lookupDeadline } from './pass/registry-hosts.ts';
import { checkPlanWithServer } from './pass/server-check.ts';
import { deferredRegistryClient } from './registry/deferred.ts';
import { describeReservation, podReservation } from './plan/reservation.ts';
import { abortableSleep } from './pass/retry.ts';

const VERSION = packageJson.version;

/** The Kubernetes client takes most of the start-up time; --help, --version and bad config skip it. */
function loadClientAdapter() {
  return import('./kube/kube.ts');
}

/** Only a pass that asks a registry loads the registry client (a chunk of its own in the bundle). */
function loadRegistryClient() {
  return import('./registry/client.ts');
}

async function main(): Promise<ExitCode> {
  const mode = parseArguments(process.argv.slice(2));
  if (mode === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.healthy;
  }
  if (mode === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return ExitCode.healthy;
  }
  if (typeof mode === 'object' && 'status' in mode) return status(mode);
  if (typeof mode === 'object') {
    process.stderr.write(`unknown argument "${mode.unknown}"\n\n${USAGE}\n`);
    return ExitCode.invalidConfig;
  }
  const tooOld = nodeTooOld(process.version);
  if (tooOld !== undefined) {
    process.stderr.write(`${tooOld}\n`);
    return ExitCode.error;
  }

  const log = earlyLogger(process.env);
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logInvalid(log, error.problems);
    log.error('pass finished: invalid configuration, nothing was changed in the cluster', {
      action: 'invalid-config',
      exitCode: ExitCode.invalidConfig,
      invalid: error.problems.map((problem) => problem.variable),
    });
    return ExitCode.invalidConfig;
  }
  log.level = config.logLevel;

  if (mode === 'dry-run') {
    const plan = planDaemonSets(config);
    const { toYaml } = await loadClientAdapter();
    process.stdout.write(plan.map((planned) => {
      const daemonSet = desiredDaemonSet(planned.config);
      const reservation = describeReservation(podReservation(daemonSet.spec.template.spec));
      return `# ${heading(planned, plan.length)}${String(planned.config.images.length)} image(s); reserved per node: ${reservation}\n${toYaml(daemonSet)}`;
    }).join('---\n'));
    return ExitCode.healthy;
  }

  const started = Date.now();
  const waitSeconds = waitBudgetSeconds(config);
  const warnings = configWarnings(config);
  for (const warning of warnings) log.warn(warning);
  // One deadline for the pass and for its requests, counted from here: loading the client counts too.
  const deadline = started + waitSeconds * 1000;
  const interrupt = new AbortController();
  const cluster = await connect(config, log, { signal: interrupt.signal, deadline });
  if (cluster === undefined) return ExitCode.error;
  if (mode === 'server-dry-run') return serverDryRun(cluster, config, log);

  const onSignal = (): void => {
    log.warn('termination requested; ending the wait and reporting');
    interrupt.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    // Lookups get their share of the pass and no more: no registry request outlives it.
    const lookupsUntil = lookupDeadline(started, deadline);
    const registry = deferredRegistryClient(async () => (await loadRegistryClient()).createRegistryClient({ version: VERSION, plainHttpRegistries: config.plainHttpRegistries, signal: interrupt.signal, deadline: () => lookupsUntil }));
    // Every pod gets KUBERNETES_SERVICE_HOST, a host does not: a loopback registry is then the pod's, not the node's.
    const runsInPod = process.env.KUBERNETES_SERVICE_HOST !== undefined;
    const outcome = await runPass({ config, cluster, registry, log, now: () => new Date(), sleep: abortableSleep, signal: interrupt.signal, deadline, lookupDeadline: lookupsUntil, runsInPod }, waitSeconds);
    for (const warning of [...(outcome.refresh?.warnings ?? []), ...outcome.warnings]) log.warn(warning);
    logInvalid(log, outcome.rejected);
    const durationMs = Date.now() - started;
    const pushed = await pushMetrics(config, outcome, durationMs, registry.requests());
    if (pushed !== undefined) log.warn(pushed);
    const summary = passSummary(config, outcome, { durationMs, requests: cluster.requests(), registryRequests: registry.requests(), warnings: pushed === undefined ? warnings : [...warnings, pushed] });
    if (outcome.exitCode === ExitCode.healthy) log.info('pass finished', summary);
    else log.error(`pass finished: ${outcome.error ?? outcome.action}`, summary);
    return outcome.exitCode;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** Pushes the pass's figures when METRICS_PUSHGATEWAY_URL is set; a warning when that fails, never a different exit code. */
async function pushMetrics(config: Config, outcome: PassOutcome, durationMs: number, registryRequests: RegistryRequestCounts): Promise<string | undefined> {
  if (config.metricsPushgatewayUrl === undefined) return undefined;
  const { metricsCoverage, passMetricsFrom, pushPassMetrics } = await import('./metrics/index.ts');
  const coverage = outcome.coverage.length === 0 ? undefined : metricsCoverage(outcome.coverage);
  return pushPassMetrics(config.metricsPushgatewayUrl, passMetricsFrom({ config, outcome, exitCode: outcome.exitCode, durationMs, registryRequests, finishedAt: new Date(), coverage }));
}

/** The cluster adapter, or undefined (after logging why) when there is no cluster configuration. */
async function connect(config: Config, log: Logger, limits: { signal: AbortSignal; deadline: number }): Promise<Cluster | undefined> {
  const { createCluster, loadKubeConfig } = await loadClientAdapter();
  try {
    const kubeConfig = loadKubeConfig();
    return createCluster(kubeConfig, { namespace: config.namespace, version: VERSION, signal: limits.signal, deadline: () => limits.deadline });
  } catch (error) {
    if (!(error instanceof ClusterConfigError)) throw error;
    log.error(`pass finished: ${error.message}`, { action: 'failed', exitCode: ExitCode.error, error: error.message });
    return undefined;
  }
}

const STATUS_DEADLINE_MS = 60_000;

/** `status`: reads the install's DaemonSets and pods with the user's kubeconfig and prints their coverage. */
async function status({ status: request }: StatusRequest): Promise<ExitCode> {
  const namespace = request.namespace ?? (process.env.NAMESPACE?.trim() || DEFAULTS.NAMESPACE);
  const install = request.name ?? (process.env.DAEMONSET_NAME?.trim() || DEFAULTS.DAEMONSET_NAME);
  const { createCluster, loadKubeConfig } = await loadClientAdapter();
  const { readStatus, statusJson, statusTable } = await import('./cli/status.ts');
  const deadline = Date.now() + STATUS_DEADLINE_MS;
  try {
    const cluster = createCluster(loadKubeConfig(), { namespace, version: VERSION, deadline: () => deadline });
    const entries = await readStatus(cluster, install);
    process.stdout.write(request.output === 'json' ? statusJson(entries) : statusTable(entries, { namespace, install }));
    return ExitCode.healthy;
  } catch (error) {
    if (error instanceof ClusterConfigError || error instanceof ApiError) {
      process.stderr.write(`status: ${error instanceof ApiError ? describeApiError(error, namespace) : error.message}\n`);
      return ExitCode.error;
    }
    throw error;
  }
}

/** "kip-gpu-2: set "gpu", chunk 2 of 3, " — nothing when the install is one DaemonSet, as it always was. */
function heading(planned: PlannedDaemonSet, daemonSets: number): string {
  if (daemonSets === 1 && planned.set === 'default' && planned.chunks === 1) return '';
  const set = planned.set === 'default' ? 'the IMAGES set' : `set "${planned.set}"`;
  return `${planned.config.daemonSetName}: ${set}, ${planned.chunks === 1 ? '' : `chunk ${String(planned.chunk)} of ${String(planned.chunks)}, `}`;
}

async function serverDryRun(cluster: Cluster, config: Config, log: Logger): Promise<ExitCode> {
  const check = await checkPlanWithServer(cluster, planDaemonSets(config));
  logInvalid(log, check.rejected);
  if (check.exitCode !== ExitCode.healthy) {
    log.error(`dry run finished: ${check.error ?? 'rejected'}`, { action: 'server-dry-run', exitCode: check.exitCode, error: check.error, invalid: check.rejected.map((rejected) => rejected.variable) });
    return check.exitCode;
  }
  const { toYaml } = await loadClientAdapter();
  process.stdout.write(`# accepted by the API server (dry run; nothing was stored)\n${check.accepted.map((daemonSet) => toYaml(daemonSet)).join('---\n')}`);
  return ExitCode.healthy;
}

/**
 * One line per bad value, the same whether loadConfig or the API server refused it: the variable,
 * its value, the reason.
 */
function logInvalid(log: Logger, invalid: Array<RejectedValue | ConfigProblem>): void {
  for (const item of invalid) {
    const { variable, problem } = item;
    const value = 'value' in item ? item.value : process.env[variable];
    log.error(`invalid ${variable}=${JSON.stringify(value ?? '')}: ${problem}`, { variable, value, problem });
  }
}

/**
 * The summary is logged by now. A connection whose TLS handshake never completes is not released by
 * its AbortSignal and would hold the process until undici's own 10 s connect timeout, whether it is
 * to the API server (client-node makes a dispatcher per request, out of our reach) or to a registry.
 * So after a moment, and once stdout has written out everything queued before it, the process
 * leaves by force; the timer is unref'd, so a normal exit never waits for it.
 */
const EXIT_GRACE_MS = 500;

function leaveOnceStdoutDrained(): void {
  process.stdout.write('', () => process.exit());
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(leaveOnceStdoutDrained, EXIT_GRACE_MS).unref();
  },
  (error: unknown) => {
    process.stderr.write(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = ExitCode.error;
  },
);

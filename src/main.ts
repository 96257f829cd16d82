// Command line entry: parse flags, load the configuration, run one pass, log one summary line and
// set the exit code. It never calls process.exit(), so no log line is lost on the way out.
import packageJson from '../package.json' with { type: 'json' };
import { ClusterConfigError } from './cluster.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { Config } from './config.ts';
import { desiredDaemonSet } from './desired.ts';
import { ExitCode } from './exit-codes.ts';
import { earlyLogger } from './log.ts';
import { runPass } from './pass.ts';
import { describeReservation, podReservation } from './reservation.ts';
import { abortableSleep } from './retry.ts';

const VERSION = packageJson.version;

const USAGE = `Usage: kubernetes-image-puller [--dry-run] [--help] [--version]

Runs one reconcile pass: makes sure the image-caching DaemonSet exists, matches the configuration
(environment variables, see README) and is healthy, then exits.

  --dry-run   print the desired DaemonSet as YAML and exit; touches no cluster
  --help      show this text
  --version   print the version

Exit codes: 0 healthy, 1 unexpected or API error, 2 invalid configuration,
            3 not healthy by the deadline, 4 refused (DaemonSet not managed by this program)`;

type Mode = 'pass' | 'dry-run' | 'help' | 'version';

/** The Kubernetes client takes most of the start-up time; --help, --version and bad config skip it. */
function loadClientAdapter() {
  return import('./kube.ts');
}

function parseArguments(args: string[]): Mode | { unknown: string } {
  let mode: Mode = 'pass';
  for (const arg of args) {
    if (arg === '--dry-run') mode = 'dry-run';
    else if (arg === '--help' || arg === '-h') return 'help';
    else if (arg === '--version') return 'version';
    else return { unknown: arg };
  }
  return mode;
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
  if (typeof mode === 'object') {
    process.stderr.write(`unknown argument "${mode.unknown}"\n\n${USAGE}\n`);
    return ExitCode.invalidConfig;
  }

  const log = earlyLogger(process.env);
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      log.error(`invalid ${problem.variable}=${JSON.stringify(problem.value ?? '')}: ${problem.problem}`, { ...problem });
    }
    log.error('pass finished: invalid configuration, nothing was changed in the cluster', {
      action: 'invalid-config',
      exitCode: ExitCode.invalidConfig,
      invalid: error.problems.map((problem) => problem.variable),
    });
    return ExitCode.invalidConfig;
  }
  log.level = config.logLevel;

  if (mode === 'dry-run') {
    const daemonSet = desiredDaemonSet(config);
    const reservation = describeReservation(podReservation(daemonSet.spec.template.spec));
    const { toYaml } = await loadClientAdapter();
    process.stdout.write(`# ${String(config.images.length)} image(s); reserved per node: ${reservation}\n${toYaml(daemonSet)}`);
    return ExitCode.healthy;
  }

  const started = Date.now();
  const waitSeconds = config.rolloutTimeoutSeconds;
  // One deadline for the pass and for its requests, counted from here: loading the client counts too.
  const deadline = started + waitSeconds * 1000;
  const { createCluster, loadKubeConfig } = await loadClientAdapter();
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig();
  } catch (error) {
    if (!(error instanceof ClusterConfigError)) throw error;
    log.error(`pass finished: ${error.message}`, { action: 'failed', exitCode: ExitCode.error, error: error.message });
    return ExitCode.error;
  }
  const interrupt = new AbortController();
  const cluster = createCluster(kubeConfig, {
    namespace: config.namespace,
    daemonSetName: config.daemonSetName,
    version: VERSION,
    signal: interrupt.signal,
    deadline: () => deadline,
  });
  const onSignal = (): void => {
    log.warn('termination requested; ending the wait and reporting');
    interrupt.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const outcome = await runPass({ config, cluster, log, now: () => new Date(), sleep: abortableSleep, signal: interrupt.signal, deadline }, waitSeconds);
    for (const { variable, problem } of outcome.rejected) {
      log.error(`invalid ${variable}=${JSON.stringify(process.env[variable] ?? '')}: ${problem}`, { variable, value: process.env[variable], problem });
    }
    const summary = {
      action: outcome.exitCode === ExitCode.invalidConfig ? 'invalid-config' : outcome.action,
      daemonset: config.daemonSetName,
      namespace: config.namespace,
      changed: outcome.changed,
      ...(outcome.tolerated.length === 0 ? {} : { tolerated: outcome.tolerated }),
      images: config.images.length,
      desired: outcome.rollout?.desired,
      ready: outcome.rollout?.ready,
      updated: outcome.rollout?.updated,
      available: outcome.rollout?.available,
      durationMs: Date.now() - started,
      waitedMs: outcome.waitedMs,
      ...(outcome.diagnosisMs === 0 ? {} : { diagnosisMs: outcome.diagnosisMs }),
      requests: cluster.requests(),
      exitCode: outcome.exitCode,
      ...(outcome.diagnosis.length === 0 ? {} : { diagnosis: outcome.diagnosis }),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.rejected.length === 0 ? {} : { invalid: outcome.rejected.map((rejected) => rejected.variable) }),
    };
    if (outcome.exitCode === ExitCode.healthy) log.info('pass finished', summary);
    else log.error(`pass finished: ${outcome.error ?? outcome.action}`, summary);
    return outcome.exitCode;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = ExitCode.error;
  },
);

// The metrics a pass pushes to a Pushgateway (METRICS_PUSHGATEWAY_URL), in the Prometheus text
// exposition format (version 0.0.4). Pure: from the figures of one finished pass to the body of one
// request. The grouping labels (job, namespace, daemonset) are in the push URL (push.ts), not here.

/** How the images of a set stand on its nodes (per-node coverage). */
export const IMAGE_STATES = ['current', 'other-digest', 'pulling', 'failing'] as const;
export type ImageState = (typeof IMAGE_STATES)[number];

export interface SetCoverage {
  /** The image set ("default" for IMAGES). */
  set: string;
  /** Nodes the set's DaemonSets should run on. */
  nodesExpected: number;
  /** Of those, nodes that hold every image of the set at the wanted digest. */
  nodesComplete: number;
}

export interface ImageCoverage {
  set: string;
  /** The image's name in IMAGES / IMAGE_SETS (the container name), or its reference. */
  image: string;
  state: ImageState;
  nodes: number;
}

/** Everything one pass reports: filled in by main at the end of a pass. */
export interface PassMetrics {
  namespace: string;
  /** DAEMONSET_NAME: with `namespace`, the install; both are grouping labels of the push. */
  daemonSet: string;
  sets: SetCoverage[];
  images: ImageCoverage[];
  durationSeconds: number;
  exitCode: number;
  /** Registry requests this pass made, by registry host. */
  registryRequests: Record<string, number>;
  succeeded: boolean;
  finishedAt: Date;
}

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'kip_';

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

/** The metric names, with their meaning (the README's Metrics section lists the same). */
export const METRICS = {
  lastRun: { name: 'kip_last_run_timestamp_seconds', help: 'Unix time at which the last pass finished, whatever its outcome.' },
  lastSuccess: { name: 'kip_last_success_timestamp_seconds', help: 'Unix time at which the last successful pass (exit code 0) finished.' },
  succeeded: { name: 'kip_pass_succeeded', help: '1 if the last pass succeeded (exit code 0), else 0.' },
  exitCode: { name: 'kip_pass_exit_code', help: 'Exit code of the last pass: 0 healthy, 1 error, 2 invalid configuration, 3 not healthy by the deadline, 4 refused.' },
  duration: { name: 'kip_pass_duration_seconds', help: 'Wall time of the last pass, in seconds.' },
  nodesExpected: { name: 'kip_set_nodes_expected', help: 'Nodes the image set should be cached on, as of the last pass.' },
  nodesComplete: { name: 'kip_set_nodes_complete', help: 'Nodes that hold every image of the set at the wanted digest, as of the last pass.' },
  imageNodes: { name: 'kip_image_nodes', help: 'Nodes by state of one image of a set (current, other-digest, pulling, failing), as of the last pass.' },
  registryRequests: { name: 'kip_registry_requests', help: 'Requests the last pass made to a registry, by host.' },
} as const;

/** Label values: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed are escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's float syntax as Prometheus parses it: NaN, +Inf, -Inf, and JavaScript's shortest form otherwise. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function renderFamily(family: Family): string[] {
  if (family.samples.length === 0) return [];
  return [
    `# HELP ${family.name} ${escapeHelp(family.help)}`,
    `# TYPE ${family.name} gauge`,
    ...family.samples.map(({ labels, value }) => {
      const pairs = Object.entries(labels).map(([name, text]) => `${name}="${escapeLabelValue(text)}"`);
      return `${family.name}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${formatValue(value)}`;
    }),
  ];
}

function single(metric: { name: string; help: string }, value: number): Family {
  return { ...metric, samples: [{ labels: {}, value }] };
}

function byText<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/**
 * The request body for one pass. Every metric is a gauge (each push replaces the last values);
 * kip_last_success_timestamp_seconds is there only when the pass succeeded, so a failed pass, pushed
 * with POST, leaves the last success in place (push.ts). A metric with no sample is left out.
 * Samples are sorted, so the body depends only on the figures.
 */
export function renderExposition(metrics: PassMetrics): string {
  const finished = metrics.finishedAt.getTime() / 1000;
  const sets = [...metrics.sets].sort(byText((item) => item.set));
  const images = [...metrics.images].sort(byText((item) => `${item.set}\u0000${item.image}\u0000${item.state}`));
  const hosts = Object.keys(metrics.registryRequests).sort();
  const families: Family[] = [
    single(METRICS.lastRun, finished),
    ...(metrics.succeeded ? [single(METRICS.lastSuccess, finished)] : []),
    single(METRICS.succeeded, metrics.succeeded ? 1 : 0),
    single(METRICS.exitCode, metrics.exitCode),
    single(METRICS.duration, metrics.durationSeconds),
    { ...METRICS.nodesExpected, samples: sets.map(({ set, nodesExpected }) => ({ labels: { set }, value: nodesExpected })) },
    { ...METRICS.nodesComplete, samples: sets.map(({ set, nodesComplete }) => ({ labels: { set }, value: nodesComplete })) },
    { ...METRICS.imageNodes, samples: images.map(({ set, image, state, nodes }) => ({ labels: { set, image, state }, value: nodes })) },
    { ...METRICS.registryRequests, samples: hosts.map((host) => ({ labels: { host }, value: metrics.registryRequests[host] ?? 0 })) },
  ];
  const lines = families.flatMap(renderFamily);
  return `${lines.join('\n')}\n`;
}

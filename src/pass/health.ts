// Is the rollout complete, and if not, why? The verdict follows `kubectl rollout status`; the
// diagnosis groups unready pods by image and reason so it stays a few lines on any cluster size.
import type { WarningEvent } from '../kube/cluster.ts';
import { PROGRAM_IMAGE } from '../config/config.ts';
import { HELPER_IN_IMAGE, INSTALL_CONTAINER } from '../plan/desired.ts';
import type { ContainerStatus, DaemonSet, Pod } from '../kube/k8s-types.ts';

export interface Rollout {
  complete: boolean;
  observed: boolean;
  desired: number;
  updated: number;
  ready: number;
  available: number;
}

export function rolloutOf(daemonSet: DaemonSet): Rollout {
  const status = daemonSet.status ?? {};
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  const observed = (status.observedGeneration ?? 0) >= (daemonSet.metadata.generation ?? 1);
  return {
    complete: observed && updated >= desired && available >= desired,
    observed,
    desired,
    updated,
    ready: status.numberReady ?? 0,
    available,
  };
}

export interface DiagnosisGroup {
  image: string;
  reason: string;
  nodes: number;
  exampleNode: string;
  message: string | undefined;
  /** What to change, when the finding alone does not say. */
  remedy?: string;
}

const BENIGN_WAITING = new Set(['PodInitializing', 'ContainerCreating']);

interface Finding {
  image: string;
  reason: string;
  message: string | undefined;
  remedy?: string;
}

/** How container runtimes report a command that is not in the image. */
const START_FAILURES = new Set(['StartError', 'ContainerCannotRun', 'RunContainerError', 'CreateContainerError']);
const NO_SUCH_FILE = /no such file|not found/i;

/**
 * Why the install container could not run the helper, when it could not: the image (KIP_IMAGE) has
 * no /usr/local/bin/kip-helper. A failed pull or a crash inside the helper are other findings.
 */
function helperStartFailure(status: ContainerStatus): string | undefined {
  for (const terminated of [status.state?.terminated, status.lastState?.terminated]) {
    if (terminated === undefined) continue;
    const code = terminated.exitCode ?? 0;
    if (code === 127 || code === 128 || START_FAILURES.has(terminated.reason ?? '') || NO_SUCH_FILE.test(terminated.message ?? '')) {
      return `${terminated.reason ?? 'terminated'}, exit code ${String(code)}`;
    }
  }
  const waiting = status.state?.waiting;
  if (waiting !== undefined && START_FAILURES.has(waiting.reason ?? '') && NO_SUCH_FILE.test(waiting.message ?? '')) return waiting.reason;
  return undefined;
}

function missingHelperFinding(image: string, evidence: string): Finding {
  return {
    image: `KIP_IMAGE=${image}`,
    reason: `no ${HELPER_IN_IMAGE} in the image`,
    message: evidence,
    remedy: `set KIP_IMAGE to this program's image (${PROGRAM_IMAGE}), as the chart and the OpenShift templates do`,
  };
}

function containerFindings(statuses: ContainerStatus[] | undefined, images: Map<string, string>): Finding[] {
  const findings: Finding[] = [];
  for (const status of statuses ?? []) {
    const image = images.get(status.name) ?? status.image;
    const helperFailure = status.name === INSTALL_CONTAINER ? helperStartFailure(status) : undefined;
    if (helperFailure !== undefined) {
      findings.push(missingHelperFinding(image, helperFailure));
      continue;
    }
    const waiting = status.state?.waiting;
    if (waiting?.reason !== undefined && !BENIGN_WAITING.has(waiting.reason)) {
      findings.push({ image, reason: waiting.reason, message: waiting.message });
    }
    const terminated = status.state?.terminated;
    if (terminated !== undefined && (terminated.exitCode ?? 0) !== 0) {
      findings.push({ image, reason: terminated.reason ?? `exit code ${String(terminated.exitCode)}`, message: undefined });
    }
  }
  return findings;
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/** Why one pod is not ready, as (image, reason) findings; empty when it is ready or going away. */
export function podFindings(pod: Pod): Finding[] {
  if (pod.metadata.deletionTimestamp !== undefined || isReady(pod)) return [];
  const images = new Map<string, string>(
    [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((container) => [container.name, container.image]),
  );
  const unscheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False');
  if (unscheduled !== undefined) return [{ image: '-', reason: unscheduled.reason ?? 'Unschedulable', message: unscheduled.message }];
  const findings = [
    ...containerFindings(pod.status?.initContainerStatuses, images),
    ...containerFindings(pod.status?.containerStatuses, images),
  ];
  if (findings.length > 0) return findings;
  return [{ image: '-', reason: pod.status?.reason ?? `${pod.status?.phase ?? 'Unknown'}, not ready`, message: undefined }];
}

/** Accumulates findings pod by pod, keeping one entry per (image, reason). */
export class Diagnosis {
  readonly #groups = new Map<string, DiagnosisGroup & { nodeNames: Set<string> }>();
  #podsSeen = 0;

  add(pods: Pod[]): void {
    for (const pod of pods) this.addPod(pod);
  }

  addPod(pod: Pod): void {
    this.#podsSeen += 1;
    const node = pod.spec.nodeName ?? `(unscheduled) ${pod.metadata.name ?? ''}`;
    for (const finding of podFindings(pod)) {
      const key = `${finding.image}\u0000${finding.reason}`;
      let group = this.#groups.get(key);
      if (group === undefined) {
        group = { ...finding, nodes: 0, exampleNode: node, nodeNames: new Set() };
        this.#groups.set(key, group);
      }
      if (!group.nodeNames.has(node)) {
        group.nodeNames.add(node);
        group.nodes += 1;
      }
    }
  }

  get podsSeen(): number {
    return this.#podsSeen;
  }

  groups(): DiagnosisGroup[] {
    return [...this.#groups.values()]
      .map(({ image, reason, nodes, exampleNode, message, remedy }) => ({ image, reason, nodes, exampleNode, message, ...(remedy === undefined ? {} : { remedy }) }))
      // A named image and reason is the actionable cause; generic "not ready yet" groups come after it.
      .sort((a, b) => Number(a.image === '-') - Number(b.image === '-') || b.nodes - a.nodes || a.image.localeCompare(b.image) || a.reason.localeCompare(b.reason));
  }
}

export const MAX_DIAGNOSIS_LINES = 8;

const MAX_EVENT_LINES = 3;

/**
 * The controller's Warning Events, one line per (reason, message) with their counts summed. Pod
 * names differ from event to event ("pods \"kip-x7d2q\" is forbidden"), so they are left out.
 */
export function summarizeWarningEvents(events: WarningEvent[]): string[] {
  const groups = new Map<string, { reason: string; message: string; count: number }>();
  for (const event of events) {
    const message = event.message.replace(/pods "[^"]*" /g, 'pods ');
    const key = `${event.reason}\u0000${message}`;
    const group = groups.get(key) ?? { reason: event.reason, message, count: 0 };
    group.count += event.count;
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
    .slice(0, MAX_EVENT_LINES)
    .map((group) => `${group.reason} (${String(group.count)}×): ${group.message.slice(0, 300)}`);
}

const MESSAGE_LENGTH = 120;
const MESSAGE_HEAD = 40;

/**
 * A pod's message cut to MESSAGE_LENGTH. A runtime's error wraps its cause last ("rpc error: code =
 * NotFound desc = failed to pull and unpack image …: failed to resolve reference …: not found"): the
 * head says what failed and the tail what the registry answered, so the middle is what goes.
 */
export function shortMessage(message: string): string {
  if (message.length <= MESSAGE_LENGTH) return message;
  const tailStart = message.length - (MESSAGE_LENGTH - MESSAGE_HEAD - ' … '.length);
  let head = message.slice(0, MESSAGE_HEAD);
  let tail = message.slice(tailStart);
  // Whole words at both cuts, unless a cut has no space to move to.
  const headSpace = head.lastIndexOf(' ');
  if (message[MESSAGE_HEAD] !== ' ' && headSpace > 0) head = head.slice(0, headSpace);
  const tailSpace = tail.indexOf(' ');
  if (message[tailStart - 1] !== ' ' && tailSpace >= 0 && tailSpace < tail.length - 1) tail = tail.slice(tailSpace + 1);
  return `${head} … ${tail}`;
}

/**
 * A short, human summary: one line per (image, reason), the largest first, capped; then what the
 * controller said about pods it could not create.
 */
export function summarize(groups: DiagnosisGroup[], rollout: Rollout, controllerLines: string[] = []): string[] {
  const lines = groups.slice(0, MAX_DIAGNOSIS_LINES).map((group) => {
    const what = group.image === '-' ? group.reason : `${group.image}: ${group.reason}`;
    const message = group.message === undefined ? '' : ` (${shortMessage(group.message)})`;
    const remedy = group.remedy === undefined ? '' : `; ${group.remedy}`;
    return `${what} on ${String(group.nodes)} node${group.nodes === 1 ? '' : 's'}, e.g. ${group.exampleNode}${message}${remedy}`;
  });
  if (groups.length > MAX_DIAGNOSIS_LINES) {
    const rest = groups.slice(MAX_DIAGNOSIS_LINES).reduce((sum, group) => sum + group.nodes, 0);
    const more = groups.length - MAX_DIAGNOSIS_LINES;
    lines.push(`and ${String(more)} more image/reason group${more === 1 ? '' : 's'} on ${String(rest)} node${rest === 1 ? '' : 's'}`);
  }
  lines.push(...controllerLines);
  const explained = groups.reduce((sum, group) => sum + group.nodes, 0);
  const unexplained = rollout.desired - rollout.available - explained;
  if (!rollout.observed) {
    lines.push('the DaemonSet controller has not yet observed the latest change');
  } else if (unexplained > 0) {
    lines.push(`${String(unexplained)} of ${String(rollout.desired)} nodes have no available pod yet${lines.length === 0 ? ', and no pod reports an error' : ' and no pod error to show'}`);
  }
  return lines;
}

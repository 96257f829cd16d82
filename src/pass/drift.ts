// Where a live DaemonSet differs from the desired one: the pass's fast, local look. The desired
// object spells out the server's defaults, so anything extra in the live spec (a container added
// by hand, a hostPath slipped in, or a label a mutating policy adds) shows up here; the pass then
// asks the API server whether an update would really change anything (confirm.ts). Quantities
// compare by value ("0.05" equals "50m"); false and 0 are values, not absence.
import { REFRESHED_AT_ANNOTATION } from '../plan/desired.ts';
import type { DaemonSet } from '../kube/k8s-types.ts';
import { sameQuantity } from '../config/quantity.ts';

/** Template annotations that record restarts; they roll pods but are not configuration. */
export const RESTART_ANNOTATIONS = [REFRESHED_AT_ANNOTATION, 'kubectl.kubernetes.io/restartedAt'];

/** Absent, or what the server stores as absent. Empty lists and maps count: they may be invalid (empty nodeSelectorTerms). */
function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function elementLabel(element: unknown, index: number): string {
  if (isRecord(element) && typeof element.name === 'string') return element.name;
  return String(index);
}

function isQuantityPath(path: string): boolean {
  return /\.resources\.(requests|limits)\.[^.]+$/.test(path) || /\.emptyDir\.sizeLimit$/.test(path);
}

function compare(desired: unknown, live: unknown, path: string, ignored: (path: string) => boolean, out: string[]): void {
  if (ignored(path)) return;
  if (isBlank(desired) && isBlank(live)) return;
  if (typeof desired === 'string' && typeof live === 'string' && isQuantityPath(path)) {
    if (!sameQuantity(desired, live)) out.push(path);
    return;
  }
  if (Array.isArray(desired) && Array.isArray(live)) {
    const labels = desired.map(elementLabel);
    const liveLabels = live.map(elementLabel);
    if (desired.length !== live.length || labels.some((label, index) => label !== liveLabels[index])) {
      out.push(path);
      return;
    }
    desired.forEach((element, index) => {
      compare(element, live[index], `${path}[${labels[index] ?? String(index)}]`, ignored, out);
    });
    return;
  }
  // A map missing on one side compares as empty, so ignored keys inside it stay ignored.
  const desiredMap = desired === undefined ? {} : desired;
  const liveMap = live === undefined ? {} : live;
  if (isRecord(desiredMap) && isRecord(liveMap)) {
    const keys = [...new Set([...Object.keys(desiredMap), ...Object.keys(liveMap)])].sort();
    for (const key of keys) compare(desiredMap[key], liveMap[key], `${path}.${key}`, ignored, out);
    return;
  }
  if (desired !== live) out.push(path);
}

function ignoredInSpec(path: string): boolean {
  if (path === 'spec.template.metadata.creationTimestamp') return true;
  return RESTART_ANNOTATIONS.some((key) => path === `spec.template.metadata.annotations.${key}`);
}

/** Paths (like `spec.template.spec.initContainers[che-code].image`) where live differs from desired. */
export function specDifferences(desired: DaemonSet, live: DaemonSet): string[] {
  const out: string[] = [];
  compare(desired.spec, live.spec, 'spec', ignoredInSpec, out);
  return out;
}

/** Our labels and annotations must be present with our values; others' may stay. */
export function metadataDifferences(desired: DaemonSet, live: DaemonSet): string[] {
  const out: string[] = [];
  for (const field of ['labels', 'annotations'] as const) {
    for (const [key, value] of Object.entries(desired.metadata[field] ?? {})) {
      if (live.metadata[field]?.[key] !== value) out.push(`metadata.${field}.${key}`);
    }
  }
  return out;
}

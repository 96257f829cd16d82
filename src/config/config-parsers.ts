// One parser per kind of configuration value. Each takes the raw string and returns the typed
// value or throws InvalidValue with a sentence saying what was expected; config.ts names the
// variable and the value around that sentence.
import { parseImageReference } from './image-ref.ts';
import type { Json } from '../kube/k8s-types.ts';
import { parseQuantity } from './quantity.ts';

export class InvalidValue extends Error {}

export interface CachedImage {
  name: string;
  image: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
export const RESERVED_CONTAINER_NAMES = ['kip-install-helper', 'kip-hold'];
/** The longest CACHING_INTERVAL_HOURS, a year; the chart's values.schema.json has the same bound. */
export const MAX_INTERVAL_HOURS = 8760;

export function isDnsLabel(text: string): boolean {
  return text.length <= 63 && DNS1123_LABEL.test(text);
}

export function isDnsSubdomain(text: string): boolean {
  return text.length <= 253 && DNS1123_SUBDOMAIN.test(text);
}

function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}

/** `name=image;name=image` → entries in the given order (it is the pull order on each node). */
export function parseImages(raw: string): CachedImage[] {
  const entries = raw.split(';').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) throw new InvalidValue('expected at least one entry name=image (entries separated by ";")');
  return checkedImages(entries.map((entry) => {
    const equals = entry.indexOf('=');
    if (equals === -1) throw new InvalidValue(`entry "${entry}" has no "=" (expected name=image)`);
    const name = entry.slice(0, equals).trim();
    if (name === '') throw new InvalidValue(`entry "${entry}" has an empty name (expected name=image)`);
    return { name, image: entry.slice(equals + 1).trim() };
  }));
}

/** Names and images, whatever form they came in: each name a container name, used once; each image a valid reference. */
export function checkedImages(entries: CachedImage[]): CachedImage[] {
  const seen = new Set<string>();
  return entries.map(({ name, image }) => {
    if (name.length > 63) throw new InvalidValue(`name "${name}" is longer than 63 characters`);
    if (!DNS1123_LABEL.test(name)) {
      throw new InvalidValue(`name "${name}" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)`);
    }
    if (RESERVED_CONTAINER_NAMES.includes(name)) throw new InvalidValue(`name "${name}" is reserved for the puller's own containers`);
    if (seen.has(name)) throw new InvalidValue(`name "${name}" appears more than once`);
    seen.add(name);
    const problem = parseImageReference(image);
    if (typeof problem === 'string') throw new InvalidValue(`image "${image}" of "${name}" ${problem}`);
    return { name, image };
  });
}

export function parseImage(raw: string): string {
  const problem = parseImageReference(raw.trim());
  if (typeof problem === 'string') throw new InvalidValue(`image reference ${problem}`);
  return raw.trim();
}

export function parseQuantityText(raw: string): string {
  const text = raw.trim();
  if (text.startsWith('-')) throw new InvalidValue('expected a non-negative quantity');
  if (parseQuantity(text) === undefined) {
    throw new InvalidValue('expected a Kubernetes quantity such as 10Mi, 1Gi, 500m or 0.2 (suffixes Ki Mi Gi Ti Pi Ei, n u m k M G T P E)');
  }
  return text;
}

/** Whole number within bounds, written plainly: rejects "1.5", "3h", "1e2", "". */
export function parseWholeNumber(raw: string, min: number, max: number): number {
  const text = raw.trim();
  if (!/^[+]?\d+$/.test(text)) throw new InvalidValue(`expected a whole number from ${String(min)} to ${String(max)}`);
  const value = Number(text);
  if (value < min || value > max) throw new InvalidValue(`expected a whole number from ${String(min)} to ${String(max)}`);
  return value;
}

/**
 * The CACHING_INTERVAL_HOURS the CronJob's schedule was made for. The chart gives that number; the
 * OpenShift template has no interval parameter and gives its schedule, whose hour field tells it:
 * "*" is hourly (1), a step of N hours over the whole day is N when N divides 24, a single hour is
 * daily (24). Any other schedule (weekdays, lists, uneven steps) was not made for an interval, so
 * there is nothing to compare it with.
 */
export function parseScheduledIntervalHours(raw: string): number | undefined {
  const text = raw.trim();
  if (/^[+]?\d+$/.test(text)) return parseWholeNumber(text, 1, MAX_INTERVAL_HOURS);
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    throw new InvalidValue('expected a whole number of hours (the chart) or a cron schedule of 5 fields (the OpenShift template)');
  }
  const [, hours = '', ...days] = fields;
  if (days.some((field) => field !== '*')) return undefined;
  if (hours === '*') return 1;
  if (/^\d+$/.test(hours) && Number(hours) <= 23) return 24;
  const step = /^\*\/(\d+)$/.exec(hours);
  const every = Number(step?.[1]);
  return every >= 1 && 24 % every === 0 ? every : undefined;
}

export function parseJson(raw: string, shape: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new InvalidValue(`not valid JSON (${(error as Error).message}); expected ${shape}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object of label keys to label values, returned with sorted keys. */
export function parseLabelMap(raw: string, what: 'labels' | 'annotations'): Record<string, string> {
  const shape = `a JSON object of ${what}, e.g. {"kubernetes.io/os":"linux"}`;
  const value = parseJson(raw.trim() === '' ? '{}' : raw, shape);
  if (!isPlainObject(value)) throw new InvalidValue(`expected ${shape}`);
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(value).sort()) {
    const entry = value[key];
    if (typeof entry !== 'string') throw new InvalidValue(`value of "${key}" must be a string; expected ${shape}`);
    if (!isQualifiedName(key)) throw new InvalidValue(`"${key}" is not a valid ${what === 'labels' ? 'label' : 'annotation'} key`);
    if (what === 'labels' && !isLabelValue(entry)) throw new InvalidValue(`"${entry}" is not a valid label value (at most 63 characters: letters, digits, "-", "_", ".")`);
    sorted[key] = entry;
  }
  return sorted;
}

const AFFINITY_KINDS = ['nodeAffinity', 'podAffinity', 'podAntiAffinity'];

export function parseAffinity(raw: string): Record<string, Json> {
  const shape = 'a JSON object with nodeAffinity, podAffinity or podAntiAffinity';
  const value = parseJson(raw.trim() === '' ? '{}' : raw, shape);
  if (!isPlainObject(value)) throw new InvalidValue(`expected ${shape}`);
  for (const [key, entry] of Object.entries(value)) {
    if (!AFFINITY_KINDS.includes(key)) throw new InvalidValue(`unknown field "${key}"; expected ${shape}`);
    if (!isPlainObject(entry)) throw new InvalidValue(`"${key}" must be an object; expected ${shape}`);
  }
  return value as Record<string, Json>;
}

const TOLERATION_FIELDS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];
const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute', ''];

export function parseTolerations(raw: string): Toleration[] {
  const shape = 'a JSON array of tolerations, e.g. [{"key":"gpu","operator":"Exists","effect":"NoSchedule"}]';
  const value = parseJson(raw.trim() === '' ? '[]' : raw, shape);
  if (!Array.isArray(value)) throw new InvalidValue(`expected ${shape}`);
  return value.map((entry: unknown, index) => {
    const where = `toleration #${String(index + 1)}`;
    if (!isPlainObject(entry)) throw new InvalidValue(`${where} is not an object; expected ${shape}`);
    for (const field of Object.keys(entry)) {
      if (!TOLERATION_FIELDS.includes(field)) throw new InvalidValue(`${where} has unknown field "${field}"`);
    }
    const { key, operator, value: tolerated, effect, tolerationSeconds } = entry;
    if (key !== undefined && typeof key !== 'string') throw new InvalidValue(`${where}: "key" must be a string`);
    if (operator !== undefined && operator !== 'Exists' && operator !== 'Equal') {
      throw new InvalidValue(`${where}: "operator" must be "Exists" or "Equal"`);
    }
    if (tolerated !== undefined && typeof tolerated !== 'string') throw new InvalidValue(`${where}: "value" must be a string`);
    if (operator === 'Exists' && tolerated !== undefined && tolerated !== '') {
      throw new InvalidValue(`${where}: "value" must be empty when "operator" is "Exists"`);
    }
    if (effect !== undefined && (typeof effect !== 'string' || !TOLERATION_EFFECTS.includes(effect))) {
      throw new InvalidValue(`${where}: "effect" must be NoSchedule, PreferNoSchedule or NoExecute`);
    }
    if (tolerationSeconds !== undefined && !Number.isInteger(tolerationSeconds)) {
      throw new InvalidValue(`${where}: "tolerationSeconds" must be a whole number`);
    }
    if ((key === undefined || key === '') && operator !== 'Exists') {
      throw new InvalidValue(`${where}: an empty "key" needs "operator": "Exists"`);
    }
    return entry;
  });
}

/** `;`-separated Secret names; order carries no meaning, so they are sorted and de-duplicated. */
export function parsePullSecrets(raw: string): string[] {
  const names = [...new Set(raw.split(';').map((name) => name.trim()).filter((name) => name !== ''))].sort();
  for (const name of names) {
    if (!isDnsSubdomain(name)) throw new InvalidValue(`"${name}" is not a valid Secret name (DNS-1123 subdomain)`);
  }
  return names;
}

/** `;`-separated registry hosts, each `host` or `host:port` as it appears in image references. */
export function parseRegistryHosts(raw: string): string[] {
  const hosts = [...new Set(raw.split(';').map((host) => host.trim()).filter((host) => host !== ''))].sort();
  for (const host of hosts) {
    if (!/^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/.test(host)) {
      throw new InvalidValue(`"${host}" is not a registry host (host or host:port, as in an image reference)`);
    }
  }
  return hosts;
}

/** A pod count ("1") or a percentage of nodes ("10%"), as the DaemonSet's maxUnavailable. */
export function parseMaxUnavailable(raw: string): string | number {
  const text = raw.trim();
  const percent = /^(\d+)%$/.exec(text);
  if (percent) {
    const value = Number(percent[1]);
    if (value >= 1 && value <= 100) return text;
  } else if (/^\d+$/.test(text) && Number(text) >= 1) {
    return Number(text);
  }
  throw new InvalidValue('expected a number of pods (at least 1) or a percentage from 1% to 100%');
}

export function parseName(raw: string, what: string, maxLength = 63): string {
  const text = raw.trim();
  if (text.length > maxLength || !isDnsSubdomain(text)) {
    throw new InvalidValue(`expected a ${what}: lower-case letters, digits, "-" and ".", at most ${String(maxLength)} characters`);
  }
  return text;
}

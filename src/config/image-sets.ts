// IMAGE_SETS: a JSON array of sets, each its own list of images for its own nodes. Every problem
// names the set (by name, or by position while it has none) and the field, and the problems of all
// sets are reported together, as config.ts does for variables.
import {
  InvalidValue,
  checkedImages,
  isDnsLabel,
  isPlainObject,
  parseAffinity,
  parseImages,
  parseJson,
  parseLabelMap,
  parseName,
  parseTolerations,
} from './config-parsers.ts';
import type { CachedImage, Toleration } from './config-parsers.ts';
import type { Json } from '../kube/k8s-types.ts';

/** The set IMAGES describes; IMAGE_SETS may not use its name. */
export const DEFAULT_SET = 'default';

/** One set as configured. A field left out inherits the top-level variable of the same meaning. */
export interface ImageSet {
  name: string;
  images: CachedImage[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Record<string, Json>;
  /** "" means none, whatever PRIORITY_CLASS_NAME says. */
  priorityClassName?: string;
}

/** The fields a set may give itself, in the order messages list them. */
export const SET_FIELDS = ['name', 'images', 'nodeSelector', 'tolerations', 'affinity', 'priorityClassName'] as const;
export type SetField = Exclude<(typeof SET_FIELDS)[number], 'name'>;

const SHAPE = 'a JSON array of sets, e.g. [{"name":"gpu","images":"cuda=nvcr.io/nvidia/cuda:12.4.0-base-ubi9","tolerations":[…]}]';

/** Runs a parser of a top-level variable on a set's field, so both accept and reject the same values. */
function field<T>(value: unknown, parse: (raw: string) => T): T {
  return parse(JSON.stringify(value));
}

function imagesOf(value: unknown): CachedImage[] {
  if (typeof value === 'string') return parseImages(value);
  if (!isPlainObject(value)) throw new InvalidValue('must be a string name=image;name=image or an object of name: image');
  const entries = Object.entries(value);
  if (entries.length === 0) throw new InvalidValue('expected at least one name: image');
  return checkedImages(entries.map(([name, image]) => {
    if (typeof image !== 'string') throw new InvalidValue(`the image of "${name}" must be a string`);
    return { name, image: image.trim() };
  }));
}

function priorityClassOf(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidValue('must be a string');
  return value.trim() === '' ? '' : parseName(value, 'PriorityClass name', 253);
}

function parseSet(entry: Record<string, unknown>, where: string): ImageSet {
  const unknown = Object.keys(entry).find((key) => !(SET_FIELDS as readonly string[]).includes(key));
  if (unknown !== undefined) throw new InvalidValue(`${where} has unknown field "${unknown}"; expected ${SET_FIELDS.join(', ')}`);
  if (entry.images === undefined) throw new InvalidValue(`${where} has no "images"`);
  const set: ImageSet = { name: entry.name as string, images: [] };
  const parsers: { [F in SetField]: (value: unknown) => NonNullable<ImageSet[F]> } = {
    images: imagesOf,
    nodeSelector: (value) => field(value, (raw) => parseLabelMap(raw, 'labels')),
    tolerations: (value) => field(value, parseTolerations),
    affinity: (value) => field(value, parseAffinity),
    priorityClassName: priorityClassOf,
  };
  for (const name of Object.keys(parsers) as SetField[]) {
    if (entry[name] === undefined) continue;
    try {
      Object.assign(set, { [name]: parsers[name](entry[name]) });
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      // "must be …" reads on from the field's name; any other sentence follows a colon.
      throw new InvalidValue(`${where}: "${name}"${error.message.startsWith('must ') ? ' ' : ': '}${error.message}`);
    }
  }
  return set;
}

/** The set's name, checked first: every later message names the set by it. */
function nameOf(entry: Record<string, unknown>, position: string): string {
  const name = entry.name;
  if (name === undefined) throw new InvalidValue(`${position} has no "name"`);
  if (typeof name !== 'string' || !isDnsLabel(name)) {
    throw new InvalidValue(`${position}: "name" ${JSON.stringify(name)} is not a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)`);
  }
  if (name === DEFAULT_SET) throw new InvalidValue(`set "${name}": the name "${DEFAULT_SET}" is reserved for the IMAGES set`);
  return name;
}

/** IMAGE_SETS → its sets in the order given; blank is none. */
export function parseImageSets(raw: string): ImageSet[] {
  const value = parseJson(raw.trim() === '' ? '[]' : raw, SHAPE);
  if (!Array.isArray(value)) throw new InvalidValue(`expected ${SHAPE}`);
  const sets: ImageSet[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  value.forEach((entry: unknown, index) => {
    const position = `set #${String(index + 1)}`;
    try {
      if (!isPlainObject(entry)) throw new InvalidValue(`${position} is not an object; expected {"name": …, "images": …}`);
      const name = nameOf(entry, position);
      if (seen.has(name)) throw new InvalidValue(`set "${name}" appears more than once`);
      seen.add(name);
      sets.push(parseSet(entry, `set "${name}"`));
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      problems.push(error.message);
    }
  });
  if (problems.length > 0) throw new InvalidValue(problems.join('; '));
  return sets;
}

// The names of the install's DaemonSets, and the checks on them that loadConfig runs before any
// write. They live in the config layer, below the plan, because a configuration whose DaemonSets
// cannot be named is a configuration error: daemonset-plan.ts builds its DaemonSets with these very
// names, so the plan and the check cannot disagree.
//
// The IMAGES set keeps DAEMONSET_NAME; a set s is DAEMONSET_NAME-s. A split set's first chunk keeps
// that name and the next ones add -2, -3, … (chunks.ts splits a set; chunkCount says into how many).
import type { CachedImage } from './config-parsers.ts';
import { DEFAULT_SET } from './image-sets.ts';
import type { ImageSet } from './image-sets.ts';

/** The program's name: its managed-by label, the stem of its labels and annotations, its User-Agent. */
export const PROGRAM_NAME = 'kubernetes-image-puller';
const MAX_NAME_LENGTH = 63;

/** The fields of a Config that name its DaemonSets. */
export interface NamingFields {
  daemonSetName: string;
  images: CachedImage[];
  imageSets: ImageSet[];
  maxImagesPerDaemonSet: number | undefined;
}

export interface PlanProblem {
  variable: 'IMAGE_SETS' | 'DAEMONSET_NAME';
  problem: string;
}

export function daemonSetNameFor(installName: string, set: string, chunk: number): string {
  const stem = set === DEFAULT_SET ? installName : `${installName}-${set}`;
  return chunk === 1 ? stem : `${stem}-${String(chunk)}`;
}

/** The sets of the install, in order: IMAGES (the set "default") when given, then IMAGE_SETS. */
export function setsOf(config: NamingFields): ImageSet[] {
  return [...(config.images.length === 0 ? [] : [{ name: DEFAULT_SET, images: config.images }]), ...config.imageSets];
}

/** How many chunks chunkImages splits `length` images into, at most `max` each (no limit when undefined). */
export function chunkCount(length: number, max: number | undefined): number {
  return max === undefined || length <= max ? 1 : Math.ceil(length / max);
}

function describe(set: string, chunk: number, chunks: number): string {
  const what = set === DEFAULT_SET ? 'the IMAGES set' : `set "${set}"`;
  return chunks === 1 ? what : `chunk ${String(chunk)} of ${what}`;
}

/** Names the plan cannot have: too long for a DaemonSet, or the same for two DaemonSets. */
export function planProblems(config: NamingFields): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const tooLong = new Set<string>();
  const byName = new Map<string, string>();
  for (const set of setsOf(config)) {
    const chunks = chunkCount(set.images.length, config.maxImagesPerDaemonSet);
    for (let chunk = 1; chunk <= chunks; chunk++) {
      const name = daemonSetNameFor(config.daemonSetName, set.name, chunk);
      if (name.length > MAX_NAME_LENGTH && !tooLong.has(set.name)) {
        tooLong.add(set.name);
        const isDefault = set.name === DEFAULT_SET;
        problems.push({
          variable: isDefault ? 'DAEMONSET_NAME' : 'IMAGE_SETS',
          problem: `${isDefault ? 'the IMAGES set' : `set "${set.name}"`}: its DaemonSet would be named "${name}" (${String(name.length)} characters); ` +
            `a DaemonSet name is at most ${String(MAX_NAME_LENGTH)}: shorten ${isDefault ? 'DAEMONSET_NAME or raise MAX_IMAGES_PER_DAEMONSET' : 'the set name or DAEMONSET_NAME'}`,
        });
      }
      const earlier = byName.get(name);
      const described = describe(set.name, chunk, chunks);
      if (earlier === undefined) byName.set(name, described);
      else problems.push({ variable: 'IMAGE_SETS', problem: `${described} and ${earlier} would both be the DaemonSet "${name}"; rename one of them` });
    }
  }
  return problems;
}

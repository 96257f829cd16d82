// The DaemonSets one install consists of: one per set (IMAGES is the set "default", IMAGE_SETS adds
// the others), or one per chunk when MAX_IMAGES_PER_DAEMONSET splits a set. Each gets a Config of
// its own (its name, images and scheduling), so desiredDaemonSet describes it as it describes any.
//
// Names (config/daemonset-names.ts, where loadConfig checks them): the IMAGES set keeps
// DAEMONSET_NAME, so an install without IMAGE_SETS keeps the very DaemonSet it always had; a set s
// is DAEMONSET_NAME-s. A split set's first chunk keeps that name and the next ones add -2, -3, …,
// so a set that grows past the limit keeps its DaemonSet.
// Labels: every DaemonSet but the one named DAEMONSET_NAME (which keeps its labels unchanged)
// carries the install (DAEMONSET_NAME) and its set, so a pass can tell its own DaemonSets, among
// all the puller's in the namespace, from those of another install.
import { chunkImages } from './chunks.ts';
import type { Config } from '../config/config.ts';
import { PROGRAM_NAME, daemonSetNameFor, setsOf } from '../config/daemonset-names.ts';
import { DEFAULT_SET } from '../config/image-sets.ts';
import type { ImageSet, SetField } from '../config/image-sets.ts';

export const INSTALL_LABEL = `${PROGRAM_NAME}/install`;
export const SET_LABEL = `${PROGRAM_NAME}/set`;
const OVERRIDABLE: SetField[] = ['images', 'nodeSelector', 'tolerations', 'affinity', 'priorityClassName'];

export interface PlannedDaemonSet {
  /** The set's name: "default" for IMAGES. */
  set: string;
  /** Its place among the set's chunks, from 1, and their number. */
  chunk: number;
  chunks: number;
  /** The fields the set gives itself: the API server's rejection of one is traced to IMAGE_SETS. */
  overrides: SetField[];
  config: Config;
}

function configFor(config: Config, set: ImageSet, images: Config['images'], name: string): Config {
  return {
    ...config,
    daemonSetName: name,
    images,
    nodeSelector: set.nodeSelector ?? config.nodeSelector,
    tolerations: set.tolerations ?? config.tolerations,
    affinity: set.affinity ?? config.affinity,
    priorityClassName: set.priorityClassName === undefined ? config.priorityClassName : set.priorityClassName || undefined,
    // This configuration describes one DaemonSet: the sets are planned already.
    imageSets: [],
    setLabels: name === config.daemonSetName ? {} : { [INSTALL_LABEL]: config.daemonSetName, [SET_LABEL]: set.name },
  };
}

/** Every DaemonSet of the install, in the order of the sets and their chunks. */
export function planDaemonSets(config: Config): PlannedDaemonSet[] {
  return setsOf(config).flatMap((set) => {
    const chunks = chunkImages(set.images, config.maxImagesPerDaemonSet);
    const overrides = set.name === DEFAULT_SET ? [] : OVERRIDABLE.filter((field) => set[field] !== undefined);
    return chunks.map((images, index) => ({
      set: set.name,
      chunk: index + 1,
      chunks: chunks.length,
      overrides,
      config: configFor(config, set, images, daemonSetNameFor(config.daemonSetName, set.name, index + 1)),
    }));
  });
}

// MAX_IMAGES_PER_DAEMONSET splits a set's images into chunks, one DaemonSet each.
//
// Chunks are filled in the order the images are listed, each up to the limit. Appending an image
// therefore changes only the last chunk (or starts a new one): no other DaemonSet changes, so no
// other pod restarts. Removing or inserting an image before the end moves each later image by one
// place, so the chunks from there to the end change once (their pods roll, a node pulls nothing it
// already holds). A layout kept stable across removals would have to remember where each image
// went, in the cluster; this one is a pure function of the configuration, so `--dry-run` shows
// exactly what a pass makes and two passes always agree.
import type { CachedImage } from '../config/config-parsers.ts';

/** The set's images in chunks of at most `max` (no limit when undefined), in order. */
export function chunkImages(images: readonly CachedImage[], max: number | undefined): CachedImage[][] {
  if (max === undefined || images.length <= max) return [[...images]];
  const chunks: CachedImage[][] = [];
  for (let start = 0; start < images.length; start += max) chunks.push(images.slice(start, start + max));
  return chunks;
}

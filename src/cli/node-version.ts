// @kubernetes/client-node 2.x needs Node >= 22.19 (package.json "engines"). On an older Node it
// fails while loading, with a TypeError that names none of this, so the version is checked first.
const MINIMUM = { major: 22, minor: 19 };

/** Why this Node cannot run the program ("v20.19.2"), or undefined when it can. */
export function nodeTooOld(version: string): string | undefined {
  const match = /^v?(\d+)\.(\d+)\./.exec(version);
  if (match === null) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major > MINIMUM.major || (major === MINIMUM.major && minor >= MINIMUM.minor)) return undefined;
  return `this program needs Node >= ${String(MINIMUM.major)}.${String(MINIMUM.minor)} and this is Node ${version}; put a newer node first on PATH (bash .ci/prepare installs Node 24 into ~/.cache/node24 and prints the export PATH=… line to use it)`;
}

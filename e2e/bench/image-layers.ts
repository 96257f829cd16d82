// Prints the layers of an OCI image layout (e2e/bench/image.sh): compressed size as pulled, size
// unpacked, and the top directories each one holds. Sizes are read from the blobs themselves.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

type Descriptor = { digest: string; size: number; mediaType: string };
const layout = process.argv[2];
if (layout === undefined) {
  console.error('usage: node e2e/bench/image-layers.ts <oci layout dir>');
  process.exit(2);
}
const blob = (digest: string): string => join(layout, 'blobs', ...digest.split(':'));

const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { layers: Descriptor[]; config: Descriptor };
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

const rows: string[][] = [['layer', 'compressed', 'unpacked', 'holds']];
let compressed = 0;
let unpacked = 0;
manifest.layers.forEach((layer, i) => {
  const size = statSync(blob(layer.digest)).size;
  const gzip = layer.mediaType.endsWith('gzip');
  const listing = execFileSync('bash', ['-c', `${gzip ? 'gzip -dc' : 'cat'} "$1" | tar -tv`, 'list', blob(layer.digest)], { maxBuffer: 1 << 28 }).toString();
  let bytes = 0;
  const tops = new Map<string, number>();
  for (const line of listing.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const fileBytes = Number(fields[2]);
    const path = fields.slice(5).join(' ').replace(/^\.\//, '').split(' -> ')[0]!;
    bytes += fileBytes;
    const top = path.split('/').slice(0, path.startsWith('usr/') ? 3 : 2).join('/');
    tops.set(top, (tops.get(top) ?? 0) + fileBytes);
  }
  compressed += size;
  unpacked += bytes;
  const biggest = [...tops].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([path, n]) => `/${path} ${mb(n)}`).join(', ');
  rows.push([String(i + 1), mb(size), mb(bytes), biggest]);
});
rows.push(['all', mb(compressed), mb(unpacked), `${manifest.layers.length} layers`]);
const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
for (const row of rows) console.log(row.map((cell, col) => (col === 3 ? cell : cell.padEnd(widths[col]!))).join('  '));
console.log(
  '\nThe Go puller publishes quay.io/eclipse/kubernetes-image-puller:next (a Go binary and sleep on ubi9/ubi-minimal);\n' +
    'its size is not measured here: no container registry is reachable from these machines.',
);

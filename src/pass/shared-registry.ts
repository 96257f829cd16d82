// The registry as the DaemonSets of one pass share it: an image cached by several sets is asked
// for once per pass, not once per set.
import type { RegistryClient } from '../registry/client.ts';
import type { DigestLookup } from '../registry/lookup.ts';

export function shareRegistry(registry: RegistryClient): RegistryClient {
  const lookups = new Map<string, Promise<DigestLookup>>();
  return {
    resolve(images, credentialsFor) {
      const unasked = [...new Set(images.filter((image) => !lookups.has(image)))];
      if (unasked.length > 0) {
        const asked = registry.resolve(unasked, credentialsFor);
        unasked.forEach((image, index) => lookups.set(image, asked.then((answers) => answers[index] ?? { image, problem: { reason: 'error', message: `no answer for ${image}` } })));
      }
      return Promise.all(images.map((image) => lookups.get(image) as Promise<DigestLookup>));
    },
    requests: () => registry.requests(),
  };
}

// The registry client, loaded with a pass's first lookup: a pass that asks no registry (every image
// pinned by digest, REFRESH_MODE=restart or never, a failed read of the cluster) never loads or
// compiles its code. Until then it has sent nothing, and says so.
import type { CredentialsFor, DigestLookup, RegistryClient, RegistryRequestCounts } from './client.ts';

export function deferredRegistryClient(load: () => Promise<RegistryClient>): RegistryClient {
  let loading: Promise<RegistryClient> | undefined;
  let loaded: RegistryClient | undefined;
  return {
    async resolve(images: readonly string[], credentialsFor?: CredentialsFor): Promise<DigestLookup[]> {
      loading ??= load().then((client) => (loaded = client));
      return (await loading).resolve(images, credentialsFor);
    },
    requests(): RegistryRequestCounts {
      return loaded?.requests() ?? { total: 0, byHost: {} };
    },
  };
}

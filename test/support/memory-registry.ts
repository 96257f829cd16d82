import type { CredentialsFor, RegistryClient } from '../../src/registry/client.ts';
import type { DigestLookup, LookupProblem, RateLimit } from '../../src/registry/lookup.ts';

/** Registries as the pass sees them through RegistryClient: a digest per tag image, or a problem. */
export class MemoryRegistry implements RegistryClient {
  digests = new Map<string, string>();
  problems = new Map<string, LookupProblem>();
  rateLimit: RateLimit | undefined;
  asked: string[][] = [];
  credentialsOffered: string[] = [];

  resolve(images: readonly string[], credentialsFor?: CredentialsFor) {
    this.asked.push([...images]);
    for (const image of images) this.credentialsOffered.push(...(credentialsFor?.(`docker.io/library/${image.split(':')[0] ?? ''}`) ?? []).map((credential) => credential.username));
    return Promise.resolve(images.map((image): DigestLookup => {
      const problem = this.problems.get(image);
      const rateLimit = this.rateLimit === undefined ? {} : { rateLimit: this.rateLimit };
      if (problem !== undefined) return { image, problem, ...rateLimit };
      return { image, digest: this.digests.get(image) ?? `sha256:${'0'.repeat(64)}`, ...rateLimit };
    }));
  }
  requests() {
    return { total: this.asked.flat().length, byHost: {} };
  }
}

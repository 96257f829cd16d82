// An API failure as a sentence a person can act on: the verb and resource, and for a 403 the Role rule to grant.
import type { ApiError } from '../kube/cluster.ts';

export function describeApiError(error: ApiError, namespace: string): string {
  if (error.status === 401) return `the API server rejected the credentials (401 Unauthorized) on ${error.verb} ${error.resource}: ${error.message}`;
  if (error.status === 403) {
    return `the ServiceAccount may not "${error.verb}" ${error.resource} in namespace ${namespace}; grant that verb in the Role (403 Forbidden: ${error.message})`;
  }
  if (error.status === 0) return `${error.message} on ${error.verb} ${error.resource}; nothing further was changed`;
  return `${error.verb} ${error.resource} failed with HTTP ${String(error.status)}${error.reason === undefined ? '' : ` ${error.reason}`}: ${error.message}`;
}

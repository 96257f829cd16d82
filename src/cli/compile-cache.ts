// Where V8's compile cache lives for a run of the bundle. Compiling the bundle is a third of a quiet
// pass's start-up; with the cache Node reads the compiled code instead. The image ships a cache
// built at image build time beside the bundle, read-only; elsewhere Node's own default is used.
// Node never fails a run over its cache: a directory it cannot write, or a cache made by another
// Node, another CPU or another UID, only means the code is compiled as it would be without one.

/** The directory the image ships beside the bundle (Dockerfile), named from the bundle's own URL. */
export const SHIPPED_CACHE_DIRECTORY = 'compile-cache';

export interface CompileCacheChoice {
  /** NODE_COMPILE_CACHE, NODE_DISABLE_COMPILE_CACHE: the user's choice, which Node has acted on already. */
  env: Record<string, string | undefined>;
  /** Whether SHIPPED_CACHE_DIRECTORY exists beside the bundle. */
  shipped: boolean;
  /** Its absolute path. */
  shippedPath: string;
}

/**
 * The directory to pass to module.enableCompileCache(): the shipped one when there is one, else
 * undefined (Node's default, NODE_COMPILE_CACHE or a directory under the OS's temporary one).
 * A user's NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE wins over the shipped cache.
 */
export function compileCacheDirectory({ env, shipped, shippedPath }: CompileCacheChoice): string | undefined {
  if (nonEmpty(env.NODE_COMPILE_CACHE) || nonEmpty(env.NODE_DISABLE_COMPILE_CACHE)) return undefined;
  return shipped ? shippedPath : undefined;
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

// The bundle's entry (dist/main.mjs): it turns on V8's compile cache, then loads the program. It
// must stay this small and import nothing of the program statically: a module is compiled before
// its first line runs, so only what is loaded after enableCompileCache() can come from the cache.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { SHIPPED_CACHE_DIRECTORY, compileCacheDirectory } from './cli/compile-cache.ts';

// Node 20 has no compile cache; main.ts then says which Node is needed.
if (typeof module.enableCompileCache === 'function') {
  const shippedPath = fileURLToPath(new URL(`./${SHIPPED_CACHE_DIRECTORY}`, import.meta.url));
  const directory = compileCacheDirectory({ env: process.env, shipped: existsSync(shippedPath), shippedPath });
  try {
    module.enableCompileCache(directory);
  } catch {
    // A cache is an optimisation: the pass runs the same without one.
  }
}

await import('./main.ts');

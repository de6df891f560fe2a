/**
 * `node --import ./bench/lib/register-ts.ts` lets Node run the workspace's TypeScript sources directly:
 * Node strips types itself, but our sources import siblings as `./x.js` (NodeNext style), which Node does not
 * map to `./x.ts`. This resolve hook retries a missing relative `.js` import as `.ts`.
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const relative = specifier.startsWith('./') || specifier.startsWith('../');
      if (relative && specifier.endsWith('.js')) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw err;
    }
  },
});

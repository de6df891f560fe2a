import { keyStatus, type Registry } from '@evalfleet/shared/llm';
import { loadRegistryFile, registryPath } from '@evalfleet/shared/service';
import type { CliContext } from '../context.js';

export function readRegistry(ctx: CliContext): { registry: Registry; path: string } {
  const path = registryPath(ctx.config.EVALFLEET_MODELS);
  return { registry: loadRegistryFile({ path, providerUrls: ctx.config.EVALFLEET_PROVIDER_URLS }), path };
}

/** `evalfleet models`: every registered model with its provider and whether its API key is set. */
export function modelsCommand(ctx: CliContext, opts: { json?: boolean }): number {
  const { registry, path } = readRegistry(ctx);
  const status = keyStatus(registry, ctx.config.env);
  if (opts.json) {
    ctx.out(JSON.stringify({ registry: path, models: status }, null, 2));
    return 0;
  }
  ctx.out(`Available models (${path}):`);
  const width = Math.max(...status.map((s) => s.name.length), 4);
  for (const s of status) {
    const m = registry.models[s.name];
    const key = s.hasKey ? '✓' : `✗ (set ${s.keyEnv ?? '?'})`;
    const price = m ? `$${m.inputPerMtok}/$${m.outputPerMtok} per 1M in/out` : '';
    ctx.out(`  ${s.name.padEnd(width)}  (${s.provider}) ${key}  ${price}`);
  }
  return 0;
}

import { z } from 'zod';
import { hostStages, runService } from '@evalfleet/shared/service';
import { createMutationEngine } from './engine/index.js';

/** The mutator: hosts every stage that needs the `mutation` capability (parsing Python, applying operators). */
export function startMutator(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'mutator',
      configShape: {
        MUTATOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
      },
      setup: async (ctx) => {
        const consumers = await hostStages(ctx, {
          provides: ['mutation'],
          caps: { mutation: await createMutationEngine() },
          concurrency: ctx.config.MUTATOR_CONCURRENCY,
        });
        return { consumers };
      },
    },
    opts,
  );
}

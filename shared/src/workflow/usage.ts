import { z } from 'zod';

/** What model calls cost a job: tokens both ways and dollars (kinds extend it with their own counts). */
export const modelUsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type ModelUsage = z.infer<typeof modelUsageSchema>;
export const noModelUsage: ModelUsage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };

import { z } from 'zod';
import { kindSchema } from '../messages/index.js';

/** `runs/<runId>/run.json`: what was asked and how many jobs it expanded into. */
export const runRecordSchema = z.object({
  runId: z.string(),
  kind: kindSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  totalJobs: z.number().int().nonnegative(),
  /** Jobs skipped on resume because their result already existed. */
  skippedJobs: z.number().int().nonnegative().default(0),
  spec: z.record(z.string(), z.unknown()),
  /** Whatever the producer wants reports to know (models, dataset ref, categories, ...). */
  meta: z.record(z.string(), z.unknown()).default({}),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export const runCompletedRecordSchema = z.object({
  runId: z.string(),
  totalJobs: z.number().int().nonnegative(),
  completedAt: z.string(),
  reports: z.record(z.string(), z.string()),
  /** `failed`: the run never expanded (its request was dead-lettered); `reason` says why. */
  status: z.enum(['completed', 'failed']).default('completed'),
  reason: z.string().optional(),
});
export type RunCompletedRecord = z.infer<typeof runCompletedRecordSchema>;

/** `runs/<runId>/results/<jobId>.json`: a job's terminal result as the aggregator recorded it. */
export const storedResultSchema = z.object({
  runId: z.string(),
  jobId: z.string(),
  kind: kindSchema,
  outcome: z.string(),
  result: z.record(z.string(), z.unknown()),
  artifacts: z.record(z.string(), z.object({ key: z.string(), size: z.number(), sha256: z.string() })).default({}),
  attempt: z.number().int(),
  recordedAt: z.string(),
});
export type StoredResult = z.infer<typeof storedResultSchema>;

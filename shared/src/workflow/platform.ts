import { z } from 'zod';
import { defaultRetry, objectRefSchema, platformStages, type CatalogEntry } from '../messages/index.js';
import type { RegisteredKind } from './define.js';

/** The platform's own message types: what every fleet exchanges whatever its kinds. */
export const PlatformTypes = {
  runRequested: 'run.requested',
  runFinalize: 'run.finalize',
  jobResult: 'job.result',
  jobDeadLettered: 'job.dead_lettered',
  runCompleted: 'run.completed',
} as const;

export const jobDeadLetteredSchema = z.object({
  /** The message type that was dead-lettered, its stage and why. */
  type: z.string(),
  stage: z.string(),
  code: z.string(),
  message: z.string(),
  /** Its payload as it was (not validated: it may be the reason). */
  payload: z.unknown(),
});
export type JobDeadLettered = z.infer<typeof jobDeadLetteredSchema>;

export const runCompletedSchema = z.object({
  totalJobs: z.number().int().nonnegative(),
  reports: z.record(z.string(), z.string()),
  completedAt: z.string().datetime(),
  /** `failed`: the run could not be expanded (its request was dead-lettered); see `reason`. */
  status: z.enum(['completed', 'failed']).default('completed'),
  reason: z.string().optional(),
});
export type RunCompleted = z.infer<typeof runCompletedSchema>;

function unionOver<T extends z.ZodObject>(schemas: T[]): z.ZodType {
  const [first, ...rest] = schemas;
  if (!first) return z.never();
  return rest.length === 0 ? first : z.discriminatedUnion('kind', [first, ...rest]);
}

/** The fields every `run.requested` has; the spec is the kind's (see `runRequestedSchemaFor`). */
export const runRequestedBaseSchema = z.object({
  kind: z.string(),
  spec: z.unknown(),
  submittedBy: z.string().optional(),
});
export type RunRequested = z.infer<typeof runRequestedBaseSchema>;

/** `run.requested` for these kinds: `{ kind, spec }` with each kind's own spec schema. */
export function runRequestedSchemaFor(kinds: readonly RegisteredKind[]): z.ZodType {
  return unionOver(
    kinds.map((k) => z.object({ kind: z.literal(k.name), spec: k.specSchema, submittedBy: z.string().optional() })),
  );
}

/** The fields every `job.result` has; `result` is the kind's (see `jobResultSchemaFor`). */
export const jobResultBaseSchema = z.object({
  kind: z.string(),
  outcome: z.string().min(1),
  result: z.record(z.string(), z.unknown()),
  artifacts: z.record(z.string(), objectRefSchema).default({}),
});
export type JobResult = z.infer<typeof jobResultBaseSchema>;

/** `job.result` for these kinds: the kind's result schema is checked when a result is decoded. */
export function jobResultSchemaFor(kinds: readonly RegisteredKind[]) {
  const base = jobResultBaseSchema;
  const byKind = new Map(kinds.map((k) => [k.name, k]));
  return base.superRefine((v, ctx) => {
    const kind = byKind.get(v.kind);
    if (!kind) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `unknown kind ${v.kind}` });
      return;
    }
    const r = kind.resultSchema.safeParse(v.result);
    if (!r.success)
      for (const issue of r.error.issues)
        ctx.addIssue({ code: 'custom', path: ['result', ...issue.path], message: issue.message });
  });
}

/** The catalog entries of the platform's message types for a set of kinds. */
export function platformMessages(kinds: readonly RegisteredKind[]): CatalogEntry[] {
  return [
    {
      type: PlatformTypes.runRequested,
      stage: platformStages.produce,
      schema: runRequestedSchemaFor(kinds),
      timeoutMs: 10 * 60_000,
      retry: defaultRetry,
      description: 'A client asks for a run; the producer expands it into jobs.',
    },
    {
      type: PlatformTypes.runFinalize,
      stage: platformStages.aggregate,
      schema: z.object({ reason: z.string().default('expanded') }),
      timeoutMs: 10 * 60_000,
      retry: defaultRetry,
      description: 'Sent by the producer after expanding a run: the aggregator checks whether the run is complete.',
    },
    {
      type: PlatformTypes.jobResult,
      stage: platformStages.aggregate,
      schema: jobResultSchemaFor(kinds),
      timeoutMs: 60_000,
      retry: defaultRetry,
      description: "A job's terminal result; the aggregator counts it once.",
    },
    {
      type: PlatformTypes.jobDeadLettered,
      stage: platformStages.aggregate,
      schema: jobDeadLetteredSchema,
      timeoutMs: 60_000,
      retry: defaultRetry,
      description: 'A job message was dead-lettered: the aggregator records it as the job’s terminal result.',
    },
    {
      type: PlatformTypes.runCompleted,
      stage: platformStages.aggregate,
      schema: runCompletedSchema,
      timeoutMs: 30_000,
      retry: defaultRetry,
      description:
        'Event (routing key event.run.completed): every job of the run has a result and the reports are written.',
    },
  ];
}

import { z } from 'zod';
import { kindSchema, objectRefSchema, type Stage } from './envelope.js';
import { solveEvaluatePayloadSchema, solveGeneratePayloadSchema, solveSpecSchema } from '../solve/messages.js';

/** Retry policy of a message type: fixed delay tiers, then the dead-letter queue. */
export type RetryPolicy = { maxAttempts: number; delaysMs: readonly number[] };

export type CatalogEntry<S extends z.ZodType = z.ZodType> = {
  type: string;
  stage: Stage;
  schema: S;
  /** A handler that runs longer than this is treated as a retryable failure. */
  timeoutMs: number;
  retry: RetryPolicy;
  description: string;
};

/** The delay tiers every stage shares (one delay queue per tier). */
export const delayTiersMs = [1_000, 5_000, 30_000, 120_000] as const;

const defaultRetry: RetryPolicy = { maxAttempts: 5, delaysMs: delayTiersMs };

export const echoSpecSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  text: z.string().max(10_000).default('hello'),
});

/** `run.requested`: the one message a client publishes to start a run (any program may publish it). */
export const runRequestedSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('echo'), spec: echoSpecSchema, submittedBy: z.string().optional() }),
  z.object({ kind: z.literal('solve'), spec: solveSpecSchema, submittedBy: z.string().optional() }),
]);
export type RunRequested = z.infer<typeof runRequestedSchema>;

export const echoJobSchema = z.object({ index: z.number().int().nonnegative(), text: z.string() });

/** A job's terminal result, sent to the aggregator. `result` is kind-specific and validated there. */
export const jobResultSchema = z.object({
  kind: kindSchema,
  outcome: z.string().min(1),
  result: z.record(z.string(), z.unknown()),
  artifacts: z.record(z.string(), objectRefSchema).default({}),
});
export type JobResult = z.infer<typeof jobResultSchema>;

export const runCompletedSchema = z.object({
  totalJobs: z.number().int().nonnegative(),
  reports: z.record(z.string(), z.string()),
  completedAt: z.string().datetime(),
});

function entry<S extends z.ZodType>(e: CatalogEntry<S>): CatalogEntry<S> {
  return e;
}

/** Every message type the fleet exchanges, by type name. */
export const catalog = {
  'run.requested': entry({
    type: 'run.requested',
    stage: 'produce',
    schema: runRequestedSchema,
    timeoutMs: 10 * 60_000,
    retry: defaultRetry,
    description: 'A client asks for a run; the producer expands it into jobs.',
  }),
  'echo.job': entry({
    type: 'echo.job',
    stage: 'aggregate',
    schema: echoJobSchema,
    timeoutMs: 30_000,
    retry: defaultRetry,
    description: 'Smoke-pipeline job: carries a line of text straight to the aggregator.',
  }),
  'solve.generate': entry({
    type: 'solve.generate',
    stage: 'generate',
    schema: solveGeneratePayloadSchema,
    timeoutMs: 5 * 60_000,
    retry: { maxAttempts: 6, delaysMs: delayTiersMs },
    description: 'Ask one model for one sample of one problem.',
  }),
  'solve.evaluate': entry({
    type: 'solve.evaluate',
    stage: 'evaluate',
    schema: solveEvaluatePayloadSchema,
    timeoutMs: 5 * 60_000,
    retry: defaultRetry,
    description: 'Run one candidate solution against its problem tests in a sandbox.',
  }),
  'run.finalize': entry({
    type: 'run.finalize',
    stage: 'aggregate',
    schema: z.object({ reason: z.string().default('expanded') }),
    timeoutMs: 10 * 60_000,
    retry: defaultRetry,
    description: 'Sent by the producer after expanding a run: the aggregator checks whether the run is complete.',
  }),
  'job.result': entry({
    type: 'job.result',
    stage: 'aggregate',
    schema: jobResultSchema,
    timeoutMs: 60_000,
    retry: defaultRetry,
    description: "A job's terminal result; the aggregator counts it once.",
  }),
  'run.completed': entry({
    type: 'run.completed',
    stage: 'aggregate',
    schema: runCompletedSchema,
    timeoutMs: 30_000,
    retry: defaultRetry,
    description:
      'Event (routing key event.run.completed): every job of the run has a result and the reports are written.',
  }),
} as const satisfies Record<string, CatalogEntry>;

export type MessageType = keyof typeof catalog;
export type PayloadOf<T extends MessageType> = z.infer<(typeof catalog)[T]['schema']>;

const registered = new Map<string, CatalogEntry>(Object.entries(catalog));

/** Services add their own message types at start-up (solve, synth, ...), keeping one lookup. */
export function registerMessageType(e: CatalogEntry): void {
  const existing = registered.get(e.type);
  if (existing && existing !== e) throw new Error(`message type ${e.type} is already registered`);
  registered.set(e.type, e);
}

export function catalogEntry(type: string): CatalogEntry | undefined {
  return registered.get(type);
}

import { randomFillSync, randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * A stage is a queue: `produce` and `aggregate` belong to the platform, the others are declared by
 * the kinds in the registry (see `@evalfleet/shared/workflow`). Names are validated, not enumerated.
 */
export type Stage = string;
export const stageSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z][a-z0-9_-]*$/, 'stages use lower-case letters, digits, _ and - only');

/** The stages every fleet has, whatever kinds are registered. */
export const platformStages = { produce: 'produce', aggregate: 'aggregate' } as const;

/** A workload's name (`solve`, `echo`, ...): one folder and one registry entry each. */
export type Kind = string;
export const kindSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z][a-z0-9_-]*$/, 'kinds use lower-case letters, digits, _ and - only');

/** A claim-check reference to an artifact in the store (large payload fields travel this way). */
export const objectRefSchema = z.object({
  key: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ObjectRefField = z.infer<typeof objectRefSchema>;

export const idSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@/+-]+$/, 'ids use letters, digits and . _ : @ / + - only');

/**
 * The envelope every message carries. The payload is validated separately by the
 * catalog entry for the message's `type`.
 */
export const envelopeSchema = z.object({
  v: z.literal(1),
  type: z.string().min(1),
  runId: idSchema,
  jobId: idSchema,
  kind: kindSchema,
  stage: stageSchema,
  attempt: z.number().int().min(1),
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  traceparent: z.string().optional(),
  createdAt: z.string().datetime(),
  sentAt: z.string().datetime(),
  payload: z.unknown(),
});
export type Envelope<P = unknown> = Omit<z.infer<typeof envelopeSchema>, 'payload'> & { payload: P };

export function newTraceId(): string {
  return randomHex(16);
}

// Trace and span ids (not secrets) come from a pool of random bytes refilled 4 KiB at a time, as
// `randomUUID` does: every envelope needs one or two, and a `randomBytes` call each was a visible share of
// a service's CPU per job.
const idPool = Buffer.alloc(4096);
let idPoolUsed = idPool.length;

function randomHex(bytes: number): string {
  if (idPoolUsed + bytes > idPool.length) {
    randomFillSync(idPool);
    idPoolUsed = 0;
  }
  idPoolUsed += bytes;
  return idPool.toString('hex', idPoolUsed - bytes, idPoolUsed);
}

export function newJobId(): string {
  return randomUUID();
}

/** Build a fresh envelope (attempt 1). */
export function makeEnvelope<P>(fields: {
  type: string;
  runId: string;
  jobId: string;
  kind: Kind;
  stage: Stage;
  payload: P;
  traceId?: string;
  attempt?: number;
  now?: Date;
}): Envelope<P> {
  const now = (fields.now ?? new Date()).toISOString();
  const traceId = fields.traceId ?? newTraceId();
  return {
    v: 1,
    type: fields.type,
    runId: fields.runId,
    jobId: fields.jobId,
    kind: fields.kind,
    stage: fields.stage,
    attempt: fields.attempt ?? 1,
    traceId,
    traceparent: `00-${traceId}-${randomHex(8)}-01`,
    createdAt: now,
    sentAt: now,
    payload: fields.payload,
  };
}

/** The same job moving to its next step: keeps run, job, kind and trace, resets the attempt. */
export function nextEnvelope<P>(
  prev: Envelope,
  next: { type: string; stage: Stage; payload: P; jobId?: string; now?: Date },
): Envelope<P> {
  return makeEnvelope({
    type: next.type,
    runId: prev.runId,
    jobId: next.jobId ?? prev.jobId,
    kind: prev.kind,
    stage: next.stage,
    payload: next.payload,
    traceId: prev.traceId,
    ...(next.now ? { now: next.now } : {}),
  });
}

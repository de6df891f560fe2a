import type { z } from 'zod';
import { PermanentError, ErrorCodes } from '../errors/index.js';
import type { MessageCatalog } from './catalog.js';
import { envelopeSchema, type Envelope } from './envelope.js';

export function describeIssues(err: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Payload objects `decodeMessage` produced, with the schema that produced them: a handler taking the
 * same type can use them as they are instead of validating them a second time (zod parsing is a
 * visible part of a job's CPU).
 */
const validated = new WeakMap<object, unknown>();

/** `value` as `schema`'s output when `decodeMessage` made it with that very schema; else undefined. */
export function alreadyValidated<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  if (typeof value !== 'object' || value === null || validated.get(value) !== schema) return undefined;
  // The WeakMap holds only objects `schema.safeParse` returned: they are its output.
  return value as z.output<S>;
}

/**
 * Parse and validate raw message bytes: JSON, the envelope (its kind known to the catalog), then
 * the payload by the catalog entry of its type. Every failure is a PermanentError with a stable code.
 */
export function decodeMessage(body: Buffer, catalog: MessageCatalog, expectedStage?: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new PermanentError(ErrorCodes.invalidJson, `message body is not valid JSON: ${(err as Error).message}`);
  }
  return decodeEnvelope(raw, catalog, expectedStage);
}

/** `decodeMessage` after the JSON: an already parsed value (an item of a batch message) as an envelope. */
export function decodeEnvelope(raw: unknown, catalog: MessageCatalog, expectedStage?: string): Envelope {
  const env = envelopeSchema.safeParse(raw);
  if (!env.success)
    throw new PermanentError(ErrorCodes.schemaViolation, `invalid envelope: ${describeIssues(env.error)}`);
  if (!catalog.knowsKind(env.data.kind))
    throw new PermanentError(ErrorCodes.schemaViolation, `unknown kind ${env.data.kind}`);
  const entry = catalog.entry(env.data.type);
  if (!entry) throw new PermanentError(ErrorCodes.schemaViolation, `unknown message type ${env.data.type}`);
  if (expectedStage !== undefined && env.data.stage !== expectedStage) {
    throw new PermanentError(
      ErrorCodes.unknownStage,
      `message for stage ${env.data.stage} arrived at ${expectedStage}`,
    );
  }
  const payload = entry.schema.safeParse(env.data.payload);
  if (!payload.success) {
    throw new PermanentError(
      ErrorCodes.schemaViolation,
      `invalid ${env.data.type} payload: ${describeIssues(payload.error)}`,
    );
  }
  if (typeof payload.data === 'object' && payload.data !== null) validated.set(payload.data, entry.schema);
  return { ...env.data, payload: payload.data };
}

export function encodeMessage(env: Envelope): Buffer {
  return Buffer.from(JSON.stringify(env), 'utf8');
}

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
  return { ...env.data, payload: payload.data };
}

export function encodeMessage(env: Envelope): Buffer {
  return Buffer.from(JSON.stringify(env), 'utf8');
}

import { PermanentError, ErrorCodes } from '../errors/index.js';
import { catalogEntry } from './catalog.js';
import { envelopeSchema, type Envelope } from './envelope.js';

function issues(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Parse and validate raw message bytes: JSON, the envelope, then the payload by the
 * catalog entry of its type. Every failure is a PermanentError with a stable code.
 */
export function decodeMessage(body: Buffer, expectedStage?: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new PermanentError(ErrorCodes.invalidJson, `message body is not valid JSON: ${(err as Error).message}`);
  }
  const env = envelopeSchema.safeParse(raw);
  if (!env.success) throw new PermanentError(ErrorCodes.schemaViolation, `invalid envelope: ${issues(env.error)}`);
  const entry = catalogEntry(env.data.type);
  if (!entry) throw new PermanentError(ErrorCodes.schemaViolation, `unknown message type ${env.data.type}`);
  if (expectedStage !== undefined && env.data.stage !== expectedStage) {
    throw new PermanentError(
      ErrorCodes.unknownStage,
      `message for stage ${env.data.stage} arrived at ${expectedStage}`,
    );
  }
  const payload = entry.schema.safeParse(env.data.payload);
  if (!payload.success) {
    throw new PermanentError(ErrorCodes.schemaViolation, `invalid ${env.data.type} payload: ${issues(payload.error)}`);
  }
  return { ...env.data, payload: payload.data };
}

export function encodeMessage(env: Envelope): Buffer {
  return Buffer.from(JSON.stringify(env), 'utf8');
}

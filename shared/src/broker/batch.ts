import type { Options } from 'amqplib';
import { ErrorCodes, PermanentError } from '../errors/index.js';
import type { Envelope } from '../messages/index.js';
import type { HeaderTable } from './headers.js';

/**
 * Batch messages: several envelopes of one stage in one AMQP message (a JSON array of envelopes), so the
 * broker, the acks and the confirms cost one message per batch instead of one per job. Every item is
 * still its own job: it is handled, retried and dead-lettered on its own (a retry or a dead letter is a
 * single-envelope message), and a batch delivered a second time is split into single messages before any
 * item is handled again, so one poison job can never take its batch-mates to the dead-letter queue.
 */
export const BATCH_CONTENT_TYPE = 'application/vnd.evalfleet.batch+json';

/** Items in a batch message (informational; the body is what counts). */
export const BATCH_HEADER = 'x-evalfleet-batch';

/** An envelope is a JSON object, a batch a JSON array: the body's first byte tells them apart. */
export function isBatchBody(content: Buffer): boolean {
  for (const byte of content) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x5b; // '['
  }
  return false;
}

/** The items of a batch body, each still unvalidated. A body that is not a JSON array is permanent. */
export function batchItems(content: Buffer): unknown[] {
  let raw: unknown;
  try {
    raw = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new PermanentError(ErrorCodes.invalidJson, `batch body is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw) || raw.length === 0)
    throw new PermanentError(ErrorCodes.schemaViolation, 'batch body is not a non-empty array of envelopes');
  return raw;
}

/** AMQP properties of a batch message: the first job's identity with the item count. */
export function batchProperties(envs: readonly Envelope[], headers: HeaderTable = {}): Options.Publish {
  const first = envs[0];
  if (!first) throw new Error('an empty batch has no properties');
  return {
    persistent: true,
    contentType: BATCH_CONTENT_TYPE,
    messageId: `${first.jobId}:${first.stage}:${first.attempt}:x${envs.length}`,
    timestamp: Math.floor(Date.now() / 1000),
    type: first.type,
    headers: { ...headers, [BATCH_HEADER]: envs.length },
  };
}

/** A batch's envelopes and its body, the JSON array of them. */
export type EncodedBatch = { envs: Envelope[]; body: Buffer };

/**
 * Envelopes in the order given, cut into batches of at most `maxItems` whose encoded size stays under
 * `maxBytes` (an envelope over it alone is a batch of one: its publish fails as too large, alone). Each
 * envelope is serialised once: its JSON both sizes the batch and goes into the body.
 */
export function chunkBatches(envs: readonly Envelope[], maxItems: number, maxBytes: number): EncodedBatch[] {
  const out: EncodedBatch[] = [];
  let current: Envelope[] = [];
  let parts: string[] = [];
  let bytes = 2;
  const cut = () => {
    out.push({ envs: current, body: Buffer.from(`[${parts.join(',')}]`, 'utf8') });
    current = [];
    parts = [];
    bytes = 2;
  };
  for (const env of envs) {
    const json = JSON.stringify(env);
    const size = Buffer.byteLength(json, 'utf8') + 1;
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) cut();
    current.push(env);
    parts.push(json);
    bytes += size;
  }
  if (current.length > 0) cut();
  return out;
}

/** Items of an emitted batch message at most (they are one input batch's outputs, usually as many). */
export const MAX_EMITTED_BATCH = 64;

/** An item of a batch as the body of a message of its own. */
export function itemBytes(item: unknown): Buffer {
  return Buffer.from(JSON.stringify(item) ?? 'null', 'utf8');
}

/** The properties an item would have had as a message of its own (as far as its fields say). */
export function itemProperties(item: unknown): Options.Publish {
  const f = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
  const id = [f.jobId, f.stage, f.attempt].every((v) => typeof v === 'string' || typeof v === 'number');
  return {
    persistent: true,
    contentType: 'application/json',
    ...(id ? { messageId: `${String(f.jobId)}:${String(f.stage)}:${String(f.attempt)}` } : {}),
    ...(typeof f.type === 'string' ? { type: f.type } : {}),
    timestamp: Math.floor(Date.now() / 1000),
  };
}

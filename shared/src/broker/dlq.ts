import type { Channel, ConfirmChannel, GetMessage, Message, Options } from 'amqplib';
import { RetryableError } from '../errors/index.js';
import type { Stage } from '../messages/index.js';
import { BrokerErrorCodes } from './codes.js';
import type { BrokerConnection } from './connection.js';
import {
  deadLetteredAt,
  deadLetterReason,
  FailureHeaders,
  headerNumber,
  headerString,
  originalRoutingKey,
  readHistory,
  requeueHeaders,
  type HeaderTable,
  type HistoryEntry,
} from './headers.js';
import { stageRoutingKey, topologyNames } from './names.js';
import { checkQueue } from './stats.js';

export type StageQueueStats = {
  stage: Stage;
  queue: string;
  dlq: string;
  /** Ready messages in the work queue (unacked ones are not counted); null if the queue does not exist. */
  workDepth: number | null;
  workConsumers: number | null;
  /** Ready messages in the dead-letter queue; null if the queue does not exist. */
  dlqDepth: number | null;
  /** How long the DLQ's head message has been dead-lettered; null when the DLQ is empty. */
  oldestAgeMs: number | null;
};

export type DeadLetterSummary = {
  messageId: string | undefined;
  type: string | undefined;
  runId: string | undefined;
  jobId: string | undefined;
  kind: string | undefined;
  attempt: number | undefined;
  sizeBytes: number;
  /** The routing key a requeue publishes with. */
  routingKey: string;
  code: string;
  message: string;
  stage: string | undefined;
  attempts: number | undefined;
  firstFailureAt: string | undefined;
  lastFailureAt: string | undefined;
  deadLetteredAt: string | undefined;
  requeuedCount: number;
  history: HistoryEntry[];
  /** All headers, made JSON-safe. */
  headers: Record<string, unknown>;
};

export type RequeueResult = { moved: number; skipped: number };

/** Who a dead letter belongs to (from its envelope, when it has one). */
export type DeadLetterOwner = { type: string | undefined; runId: string | undefined; jobId: string | undefined };

/**
 * Depth of every stage's work queue and DLQ, and the age of the oldest dead letter. Peeking the head
 * (get + nack requeue) counts as a delivery for the quorum DLQ, so it raises that message's
 * `x-delivery-count`; DLQs have no delivery limit, so nothing is lost by it.
 */
export async function dlqList(conn: BrokerConnection, ns: string = conn.namespace): Promise<StageQueueStats[]> {
  const names = topologyNames(ns);
  const out: StageQueueStats[] = [];
  for (const stage of conn.stages()) {
    const work = await checkQueue(conn, names.queue(stage));
    const dlq = await checkQueue(conn, names.dlq(stage));
    out.push({
      stage,
      queue: names.queue(stage),
      dlq: names.dlq(stage),
      workDepth: work?.messageCount ?? null,
      workConsumers: work?.consumerCount ?? null,
      dlqDepth: dlq?.messageCount ?? null,
      oldestAgeMs: dlq && dlq.messageCount > 0 ? await headAgeMs(conn, names.dlq(stage)) : null,
    });
  }
  return out;
}

/**
 * Up to `limit` dead letters of a stage with their reason and payload summary, without consuming
 * them: all are fetched unacked on one channel, then that channel closes and the broker puts them back.
 */
export async function dlqInspect(
  conn: BrokerConnection,
  ns: string,
  stage: Stage,
  opts: { limit?: number } = {},
): Promise<DeadLetterSummary[]> {
  const queue = topologyNames(ns).dlq(stage);
  const limit = opts.limit ?? 20;
  return conn.withChannel(async (ch) => {
    const out: DeadLetterSummary[] = [];
    while (out.length < limit) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      out.push(summarise(msg, stage));
    }
    return out;
  });
}

/**
 * At most this many acks between two basic.get calls. A RabbitMQ 3.10 quorum queue channel keeps at
 * most 32 commands in flight (quorum_commands_soft_limit); above that it holds acks back in the
 * channel, and a channel that closes then loses them: the broker puts those messages back in the DLQ
 * although they were moved (seen under load). A basic.get is a synchronous command through the
 * queue's log, so when it returns every earlier ack has been applied and the count is back to zero;
 * batches below the limit therefore never reach it, and one last get flushes the final batch.
 */
const maxAckBatch = 16;

/**
 * Move dead letters back to work, each exactly once: get (unacked), publish with a confirm to the
 * work exchange with its original routing key and attempt 1, THEN ack it from the DLQ. Messages that
 * do not match `filterCode` stay unacked (so neither this loop nor a concurrent one sees them again)
 * and are handed back at the end; the loop ends when the DLQ has no ready message left. Publishes go
 * out in batches (confirms pipelined), each message acked only after its own confirm. A message whose
 * publish fails stays in the DLQ, and the call then rejects (RetryableError, `details.moved`).
 */
export async function dlqRequeue(
  conn: BrokerConnection,
  ns: string,
  stage: Stage,
  opts: {
    filterCode?: string;
    limit?: number;
    maxSkipped?: number;
    batchSize?: number;
    /** Runs before each message goes back to work (e.g. re-open its job's run); a throw keeps it in the DLQ. */
    beforePublish?: (owner: DeadLetterOwner) => Promise<void>;
  } = {},
): Promise<RequeueResult> {
  const names = topologyNames(ns);
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const maxSkipped = opts.maxSkipped ?? 10_000;
  const batchSize = Math.min(Math.max(1, opts.batchSize ?? maxAckBatch), maxAckBatch);
  const failures: unknown[] = [];
  const result = await conn.withConfirmChannel(async (ch) => {
    const returned = new Set<string>();
    ch.on('return', (m: Message) => {
      if (typeof m.properties.messageId === 'string') returned.add(m.properties.messageId);
    });
    const held: GetMessage[] = [];
    let moved = 0;
    let empty = false;
    try {
      while (!empty && moved < limit && held.length < maxSkipped && failures.length === 0) {
        const batch: GetMessage[] = [];
        while (batch.length < Math.min(batchSize, limit - moved) && held.length < maxSkipped) {
          const msg = await ch.get(names.dlq(stage), { noAck: false });
          if (!msg) {
            empty = true;
            break;
          }
          if (opts.filterCode !== undefined && deadLetterReason(msg.properties.headers).code !== opts.filterCode)
            held.push(msg);
          else batch.push(msg);
        }
        const sent = await Promise.allSettled(
          batch.map(async (msg) => {
            if (opts.beforePublish) {
              const env = parseEnvelope(msg.content);
              await opts.beforePublish({ type: str(env?.type), runId: str(env?.runId), jobId: str(env?.jobId) });
            }
            return publishRequeued(ch, names.exchanges.work, stage, msg);
          }),
        );
        sent.forEach((outcome, i) => {
          const msg = batch[i];
          if (!msg) return;
          if (outcome.status === 'fulfilled' && !returned.has(outcome.value)) {
            ch.ack(msg);
            moved++;
          } else {
            held.push(msg);
            failures.push(
              outcome.status === 'rejected'
                ? outcome.reason
                : new RetryableError(BrokerErrorCodes.unroutable, `no queue is bound for ${outcome.value}`),
            );
          }
        });
      }
      // The last acks went out after the last get: make them count before the channel closes.
      const extra = await ch.get(names.dlq(stage), { noAck: false });
      if (extra) ch.nack(extra, false, true);
    } finally {
      try {
        for (const m of held) ch.nack(m, false, true);
      } catch {
        // The channel is gone; the broker has put every unacked message back already.
      }
    }
    return { moved, skipped: held.length - failures.length };
  });
  if (failures.length > 0) {
    throw new RetryableError(
      BrokerErrorCodes.brokerNack,
      `${failures.length} message(s) could not be requeued and stay in the DLQ (${result.moved} moved)`,
      { cause: failures[0], details: { moved: result.moved } },
    );
  }
  return result;
}

/** Publish one dead letter back to work (attempt 1, history kept); resolves with its messageId once confirmed. */
async function publishRequeued(ch: ConfirmChannel, exchange: string, stage: Stage, msg: GetMessage): Promise<string> {
  const headers: HeaderTable = msg.properties.headers ?? {};
  const now = new Date();
  const { content, messageId } = resetAttempt(msg, stage, now);
  await publishConfirmed(ch, exchange, originalRoutingKey(headers, stageRoutingKey(stage)), content, {
    persistent: true,
    mandatory: true,
    contentType: typeof msg.properties.contentType === 'string' ? msg.properties.contentType : 'application/json',
    messageId,
    ...(typeof msg.properties.type === 'string' ? { type: msg.properties.type } : {}),
    timestamp: Math.floor(now.getTime() / 1000),
    headers: requeueHeaders(headers, deadLetterReason(headers), now),
  });
  return messageId;
}

/** Delete every ready message of a stage's DLQ; returns how many. */
export async function dlqPurge(conn: BrokerConnection, ns: string, stage: Stage): Promise<number> {
  const queue = topologyNames(ns).dlq(stage);
  return conn.withChannel(async (ch) => (await ch.purgeQueue(queue)).messageCount);
}

/** How long the head of a stage's DLQ has been dead-lettered; null when it is empty. */
export function deadLetterHeadAgeMs(conn: BrokerConnection, stage: Stage): Promise<number | null> {
  return headAgeMs(conn, topologyNames(conn.namespace).dlq(stage));
}

async function headAgeMs(conn: BrokerConnection, queue: string): Promise<number | null> {
  return conn.withChannel(async (ch: Channel) => {
    const msg = await ch.get(queue, { noAck: false });
    if (!msg) return null;
    ch.nack(msg, false, true);
    const at = deadLetteredAt(msg.properties.headers) ?? timestampOf(msg);
    return at ? Math.max(0, Date.now() - at.getTime()) : null;
  });
}

function timestampOf(msg: Message): Date | undefined {
  const ts: unknown = msg.properties.timestamp;
  return typeof ts === 'number' ? new Date(ts * 1000) : undefined;
}

type EnvelopeLike = {
  type?: unknown;
  runId?: unknown;
  jobId?: unknown;
  kind?: unknown;
  stage?: unknown;
  attempt?: unknown;
};

function parseEnvelope(content: Buffer): (EnvelopeLike & Record<string, unknown>) | undefined {
  try {
    const v: unknown = JSON.parse(content.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as EnvelopeLike & Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The envelope with its attempt reset to 1 (bytes that are not an envelope go back unchanged). */
function resetAttempt(msg: Message, stage: Stage, now: Date): { content: Buffer; messageId: string } {
  const original = str(msg.properties.messageId) ?? `requeued:${stage}:${now.getTime()}`;
  const env = parseEnvelope(msg.content);
  if (!env || typeof env.attempt !== 'number') return { content: msg.content, messageId: original };
  const next = { ...env, attempt: 1, sentAt: now.toISOString() };
  const jobId = str(env.jobId);
  const envStage = str(env.stage) ?? stage;
  return {
    content: Buffer.from(JSON.stringify(next), 'utf8'),
    messageId: jobId ? `${jobId}:${envStage}:1` : original,
  };
}

async function publishConfirmed(
  ch: ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    ch.publish(exchange, routingKey, content, options, (err: unknown) => {
      if (err)
        reject(
          new RetryableError(BrokerErrorCodes.brokerNack, `publish to ${exchange} ${routingKey} not confirmed`, {
            cause: err,
          }),
        );
      else resolve();
    });
  });
}

function summarise(msg: GetMessage, stage: Stage): DeadLetterSummary {
  const headers: HeaderTable = msg.properties.headers ?? {};
  const env = parseEnvelope(msg.content);
  const reason = deadLetterReason(headers);
  const deadAt = deadLetteredAt(headers);
  return {
    messageId: str(msg.properties.messageId),
    type: str(env?.type) ?? str(msg.properties.type),
    runId: str(env?.runId),
    jobId: str(env?.jobId),
    kind: str(env?.kind),
    attempt: typeof env?.attempt === 'number' ? env.attempt : undefined,
    sizeBytes: msg.content.length,
    routingKey: originalRoutingKey(headers, stageRoutingKey(stage)),
    code: reason.code,
    message: reason.message,
    stage: headerString(headers, FailureHeaders.stage),
    attempts: headerNumber(headers, FailureHeaders.attempts),
    firstFailureAt: headerString(headers, FailureHeaders.firstFailureAt),
    lastFailureAt: headerString(headers, FailureHeaders.lastFailureAt),
    deadLetteredAt: deadAt?.toISOString(),
    requeuedCount: headerNumber(headers, FailureHeaders.requeuedCount) ?? 0,
    history: readHistory(headers),
    headers: jsonSafe(headers) as Record<string, unknown>,
  };
}

function jsonSafe(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  }
  return v;
}

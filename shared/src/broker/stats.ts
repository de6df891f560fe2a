import type { Stage } from '../messages/index.js';
import type { FleetMetrics } from '../metrics/index.js';
import type { BrokerConnection } from './connection.js';
import { deadLetterHeadAgeMs } from './dlq.js';
import { topologyNames } from './names.js';

export type QueueDepths = {
  /** Ready messages per stage queue and DLQ (null: the queue does not exist). Unacked ones are not counted. */
  stages: { stage: Stage; work: number | null; consumers: number | null; deadLetters: number | null }[];
  /** Retries waiting in each delay tier. */
  delayed: { tierMs: number; depth: number | null }[];
};

/** Check one queue; null if it does not exist. */
export async function checkQueue(
  conn: BrokerConnection,
  queue: string,
): Promise<{ messageCount: number; consumerCount: number } | null> {
  // A missing queue closes the channel (404), hence one channel per check.
  try {
    return await conn.withChannel((ch) => ch.checkQueue(queue));
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 404) return null;
    throw err;
  }
}

/** Depths of every queue of a namespace, without touching any message (for `status` and the queue-depth gauge). */
export async function queueDepths(
  conn: BrokerConnection,
  ns: string = conn.namespace,
  tiers: readonly number[] = conn.delayTiersMs,
): Promise<QueueDepths> {
  const names = topologyNames(ns);
  const out: QueueDepths = { stages: [], delayed: [] };
  for (const stage of conn.stages()) {
    const work = await checkQueue(conn, names.queue(stage));
    const dlq = await checkQueue(conn, names.dlq(stage));
    out.stages.push({
      stage,
      work: work?.messageCount ?? null,
      consumers: work?.consumerCount ?? null,
      deadLetters: dlq?.messageCount ?? null,
    });
  }
  for (const tierMs of tiers) {
    out.delayed.push({ tierMs, depth: (await checkQueue(conn, names.delayQueue(tierMs)))?.messageCount ?? null });
  }
  return out;
}

/** Sample queue depths into the `evalfleet_queue_depth` gauge (role work / dead_letter); call it on a timer. */
export async function recordQueueDepths(
  conn: BrokerConnection,
  metrics: FleetMetrics,
  ns: string = conn.namespace,
): Promise<QueueDepths> {
  const depths = await queueDepths(conn, ns);
  for (const s of depths.stages) {
    if (s.work !== null) metrics.queueDepth.set({ stage: s.stage, role: 'work' }, s.work);
    if (s.deadLetters !== null) metrics.queueDepth.set({ stage: s.stage, role: 'dead_letter' }, s.deadLetters);
    if (s.consumers !== null) metrics.queueConsumers.set({ stage: s.stage }, s.consumers);
    if (s.work === 0) metrics.queueOldestAge.set({ stage: s.stage, role: 'work' }, 0);
    if (s.deadLetters !== null) {
      const ageMs = s.deadLetters > 0 ? await deadLetterHeadAgeMs(conn, s.stage) : 0;
      metrics.queueOldestAge.set({ stage: s.stage, role: 'dead_letter' }, (ageMs ?? 0) / 1000);
    }
  }
  return depths;
}

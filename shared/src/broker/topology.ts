import type { Channel } from 'amqplib';
import { ErrorCodes, PermanentError } from '../errors/index.js';
import { delayTiersMs as catalogDelayTiersMs, type Stage } from '../messages/index.js';
import { delayTierHeader, knownStages, stageRoutingKey, topologyNames } from './names.js';

export type TopologyOptions = {
  /** Deliveries after which the broker dead-letters a message nobody acks (poison messages). Default 10. */
  deliveryLimit?: number;
  /** Delay tiers, one delay queue each. Default: the catalog's `delayTiersMs`. */
  delayTiersMs?: readonly number[];
  /** Stages to declare queues for (the catalog's). Default: the well-known stages. */
  stages?: readonly Stage[];
};

export const defaultDeliveryLimit = 10;

// Quorum queues dead-letter at-least-once only with reject-publish overflow; without it the broker
// silently falls back to at-most-once and a message can vanish between the queue and its DLQ.
const atLeastOnceDeadLettering = {
  'x-dead-letter-strategy': 'at-least-once',
  'x-overflow': 'reject-publish',
} as const;

/** Validate and normalise delay tiers: positive integers, ascending, no duplicates. */
export function normaliseDelayTiers(tiers: readonly number[] = catalogDelayTiersMs): number[] {
  const sorted = [...new Set(tiers)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((t) => !Number.isInteger(t) || t <= 0)) {
    throw new PermanentError(ErrorCodes.configInvalid, `delay tiers must be positive integers, got ${tiers.join(',')}`);
  }
  return sorted;
}

/**
 * Declare every exchange, queue and binding of `namespace`. Idempotent: run after every (re)connect.
 * The channel is closed by the broker when an existing queue has different arguments (e.g. another
 * delivery limit); that surfaces as a PermanentError, because retrying cannot fix it.
 */
export async function declareTopology(channel: Channel, namespace: string, opts: TopologyOptions = {}): Promise<void> {
  const names = topologyNames(namespace);
  const deliveryLimit = opts.deliveryLimit ?? defaultDeliveryLimit;
  const tiers = normaliseDelayTiers(opts.delayTiersMs);
  try {
    await channel.assertExchange(names.exchanges.work, 'topic', { durable: true });
    await channel.assertExchange(names.exchanges.dlx, 'topic', { durable: true });
    await channel.assertExchange(names.exchanges.retry, 'headers', { durable: true });

    // Every dead letter, whatever its stage, also lands here for the aggregator (see names.ts).
    await channel.assertQueue(names.deadLetterFeed, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': deliveryLimit },
    });
    await channel.bindQueue(names.deadLetterFeed, names.exchanges.dlx, 'stage.*');

    for (const stage of opts.stages ?? knownStages) {
      const key = stageRoutingKey(stage);
      await channel.assertQueue(names.queue(stage), {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': deliveryLimit,
          'x-dead-letter-exchange': names.exchanges.dlx,
          ...atLeastOnceDeadLettering,
        },
      });
      await channel.bindQueue(names.queue(stage), names.exchanges.work, key);
      // DLQs keep what lands in them until an operator acts: no delivery limit (peeking must not
      // lose anything) and no DLX.
      await channel.assertQueue(names.dlq(stage), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(names.dlq(stage), names.exchanges.dlx, key);
    }

    for (const ms of tiers) {
      // Delay queues are quorum queues (message TTL is supported since 3.10): a message waiting for
      // its retry is a job in flight, so it gets the same replication and at-least-once hop back to
      // the work exchange as the work queues. One TTL per queue means the head always expires first,
      // so there is no head-of-line blocking. No dead-letter routing key: the message returns to the
      // work exchange with its original `stage.<stage>` routing key.
      await channel.assertQueue(names.delayQueue(ms), {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-message-ttl': ms,
          'x-dead-letter-exchange': names.exchanges.work,
          ...atLeastOnceDeadLettering,
        },
      });
      await channel.bindQueue(names.delayQueue(ms), names.exchanges.retry, '', {
        'x-match': 'all',
        [delayTierHeader]: String(ms),
      });
    }
  } catch (err) {
    if (isPreconditionFailed(err)) {
      throw new PermanentError(
        ErrorCodes.configInvalid,
        `broker topology of namespace ${namespace} exists with different arguments (delivery limit or delay tiers changed?): ${(err as Error).message}`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** Delete every queue and exchange of `namespace` (tests, and tearing down a namespace on purpose). */
export async function deleteTopology(channel: Channel, namespace: string, opts: TopologyOptions = {}): Promise<void> {
  const names = topologyNames(namespace);
  for (const stage of opts.stages ?? knownStages) {
    await channel.deleteQueue(names.queue(stage));
    await channel.deleteQueue(names.dlq(stage));
  }
  await channel.deleteQueue(names.deadLetterFeed);
  for (const ms of normaliseDelayTiers(opts.delayTiersMs)) await channel.deleteQueue(names.delayQueue(ms));
  for (const exchange of Object.values(names.exchanges)) await channel.deleteExchange(exchange);
}

function isPreconditionFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 406;
}

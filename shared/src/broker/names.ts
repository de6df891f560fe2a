import type { Stage } from '../messages/index.js';

/** Stages a namespace may have queues for when nothing says which (clean-up of a namespace). */
export const knownStages: readonly Stage[] = ['produce', 'generate', 'mutate', 'evaluate', 'aggregate'];

/** Which exchange a publish goes to: the work exchange, the retry (delay) exchange or the dead-letter exchange. */
export type ExchangeRole = 'work' | 'retry' | 'dlx';

/** Every exchange and queue name of one namespace, derived in one place. */
export type TopologyNames = {
  namespace: string;
  exchanges: Record<ExchangeRole, string>;
  /** Work queue of a stage: `<ns>.<stage>`. */
  queue(stage: Stage): string;
  /** Dead-letter queue of a stage: `<ns>.<stage>.dlq`. */
  dlq(stage: Stage): string;
  /** Delay queue of one retry tier: `<ns>.delay.<ms>`. */
  delayQueue(ms: number): string;
  /**
   * `<ns>.deadletters`: a copy of every dead letter of every stage (bound to the DLX beside the
   * per-stage DLQs), so the aggregator can end the job's run with a `dead_lettered` result while the
   * DLQ keeps the message for inspection and requeue.
   */
  deadLetterFeed: string;
};

export const defaultNamespace = 'evalfleet';

export function topologyNames(namespace: string = defaultNamespace): TopologyNames {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(namespace)) {
    throw new Error(`invalid broker namespace ${JSON.stringify(namespace)}`);
  }
  return {
    namespace,
    exchanges: { work: `${namespace}.work`, retry: `${namespace}.retry`, dlx: `${namespace}.dlx` },
    queue: (stage) => `${namespace}.${stage}`,
    dlq: (stage) => `${namespace}.${stage}.dlq`,
    delayQueue: (ms) => `${namespace}.delay.${ms}`,
    deadLetterFeed: `${namespace}.deadletters`,
  };
}

/** Routing key of a stage's work (and dead-letter) messages. */
export function stageRoutingKey(stage: Stage): string {
  return `stage.${stage}`;
}

/** Routing key of a run-level event such as `run.completed`, published on the work exchange. */
export function eventRoutingKey(name: string): string {
  return `event.${name}`;
}

/**
 * The header that binds a message to one delay queue on the retry (headers) exchange. Deliberately
 * not `x-`-prefixed: RabbitMQ's headers exchange ignores `x-` headers when matching (3.10 included),
 * so an `x-delay-tier` binding would match every message and send each retry to every delay queue.
 */
export const delayTierHeader = 'evalfleet-delay-tier';

export {
  connectBroker,
  BrokerConnection,
  type BrokerOptions,
  type BrokerEvents,
  type BrokerState,
} from './connection.js';
export type { Publisher, PublishOptions } from './publisher.js';
export { envelopeProperties } from './publisher.js';
export { BATCH_CONTENT_TYPE, BATCH_HEADER, isBatchBody } from './batch.js';
export type { StageConsumer, ConsumeOptions, MessageHandler, HandlerContext } from './consumer.js';
export {
  declareTopology,
  deleteTopology,
  defaultDeliveryLimit,
  normaliseDelayTiers,
  type TopologyOptions,
} from './topology.js';
export {
  topologyNames,
  stageRoutingKey,
  eventRoutingKey,
  defaultNamespace,
  delayTierHeader,
  type TopologyNames,
  type ExchangeRole,
} from './names.js';
export {
  dlqList,
  dlqInspect,
  dlqRequeue,
  dlqPurge,
  type StageQueueStats,
  type DeadLetterSummary,
  type RequeueResult,
  type DeadLetterOwner,
} from './dlq.js';
export {
  FailureHeaders,
  chooseDelayTier,
  deadLetterReason,
  deadLetterOrigin,
  readHistory,
  type HeaderTable,
  type HistoryEntry,
  type Failure,
} from './headers.js';
export { queueDepths, recordQueueDepths, type QueueDepths } from './stats.js';
export type { EventSubscription, EventHandler, EventSubscriptionOptions } from './events.js';
export { decideOutcome, type Outcome } from './outcome.js';
export { BrokerErrorCodes } from './codes.js';
export { fullJitterDelay } from './backoff.js';

/**
 * Error codes the broker layer adds to the shared `ErrorCodes` (errors/index.ts).
 * `broker_unavailable`, `attempts_exhausted` and friends come from there.
 */
export const BrokerErrorCodes = {
  /** A handler ran past its message type's `timeoutMs`; retried. */
  handlerTimeout: 'handler_timeout',
  /** The broker refused a publish (negative confirm), e.g. a queue at its length limit. */
  brokerNack: 'broker_nack',
  /** A mandatory publish matched no queue (topology missing). */
  unroutable: 'unroutable',
  /** A publish was given up because its caller's signal aborted (e.g. the delivery went stale). */
  publishAborted: 'publish_aborted',
  /** A message over the broker's size limit: permanent (the broker would close the channel on every try). */
  messageTooLarge: 'message_too_large',
} as const;

import type { Envelope } from '../messages/index.js';

/**
 * What a handler needs from the broker: publish a job to the queue of its envelope's
 * stage, or a run-level event. Both resolve once the broker has confirmed the message.
 */
export interface Bus {
  publish(env: Envelope): Promise<void>;
  publishEvent(name: string, env: Envelope): Promise<void>;
  /** Several envelopes as batch messages of at most `maxItems` (the broker's bus); absent, one by one. */
  publishMany?(envs: readonly Envelope[], maxItems: number): Promise<void>;
}

/** Publish envelopes as batch messages of at most `maxItems` where the bus can, else one message each. */
export async function publishAll(bus: Bus, envs: readonly Envelope[], maxItems: number): Promise<void> {
  if (bus.publishMany && maxItems > 1) return bus.publishMany(envs, maxItems);
  await Promise.all(envs.map((e) => bus.publish(e)));
}

export const routingKeyOf = (env: Pick<Envelope, 'stage'>): string => `stage.${env.stage}`;
export const eventRoutingKey = (name: string): string => `event.${name}`;

import type { Envelope } from '../messages/index.js';

/**
 * What a handler needs from the broker: publish a job to the queue of its envelope's
 * stage, or a run-level event. Both resolve once the broker has confirmed the message.
 */
export interface Bus {
  publish(env: Envelope): Promise<void>;
  publishEvent(name: string, env: Envelope): Promise<void>;
}

export const routingKeyOf = (env: Pick<Envelope, 'stage'>): string => `stage.${env.stage}`;
export const eventRoutingKey = (name: string): string => `event.${name}`;

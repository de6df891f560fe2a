import type { z } from 'zod';
import { platformStages, type Stage } from './envelope.js';

/** Retry policy of a message type: fixed delay tiers, then the dead-letter queue. */
export type RetryPolicy = { maxAttempts: number; delaysMs: readonly number[] };

export type CatalogEntry<S extends z.ZodType = z.ZodType> = {
  type: string;
  stage: Stage;
  schema: S;
  /** A handler that runs longer than this is treated as a retryable failure. */
  timeoutMs: number;
  retry: RetryPolicy;
  description: string;
};

/** The delay tiers every stage shares (one delay queue per tier). */
export const delayTiersMs = [1_000, 5_000, 30_000, 120_000] as const;

export const defaultRetry: RetryPolicy = { maxAttempts: 5, delaysMs: delayTiersMs };

/**
 * Every message type a fleet exchanges, with the stages (queues) they travel on and the kinds that
 * may appear in envelopes. Built from the kind registry (`@evalfleet/shared/workflow`); tests of the
 * broker alone build one from their own types.
 */
export class MessageCatalog {
  private readonly byType = new Map<string, CatalogEntry>();
  private readonly kindSet: ReadonlySet<string> | undefined;

  constructor(entries: Iterable<CatalogEntry>, opts: { kinds?: Iterable<string> } = {}) {
    for (const e of entries) {
      if (this.byType.has(e.type)) throw new Error(`message type ${e.type} is declared twice`);
      this.byType.set(e.type, e);
    }
    this.kindSet = opts.kinds ? new Set(opts.kinds) : undefined;
  }

  entry(type: string): CatalogEntry | undefined {
    return this.byType.get(type);
  }

  entries(): CatalogEntry[] {
    return [...this.byType.values()];
  }

  /** Every stage with a queue: the platform's and those the message types name, sorted. */
  stages(): Stage[] {
    const set = new Set<Stage>(Object.values(platformStages));
    for (const e of this.byType.values()) set.add(e.stage);
    return [...set].sort();
  }

  /** Whether envelopes may carry this kind (any kind when the catalog was built without a list). */
  knowsKind(kind: string): boolean {
    return this.kindSet === undefined || this.kindSet.has(kind);
  }

  kinds(): string[] | undefined {
    return this.kindSet ? [...this.kindSet].sort() : undefined;
  }
}

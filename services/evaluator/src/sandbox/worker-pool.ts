import type { SupervisorClient } from './supervisor-client.js';
import type { SandboxLogger } from './types.js';

/** A long-lived supervisor (a container, or a local process) that runs one job at a time. */
export interface SupervisorWorker {
  readonly client: SupervisorClient;
  readonly label: string;
  jobsRun: number;
  /** Stop it and release everything it holds. Never rejects. */
  destroy(): Promise<void>;
}

export class PoolClosedError extends Error {
  constructor() {
    super('the sandbox is closed');
    this.name = 'PoolClosedError';
  }
}

type Slot = { worker: Promise<SupervisorWorker> | undefined; ready: boolean };

/** Why a worker was replaced (a small fixed set: it is a metric label). */
export type RecycleReason = 'max_jobs' | 'crashed' | 'infra_error' | 'backstop' | 'stale' | 'requested';

/** Containers of the pool by state: started and free, started and running a job, booting. */
export type PoolCounts = { idle: number; busy: number; starting: number };

/**
 * A fixed number of slots, each holding at most one worker. A job takes a free slot (FIFO when all are
 * busy), starts the slot's worker if it has none, and may ask for the worker to be recycled afterwards:
 * the old one is destroyed in the background and a replacement starts at once, so the next job rarely
 * waits for a container to boot.
 */
export class WorkerPool {
  private readonly slots: Slot[];
  private readonly idle: number[];
  private readonly waiters: Array<(slot: number) => void> = [];
  private readonly destroying = new Set<Promise<void>>();
  private busy = 0;
  private closing = false;
  private drained: (() => void) | undefined;

  private readonly start: () => Promise<SupervisorWorker>;
  private readonly logger: SandboxLogger;
  private readonly onRecycle: ((reason: RecycleReason) => void) | undefined;

  constructor(
    size: number,
    start: () => Promise<SupervisorWorker>,
    logger: SandboxLogger,
    onRecycle?: (reason: RecycleReason) => void,
  ) {
    this.start = start;
    this.logger = logger;
    this.onRecycle = onRecycle;
    this.slots = Array.from({ length: size }, () => ({ worker: undefined, ready: false }));
    this.idle = this.slots.map((_, index) => index);
  }

  get size(): number {
    return this.slots.length;
  }

  /** How many containers are free, running a job, or still starting. */
  counts(): PoolCounts {
    const started = this.slots.filter((s) => s.worker !== undefined && s.ready).length;
    const starting = this.slots.filter((s) => s.worker !== undefined && !s.ready).length;
    return { idle: Math.max(0, started - this.busy), busy: Math.min(this.busy, started), starting };
  }

  /** Start every slot's worker now; rejects with the first start failure. */
  async warm(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.workerOf(slot)));
  }

  async use<T>(
    fn: (worker: SupervisorWorker) => Promise<{ value: T; recycle: boolean; reason?: RecycleReason }>,
  ): Promise<T> {
    const index = await this.acquire();
    const slot = this.slots[index]!;
    try {
      const worker = await this.workerOf(slot);
      let recycle = true;
      let reason: RecycleReason = 'crashed';
      try {
        const outcome = await fn(worker);
        recycle = outcome.recycle;
        reason = outcome.reason ?? 'requested';
        return outcome.value;
      } finally {
        if (recycle) {
          this.onRecycle?.(reason);
          this.recycle(slot, worker);
        }
      }
    } finally {
      this.release(index);
    }
  }

  /** Wait for jobs in flight, then destroy every worker (each step runs even if another fails). */
  async close(): Promise<void> {
    this.closing = true;
    for (const waiter of this.waiters.splice(0)) waiter(-1);
    if (this.busy > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    const workers = this.slots
      .map((slot) => slot.worker)
      .filter((w): w is Promise<SupervisorWorker> => w !== undefined);
    for (const slot of this.slots) slot.worker = undefined;
    await Promise.allSettled(workers.map(async (worker) => (await worker).destroy()));
    await Promise.allSettled([...this.destroying]);
  }

  private workerOf(slot: Slot): Promise<SupervisorWorker> {
    if (!slot.worker) {
      const started = this.start();
      slot.worker = started;
      slot.ready = false;
      started.then(
        () => {
          if (slot.worker === started) slot.ready = true;
        },
        () => undefined,
      );
      // Forget a worker that failed to start, so the next job on this slot tries again.
      started.catch(() => {
        if (slot.worker === started) slot.worker = undefined;
      });
    }
    return slot.worker;
  }

  private recycle(slot: Slot, worker: SupervisorWorker): void {
    if (slot.worker !== undefined) slot.worker = undefined;
    slot.ready = false;
    const destroyed = worker.destroy().finally(() => this.destroying.delete(destroyed));
    this.destroying.add(destroyed);
    if (!this.closing) {
      this.workerOf(slot).catch((err: unknown) =>
        this.logger.warn({ err: String(err), worker: worker.label }, 'sandbox replacement worker failed to start'),
      );
    }
  }

  private acquire(): Promise<number> {
    if (this.closing) return Promise.reject(new PoolClosedError());
    const index = this.idle.shift();
    if (index !== undefined) {
      this.busy++;
      return Promise.resolve(index);
    }
    return new Promise<number>((resolve, reject) => {
      this.waiters.push((slot) => {
        if (slot < 0) {
          reject(new PoolClosedError());
          return;
        }
        this.busy++;
        resolve(slot);
      });
    });
  }

  private release(index: number): void {
    this.busy--;
    const waiter = this.waiters.shift();
    if (waiter && !this.closing) {
      waiter(index);
    } else {
      this.idle.push(index);
    }
    if (this.busy === 0 && this.drained) this.drained();
  }
}

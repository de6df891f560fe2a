/** A per-process cap on calls in flight. */
export interface ConcurrencyCap {
  /** Runs `fn` when fewer than the cap are running; callers wait in arrival order. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createConcurrencyCap(limit: number): ConcurrencyCap {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency cap must be a positive integer, got ${limit}`);
  let active = 0;
  const queue: (() => void)[] = [];

  function release(): void {
    const next = queue.shift();
    // The slot passes straight to the next caller, so a newcomer cannot jump the queue.
    if (next !== undefined) next();
    else active -= 1;
  }

  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active < limit) active += 1;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}

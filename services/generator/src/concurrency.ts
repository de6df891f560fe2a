/** At most `limit` calls of `run` in flight; the rest wait in arrival order. */
export function createConcurrencyCap(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    inFlight: () => active,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      // A finishing call hands its slot straight to the next waiter, so a newcomer can
      // never slip in between and exceed the limit.
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else active += 1;
      try {
        return await fn();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else active -= 1;
      }
    },
  };
}

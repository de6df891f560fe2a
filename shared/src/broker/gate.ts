/**
 * A condition callers can wait for (connected, unblocked, drained, idle), with a timeout and an
 * abort signal, and without leaving listeners behind.
 */
export class Gate {
  private isOpen: boolean;
  private readonly waiters = new Set<() => void>();

  constructor(open: boolean) {
    this.isOpen = open;
  }

  get opened(): boolean {
    return this.isOpen;
  }

  open(): void {
    this.isOpen = true;
    for (const wake of [...this.waiters]) wake();
  }

  shut(): void {
    this.isOpen = false;
  }

  /** Wait until the gate is open: 'open', or 'timeout' after `timeoutMs` (Infinity: never), or 'aborted' when `signal` aborts. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<'open' | 'timeout' | 'aborted'> {
    if (this.isOpen) return Promise.resolve('open');
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const finish = (result: 'open' | 'timeout' | 'aborted'): void => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(onOpen);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onOpen = (): void => finish('open');
      const onAbort = (): void => finish('aborted');
      // setTimeout cannot wait longer than ~24.8 days (it fires at once instead): treat that as "no limit".
      const timer = timeoutMs < 2 ** 31 ? setTimeout(() => finish('timeout'), Math.max(0, timeoutMs)) : undefined;
      this.waiters.add(onOpen);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** At most `limit` callers at once; the rest wait in order. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.free = limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

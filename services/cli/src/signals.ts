/**
 * The CLI's one owner of SIGINT/SIGTERM/SIGHUP, as the services have theirs: the first signal aborts
 * `signal` (commands stop waiting or stop the fleet gracefully), a second one runs the force
 * handlers and exits 130. Installed on first use, removed by `dispose()`.
 */
export class CliSignals {
  private readonly controller = new AbortController();
  private readonly forceHandlers: (() => void)[] = [];
  private installed = false;
  private received: string | undefined;
  private readonly onSignal = (sig: NodeJS.Signals) => {
    if (this.received) {
      for (const f of this.forceHandlers) f();
      process.exit(130);
    }
    this.received = sig;
    this.controller.abort(new Error(`interrupted by ${sig}`));
  };

  /** Aborts on the first SIGINT or SIGTERM. */
  get signal(): AbortSignal {
    this.install();
    return this.controller.signal;
  }

  /** The first signal's name, once one arrived. */
  get which(): string | undefined {
    return this.received;
  }

  /** What a second signal does before the CLI exits (e.g. SIGKILL the fleet). */
  onForce(fn: () => void): void {
    this.install();
    this.forceHandlers.push(fn);
  }

  /** Resolves with the signal's name on the first SIGINT or SIGTERM. */
  untilSignal(): Promise<string> {
    const signal = this.signal;
    if (signal.aborted) return Promise.resolve(this.received ?? 'SIGINT');
    return new Promise((resolve) =>
      signal.addEventListener('abort', () => resolve(this.received ?? 'SIGINT'), { once: true }),
    );
  }

  dispose(): void {
    if (!this.installed) return;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGHUP', this.onSignal);
    this.installed = false;
  }

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    // A closed terminal stops what the CLI runs (e.g. `up`'s fleet) gracefully rather than orphaning it.
    process.on('SIGHUP', this.onSignal);
  }
}

import type { Logger } from 'pino';

export type LifecycleState = 'starting' | 'running' | 'stopping' | 'stopped';

type Hook = { name: string; fn: () => Promise<void> | void };

export type ShutdownOptions = {
  logger: Logger;
  /** After the first signal, hooks get this long before the process is forced out. */
  deadlineMs: number;
  /** Exits the process; injectable so tests can observe it. */
  exit?: (code: number) => void;
  /** Signal source; defaults to `process`. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
};

const signalNumbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * The one place a process owns its signals. First SIGTERM/SIGINT: readiness off, hooks
 * run in registration order (stop consuming before closing connections), each settled even
 * if another throws. Second signal or the deadline: exit at once. Exit code 128 + signal.
 */
export class ShutdownCoordinator {
  private state: LifecycleState = 'starting';
  private readonly hooks: Hook[] = [];
  private shutdownPromise: Promise<void> | undefined;
  private readonly exit: (code: number) => void;
  private readonly listeners = new Map<string, () => void>();
  private readonly stateListeners: ((s: LifecycleState) => void)[] = [];

  constructor(private readonly opts: ShutdownOptions) {
    this.exit = opts.exit ?? ((code) => process.exit(code));
  }

  get current(): LifecycleState {
    return this.state;
  }

  /** Ready to take work: running and not stopping. Drives /readyz. */
  isReady(): boolean {
    return this.state === 'running';
  }

  onStateChange(fn: (s: LifecycleState) => void): void {
    this.stateListeners.push(fn);
  }

  /** Register a clean-up step; hooks run in the order they were added. */
  addHook(name: string, fn: () => Promise<void> | void): void {
    this.hooks.push({ name, fn });
  }

  markRunning(): void {
    if (this.state === 'starting') this.setState('running');
  }

  /** Start listening for SIGTERM and SIGINT. */
  install(): this {
    const signals = this.opts.signals ?? process;
    for (const sig of Object.keys(signalNumbers)) {
      const listener = () => this.onSignal(sig);
      this.listeners.set(sig, listener);
      signals.on(sig, listener);
    }
    return this;
  }

  uninstall(): void {
    const signals = this.opts.signals ?? process;
    for (const [sig, listener] of this.listeners) signals.off(sig, listener);
    this.listeners.clear();
  }

  private setState(s: LifecycleState): void {
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private onSignal(sig: string): void {
    const code = 128 + (signalNumbers[sig] ?? 15);
    if (this.shutdownPromise) {
      this.opts.logger.warn({ signal: sig }, 'second signal: forcing exit');
      this.exit(code);
      return;
    }
    this.opts.logger.info({ signal: sig, deadlineMs: this.opts.deadlineMs }, 'shutting down gracefully');
    void this.shutdown(code);
  }

  /** Run every hook (once, however often called) and exit with `exitCode` if given. */
  shutdown(exitCode?: number): Promise<void> {
    this.shutdownPromise ??= this.runShutdown(exitCode);
    return this.shutdownPromise;
  }

  private async runShutdown(exitCode: number | undefined): Promise<void> {
    this.setState('stopping');
    const timer = setTimeout(() => {
      this.opts.logger.error({ deadlineMs: this.opts.deadlineMs }, 'shutdown deadline passed: forcing exit');
      this.exit(exitCode ?? 1);
    }, this.opts.deadlineMs);
    timer.unref();
    for (const hook of this.hooks) {
      const started = Date.now();
      const [result] = await Promise.allSettled([Promise.resolve().then(hook.fn)]);
      if (result.status === 'rejected') {
        this.opts.logger.error({ hook: hook.name, err: result.reason as unknown }, 'shutdown hook failed');
      } else {
        this.opts.logger.debug({ hook: hook.name, ms: Date.now() - started }, 'shutdown hook done');
      }
    }
    clearTimeout(timer);
    this.setState('stopped');
    this.uninstall();
    if (exitCode !== undefined) this.exit(exitCode);
  }
}

import { z } from 'zod';

/**
 * When a crashed child is restarted: after a capped exponential delay with jitter, and not at all
 * once it has crashed `maxCrashes` times within `windowMs` (a crash loop restarts would only hide).
 */
export type RestartPolicy = {
  maxCrashes: number;
  windowMs: number;
  /** The first restart's delay; it doubles with each further crash within the window. */
  backoffMs: number;
  backoffMaxMs: number;
  /** Fraction of each delay taken off at random, so instances that crashed together do not restart in step. */
  jitter: number;
};

/** The policy's settings from the environment (flags win over these); defaults suit a developer's machine. */
export const restartPolicySchema = z.object({
  EVALFLEET_UP_MAX_CRASHES: z.coerce.number().int().min(1).default(5),
  EVALFLEET_UP_CRASH_WINDOW_MS: z.coerce.number().int().min(1).default(60_000),
  EVALFLEET_UP_BACKOFF_MS: z.coerce.number().int().min(0).default(500),
  EVALFLEET_UP_BACKOFF_MAX_MS: z.coerce.number().int().min(0).default(30_000),
});

export function restartPolicyFrom(
  env: Record<string, string | undefined>,
  flags: Partial<Omit<RestartPolicy, 'jitter'>> = {},
): RestartPolicy {
  const parsed = restartPolicySchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid restart settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  return {
    maxCrashes: flags.maxCrashes ?? e.EVALFLEET_UP_MAX_CRASHES,
    windowMs: flags.windowMs ?? e.EVALFLEET_UP_CRASH_WINDOW_MS,
    backoffMs: flags.backoffMs ?? e.EVALFLEET_UP_BACKOFF_MS,
    backoffMaxMs: flags.backoffMaxMs ?? e.EVALFLEET_UP_BACKOFF_MAX_MS,
    jitter: 0.25,
  };
}

export type RestartDecision = { restart: true; delayMs: number; crashes: number } | { restart: false; crashes: number };

/** `crashTimes` (the latest one is `now`) decide: restart after a delay, or give up. */
export function decideRestart(
  crashTimes: readonly number[],
  now: number,
  policy: RestartPolicy,
  random: () => number = Math.random,
): RestartDecision {
  const crashes = crashTimes.filter((t) => now - t < policy.windowMs).length;
  if (crashes >= policy.maxCrashes) return { restart: false, crashes };
  const full = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** Math.max(0, crashes - 1));
  return { restart: true, delayMs: Math.round(full * (1 - policy.jitter * random())), crashes };
}

export type ChildState = 'starting' | 'running' | 'backoff' | 'given_up' | 'stopping' | 'stopped';

export type ChildExit = { code: number | null; signal: NodeJS.Signals | null; error?: string };

/** One run of a child process, as the supervisor sees it. */
export interface ChildHandle {
  readonly pid: number | undefined;
  /** Settles once, when the process has ended (or could not be started). */
  readonly exited: Promise<ChildExit>;
  kill(signal: NodeJS.Signals): void;
  /** The last lines the process wrote on stderr. */
  stderrTail(): string[];
}

export type ChildSpec = {
  name: string;
  spawn(): ChildHandle | Promise<ChildHandle>;
  /** Resolves once the child takes work; it is `starting` until then (without a probe: `running` once spawned). */
  ready?(child: ChildHandle, signal: AbortSignal): Promise<void>;
};

export type SupervisorEvent =
  | { type: 'started'; name: string; pid: number | undefined; restarts: number }
  | { type: 'running'; name: string; pid: number | undefined }
  | {
      type: 'crashed';
      name: string;
      pid: number | undefined;
      exit: ChildExit;
      stderr: string[];
      crashes: number;
      delayMs: number;
    }
  | { type: 'gave_up'; name: string; pid: number | undefined; exit: ChildExit; stderr: string[]; crashes: number }
  | { type: 'stopped'; name: string; pid: number | undefined; exit: ChildExit | undefined };

export type ChildSnapshot = {
  name: string;
  state: ChildState;
  pid: number | undefined;
  restarts: number;
  lastExit: ChildExit | undefined;
};

class Supervised {
  state: ChildState = 'starting';
  handle: ChildHandle | undefined;
  restarts = 0;
  crashTimes: number[] = [];
  lastExit: ChildExit | undefined;
  /** Ends a backoff wait early (on stop). */
  wake: (() => void) | undefined;
  loop: Promise<void> = Promise.resolve();
  constructor(readonly spec: ChildSpec) {}
}

/**
 * Keeps child processes running as a process supervisor does: a child that exits while the
 * supervisor is not stopping is restarted per the `RestartPolicy`, or given up on. Each child has
 * an explicit state: starting → running → (backoff → starting …) → given_up, or stopping → stopped.
 */
export class Supervisor {
  private readonly children = new Map<string, Supervised>();
  private stopping = false;
  private stopPromise: Promise<void> | undefined;
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    private readonly opts: {
      policy: RestartPolicy;
      onEvent?: (e: SupervisorEvent) => void;
      now?: () => number;
      random?: () => number;
    },
  ) {}

  /** Starts supervising (and starts) a child. */
  add(spec: ChildSpec): void {
    if (this.stopping) throw new Error(`cannot add ${spec.name}: the supervisor is stopping`);
    if (this.children.has(spec.name)) throw new Error(`${spec.name} is already supervised`);
    const child = new Supervised(spec);
    this.children.set(spec.name, child);
    child.loop = this.supervise(child);
  }

  snapshot(): ChildSnapshot[] {
    return [...this.children.values()].map((c) => ({
      name: c.spec.name,
      state: c.state,
      pid: c.handle?.pid,
      restarts: c.restarts,
      lastExit: c.lastExit,
    }));
  }

  /** Called after every state change (for a state file, say). */
  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  /** Resolves once every child has been given up on: nothing is left to supervise. */
  allGivenUp(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const all = [...this.children.values()];
        if (all.length > 0 && all.every((c) => c.state === 'given_up')) resolve();
      };
      this.onChange(check);
      check();
    });
  }

  /** Graceful stop: no more restarts, SIGTERM to every live child, SIGKILL to any still alive after `graceMs`. */
  stop(graceMs: number): Promise<void> {
    this.stopPromise ??= this.runStop(graceMs);
    return this.stopPromise;
  }

  /** SIGKILL to every live child; nothing is restarted afterwards. */
  kill(): void {
    this.stopping = true;
    for (const c of this.children.values()) {
      if (c.state === 'backoff') c.wake?.();
      else if (c.handle && (c.state === 'starting' || c.state === 'running' || c.state === 'stopping')) {
        c.handle.kill('SIGKILL');
      }
    }
  }

  private async runStop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const c of this.children.values()) {
      if (c.state === 'backoff') c.wake?.();
      else if (c.handle && (c.state === 'starting' || c.state === 'running')) {
        this.setState(c, 'stopping');
        c.handle.kill('SIGTERM');
      }
    }
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      await Promise.all([...this.children.values()].map((c) => c.loop));
    } finally {
      clearTimeout(timer);
    }
  }

  private setState(c: Supervised, state: ChildState): void {
    c.state = state;
    for (const fn of this.changeListeners) guarded(fn);
  }

  private emit(e: SupervisorEvent): void {
    const onEvent = this.opts.onEvent;
    if (onEvent) guarded(() => onEvent(e));
  }

  private async supervise(c: Supervised): Promise<void> {
    const now = this.opts.now ?? Date.now;
    for (;;) {
      if (this.stopping) {
        this.setState(c, 'stopped');
        this.emit({ type: 'stopped', name: c.spec.name, pid: c.handle?.pid, exit: c.lastExit });
        return;
      }
      this.setState(c, 'starting');
      const exit = await this.runOnce(c);
      c.lastExit = exit;
      if (this.stopping) continue;
      const at = now();
      c.crashTimes = [...c.crashTimes.filter((t) => at - t < this.opts.policy.windowMs), at];
      const decision = decideRestart(c.crashTimes, at, this.opts.policy, this.opts.random);
      const stderr = c.handle?.stderrTail() ?? [];
      const pid = c.handle?.pid;
      if (!decision.restart) {
        this.setState(c, 'given_up');
        this.emit({ type: 'gave_up', name: c.spec.name, pid, exit, stderr, crashes: decision.crashes });
        return;
      }
      this.setState(c, 'backoff');
      this.emit({
        type: 'crashed',
        name: c.spec.name,
        pid,
        exit,
        stderr,
        crashes: decision.crashes,
        delayMs: decision.delayMs,
      });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, decision.delayMs);
        c.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      c.wake = undefined;
      if (!this.stopping) c.restarts++;
    }
  }

  /** Spawns the child once and waits for it to end; a spawn that throws counts as a crash. */
  private async runOnce(c: Supervised): Promise<ChildExit> {
    let handle: ChildHandle;
    try {
      handle = await c.spec.spawn();
    } catch (err) {
      c.handle = undefined;
      return { code: null, signal: null, error: err instanceof Error ? err.message : String(err) };
    }
    c.handle = handle;
    // stop() may have come while spawn() was pending (it found no handle to signal).
    if (this.stopping) {
      this.setState(c, 'stopping');
      handle.kill('SIGTERM');
    } else {
      // Still starting, with a pid now: listeners (the state file) want it.
      this.setState(c, 'starting');
      this.emit({ type: 'started', name: c.spec.name, pid: handle.pid, restarts: c.restarts });
    }
    const probe = new AbortController();
    const markRunning = () => {
      if (c.state !== 'starting' || c.handle !== handle) return;
      this.setState(c, 'running');
      this.emit({ type: 'running', name: c.spec.name, pid: handle.pid });
    };
    if (c.spec.ready) {
      void c.spec.ready(handle, probe.signal).then(markRunning, () => undefined);
    } else {
      markRunning();
    }
    const exit = await handle.exited;
    probe.abort();
    return exit;
  }
}

/** A listener that throws must not end a child's supervision. */
function guarded(fn: () => void): void {
  try {
    fn();
  } catch {
    // Listeners report (logs, a state file); supervising matters more than one report.
  }
}

/** `exit code 1`, `killed by SIGKILL`, or why it could not start. */
export function describeExit(exit: ChildExit | undefined): string {
  if (!exit) return 'not started';
  if (exit.error) return `could not start: ${exit.error}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code ?? '?'}`;
}

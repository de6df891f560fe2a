import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { redactString } from '@evalfleet/shared/logger';
import { repoRoot } from '@evalfleet/shared/service';
import { processStartTicks } from './fleet-state.js';
import {
  describeExit,
  restartPolicyFrom,
  Supervisor,
  type ChildExit,
  type ChildHandle,
  type ChildSnapshot,
  type RestartPolicy,
  type SupervisorEvent,
} from './supervisor.js';

export const fleetServices = ['producer', 'generator', 'evaluator', 'mutator', 'aggregator'] as const;
export type FleetService = (typeof fleetServices)[number];

/** Metrics ports: service offsets from the base port (9101: producer 9101…, generator 9111…, mutator 9141…). */
const portOffset: Record<FleetService, number> = {
  producer: 0,
  generator: 10,
  evaluator: 20,
  aggregator: 30,
  mutator: 40,
};
export const defaultBasePort = 9101;

export type FleetOptions = {
  scale?: Partial<Record<FleetService, number>>;
  env: Record<string, string | undefined>;
  /** `fixed`: each instance on its own well-known metrics port (from `basePort`); `any`: a free port per instance. */
  ports?: 'fixed' | 'any';
  /** The producer's first metrics port with `ports: 'fixed'` (default 9101); 0 means `ports: 'any'`. */
  basePort?: number;
  /** Where child log lines go (already prefixed with the instance name). */
  onLine?: (instance: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** Restarts of crashed instances (default: `restartPolicyFrom(env)`). */
  policy?: RestartPolicy;
  /** Starts, crashes, restarts, give-ups and stops (see describeEvent). */
  onEvent?: (e: SupervisorEvent) => void;
};

export type InstanceSnapshot = ChildSnapshot & {
  service: FleetService;
  port: number | undefined;
  /** The kernel's start time of `pid` (Linux), so a recycled pid is never taken for the instance. */
  startTicks: string | undefined;
};

/** How many stderr lines of a crashed instance are kept to show why it ended. */
const stderrTailLines = 10;

/**
 * The fleet as local child processes under a Supervisor: each service's built `dist/bin.js`,
 * `--scale`d, each instance on its own metrics port (kept across restarts). A crashed instance
 * is restarted with backoff, or given up on after too many crashes. `stop()` sends SIGTERM and
 * waits (services drain their in-flight work); `kill()` sends SIGKILL.
 */
export class LocalFleet {
  readonly supervisor: Supervisor;
  private readonly meta = new Map<
    string,
    { service: FleetService; port: number | undefined; startTicks: string | undefined }
  >();

  constructor(private readonly opts: FleetOptions) {
    this.supervisor = new Supervisor({
      policy: opts.policy ?? restartPolicyFrom(opts.env),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
  }

  start(): void {
    const fixed = this.opts.ports !== 'any' && this.opts.basePort !== 0;
    for (const service of fleetServices) {
      const count = this.opts.scale?.[service] ?? 1;
      if (fixed && count > 10) {
        throw new Error(`${service}: at most 10 instances on fixed metrics ports (use free ports: --base-port 0)`);
      }
    }
    for (const service of fleetServices) {
      const count = this.opts.scale?.[service] ?? 1;
      for (let i = 1; i <= count; i++) {
        const fixedPort = fixed ? (this.opts.basePort ?? defaultBasePort) + portOffset[service] + i - 1 : undefined;
        this.addInstance(service, i, fixedPort);
      }
    }
  }

  private addInstance(service: FleetService, index: number, fixedPort: number | undefined): void {
    const name = `${service}.${index}`;
    const meta = { service, port: fixedPort, startTicks: undefined as string | undefined };
    this.meta.set(name, meta);
    const host = probeHost(this.opts.env['METRICS_HOST']);
    this.supervisor.add({
      name,
      spawn: async () => {
        // A free port is chosen once, so a restarted instance is found where it was.
        meta.port ??= await freePort(host);
        const handle = this.spawnProcess(service, name, meta.port);
        meta.startTicks = handle.pid === undefined ? undefined : processStartTicks(handle.pid);
        return handle;
      },
      ready: (_child, signal) => waitReady(`http://${host}:${meta.port ?? 0}/readyz`, signal),
    });
  }

  private spawnProcess(service: FleetService, name: string, port: number): ChildHandle {
    const entry = path.join(repoRoot(), 'services', service, 'dist', 'bin.js');
    const env = { ...this.opts.env, METRICS_PORT: String(port), EVALFLEET_INSTANCE: name };
    // Its own process group: a Ctrl-C on the terminal reaches `up` alone, which then sends one
    // SIGTERM (a service takes a second signal as "force", so SIGINT + SIGTERM would skip the drain).
    const proc = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const tail: string[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: proc[stream] });
      rl.on('line', (raw) => {
        // Service logs are pino JSON, redacted already; raw stderr (a start-up failure, a crash) is not.
        const line = stream === 'stderr' ? redactString(raw) : raw;
        if (stream === 'stderr') {
          tail.push(line);
          if (tail.length > stderrTailLines) tail.shift();
        }
        this.opts.onLine?.(name, line, stream);
      });
    }
    const exited = new Promise<ChildExit>((resolve) => {
      proc.once('error', (err) => {
        if (proc.pid === undefined) resolve({ code: null, signal: null, error: err.message });
      });
      proc.once('exit', (code, signal) => {
        // 'close' comes once stdio is drained, so the tail holds the last words; a grandchild
        // holding the pipes open must not hold up the restart, hence the bound.
        const timer = setTimeout(() => resolve({ code, signal }), 500);
        proc.once('close', () => {
          clearTimeout(timer);
          resolve({ code, signal });
        });
      });
    });
    return {
      pid: proc.pid,
      exited,
      kill: (signal) => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      },
      stderrTail: () => [...tail],
    };
  }

  instances(): InstanceSnapshot[] {
    return this.supervisor.snapshot().map((c) => {
      const meta = this.meta.get(c.name);
      return {
        ...c,
        service: meta?.service ?? 'producer',
        port: meta?.port,
        startTicks: meta?.startTicks,
      };
    });
  }

  /** Graceful stop: SIGTERM to every live child, SIGKILL to any still alive after `graceMs`. */
  stop(graceMs = 30_000): Promise<void> {
    return this.supervisor.stop(graceMs);
  }

  kill(): void {
    this.supervisor.kill();
  }
}

/** One line per supervisor event, for people: what ended and how, what happens next. */
export function describeEvent(e: SupervisorEvent, policy: RestartPolicy): string[] {
  const who = `${e.name} (pid ${e.pid ?? '?'})`;
  const tail = (lines: string[]) => lines.map((l) => `  | ${l}`);
  switch (e.type) {
    case 'started':
      return [`${e.restarts === 0 ? 'started' : 'restarted'} ${who}`];
    case 'running':
      return [`${who} is ready`];
    case 'crashed':
      return [
        `${who} exited unexpectedly: ${describeExit(e.exit)}; restarting in ${(e.delayMs / 1000).toFixed(1)}s ` +
          `(crash ${e.crashes} within ${seconds(policy.windowMs)}; up gives up at ${policy.maxCrashes})`,
        ...(e.stderr.length > 0 ? [`  last stderr lines of ${e.name}:`, ...tail(e.stderr)] : []),
      ];
    case 'gave_up':
      return [
        `ERROR: GAVE UP on ${e.name}: it crashed ${e.crashes} times within ${seconds(policy.windowMs)} ` +
          `(last: ${describeExit(e.exit)}); evalfleet up no longer restarts it, and work for its stage waits`,
        ...(e.stderr.length > 0 ? [`  last stderr lines of ${e.name}:`, ...tail(e.stderr)] : []),
      ];
    case 'stopped':
      return [`stopped ${who}${e.exit ? ` (${describeExit(e.exit)})` : ''}`];
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** Where the metrics server of a child answers on this machine. */
function probeHost(metricsHost: string | undefined): string {
  if (!metricsHost || metricsHost === '0.0.0.0' || metricsHost === '::') return '127.0.0.1';
  return metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost;
}

/** A port nobody listens on now (the kernel's choice). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host.replace(/^\[|\]$/g, ''), () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls a child's /readyz until it answers 200 (or `signal` aborts, when the child ended). */
async function waitReady(url: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Not listening yet, or aborted: the loop condition decides.
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, 200);
      signal.addEventListener('abort', done);
    });
  }
  throw new Error('ended before it was ready');
}

const serviceAlias: Record<string, FleetService> = {
  produce: 'producer',
  producer: 'producer',
  generate: 'generator',
  generator: 'generator',
  evaluate: 'evaluator',
  evaluator: 'evaluator',
  mutate: 'mutator',
  mutator: 'mutator',
  aggregate: 'aggregator',
  aggregator: 'aggregator',
};

/** A service by its name or its stage's (`evaluate` → evaluator). */
export function fleetServiceNamed(word: string): FleetService | undefined {
  return Object.hasOwn(serviceAlias, word.trim()) ? serviceAlias[word.trim()] : undefined;
}

/** `--scale evaluate=2,generate=3` (stage names or service names). */
export function parseScale(values: string[]): Partial<Record<FleetService, number>> {
  const out: Partial<Record<FleetService, number>> = {};
  for (const v of values.flatMap((x) => x.split(','))) {
    const [k, n] = v.split('=');
    const service = k ? fleetServiceNamed(k) : undefined;
    const count = Number(n);
    if (!service || !Number.isInteger(count) || count < 0) throw new Error(`--scale takes service=count, got ${v}`);
    out[service] = count;
  }
  return out;
}

/** A compact rendering of a JSON log line: `level msg key=value…`. */
export function formatLogLine(line: string): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { level, msg, time: _t, pid: _p, service: _s, hostname: _h, ...rest } = o;
    const extras = Object.entries(rest)
      .filter(([, v]) => v !== undefined && typeof v !== 'object')
      .slice(0, 8)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
    return `${text(level)} ${text(msg)}${extras ? ` ${extras}` : ''}`;
  } catch {
    return line;
  }
}

/**
 * The sandbox image for a local fleet: `EVALFLEET_SANDBOX_IMAGE` when set; else, when a
 * Docker engine answers, the tag `scripts/sandbox-image` prints (building it once, cached);
 * else undefined (see sandboxEnv).
 */
export async function resolveSandboxImage(
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<string | undefined> {
  if (env['EVALFLEET_SANDBOX_IMAGE']) return env['EVALFLEET_SANDBOX_IMAGE'];
  const scripts = path.join(repoRoot(), 'scripts');
  const run = (script: string) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(path.join(scripts, script), [], {
        env: { ...env, CI: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      createInterface({ input: child.stderr }).on('line', (line) => log(line));
      child.once('error', () => resolve({ code: 127, stdout }));
      child.once('exit', (code) => resolve({ code, stdout }));
    });
  if ((await run('docker-engine')).code !== 0) return undefined;
  const built = await run('sandbox-image');
  const tag = built.stdout.trim().split('\n').pop();
  return built.code === 0 && tag ? tag : undefined;
}

/**
 * The evaluators' sandbox settings for a local fleet: the Docker image when one resolves; else, since an
 * evaluator refuses to run code unisolated unless told to, an explicit SANDBOX=process, said loudly.
 */
export async function sandboxEnv(
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<Record<string, string>> {
  // Asked for explicitly: no engine probe, no image build (the evaluator warns on its own).
  if (env['SANDBOX'] === 'process') return {};
  const image = await resolveSandboxImage(env, log);
  if (image) return { EVALFLEET_SANDBOX_IMAGE: image };
  if (env['SANDBOX']) return {};
  log('WARNING: no Docker engine: evaluating with SANDBOX=process, which does NOT isolate code from this machine');
  return { SANDBOX: 'process' };
}

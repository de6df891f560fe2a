import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '@evalfleet/shared/service';

export const fleetServices = ['producer', 'generator', 'evaluator', 'aggregator'] as const;
export type FleetService = (typeof fleetServices)[number];

const basePort: Record<FleetService, number> = { producer: 9101, generator: 9111, evaluator: 9121, aggregator: 9131 };

export type FleetOptions = {
  scale?: Partial<Record<FleetService, number>>;
  env: Record<string, string | undefined>;
  /** `fixed`: each instance on its own well-known metrics port (9101…); `any`: free ports. */
  ports?: 'fixed' | 'any';
  /** Where child log lines go (already prefixed with the instance name). */
  onLine?: (instance: string, line: string, stream: 'stdout' | 'stderr') => void;
};

type Child = { name: string; proc: ChildProcess; exited: Promise<number | null> };

/**
 * The fleet as local child processes: each service's built `dist/main.js`, `--scale`d,
 * each on its own metrics port. `stop()` sends SIGTERM and waits (services drain their
 * in-flight work); `kill()` sends SIGKILL.
 */
export class LocalFleet {
  private readonly children: Child[] = [];

  constructor(private readonly opts: FleetOptions) {}

  start(): void {
    for (const service of fleetServices) {
      const count = this.opts.scale?.[service] ?? 1;
      for (let i = 1; i <= count; i++) this.spawnOne(service, i);
    }
  }

  spawnOne(service: FleetService, index: number): Child {
    const name = `${service}.${index}`;
    const entry = path.join(repoRoot(), 'services', service, 'dist', 'bin.js');
    const port = this.opts.ports === 'any' ? 0 : basePort[service] + index - 1;
    const env = { ...this.opts.env, METRICS_PORT: String(port), EVALFLEET_INSTANCE: name };
    const proc = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: proc[stream] });
      rl.on('line', (line) => this.opts.onLine?.(name, line, stream));
    }
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const child = { name, proc, exited };
    this.children.push(child);
    return child;
  }

  instances(): { name: string; pid: number | undefined }[] {
    return this.children.map((c) => ({ name: c.name, pid: c.proc.pid }));
  }

  find(name: string): Child | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** Graceful stop: SIGTERM to every live child, SIGKILL to any still alive after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    const live = this.children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
    for (const c of live) c.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    await Promise.all(live.map((c) => c.exited));
    clearTimeout(timer);
  }

  kill(): void {
    for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
}

/** `--scale evaluate=2,generate=3` (stage names or service names). */
export function parseScale(values: string[]): Partial<Record<FleetService, number>> {
  const alias: Record<string, FleetService> = {
    produce: 'producer',
    producer: 'producer',
    generate: 'generator',
    generator: 'generator',
    evaluate: 'evaluator',
    evaluator: 'evaluator',
    aggregate: 'aggregator',
    aggregator: 'aggregator',
  };
  const out: Partial<Record<FleetService, number>> = {};
  for (const v of values.flatMap((x) => x.split(','))) {
    const [k, n] = v.split('=');
    const service = k ? alias[k.trim()] : undefined;
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
  const image = await resolveSandboxImage(env, log);
  if (image) return { EVALFLEET_SANDBOX_IMAGE: image };
  if (env['SANDBOX']) return {};
  log('WARNING: no Docker engine: evaluating with SANDBOX=process, which does NOT isolate code from this machine');
  return { SANDBOX: 'process' };
}

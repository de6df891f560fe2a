// The benchmarks' fleet processes (services/<name>/dist/bin.js, as `evalfleet up` runs them) and the CPU
// that processes use, read from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

import { freePort } from '../../test/faults/support/servers.js';

export type Service = { name: string; child: ChildProcess; stderr: string[] };

export type ServiceOptions = {
  /** Node options before the entry point (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Append the service's stdout and stderr (its logs) to <dir>/<name>.log. */
  logDir?: string;
};

/** Start one service on a free metrics port and wait until it is ready (2 minutes at most). */
export async function startService(
  name: string,
  env: Record<string, string>,
  opts: ServiceOptions = {},
): Promise<Service> {
  const port = await freePort();
  const log = opts.logDir ? join(opts.logDir, `${name}.log`) : undefined;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), resolve('services', name, 'dist', 'bin.js')], {
    env: { ...env, METRICS_PORT: String(port), EVALFLEET_INSTANCE: `${name}-bench` },
    stdio: ['ignore', log ? 'pipe' : 'ignore', 'pipe'],
  });
  if (log) child.stdout?.on('data', (chunk: Buffer) => appendFileSync(log, chunk));
  const service: Service = { name, child, stderr: [] };
  const stderr = child.stderr!;
  stderr.setEncoding('utf8');
  stderr.on('data', (chunk: string) => {
    if (log) appendFileSync(log, chunk);
    service.stderr.push(chunk);
    if (service.stderr.length > 20) service.stderr.shift();
  });
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${service.stderr.join('')}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return service;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ready: ${service.stderr.join('')}`);
}

export async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = once(service.child, 'exit');
  service.child.kill('SIGTERM');
  await exited;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The fields of /proc/<pid>/stat after the command name: [0] is the state, [11] utime, [12] stime, [13]
 * cutime, [14] cstime (clock ticks). */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process, in ms (`which`: only its system time); 0 when it is gone. */
export function cpuMs(pid: number | undefined, which: 'all' | 'system' = 'all'): number {
  if (pid === undefined) return 0;
  try {
    const fields = statFields(pid);
    const system = Number(fields[12]);
    return ((which === 'system' ? system : Number(fields[11]) + system) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** CPU of this process's children that have ended and been reaped (cutime + cstime), in ms. */
export function childrenCpuMs(): number {
  const fields = statFields('self');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

/** The process listening on a loopback URL's port (the broker, Redis), or undefined. */
export function listenerPid(url: string | undefined, defaultPort: string): number | undefined {
  if (!url) return undefined;
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) return undefined;
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${u.port || defaultPort}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  }
}

/** The Docker engine's process, whose CPU the fleet's and the pool's sandbox round trips both use. */
export function dockerdPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'dockerd') return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

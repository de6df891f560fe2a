import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * Where `evalfleet up` keeps what another shell needs to find the fleet: `up.pid` (the
 * supervisor's pid), `fleet.json` (each instance's state and pid) and `logs/` (with --detach).
 * `EVALFLEET_STATE_DIR`, default `.evalfleet` in the working directory (beside the artifacts).
 */
export function statePaths(env: Record<string, string | undefined>, cwd: string) {
  const dir = path.resolve(cwd, env['EVALFLEET_STATE_DIR'] || '.evalfleet');
  return {
    dir,
    pid: path.join(dir, 'up.pid'),
    state: path.join(dir, 'fleet.json'),
    logs: path.join(dir, 'logs'),
    upLog: path.join(dir, 'logs', 'up.log'),
  };
}
export type StatePaths = ReturnType<typeof statePaths>;

const exitSchema = z.object({
  code: z.number().nullable(),
  signal: z.string().nullable(),
  error: z.string().optional(),
});

export const fleetStateSchema = z.object({
  pid: z.number().int(),
  startTicks: z.string().optional(),
  phase: z.enum(['starting', 'running', 'stopping', 'stopped']),
  startedAt: z.string(),
  updatedAt: z.string(),
  logDir: z.string().optional(),
  instances: z.array(
    z.object({
      name: z.string(),
      service: z.string(),
      state: z.enum(['starting', 'running', 'backoff', 'given_up', 'stopping', 'stopped']),
      pid: z.number().int().optional(),
      startTicks: z.string().optional(),
      port: z.number().int().optional(),
      restarts: z.number().int(),
      lastExit: exitSchema.optional(),
    }),
  ),
});
export type FleetState = z.infer<typeof fleetStateSchema>;

/** A process as recorded: its pid and, where the kernel says, its start time (a recycled pid differs). */
export type ProcessId = { pid: number; startTicks?: string | undefined };

/** Whether the recorded process is still the one running under its pid. */
export function isAlive(id: ProcessId): boolean {
  try {
    process.kill(id.pid, 0);
  } catch {
    // ESRCH: gone; EPERM: another user's process has the pid now, so not ours either.
    return false;
  }
  const stat = procStat(id.pid);
  if (!stat) return true;
  // A zombie has ended; only its parent has not collected it yet.
  if (stat.state === 'Z') return false;
  return id.startTicks === undefined || stat.startTicks === id.startTicks;
}

/** State and start time (clock ticks) from /proc/<pid>/stat; undefined off Linux or once the process is gone. */
function procStat(pid: number): { state: string | undefined; startTicks: string | undefined } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTicks: fields[19] };
  } catch {
    return undefined;
  }
}

/** The kernel's start time of a process (Linux): with its pid, it names the process even after the pid is recycled. */
export function processStartTicks(pid: number): string | undefined {
  return procStat(pid)?.startTicks;
}

export async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function readFleetState(file: string): Promise<FleetState | undefined> {
  try {
    const parsed = fleetStateSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The running `up` of this state directory, if any (the pid file names a live process, and the state file agrees). */
export async function runningUp(
  paths: StatePaths,
): Promise<{ id: ProcessId; state: FleetState | undefined } | undefined> {
  const pid = await readPid(paths.pid);
  if (pid === undefined) return undefined;
  const state = await readFleetState(paths.state);
  const id: ProcessId = { pid, startTicks: state?.pid === pid ? state.startTicks : undefined };
  return isAlive(id) ? { id, state } : undefined;
}

/** Write a file whole or not at all: readers never see half of it. */
export async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

export type PidLock = { release(): Promise<void> };

/**
 * Takes `up.pid` for this process, atomically and exclusively (a hard link fails if the file
 * exists, and the content is complete before it is visible). A pid file whose process is gone
 * is stale and replaced. Returns the holder's pid when another `up` runs.
 */
export async function acquirePidFile(paths: StatePaths): Promise<PidLock | { heldBy: number }> {
  await mkdir(paths.dir, { recursive: true });
  const tmp = `${paths.pid}.${process.pid}.tmp`;
  await writeFile(tmp, `${process.pid}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, paths.pid);
        return {
          release: async () => {
            if ((await readPid(paths.pid)) === process.pid) await rm(paths.pid, { force: true });
          },
        };
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
        const running = await runningUp(paths);
        if (running) return { heldBy: running.id.pid };
        if (attempt > 0) throw new Error(`cannot take ${paths.pid}: it keeps coming back`, { cause: err });
        await rm(paths.pid, { force: true });
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Polls until the process is gone; false if it still runs after `timeoutMs`. */
export async function waitGone(id: ProcessId, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(id)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return true;
}

/** Writes fleet.json on every change, one write at a time and in order (a later state never loses to an earlier one). */
export class FleetStateWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  write(state: FleetState): void {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    // A failed write is retried by the next change; the fleet does not depend on its state file.
    this.chain = this.chain.then(() => writeAtomic(this.file, text)).catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

import { rm } from 'node:fs/promises';
import type { CliContext } from '../context.js';
import {
  isAlive,
  readFleetState,
  readPid,
  statePaths,
  waitGone,
  type FleetState,
  type ProcessId,
} from '../fleet-state.js';

/**
 * `evalfleet down`: stops the `up` of this directory (found by its pid file, from any shell).
 * SIGTERM to `up`, which stops its services gracefully; if it is still there after `graceMs`,
 * SIGKILL to it and to each service it had running. Exits 0 on a graceful stop (or when nothing
 * runs), 1 when it had to kill.
 */
export async function downCommand(
  ctx: CliContext,
  opts: { graceMs: number },
  env: Record<string, string | undefined>,
): Promise<number> {
  const paths = statePaths(env, ctx.cwd);
  const say = (line: string) => ctx.err(line);
  const pid = await readPid(paths.pid);
  const state = await readFleetState(paths.state);
  if (pid === undefined) {
    if (!(await stopOrphans(say, state, opts.graceMs))) ctx.err(`no fleet running here (no ${paths.pid})`);
    return 0;
  }
  const up: ProcessId = { pid, startTicks: state?.pid === pid ? state.startTicks : undefined };
  if (!isAlive(up)) {
    ctx.err(`evalfleet up (pid ${pid}) is not running any more: removing the stale ${paths.pid}`);
    await rm(paths.pid, { force: true });
    await stopOrphans(say, state, opts.graceMs);
    return 0;
  }
  const started = Date.now();
  process.kill(pid, 'SIGTERM');
  ctx.err(
    `sent SIGTERM to evalfleet up (pid ${pid}); its services finish their in-flight work (waiting up to ${seconds(opts.graceMs)})`,
  );
  if (await waitGone(up, opts.graceMs)) {
    const final = await readFleetState(paths.state);
    ctx.err(`fleet stopped in ${seconds(Date.now() - started)}`);
    for (const i of final?.pid === pid ? final.instances : []) {
      ctx.err(`  ${i.name.padEnd(13)} ${i.state === 'given_up' ? 'had been given up on (it kept crashing)' : i.state}`);
    }
    await stopOrphans(say, final, opts.graceMs);
    return 0;
  }
  ctx.err(`evalfleet up (pid ${pid}) still running after ${seconds(opts.graceMs)}: SIGKILL to it and its services`);
  const latest = (await readFleetState(paths.state)) ?? state;
  signal(up, 'SIGKILL');
  ctx.err(`  killed evalfleet up (pid ${pid})`);
  for (const i of liveInstances(latest)) {
    signal(i, 'SIGKILL');
    ctx.err(`  killed ${i.name} (pid ${i.pid})`);
  }
  await rm(paths.pid, { force: true });
  return 1;
}

type LiveInstance = { name: string; pid: number; startTicks?: string | undefined };

/** The instances a state file lists whose processes still run (the same processes, not a recycled pid). */
function liveInstances(state: FleetState | undefined): LiveInstance[] {
  const out: LiveInstance[] = [];
  for (const i of state?.instances ?? []) {
    if (i.pid === undefined) continue;
    const id = { name: i.name, pid: i.pid, startTicks: i.startTicks };
    if (isAlive(id)) out.push(id);
  }
  return out;
}

/**
 * Services an `up` left behind when it died without stopping them (SIGKILL, a closed terminal):
 * SIGTERM, then SIGKILL after `graceMs`. Returns whether there were any.
 */
export async function stopOrphans(
  say: (line: string) => void,
  state: FleetState | undefined,
  graceMs: number,
): Promise<boolean> {
  if (state && isAlive({ pid: state.pid, startTicks: state.startTicks })) return false;
  const orphans = liveInstances(state);
  if (orphans.length === 0) return false;
  say(`services left running by an evalfleet up that is gone: ${orphans.map((o) => o.name).join(', ')}`);
  for (const o of orphans) signal(o, 'SIGTERM');
  for (const o of orphans) {
    if (await waitGone(o, graceMs)) say(`  stopped ${o.name} (pid ${o.pid})`);
    else {
      signal(o, 'SIGKILL');
      say(`  killed ${o.name} (pid ${o.pid}) after ${seconds(graceMs)}`);
    }
  }
  return true;
}

function signal(id: ProcessId, sig: NodeJS.Signals): void {
  if (!isAlive(id)) return;
  try {
    process.kill(id.pid, sig);
  } catch {
    // Gone between the check and the signal: nothing left to stop.
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

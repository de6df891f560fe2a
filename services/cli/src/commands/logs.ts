import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { CliContext } from '../context.js';
import { fleetServiceNamed, fleetServices, formatLogLine } from '../fleet.js';
import { statePaths } from '../fleet-state.js';
import { instanceOf, printLogs } from '../log-files.js';

/** `up` first, then the services in pipeline order, instances in number order. */
function order(instance: string): [number, number] {
  if (instance === 'up') return [-1, 0];
  const [service = '', n = '0'] = instance.split('.');
  const at = fleetServices.findIndex((s) => s === service);
  return [at === -1 ? fleetServices.length : at, Number(n)];
}

/** Whether a log file belongs to what the user named: an instance (`evaluator.2`), a service or stage, `up`. */
function matches(instance: string, name: string | undefined): boolean {
  if (name === undefined) return true;
  if (instance === name) return true;
  const service = fleetServiceNamed(name);
  return service !== undefined && instance.startsWith(`${service}.`);
}

/**
 * `evalfleet logs [service] [-f]`: what a detached fleet wrote (`<state dir>/logs/<instance>.log`,
 * `up.log` for the supervisor itself), each line led by its instance; `-f` follows the files,
 * picking up restarts and new instances, until Ctrl-C.
 */
export async function logsCommand(
  ctx: CliContext,
  name: string | undefined,
  opts: { follow?: boolean; tail?: number; raw?: boolean },
  env: Record<string, string | undefined>,
): Promise<number> {
  const dir = statePaths(env, ctx.cwd).logs;
  const all = async () =>
    (await readdir(dir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.log'))
      .map((f) => instanceOf(f))
      .sort((a, b) => {
        const [x, y] = [order(a), order(b)];
        return x[0] - y[0] || x[1] - y[1] || a.localeCompare(b);
      });
  const existing = await all();
  if (existing.length === 0) {
    ctx.err(`no logs in ${dir}: evalfleet up --detach writes them there`);
    return 1;
  }
  if (name !== undefined && name !== 'up' && !fleetServiceNamed(name) && !existing.includes(name)) {
    ctx.err(`no logs of ${name}; there are: ${existing.join(', ')}`);
    return 1;
  }
  const list = async () => (await all()).filter((i) => matches(i, name)).map((i) => path.join(dir, `${i}.log`));
  await printLogs({
    list,
    emit: (file, line) => ctx.out(`${instanceOf(file).padEnd(13)} ${opts.raw ? line : formatLogLine(line)}`),
    tail: opts.tail,
    follow: opts.follow,
    signal: opts.follow ? ctx.signals.signal : undefined,
  });
  return 0;
}

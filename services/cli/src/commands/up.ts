import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '@evalfleet/fake-provider';
import { repoRoot } from '@evalfleet/shared/service';
import type { CliContext } from '../context.js';
import { describeEvent, formatLogLine, LocalFleet, parseScale, sandboxEnv, type InstanceSnapshot } from '../fleet.js';
import {
  acquirePidFile,
  FleetStateWriter,
  processStartTicks,
  readFleetState,
  runningUp,
  statePaths,
  type FleetState,
  type StatePaths,
} from '../fleet-state.js';
import { LogFiles, rotate } from '../log-files.js';
import { stopOrphans } from './down.js';
import { restartPolicyFrom } from '../supervisor.js';

export const bundledDataset = () => path.join(repoRoot(), 'datasets', 'solve-example.jsonl');

/** Starts the fake provider on a free loopback port, answering for the bundled problem set. */
export async function startBundledFakeProvider(): Promise<FakeProvider> {
  return startFakeProvider({
    port: 0,
    host: '127.0.0.1',
    datasetText: await readFile(bundledDataset(), 'utf8'),
    // The bundled bugs carry their fixes, so fake models can answer repair runs too.
    repairText: await readFile(path.join(repoRoot(), 'datasets', 'repair-example.jsonl'), 'utf8'),
  });
}

export type UpOptions = {
  scale: string[];
  fakeProvider?: boolean;
  detach?: boolean;
  /** Each instance's output into `<dir>/<instance>.log` instead of the terminal (what --detach uses). */
  logDir?: string;
  basePort?: number;
  maxCrashes?: number;
  crashWindowMs?: number;
  backoffMs?: number;
  backoffMaxMs?: number;
};

/**
 * `evalfleet up`: every service as a supervised child process until Ctrl-C (or `evalfleet down`),
 * then a graceful stop. Crashed services are restarted with backoff; one that keeps crashing is
 * given up on, and `up` then exits 1 when it stops (at once when nothing is left running).
 */
export async function upCommand(
  ctx: CliContext,
  opts: UpOptions,
  env: Record<string, string | undefined>,
): Promise<number> {
  const paths = statePaths(env, ctx.cwd);
  const policy = restartPolicyFrom(env, {
    ...(opts.maxCrashes !== undefined ? { maxCrashes: opts.maxCrashes } : {}),
    ...(opts.crashWindowMs !== undefined ? { windowMs: opts.crashWindowMs } : {}),
    ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    ...(opts.backoffMaxMs !== undefined ? { backoffMaxMs: opts.backoffMaxMs } : {}),
  });
  const scale = parseScale(opts.scale);
  if (opts.detach) return detachUp(ctx, opts, env, paths);

  const lock = await acquirePidFile(paths);
  if ('heldBy' in lock) {
    ctx.err(`evalfleet up is already running here (pid ${lock.heldBy}, ${paths.pid}); evalfleet down stops it`);
    return 1;
  }
  // In a log file every line needs its time; on a terminal the reader has it.
  const say = opts.logDir ? (l: string) => ctx.err(`${new Date().toISOString()} ${l}`) : (l: string) => ctx.err(l);
  let provider: FakeProvider | undefined;
  let logs: LogFiles | undefined;
  const stateFile = new FleetStateWriter(paths.state);
  const startedAt = new Date().toISOString();
  let phase: FleetState['phase'] = 'starting';
  let fleet: LocalFleet | undefined;
  const writeState = () => {
    if (fleet) stateFile.write(fleetState(fleet.instances(), phase, startedAt, logs?.dir));
  };
  try {
    // A previous `up` that died unstopped (SIGKILL, a closed terminal) left its services running.
    await stopOrphans(say, await readFleetState(paths.state), ctx.config.SHUTDOWN_TIMEOUT_MS + 5_000);
    const childEnv = { ...env };
    if (opts.fakeProvider) {
      provider = await startBundledFakeProvider();
      childEnv['EVALFLEET_PROVIDER_URLS'] = [env['EVALFLEET_PROVIDER_URLS'], `fake=${provider.url}`]
        .filter(Boolean)
        .join(',');
      say(`fake provider at ${provider.url}`);
    }
    Object.assign(childEnv, await sandboxEnv(childEnv, say));
    if (opts.logDir) {
      logs = new LogFiles(path.resolve(ctx.cwd, opts.logDir));
      await logs.start([path.basename(paths.upLog)]);
    }
    const files = logs;
    const running = new LocalFleet({
      scale,
      env: childEnv,
      ...(opts.basePort !== undefined ? { basePort: opts.basePort } : {}),
      policy,
      onLine: files
        ? (name, line) => files.write(name, line)
        : (name, line) => process.stderr.write(`${name.padEnd(13)} ${formatLogLine(line)}\n`),
      onEvent: (e) => {
        for (const line of describeEvent(e, policy)) say(line);
      },
    });
    fleet = running;
    const settled = new Set<string>();
    running.supervisor.onChange(() => {
      for (const i of running.instances()) if (i.state === 'running' || i.state === 'given_up') settled.add(i.name);
      if (phase === 'starting' && running.instances().every((i) => settled.has(i.name))) phase = 'running';
      writeState();
    });
    running.start();
    say(
      `fleet starting (${running.instances().length} instances; state in ${paths.state}); ` +
        `Ctrl-C or evalfleet down stops it gracefully (twice forces)`,
    );
    ctx.signals.onForce(() => running.kill());
    const stopBy = await Promise.race([
      ctx.signals.untilSignal(),
      running.supervisor.allGivenUp().then(() => undefined),
    ]);
    if (stopBy) say(`${stopBy}: stopping the fleet (services finish their in-flight work)`);
    else say('ERROR: every service has been given up on: nothing left to supervise, stopping');
    phase = 'stopping';
    writeState();
    await running.stop(ctx.config.SHUTDOWN_TIMEOUT_MS + 5_000);
    const givenUp = running.instances().filter((i) => i.state === 'given_up');
    if (givenUp.length > 0) {
      say(`ERROR: evalfleet up gave up on ${givenUp.map((i) => i.name).join(', ')} (see above); exit code 1`);
      return 1;
    }
    say('fleet stopped');
    return 0;
  } finally {
    // Also on the way out of an error: no service outlives its supervisor unstopped.
    await fleet?.stop(ctx.config.SHUTDOWN_TIMEOUT_MS + 5_000);
    phase = 'stopped';
    writeState();
    await stateFile.flush();
    await logs?.close();
    await provider?.close();
    await lock.release();
  }
}

function fleetState(
  instances: InstanceSnapshot[],
  phase: FleetState['phase'],
  startedAt: string,
  logDir: string | undefined,
): FleetState {
  const startTicks = processStartTicks(process.pid);
  return {
    pid: process.pid,
    ...(startTicks !== undefined ? { startTicks } : {}),
    phase,
    startedAt,
    updatedAt: new Date().toISOString(),
    ...(logDir ? { logDir } : {}),
    instances: instances.map((i) => ({
      name: i.name,
      service: i.service,
      state: i.state,
      ...(i.pid !== undefined ? { pid: i.pid } : {}),
      ...(i.startTicks !== undefined ? { startTicks: i.startTicks } : {}),
      ...(i.port !== undefined ? { port: i.port } : {}),
      restarts: i.restarts,
      ...(i.lastExit ? { lastExit: i.lastExit } : {}),
    })),
  };
}

/** The flags a detached `up` passes on to the `up` it starts in the background. */
function forwardedFlags(opts: UpOptions): string[] {
  const out: string[] = [];
  for (const s of opts.scale) out.push('--scale', s);
  if (opts.fakeProvider) out.push('--fake-provider');
  const numeric: [string, number | undefined][] = [
    ['--base-port', opts.basePort],
    ['--max-crashes', opts.maxCrashes],
    ['--crash-window-ms', opts.crashWindowMs],
    ['--backoff-ms', opts.backoffMs],
    ['--backoff-max-ms', opts.backoffMaxMs],
  ];
  for (const [flag, v] of numeric) if (v !== undefined) out.push(flag, String(v));
  return out;
}

/**
 * `up --detach`: the same `up` in the background, in its own session (no terminal, so no Ctrl-C
 * from here reaches it), its output in `logs/up.log` and each instance's in `logs/<instance>.log`.
 * Waits until every instance is ready (or given up on), then leaves it running.
 */
async function detachUp(
  ctx: CliContext,
  opts: UpOptions,
  env: Record<string, string | undefined>,
  paths: StatePaths,
): Promise<number> {
  const running = await runningUp(paths);
  if (running) {
    ctx.err(
      `evalfleet up is already running here (pid ${running.id.pid}); evalfleet down stops it, evalfleet logs shows its logs`,
    );
    return 1;
  }
  await mkdir(paths.logs, { recursive: true });
  await rotate(paths.upLog);
  const log = await open(paths.upLog, 'a');
  const cli = path.join(repoRoot(), 'services', 'cli', 'bin', 'evalfleet.js');
  let child;
  try {
    child = spawn(process.execPath, [cli, 'up', '--log-dir', paths.logs, ...forwardedFlags(opts)], {
      cwd: ctx.cwd,
      env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
  } finally {
    await log.close();
  }
  child.unref();
  const pid = child.pid;
  let exitCode: number | undefined;
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? 1 : 0)));
  child.once('error', () => (exitCode = 1));
  ctx.err(`evalfleet up started in the background (pid ${pid ?? '?'}); waiting for its services to be ready`);

  const signal = ctx.signals.signal;
  let state: FleetState | undefined;
  while (exitCode === undefined && !signal.aborted) {
    state = await readFleetState(paths.state);
    if (state && state.pid === pid && state.phase !== 'starting') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (exitCode !== undefined) {
    const lines = (await readFile(paths.upLog, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-20);
    ctx.err(
      `evalfleet up (pid ${pid ?? '?'}) ended while starting (exit code ${exitCode}); the end of ${paths.upLog}:`,
    );
    for (const l of lines) ctx.err(`  | ${l}`);
    return 1;
  }
  if (signal.aborted || !state) {
    ctx.err(`stopped waiting; the fleet goes on starting in the background (evalfleet logs up -f; evalfleet down)`);
    return 0;
  }
  ctx.out(`fleet running in the background: evalfleet up pid ${state.pid}`);
  for (const i of state.instances) {
    ctx.out(
      `  ${i.name.padEnd(13)} ${i.state.padEnd(9)} pid ${String(i.pid ?? '-').padEnd(8)} metrics :${i.port ?? '?'}`,
    );
  }
  ctx.out(`logs: evalfleet logs [service] [-f]  (${paths.logs})`);
  ctx.out('stop: evalfleet down');
  const givenUp = state.instances.filter((i) => i.state === 'given_up');
  if (givenUp.length > 0) {
    ctx.err(
      `ERROR: evalfleet up gave up on ${givenUp.map((i) => i.name).join(', ')}: it kept crashing (evalfleet logs up)`,
    );
    return 1;
  }
  return 0;
}

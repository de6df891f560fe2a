// `down` when SIGTERM is not enough: an `up` (and a service) that ignore it are SIGKILLed after
// the grace period, and down says so and exits 1. Stand-in processes, no broker needed.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../../../../test/support/cli.js';
import { isAlive, processStartTicks, type FleetState } from '../fleet-state.js';

const started: ChildProcess[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const p of started.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await once(p, 'exit');
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A process that ignores SIGTERM (as a service stuck draining would), once it says it does. */
async function stubborn(): Promise<ChildProcess> {
  const p = spawn(
    process.execPath,
    ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);"],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  started.push(p);
  await once(p.stdout, 'data');
  return p;
}

describe('evalfleet down', () => {
  it('SIGKILLs an up and its services that outlive the grace period, and says what it did', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-down-'));
    const up = await stubborn();
    const service = await stubborn();
    const state: FleetState = {
      pid: up.pid!,
      startTicks: processStartTicks(up.pid!),
      phase: 'running',
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      instances: [
        {
          name: 'evaluator.1',
          service: 'evaluator',
          state: 'running',
          pid: service.pid!,
          startTicks: processStartTicks(service.pid!),
          restarts: 0,
        },
      ],
    };
    await writeFile(path.join(dir, 'fleet.json'), JSON.stringify(state));
    await writeFile(path.join(dir, 'up.pid'), `${up.pid}\n`);

    // Listening before down runs: both may have exited (and said so) by the time it returns.
    const exited = Promise.all([once(up, 'exit'), once(service, 'exit')]);
    const down = await cli({ EVALFLEET_STATE_DIR: dir }, 'down', '--grace-ms', '300');
    expect(down.code).toBe(1);
    expect(down.err).toContain(`sent SIGTERM to evalfleet up (pid ${up.pid})`);
    expect(down.err).toContain(`evalfleet up (pid ${up.pid}) still running after 0.3s: SIGKILL to it and its services`);
    expect(down.err).toContain(`killed evalfleet up (pid ${up.pid})`);
    expect(down.err).toContain(`killed evaluator.1 (pid ${service.pid})`);
    await exited;
    expect([up.signalCode, service.signalCode]).toEqual(['SIGKILL', 'SIGKILL']);
    expect(await readdir(dir)).not.toContain('up.pid');
  });

  // Start times come from /proc; elsewhere a recycled pid cannot be told apart.
  it.skipIf(processStartTicks(process.pid) === undefined)(
    'leaves a process alone whose pid was recycled (another start time)',
    async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-down-'));
      const other = await stubborn();
      await writeFile(
        path.join(dir, 'fleet.json'),
        JSON.stringify({
          pid: other.pid!,
          startTicks: '1',
          phase: 'running',
          startedAt: '',
          updatedAt: '',
          instances: [],
        } satisfies FleetState),
      );
      await writeFile(path.join(dir, 'up.pid'), `${other.pid}\n`);
      const down = await cli({ EVALFLEET_STATE_DIR: dir }, 'down', '--grace-ms', '300');
      expect(down.code).toBe(0);
      expect(down.err).toContain(`evalfleet up (pid ${other.pid}) is not running any more`);
      expect(isAlive({ pid: other.pid! })).toBe(true);
    },
  );
});

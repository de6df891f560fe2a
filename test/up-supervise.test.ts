// `evalfleet up` as a process supervisor, with real processes: each service SIGKILLed mid-run
// comes back and the run completes with every job counted once; a service that crashes at
// start is given up on, loudly, and status/watch point at its starved stage; --detach, logs
// and down from "another shell" (separate CLI processes).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis } from '../shared/src/redis/index.js';
import { RunCounters, type RunProgress } from '../shared/src/runs/index.js';
import { startFakeProvider, type FakeProvider } from '../services/fake-provider/src/index.js';
import { isAlive, readFleetState, type FleetState } from '../services/cli/src/fleet-state.js';
import { cli } from './support/cli.js';
import { testFleetEnv, type TestFleetEnv } from './support/fleet.js';
import { queueDepth, queuedMessages, waitFor } from './support/rabbit.js';
import { sandboxImage, testRegistryYaml } from './support/solve-fleet.js';

const cliBin = path.resolve('services/cli/bin/evalfleet.js');

type Proc = { proc: ChildProcess; out: string[]; err: string[]; exit: Promise<number | null> };

/** The CLI as its own process (as a user in another shell runs it); lines collected as they come. */
function startCli(env: Record<string, string>, args: string[]): Proc {
  const proc = spawn(process.execPath, [cliBin, ...args], {
    env: { ...env, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => out.push(l));
  createInterface({ input: proc.stderr }).on('line', (l) => {
    err.push(l);
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[${args[0] ?? ''}] ${l}\n`);
  });
  const exit = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return { proc, out, err, exit };
}

async function runCli(env: Record<string, string>, args: string[]) {
  const p = startCli(env, args);
  const code = await p.exit;
  return { code, out: p.out.join('\n'), err: p.err.join('\n') };
}

// Zombies count as gone: a detached `up` is reaped by whoever adopted it, maybe late.
const alive = (pid: number) => isAlive({ pid });

// What each test started, to stop it whatever happens: `up` processes (and the pids the test froze).
const started: ChildProcess[] = [];
const frozen = new Set<number>();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const pid of frozen) if (alive(pid)) process.kill(pid, 'SIGCONT');
  frozen.clear();
  for (const p of started.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('close', r));
    }
  }
  for (const c of cleanups.splice(0).reverse()) await c();
});

type UpFleet = { fleetEnv: TestFleetEnv; env: Record<string, string>; stateFile: string };

/** A namespace, a state directory, the supervisor's settings for quick tests, and (for solve) the fake provider. */
async function upFleet(label: string, extra: Record<string, string> = {}, withProvider = false): Promise<UpFleet> {
  const fleetEnv = await testFleetEnv(label, {
    SANDBOX: sandboxImage ? 'docker' : 'process',
    ...(sandboxImage ? { EVALFLEET_SANDBOX_IMAGE: sandboxImage } : {}),
    EVALUATOR_CONCURRENCY: '2',
    EVALFLEET_UP_BACKOFF_MS: '100',
    EVALFLEET_UP_BACKOFF_MAX_MS: '1000',
    ...extra,
  });
  const stateDir = await mkdtemp(path.join(tmpdir(), `evalfleet-${label}-state-`));
  fleetEnv.env['EVALFLEET_STATE_DIR'] = stateDir;
  cleanups.push(async () => {
    await fleetEnv.cleanup();
    await rm(stateDir, { recursive: true, force: true });
  });
  if (withProvider) {
    const provider: FakeProvider = await startFakeProvider({
      port: 0,
      host: '127.0.0.1',
      datasetText: await readFile('datasets/solve-example.jsonl', 'utf8'),
    });
    cleanups.push(() => provider.close());
    const registry = path.join(fleetEnv.artifactDir, 'models.test.yaml');
    // `paced`: every answer takes 200 ms; with one generator slot the run cannot outpace the kills.
    const paced =
      '  paced:\n    provider: fake\n    model: fake/always-right+slow:200\n' +
      '    input_per_mtok: 1\n    output_per_mtok: 2\n    max_output_tokens: 1024\n';
    await writeFile(registry, `${testRegistryYaml(provider.url)}\n${paced}`);
    fleetEnv.env['EVALFLEET_MODELS'] = registry;
  }
  return { fleetEnv, env: fleetEnv.env, stateFile: path.join(stateDir, 'fleet.json') };
}

function startUp(env: Record<string, string>, args: string[] = []): Proc {
  const up = startCli(env, ['up', '--base-port', '0', ...args]);
  started.push(up.proc);
  return up;
}

async function fleetState(file: string): Promise<FleetState> {
  return waitFor('fleet.json', () => readFleetState(file));
}

function instance(state: FleetState, name: string) {
  const i = state.instances.find((x) => x.name === name);
  if (!i) throw new Error(`${name} is not in fleet.json`);
  return i;
}

function stageCount(progress: RunProgress, stage: string): number {
  return Object.entries(progress.stages)
    .filter(([k]) => k.startsWith(`${stage}:`))
    .reduce((n, [, v]) => n + v, 0);
}

describe('evalfleet up supervises the services it starts', () => {
  it(
    'SIGKILL of each service mid-run: it comes back, the run completes, each job counted once',
    { timeout: 240_000 },
    async () => {
      const { fleetEnv, env, stateFile } = await upFleet('up-kill', { GENERATOR_CONCURRENCY: '1' }, true);
      const redis = createRedis({ url: env.REDIS_URL!, keyPrefix: `${fleetEnv.ns}:` });
      cleanups.push(() => Promise.resolve(redis.disconnect()));
      const counters = new RunCounters(redis);
      const up = startUp(env);
      // The services killed mid-run (the mutator has no part in a solve run; it is left alone).
      const all = ['producer.1', 'generator.1', 'evaluator.1', 'aggregator.1'];
      await waitFor(
        'every instance running',
        async () => (await readFleetState(stateFile))?.instances.every((i) => i.state === 'running'),
        120_000,
        100,
      );
      const runId = 'up-kill-run';
      const total = 27;
      const killed = new Map<string, { pid: number; restarts: number }>();

      /** Freeze the instance, check it has work of the run left, kill it (its replacement is checked at the end). */
      const killMidRun = async (name: string, remaining: () => Promise<number>) => {
        const before = instance(await fleetState(stateFile), name);
        const pid = before.pid!;
        process.kill(pid, 'SIGSTOP');
        frozen.add(pid);
        // Frozen, it can finish nothing more: what is left now is left when it dies.
        expect(await remaining()).toBeGreaterThan(0);
        process.kill(pid, 'SIGKILL');
        frozen.delete(pid);
        killed.set(name, { pid, restarts: before.restarts });
      };

      // Producer: frozen before the run is submitted, so it holds the request, unexpanded, when killed.
      const producer = instance(await fleetState(stateFile), 'producer.1').pid!;
      process.kill(producer, 'SIGSTOP');
      frozen.add(producer);
      const submitted = await cli(
        env,
        'submit',
        'solve',
        '--dataset',
        'datasets/solve-example.jsonl',
        '--models',
        'paced',
        '--samples-per-task',
        '1',
        // Supervision is under test, not time limits: a loaded machine must not turn a pass into a timeout.
        '--timeout-ms',
        '60000',
        '--run-id',
        runId,
      );
      expect(submitted.code).toBe(0);
      await waitFor(
        'the request delivered to the frozen producer',
        async () => (await queueDepth(`${fleetEnv.ns}.produce`)) === 0,
      );
      await killMidRun('producer.1', async () => ((await counters.getTotal(runId)) === undefined ? 1 : 0));

      // The others as soon as each has done a first piece of the run: generation is paced, so most
      // of the run is still ahead whatever the machine's load, and every service is hit mid-run.
      const progress = () => counters.progress(runId);
      await waitFor('a first generation', async () => stageCount(await progress(), 'generate') >= 1, 120_000, 20);
      await killMidRun('generator.1', async () => total - stageCount(await progress(), 'generate'));
      await waitFor('a first evaluation', async () => stageCount(await progress(), 'evaluate') >= 1, 120_000, 20);
      await killMidRun('evaluator.1', async () => total - stageCount(await progress(), 'evaluate'));
      await waitFor('a first counted result', async () => (await progress()).done >= 1, 120_000, 20);
      await killMidRun('aggregator.1', async () => total - (await progress()).done);

      await waitFor('run completed', () => fleetEnv.store.getOptional(`runs/${runId}/completed.json`), 180_000, 100);
      const final = await progress();
      expect(final.done).toBe(total);
      const rows = (await fleetEnv.store.get(`runs/${runId}/results.jsonl`)).toString('utf8').trim().split('\n');
      expect(final.outcomes['outcome:passed'], rows.filter((r) => !r.includes('"passed"')).join('\n')).toBe(total);
      expect(rows).toHaveLength(total);
      const keys = rows.map((l) => {
        const r = JSON.parse(l) as { taskId: string; sampleIndex: number };
        return `${r.taskId}#${r.sampleIndex}`;
      });
      expect(new Set(keys).size).toBe(total);

      // Each came back: a new process, restarted once, ready.
      const state = await fleetState(stateFile);
      for (const name of all) {
        const i = instance(state, name);
        expect(i.pid).not.toBe(killed.get(name)?.pid);
        expect([i.restarts, i.state]).toEqual([(killed.get(name)?.restarts ?? -1) + 1, 'running']);
        expect(up.err.join('\n')).toMatch(
          new RegExp(
            `${name.replace('.', '\\.')} \\(pid ${killed.get(name)?.pid}\\) exited unexpectedly: killed by SIGKILL; restarting in`,
          ),
        );
      }
      // An `up` killed outright cannot stop its services (they have their own process group, so
      // a terminal's Ctrl-C reaches up alone); `down` finds them by the state file and stops them.
      up.proc.kill('SIGKILL');
      await up.exit;
      const every = state.instances.map((i) => i.name);
      expect(every).toEqual(expect.arrayContaining(all));
      for (const name of every) expect(alive(instance(state, name).pid!)).toBe(true);
      const down = await cli(env, 'down');
      expect(down.code, down.err).toBe(0);
      expect(down.err).toContain(`removing the stale`);
      expect(down.err).toContain(`services left running by an evalfleet up that is gone: ${every.join(', ')}`);
      for (const name of every) {
        expect(down.err).toContain(`  stopped ${name} (pid ${instance(state, name).pid})`);
        expect(alive(instance(state, name).pid!)).toBe(false);
      }
    },
  );

  it(
    'a service that crashes at start is given up on with a clear message; status and watch warn about its stage',
    { timeout: 180_000 },
    async () => {
      // An invalid value for the aggregator only: it exits 1 at once, every time.
      const { fleetEnv, env, stateFile } = await upFleet('up-giveup', { AGGREGATOR_CONCURRENCY: '0' });
      const up = startUp(env, ['--max-crashes', '3', '--crash-window-ms', '600000']);
      await waitFor(
        'the aggregator given up on',
        () => up.err.some((l) => l.includes('GAVE UP on aggregator.1')),
        120_000,
        50,
      );
      const text = up.err.join('\n');
      expect(text).toMatch(
        /aggregator\.1 \(pid \d+\) exited unexpectedly: exit code 1; restarting in \d+\.\ds \(crash 1 within 600s; up gives up at 3\)/,
      );
      expect(text).toMatch(/ERROR: GAVE UP on aggregator\.1: it crashed 3 times within 600s \(last: exit code 1\)/);
      // Why, from its own last words.
      expect(text).toMatch(/\| aggregator failed to start: invalid configuration/);
      expect(text).toMatch(/\| +AGGREGATOR_CONCURRENCY: Too small/);
      // The state file is written after the message: wait for it to say so too (it said `starting` once).
      const state = await waitFor(
        'the others running, the aggregator given up in the state file',
        async () => {
          const s = await readFleetState(stateFile);
          const others = s?.instances.filter((i) => i.name !== 'aggregator.1');
          return others?.every((i) => i.state === 'running') &&
            s?.instances.some((i) => i.name === 'aggregator.1' && i.state === 'given_up')
            ? s
            : undefined;
        },
        120_000,
        100,
      );
      expect(instance(state, 'aggregator.1')).toMatchObject({ state: 'given_up', restarts: 2 });

      // An echo run's results (3, and the run's finalize message) wait in the aggregate queue with nobody to count them.
      expect((await cli(env, 'submit', 'echo', '--count', '3', '--run-id', 'starved')).code).toBe(0);
      // (The results travel as a batch message: fewer messages than jobs.)
      const aggregateQueue = `${fleetEnv.ns}.aggregate`;
      const { messages: queued } = await waitFor(
        'results queued',
        async () => {
          const q = await queuedMessages(aggregateQueue);
          return q.jobs >= 4 ? q : undefined;
        },
        60_000,
        50,
      );
      await waitFor('the messages handed back', async () => (await queueDepth(aggregateQueue)) === queued);
      const status = await cli(env, 'status', 'starved');
      expect(status.code).toBe(0);
      expect(status.out).toMatch(/ {2}queues\n/);
      expect(status.out).toContain(`aggregate: ${queued} queued, 0 consumer(s), 0 dead`);
      expect(status.out).toContain(`WARNING: aggregate has ${queued} queued message(s) and no consumer`);
      expect(status.out).toMatch(/evaluate: 0 queued, 1 consumer\(s\)/);
      const json = JSON.parse((await cli(env, 'status', 'starved', '--json')).out) as {
        queues: { stage: string; work: number; consumers: number }[];
      };
      expect(json.queues.find((q) => q.stage === 'aggregate')).toMatchObject({ work: queued, consumers: 0 });

      const watch = startCli(env, ['watch', 'starved']);
      started.push(watch.proc);
      await waitFor(
        'the warning from watch',
        () => watch.err.some((l) => l.includes(`WARNING: aggregate has ${queued} queued`)),
        60_000,
        50,
      );
      watch.proc.kill('SIGTERM');
      expect(await watch.exit).toBe(130);

      // Stopped while a service is given up on: up says so again and exits 1.
      up.proc.kill('SIGTERM');
      expect(await up.exit).toBe(1);
      expect(up.err.join('\n')).toMatch(/ERROR: evalfleet up gave up on aggregator\.1 \(see above\); exit code 1/);
    },
  );

  it(
    'up --detach runs in the background; a second is refused; logs prints and follows; down stops it from another shell',
    { timeout: 180_000 },
    async () => {
      const { env, stateFile } = await upFleet('up-detach', { LOG_LEVEL: 'info' });
      const stateDir = path.dirname(stateFile);
      const first = await runCli(env, ['up', '--detach', '--base-port', '0']);
      expect(first.code, first.err).toBe(0);
      expect(first.out).toMatch(/fleet running in the background: evalfleet up pid \d+/);
      const state = await fleetState(stateFile);
      cleanups.unshift(async () => {
        // If the test failed before `down`, stop the background fleet it started.
        if (alive(state.pid)) {
          process.kill(state.pid, 'SIGTERM');
          await waitFor('background up gone', () => !alive(state.pid), 60_000, 100);
        }
      });
      expect(Number((await readFile(path.join(stateDir, 'up.pid'), 'utf8')).trim())).toBe(state.pid);
      expect(state.instances.map((i) => i.state)).toEqual(['running', 'running', 'running', 'running', 'running']);
      // No terminal: its own session, stdin from /dev/null.
      const stat = await readFile(`/proc/${state.pid}/stat`, 'utf8');
      expect(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]).toBe(String(state.pid));
      expect(await readlink(`/proc/${state.pid}/fd/0`)).toBe('/dev/null');

      const second = await cli(env, 'up', '--detach', '--base-port', '0');
      expect(second.code).toBe(1);
      expect(second.err).toContain(`evalfleet up is already running here (pid ${state.pid})`);

      const logs = await cli(env, 'logs');
      expect(logs.code).toBe(0);
      for (const name of ['producer.1', 'generator.1', 'evaluator.1', 'aggregator.1']) {
        expect(logs.out).toMatch(new RegExp(`^${name.replace('.', '\\.')} +info service running`, 'm'));
      }
      expect(logs.out).toMatch(/^up +\S+ generator\.1 \(pid \d+\) is ready/m);
      const evaluatorOnly = await cli(env, 'logs', 'evaluate');
      expect(evaluatorOnly.out.split('\n').every((l) => l.startsWith('evaluator.1 '))).toBe(true);
      expect((await cli(env, 'logs', 'nothing')).code).toBe(1);

      // Follow the producer's log across a crash: its replacement's lines arrive in the same stream.
      const follow = startCli(env, ['logs', 'producer', '-f']);
      started.push(follow.proc);
      const running = () => follow.out.filter((l) => /^producer\.1 +info service running/.test(l)).length;
      await waitFor('the log so far', () => running() === 1, 30_000, 50);
      process.kill(instance(state, 'producer.1').pid!, 'SIGKILL');
      await waitFor('the restarted producer in the followed log', () => running() === 2, 120_000, 50);
      follow.proc.kill('SIGTERM');
      expect(await follow.exit).toBe(0);

      const latest = await fleetState(stateFile);
      const down = await runCli(env, ['down']);
      expect(down.code, down.err).toBe(0);
      expect(down.err).toContain(`sent SIGTERM to evalfleet up (pid ${state.pid})`);
      expect(down.err).toMatch(/fleet stopped in \d+\.\ds/);
      expect(alive(state.pid)).toBe(false);
      for (const i of latest.instances) expect(alive(i.pid!)).toBe(false);
      expect(await readdir(stateDir)).not.toContain('up.pid');
      expect(await readFile(path.join(stateDir, 'logs', 'up.log'), 'utf8')).toMatch(/Z fleet stopped\n$/);
      const again = await cli(env, 'down');
      expect(again.code).toBe(0);
      expect(again.err).toContain('no fleet running here');

      // Child output is pino JSON with credentials redacted; nothing in the files names a password.
      for (const f of await readdir(path.join(stateDir, 'logs'))) {
        expect(await readFile(path.join(stateDir, 'logs', f), 'utf8')).not.toContain('guest:guest@');
      }
    },
  );
});

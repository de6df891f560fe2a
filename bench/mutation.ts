/**
 * Mutation testing throughput: mutants per second through the fleet (isolated: the Docker sandbox) against
 * the naive way on the same machine — a fresh `python3 -m pytest` per mutant on a copy of the project, no
 * isolation — on a generated project of ~500 mutants (bench/lib/mutation-project.ts).
 *
 *   npm run bench:mutation -- [--modules 5] [--functions 8] [--evaluators 1] [--pool 2] [--naive 40]
 *                             [--covering-only] [--json]
 *
 * The fleet: producer, mutator, evaluator(s) and aggregator as child processes (services/<name>/dist/bin.js,
 * as `evalfleet up` runs them) on the real RabbitMQ, Redis and a filesystem store; the project submitted with
 * the CLI (`submit mutation --project DIR --wait`), timed from submit to the run's completion (mutating, the
 * baseline, planning, every batch, the reports). The naive way: `--naive` mutants spread evenly over all of
 * them, half before the fleet run and half after (so load that comes and goes falls on both), each in a fresh
 * `python3 -m pytest` at the same concurrency as the fleet's sandboxes; its rate is theirs. The statuses of
 * those mutants are compared with the fleet's. Progress on stderr; with --json the last stdout line is JSON.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import Docker from 'dockerode';

import { main as cliMain } from '../services/cli/src/main.js';
import { ensureSandboxImage } from '../services/evaluator/src/sandbox/index.js';
import { delayTiersMs } from '../shared/src/messages/index.js';
import { runKeys } from '../shared/src/runs/index.js';
import { projectKeys } from '../shared/src/kinds/mutation/index.js';
import { createArtifactStore, readJsonl } from '../shared/src/storage/index.js';
import { createMutationEngine } from '../services/mutator/src/engine/index.js';
import { allowedStatuses, directPytest } from '../test/support/direct-pytest.js';
import { deleteRedisPrefix } from '../test/support/fleet.js';
import { deleteNamespace } from '../test/support/rabbit.js';
import { writeMutationProject } from './lib/mutation-project.js';
import { cpuMs, startService, stopService, type Service } from './lib/services.js';

const { values } = parseArgs({
  options: {
    modules: { type: 'string', default: '5' },
    functions: { type: 'string', default: '8' },
    evaluators: { type: 'string', default: '1' },
    pool: { type: 'string', default: '2' },
    naive: { type: 'string', default: '40' },
    'covering-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const root = resolve('.');
const pool = Number(values.pool);
const load = (): number => Number((loadavg()[0] ?? 0).toFixed(2));
const progress = (message: string): void => void process.stderr.write(`${message}\n`);

type Mutant = { id: string; file: string; lines: [number, number]; text: string };

/** CPU the sandbox containers of these evaluator processes used so far, in ms (cgroup v1 cpuacct). */
async function sandboxCpuMs(docker: Docker, pids: (number | undefined)[]): Promise<number> {
  const owners = new Set(pids.map((pid) => `${hostname()}:${pid}`));
  let total = 0;
  for (const c of await docker.listContainers({ filters: { label: ['org.evalfleet.sandbox.owner'] } })) {
    if (!owners.has(c.Labels['org.evalfleet.sandbox.owner'] ?? '')) continue;
    try {
      total += Number(readFileSync(`/sys/fs/cgroup/cpuacct/docker/${c.Id}/cpuacct.usage`, 'utf8')) / 1e6;
    } catch {
      // Another cgroup layout: the wall-clock figures stand alone.
    }
  }
  return total;
}

/** The naive way over `mutants`, `pool` at a time: seconds, pytest's CPU, each mutant's allowed statuses. */
async function naive(
  dir: string,
  tests: string[],
  mutants: Mutant[],
): Promise<{ seconds: number; cpuMs: number; allowed: Map<string, string[]> }> {
  const allowed = new Map<string, string[]>();
  let next = 0;
  let cpuMs = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: pool }, async () => {
      while (next < mutants.length) {
        const m = mutants[next++]!;
        const outcome = await directPytest(dir, m, tests, 60_000, { measureCpu: true });
        cpuMs += outcome.cpuMs ?? 0;
        allowed.set(m.id, allowedStatuses(outcome));
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, cpuMs, allowed };
}

async function main(): Promise<void> {
  await new Docker().ping().catch(() => {
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
  const work = mkdtempSync(join(tmpdir(), 'evalfleet-bench-mutation-'));
  const project = writeMutationProject(join(work, 'project'), Number(values.modules), Number(values.functions));
  const storeRoot = join(work, 'store');
  const ns = `bench-mut-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    RABBITMQ_URL: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    EVALFLEET_NAMESPACE: ns,
    ARTIFACT_DIR: storeRoot,
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SANDBOX: 'docker',
    EVALFLEET_SANDBOX_IMAGE: image,
    EVALUATOR_CONCURRENCY: String(pool),
  };
  const services: Service[] = [];
  try {
    progress('starting producer, mutator, evaluator(s), aggregator');
    for (const name of ['producer', 'mutator', 'aggregator']) services.push(await startService(name, env));
    for (let i = 0; i < Number(values.evaluators); i++) services.push(await startService('evaluator', env));

    // A warm-up run (the sandbox containers start, the services' first messages), not measured.
    const cli = async (...args: string[]) => {
      const err: string[] = [];
      const code = await cliMain(['node', 'evalfleet', ...args], env, {
        out: () => undefined,
        err: (s) => err.push(s),
      });
      if (code !== 0) throw new Error(`evalfleet ${args.join(' ')} failed (${code}): ${err.join('\n')}`);
    };
    progress('warm-up run (10 mutants)');
    await cli(
      'submit',
      'mutation',
      '--project',
      project.dir,
      '--max-mutants',
      '10',
      '--run-id',
      `${ns}-warm`,
      '--wait',
    );

    const store = createArtifactStore({ kind: 'fs', root: storeRoot });
    const runId = `${ns}-run`;
    // The same mutants (and ids: source order) as the fleet's mutator makes.
    const made = await (
      await createMutationEngine()
    ).mutate({ files: project.source.map((path) => ({ path, text: readFileSync(join(project.dir, path), 'utf8') })) });
    const mutants = made.mutants.map((m, i) => ({ ...m, id: String(i + 1) }));
    const sampleCount = Math.min(Number(values.naive), mutants.length);
    const sample = Array.from(
      { length: sampleCount },
      (_, i) => mutants[Math.floor((i * mutants.length) / sampleCount)]!,
    );
    const half = Math.floor(sampleCount / 2);
    progress(
      `${mutants.length} mutants; the naive way on ${sampleCount}: ${half} before the fleet run, the rest after`,
    );
    const loads: number[] = [load()];
    const first = await naive(project.dir, project.tests, sample.slice(0, half));
    loads.push(load());
    progress('fleet run');
    const docker = new Docker();
    const evaluatorPids = services.filter((x) => x.name === 'evaluator').map((x) => x.child.pid);
    const servicesBefore = services.map((x) => cpuMs(x.child.pid));
    const sandboxBefore = await sandboxCpuMs(docker, evaluatorPids);
    const started = performance.now();
    const startedAt = Date.now();
    await cli(
      'submit',
      'mutation',
      '--project',
      project.dir,
      '--run-id',
      runId,
      '--wait',
      ...(values['covering-only'] ? ['--covering-only'] : []),
    );
    const serviceCpu: Record<string, number> = {};
    services.forEach((x, i) => {
      serviceCpu[x.name] = (serviceCpu[x.name] ?? 0) + cpuMs(x.child.pid) - (servicesBefore[i] ?? 0);
    });
    const sandboxCpu = (await sandboxCpuMs(docker, evaluatorPids)) - sandboxBefore;
    const fleetCpuMs = Object.values(serviceCpu).reduce((a, b) => a + b, sandboxCpu);
    const fleetSeconds = (performance.now() - started) / 1000;
    loads.push(load());
    const second = await naive(project.dir, project.tests, sample.slice(half));
    loads.push(load());

    // When each step of the run ended, in seconds from the submit (from the store alone).
    const at = (key: string) => Number(((statSync(join(storeRoot, key)).mtimeMs - startedAt) / 1000).toFixed(1));
    const timeline = {
      mutated: at(projectKeys.mutants(runId, 'project')),
      baseline: at(projectKeys.baseline(runId, 'project')),
      planned: at(projectKeys.plan(runId, 'project')),
      batches: readdirSync(join(storeRoot, runKeys.resultsPrefix(runId)))
        .filter((f) => f.includes('%2Fb'))
        .map((f) => at(`${runKeys.resultsPrefix(runId)}${f}`))
        .sort((a, b) => a - b),
      completed: at(runKeys.completed(runId)),
    };
    const statuses = new Map<string, string>();
    for await (const row of readJsonl(store, runKeys.report(runId, 'mutants.jsonl')))
      statuses.set((row as { id: string }).id, (row as { status: string }).status);
    const allowed = new Map([...first.allowed, ...second.allowed]);
    const mismatches = [...allowed].filter(([id, ok]) => !ok.includes(statuses.get(id) ?? 'missing')).map(([id]) => id);
    const counts: Record<string, number> = {};
    for (const s of statuses.values()) counts[s] = (counts[s] ?? 0) + 1;

    const fleetPerS = mutants.length / fleetSeconds;
    const naivePerS = sampleCount / (first.seconds + second.seconds);
    // CPU per mutant: what the machine's load cannot change (wall-clock rates depend on who else runs).
    const fleetCpuPerMutant = fleetCpuMs / mutants.length;
    const naiveCpuPerMutant = (first.cpuMs + second.cpuMs) / sampleCount;
    const result = {
      mutants: mutants.length,
      fleet_per_s: Number(fleetPerS.toFixed(2)),
      naive_per_s: Number(naivePerS.toFixed(3)),
      ratio: Number((fleetPerS / naivePerS).toFixed(1)),
      fleet_seconds: Number(fleetSeconds.toFixed(1)),
      naive_sample: sampleCount,
      naive_seconds: Number((first.seconds + second.seconds).toFixed(1)),
      fleet_cpu_ms_per_mutant: Number(fleetCpuPerMutant.toFixed(1)),
      naive_cpu_ms_per_mutant: Number(naiveCpuPerMutant.toFixed(1)),
      cpu_ratio: Number((naiveCpuPerMutant / fleetCpuPerMutant).toFixed(1)),
      fleet_cpu_ms: {
        sandboxes: Math.round(sandboxCpu),
        ...Object.fromEntries(Object.entries(serviceCpu).map(([k, v]) => [k, Math.round(v)])),
      },
      status_mismatches: mismatches.length,
      timeline,
      statuses: counts,
      test_scope: values['covering-only'] ? 'covering' : 'tail',
      evaluators: Number(values.evaluators),
      sandboxes_per_evaluator: pool,
      cpus: cpus().length,
      load: loads,
      image,
    };
    if (!values.json) {
      progress(`fleet: ${result.mutants} mutants in ${result.fleet_seconds} s = ${result.fleet_per_s}/s (isolated)`);
      progress(`naive: ${sampleCount} mutants in ${result.naive_seconds} s = ${result.naive_per_s}/s (unisolated)`);
      progress(`ratio ${result.ratio}x; statuses ${JSON.stringify(counts)}; mismatches ${mismatches.join(', ') || 0}`);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const s of services.reverse()) await stopService(s);
    await deleteNamespace(ns, delayTiersMs).catch(() => undefined);
    await deleteRedisPrefix(`${ns}:`).catch(() => undefined);
    if (process.env.EVALFLEET_BENCH_KEEP) progress(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  progress(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

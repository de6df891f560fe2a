/**
 * Sandbox throughput: the same generated tasks evaluated through createDockerSandbox (per-job isolation)
 * and as plain local subprocesses of /usr/bin/python3 (no isolation), at the same concurrency, in one run.
 *
 *   npm run bench:evaluate -- [--tasks 300] [--concurrency 2] [--rounds 2] [--fresh 40] [--json]
 *
 * The tasks run in blocks (default 50), each block on both sides, alternating which side goes first, so a
 * burst of other load on the machine hits both sides alike. Progress goes to stderr; the report to stdout,
 * and with --json the last stdout line is a JSON object.
 *
 * --fresh N also evaluates N tasks with a fresh container per evaluation (the same hardened containers,
 * recycled after every job), the alternative design the pool has to beat; 0 skips it.
 *
 * CPU per evaluation is reported beside the rates, as it is steadier than a rate on a shared machine: for the
 * pool, what its containers used (Docker's stats, cgroup v1 or v2 alike) plus this process (the sandbox
 * client) and the containers' page faults; for the subprocesses, their own CPU (this process's reaped
 * children, /proc/self/stat).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import Docker from 'dockerode';

import {
  createDockerSandbox,
  ensureSandboxImage,
  POOL_LABEL,
  type Sandbox,
} from '../services/evaluator/src/sandbox/index.js';
import { childrenCpuMs } from './lib/services.js';
import { generateTasks, plainProgram, type BenchTask } from './lib/tasks.js';

const PYTHON = '/usr/bin/python3';
const TIMEOUT_MS = 10_000;

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    block: { type: 'string', default: '50' },
    fresh: { type: 'string', default: '40' },
    json: { type: 'boolean', default: false },
  },
});
const taskCount = Number(values.tasks);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const block = Number(values.block);
const freshTasks = Number(values.fresh);

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Run `fn` over the tasks with `concurrency` lanes; returns the elapsed seconds. */
async function lanes(tasks: BenchTask[], fn: (task: BenchTask) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) await fn(tasks[next++]!);
    }),
  );
  return (performance.now() - started) / 1000;
}

type Tally = { seconds: number; passed: number; wrong: string[] };
/** CPU measured over `evaluations` of one side: `ms` in all; for the pool, its containers' share and faults. */
type CpuTally = { evaluations: number; ms: number; containerMs: number; faults: number };

type ContainerUsage = Map<string, { cpuMs: number; faults: number }>;

/** CPU and page faults of the pool's containers so far, by container. */
async function poolUsage(docker: Docker, poolId: string): Promise<ContainerUsage> {
  const usage: ContainerUsage = new Map();
  for (const info of await docker.listContainers({ filters: { label: [`${POOL_LABEL}=${poolId}`] } })) {
    const stats = await docker.getContainer(info.Id).stats({ stream: false, 'one-shot': true });
    const memory = stats.memory_stats.stats as { pgfault?: number; total_pgfault?: number } | undefined;
    usage.set(info.Id, {
      cpuMs: stats.cpu_stats.cpu_usage.total_usage / 1e6,
      faults: memory?.total_pgfault ?? memory?.pgfault ?? 0,
    });
  }
  return usage;
}

/** Run one isolated block and add its CPU to `cpu`; a block in which the pool replaced a container is left
 * out of the CPU figures (its old container's last usage is gone). */
async function measuredIsolated(
  docker: Docker,
  poolId: string,
  run: () => Promise<void>,
  evaluations: number,
  cpu: CpuTally,
): Promise<void> {
  const before = await poolUsage(docker, poolId);
  const client = process.cpuUsage();
  await run();
  const clientUs = process.cpuUsage(client);
  const after = await poolUsage(docker, poolId);
  if (after.size !== before.size || [...after.keys()].some((id) => !before.has(id))) return;
  let containerMs = 0;
  let faults = 0;
  for (const [id, now] of after) {
    containerMs += now.cpuMs - before.get(id)!.cpuMs;
    faults += now.faults - before.get(id)!.faults;
  }
  cpu.evaluations += evaluations;
  cpu.containerMs += containerMs;
  cpu.faults += faults;
  cpu.ms += containerMs + (clientUs.user + clientUs.system) / 1000;
}

async function measuredUnisolated(run: () => Promise<void>, evaluations: number, cpu: CpuTally): Promise<void> {
  const before = childrenCpuMs();
  await run();
  cpu.evaluations += evaluations;
  cpu.ms += childrenCpuMs() - before;
}

async function isolated(sandbox: Sandbox, tasks: BenchTask[], tally: Tally): Promise<void> {
  tally.seconds += await lanes(tasks, async (task) => {
    const result = await sandbox.run({
      jobId: task.id,
      runner: task.format,
      code: task.code,
      tests: task.tests,
      entryPoint: task.entryPoint,
      timeoutMs: TIMEOUT_MS,
    });
    if (result.passed) tally.passed++;
    if (result.passed !== task.expectPass) tally.wrong.push(`${task.id}: ${result.verdict} ${result.reason ?? ''}`);
  });
}

function runPython(file: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [file], { stdio: 'ignore', timeout: TIMEOUT_MS });
    child.once('close', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
}

async function unisolated(dir: string, tasks: BenchTask[], tally: Tally): Promise<void> {
  tally.seconds += await lanes(tasks, async (task) => {
    const file = join(dir, `${task.id}.py`);
    writeFileSync(file, plainProgram(task));
    const passed = (await runPython(file)) === 0;
    if (passed) tally.passed++;
    if (passed !== task.expectPass) tally.wrong.push(`${task.id}: exit status`);
  });
}

async function main(): Promise<void> {
  const docker = new Docker();
  await docker.ping().catch(() => {
    progress('no Docker engine answers: start one with scripts/docker-engine --install');
    process.exit(3);
  });
  progress('building or finding the sandbox image (scripts/sandbox-image)');
  const image = await ensureSandboxImage({ onProgress: progress });
  const tasks = generateTasks(taskCount);
  const expectedPasses = tasks.filter((t) => t.expectPass).length;

  const startedPool = performance.now();
  const sandbox = await createDockerSandbox({ image, poolSize: concurrency, docker });
  const poolStartMs = performance.now() - startedPool;
  progress(`${sandbox.describe()} (ready in ${poolStartMs.toFixed(0)} ms)`);
  const poolId = /pool (\w+)/.exec(sandbox.describe())?.[1] ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'evalfleet-bench-'));
  const iso: Tally = { seconds: 0, passed: 0, wrong: [] };
  const plain: Tally = { seconds: 0, passed: 0, wrong: [] };
  const isoCpu: CpuTally = { evaluations: 0, ms: 0, containerMs: 0, faults: 0 };
  const plainCpu: CpuTally = { evaluations: 0, ms: 0, containerMs: 0, faults: 0 };
  try {
    progress('warming up both paths');
    const warm = tasks.slice(0, concurrency * 2);
    await isolated(sandbox, warm, { seconds: 0, passed: 0, wrong: [] });
    await unisolated(dir, warm, { seconds: 0, passed: 0, wrong: [] });
    let turn = 0;
    for (let round = 0; round < rounds; round++) {
      progress(`round ${round + 1}/${rounds}: ${tasks.length} tasks in blocks of ${block}, concurrency ${concurrency}`);
      for (let start = 0; start < tasks.length; start += block) {
        const slice = tasks.slice(start, start + block);
        const isolatedBlock = () =>
          measuredIsolated(docker, poolId, () => isolated(sandbox, slice, iso), slice.length, isoCpu);
        const unisolatedBlock = () => measuredUnisolated(() => unisolated(dir, slice, plain), slice.length, plainCpu);
        if (turn++ % 2 === 0) {
          await isolatedBlock();
          await unisolatedBlock();
        } else {
          await unisolatedBlock();
          await isolatedBlock();
        }
        const done = start + slice.length;
        progress(
          `  ${done}/${tasks.length}: isolated ${(done / iso.seconds).toFixed(1)}/s, unisolated ${(done / plain.seconds).toFixed(1)}/s so far`,
        );
      }
    }
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const fresh: Tally = { seconds: 0, passed: 0, wrong: [] };
  if (freshTasks > 0) {
    progress(`fresh container per evaluation: ${freshTasks} tasks, concurrency ${concurrency}`);
    const perJob = await createDockerSandbox({ image, poolSize: concurrency, docker, maxJobsPerContainer: 1 });
    try {
      await isolated(perJob, tasks.slice(0, freshTasks), fresh);
    } finally {
      await perJob.close();
    }
  }

  const evaluations = tasks.length * rounds;
  const isolatedPerS = evaluations / iso.seconds;
  const unisolatedPerS = evaluations / plain.seconds;
  const isoCpuMs = isoCpu.ms / Math.max(1, isoCpu.evaluations);
  const plainCpuMs = plainCpu.ms / Math.max(1, plainCpu.evaluations);
  const report = {
    tasks: tasks.length,
    rounds,
    concurrency,
    isolated_per_s: Number(isolatedPerS.toFixed(2)),
    unisolated_per_s: Number(unisolatedPerS.toFixed(2)),
    ratio: Number((isolatedPerS / unisolatedPerS).toFixed(3)),
    isolated_ms_per_eval: Number(((iso.seconds * 1000 * concurrency) / evaluations).toFixed(1)),
    unisolated_ms_per_eval: Number(((plain.seconds * 1000 * concurrency) / evaluations).toFixed(1)),
    isolated_cpu_ms_per_eval: Number(isoCpuMs.toFixed(2)),
    isolated_container_cpu_ms_per_eval: Number((isoCpu.containerMs / Math.max(1, isoCpu.evaluations)).toFixed(2)),
    isolated_page_faults_per_eval: Math.round(isoCpu.faults / Math.max(1, isoCpu.evaluations)),
    unisolated_cpu_ms_per_eval: Number(plainCpuMs.toFixed(2)),
    // Above 1: an isolated evaluation costs less CPU than a plain subprocess.
    cpu_ratio: Number((plainCpuMs / isoCpuMs).toFixed(3)),
    fresh_container_per_s: freshTasks > 0 ? Number((freshTasks / fresh.seconds).toFixed(2)) : null,
    pool_start_ms: Math.round(poolStartMs),
    expected_passes: expectedPasses * rounds,
    isolated_passes: iso.passed,
    unisolated_passes: plain.passed,
    verdict_mismatches: iso.wrong.length + plain.wrong.length + fresh.wrong.length,
    cpus: cpus().length,
    image,
  };
  for (const line of [...iso.wrong, ...plain.wrong, ...fresh.wrong].slice(0, 10))
    progress(`unexpected verdict: ${line}`);
  console.log(`isolated (docker pool):   ${report.isolated_per_s} evaluations/s`);
  console.log(`unisolated (subprocess):  ${report.unisolated_per_s} evaluations/s`);
  console.log(
    `ratio isolated/unisolated: ${report.ratio}  (${evaluations} evaluations per side, concurrency ${concurrency})`,
  );
  console.log(
    `CPU per evaluation: isolated ${report.isolated_cpu_ms_per_eval} ms (containers ${report.isolated_container_cpu_ms_per_eval} ms, ` +
      `${report.isolated_page_faults_per_eval} page faults), unisolated ${report.unisolated_cpu_ms_per_eval} ms`,
  );
  if (report.fresh_container_per_s !== null)
    console.log(`fresh container per evaluation: ${report.fresh_container_per_s} evaluations/s`);
  console.log(
    `verdicts as generated: isolated ${iso.passed}/${expectedPasses * rounds} passed, unisolated ${plain.passed}/${expectedPasses * rounds}`,
  );
  if (values.json) console.log(JSON.stringify(report));
  if (report.verdict_mismatches > 0) process.exitCode = 1;
}

await main();

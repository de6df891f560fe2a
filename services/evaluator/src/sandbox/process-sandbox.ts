import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { forwardLog } from './docker-worker.js';
import { createPooledSandbox } from './pooled-sandbox.js';
import { RUNTIME_DIR, quietLogger } from './runtime-files.js';
import { SupervisorClient } from './supervisor-client.js';
import type { JobLimits, Sandbox, SandboxLogger } from './types.js';
import { WorkerPool, type SupervisorWorker } from './worker-pool.js';

export type ProcessSandboxOptions = {
  /** Python with pytest for pytest jobs. Default 'python3'. */
  python?: string;
  /** Jobs evaluated at once. Default 2. */
  concurrency?: number;
  memoryMb?: number;
  outputLimitBytes?: number;
  fileSizeLimitBytes?: number;
  openFiles?: number;
  backstopGraceMs?: number;
  /** Parent of the job directories; default a fresh temporary directory, removed by close(). */
  workDir?: string;
  logger?: SandboxLogger;
};

/**
 * Runs jobs as local subprocesses of this user, with rlimits and a timeout only: NOT isolated. It keeps the
 * single-machine quick start working without Docker, only when chosen explicitly (SANDBOX=process), and
 * says so loudly. The verdict logic is the same supervisor, checker and candidate processes the Docker
 * sandbox uses, so verdicts agree; but candidate and checker share this user's uid, so the checker's
 * guarantees (see SECURITY.md) hold only in the Docker sandbox. The supervisor gets an empty environment
 * (never the evaluator's: no API keys or credentials reach a job), and each job its own directory.
 */
export function createProcessSandbox(opts: ProcessSandboxOptions = {}): Sandbox {
  const logger = opts.logger ?? quietLogger;
  const python = opts.python ?? 'python3';
  const concurrency = opts.concurrency ?? 2;
  const ownWorkDir = opts.workDir === undefined;
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'evalfleet-sandbox-'));
  const limits: JobLimits = {
    memoryMb: opts.memoryMb ?? 512,
    outputLimitBytes: opts.outputLimitBytes ?? 256 * 1024,
    fileSizeLimitBytes: opts.fileSizeLimitBytes ?? 16 * 1024 * 1024,
    openFiles: opts.openFiles ?? 256,
    processesPerJob: 64,
  };
  logger.warn(
    { sandbox: 'process', python, workDir },
    '!!! PROCESS SANDBOX: untrusted code runs as THIS USER with rlimits and a timeout only. It is NOT ' +
      'isolated: it can read your files, use the network, leave processes behind and interfere with its own ' +
      'checker. Use the Docker sandbox (scripts/docker-engine, scripts/sandbox-image) for code you did not ' +
      'write. !!!',
  );
  let sequence = 0;
  const pool = new WorkerPool(
    concurrency,
    () => startProcessWorker(python, workDir, `process-${++sequence}`, logger),
    logger,
  );
  return createPooledSandbox({
    kind: 'process',
    pool,
    limits,
    backstopGraceMs: opts.backstopGraceMs ?? 10_000,
    maxJobsPerWorker: 1_000,
    fingerprint: `process ${python} memory=${limits.memoryMb}`,
    description: `process sandbox (NOT isolated): ${python}, concurrency ${concurrency}, work dir ${workDir}`,
    logger,
    onClose: () => {
      if (ownWorkDir) rmSync(workDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
}

async function startProcessWorker(
  python: string,
  workDir: string,
  label: string,
  logger: SandboxLogger,
): Promise<SupervisorWorker> {
  const supervisor = join(RUNTIME_DIR, 'supervisor.py');
  const child = spawn(
    python,
    ['-E', '-B', '-s', supervisor, '--mode', 'process', '--work', workDir, '--python', python],
    // Never the evaluator's environment: the job must not see its API keys or service credentials.
    { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' } },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  forwardLog(child.stderr, label, logger);
  const client = new SupervisorClient(child.stdin, child.stdout);
  const destroy = async (): Promise<void> => {
    client.shutdown();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await Promise.race([client.ready(15_000), spawnError]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { client, label, jobsRun: 0, destroy };
}

/**
 * Child processes for the rate-limit benchmark and fleet tests: the fake provider and the load
 * workers, both run from their TypeScript sources by Node (types stripped, `.js` imports mapped to
 * `.ts` by bench/lib/register-ts.ts), so nothing needs building first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Arrival } from '@evalfleet/fake-provider';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const registerHook = pathToFileURL(`${repoRoot}bench/lib/register-ts.ts`).href;

/**
 * Node arguments that run a TypeScript entry point of this repository from source (types transformed,
 * not only stripped: shared's sources use parameter properties).
 */
export function tsEntry(relativePath: string): string[] {
  return [
    '--experimental-transform-types',
    '--disable-warning=ExperimentalWarning',
    '--conditions=evalfleet-source',
    '--import',
    registerHook,
    `${repoRoot}${relativePath}`,
  ];
}

function flags(args: Readonly<Record<string, string | number | undefined>>): string[] {
  return Object.entries(args).flatMap(([name, value]) => (value === undefined ? [] : [`--${name}`, String(value)]));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface FakeProviderProcess {
  /** Base URL ending in /v1. */
  url: string;
  pid: number;
  log(): Promise<Arrival[]>;
  stop(): Promise<void>;
}

/** Starts services/fake-provider on a free loopback port with the given flags (rpm, tpm, window-ms, ...). */
export async function startFakeProviderProcess(
  args: Readonly<Record<string, string | number | undefined>>,
): Promise<FakeProviderProcess> {
  const child = spawn(
    process.execPath,
    [...tsEntry('services/fake-provider/src/main.ts'), '--port', '0', ...flags(args)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fake provider exited with ${code} before listening`)));
    lines.once('line', (line) => {
      const parsed = JSON.parse(line) as { url?: string };
      if (typeof parsed.url === 'string') resolve(parsed.url);
      else reject(new Error(`unexpected fake provider output: ${line}`));
    });
  });
  const root = url.replace(/\/v1$/, '');
  return {
    url,
    pid: child.pid!,
    log: async () => (await (await fetch(`${root}/_log`)).json()) as Arrival[],
    stop: () => stopChild(child),
  };
}

/** What a worker reports (see worker.ts). */
export interface WorkerReport {
  type: 'progress' | 'done';
  index: number;
  mode: string;
  jobs: number;
  ok: number;
  rateLimited: number;
  errors: number;
  deferred: number;
  redisUnavailable: number;
  abandoned: number;
  tokens: number;
  waitedMs: number;
  elapsedMs: number;
}

export interface WorkerProcess {
  pid: number;
  /** The worker's final report; rejects if it exits without one. */
  done: Promise<WorkerReport>;
  stop(): Promise<void>;
}

/** Starts one bench/ratelimit/worker.ts process; `onProgress` gets its periodic reports. */
export function startWorker(
  args: Readonly<Record<string, string | number | undefined>>,
  onProgress?: (report: WorkerReport) => void,
): WorkerProcess {
  const child = spawn(process.execPath, [...tsEntry('bench/ratelimit/worker.ts'), ...flags(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let final: WorkerReport | undefined;
  lines.on('line', (line) => {
    const report = JSON.parse(line) as WorkerReport;
    if (report.type === 'done') final = report;
    else onProgress?.(report);
  });
  const done = new Promise<WorkerReport>((resolve, reject) => {
    // 'close' rather than 'exit': it waits for stdout, which may still hold the last line.
    child.once('close', (code, signal) => {
      if (final !== undefined && code === 0) resolve(final);
      else reject(new Error(`worker exited with ${code ?? signal} without a report`));
    });
  });
  return { pid: child.pid!, done, stop: () => stopChild(child) };
}

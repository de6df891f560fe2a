// The reference a mutant's status must agree with: a fresh `python3 -m pytest` of the mutated project, the
// way a developer would run it (a copy of the project, one mutant applied, no sandbox).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Debian's interpreter (pytest 7.2, as in the sandbox image) when present, else whatever python3 is. */
export const referencePython = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export type DirectOutcome = {
  exitCode: number | null;
  timedOut: boolean;
  /** With `measureCpu`: the CPU pytest used (user + system). */
  cpuMs?: number;
};

/** Runs the command, then prints the CPU it and its children used (getrusage), exiting with its status. */
const cpuWrapper = [
  'import resource, subprocess, sys',
  'code = subprocess.call(sys.argv[1:])',
  'u = resource.getrusage(resource.RUSAGE_CHILDREN)',
  'print((u.ru_utime + u.ru_stime) * 1000.0)',
  'sys.exit(code)',
].join('\n');

/** Lines first..last of `text` replaced by `replacement` (as the sandbox applies a mutant). */
export function applyLines(text: string, lines: [number, number], replacement: string): string {
  const all = text.split('\n');
  all.splice(lines[0] - 1, lines[1] - lines[0] + 1, ...replacement.split('\n'));
  return all.join('\n');
}

/** Runs pytest on a copy of `projectDir` with `file` replaced; kills it after `timeoutMs`. */
export async function directPytest(
  projectDir: string,
  mutant: { file: string; lines: [number, number]; text: string },
  testFiles: string[],
  timeoutMs: number,
  opts: { measureCpu?: boolean } = {},
): Promise<DirectOutcome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-direct-'));
  try {
    await cp(projectDir, dir, { recursive: true });
    const target = path.join(dir, mutant.file);
    await writeFile(target, applyLines(await readFile(target, 'utf8'), mutant.lines, mutant.text));
    const pytest = [referencePython, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', ...testFiles];
    const command = opts.measureCpu ? [referencePython, '-c', cpuWrapper, ...pytest] : pytest;
    return await new Promise<DirectOutcome>((resolve) => {
      const child = spawn(command[0] ?? referencePython, command.slice(1), {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          PYTHONDONTWRITEBYTECODE: '1',
          PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1',
        },
        stdio: ['ignore', opts.measureCpu ? 'pipe' : 'ignore', 'ignore'],
        detached: true,
      });
      let out = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => (out += chunk));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, timeoutMs);
      child.once('close', (code) => {
        clearTimeout(timer);
        const cpu = Number(out.trim().split('\n').pop());
        resolve({ exitCode: code, timedOut, ...(opts.measureCpu && Number.isFinite(cpu) ? { cpuMs: cpu } : {}) });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The fleet statuses a direct run's outcome allows (no_coverage: no test reaches it, so pytest passes). */
export function allowedStatuses(o: DirectOutcome): string[] {
  if (o.timedOut) return ['timeout'];
  if (o.exitCode === 0) return ['survived', 'no_coverage'];
  if (o.exitCode === 1) return ['killed'];
  if (o.exitCode === 2) return ['incompetent'];
  return [`exit ${String(o.exitCode)}`];
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place in it (src/ or dist/ alike). */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Build the sandbox image if its tag does not exist yet (scripts/sandbox-image) and return the tag.
 * For development, tests and benchmarks; in production the image is built in CI and configured by tag.
 * `packages`: extra Debian packages (EVALFLEET_SANDBOX_PACKAGES; default: whatever the environment says).
 */
export function ensureSandboxImage(
  opts: { repoRoot?: string; timeoutMs?: number; onProgress?: (line: string) => void; packages?: string[] } = {},
): Promise<string> {
  const script = `${opts.repoRoot ?? REPO_ROOT}/scripts/sandbox-image`;
  const env = opts.packages ? { ...process.env, EVALFLEET_SANDBOX_PACKAGES: opts.packages.join(' ') } : process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(script, [], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 15 * 60_000,
      env,
    });
    let stdout = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      if (opts.onProgress) for (const line of chunk.split('\n')) if (line.trim() !== '') opts.onProgress(line);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const tag = stdout.trim().split('\n').pop()?.trim() ?? '';
      if (code === 0 && tag !== '') resolve(tag);
      else reject(new Error(`${script} failed (${signal ?? `exit ${String(code)}`}): ${stderrTail}`));
    });
  });
}

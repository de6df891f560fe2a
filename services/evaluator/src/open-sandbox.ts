import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import type { Logger } from '@evalfleet/shared/logger';
import {
  createDockerSandbox,
  createProcessSandbox,
  removeSandboxContainers,
  type RecycleReason,
  type Sandbox,
} from './sandbox/index.js';

/**
 * The sandbox the evaluator uses. Fails closed: `docker` (the default) needs an engine and an image and
 * throws without them, so the evaluator refuses to start rather than run code unisolated; the local
 * process sandbox (not isolated, and it says so) only when asked for by name (`SANDBOX=process`).
 */
export async function openSandbox(opts: {
  mode: 'docker' | 'process';
  image: string | undefined;
  socketPath: string;
  concurrency: number;
  logger: Logger;
  python?: string;
  onRecycle?: (reason: RecycleReason) => void;
}): Promise<Sandbox> {
  if (opts.mode !== 'process') {
    const docker = new Docker({ socketPath: opts.socketPath });
    const reachable = await docker.ping().then(
      () => true,
      () => false,
    );
    if (reachable && opts.image) {
      // Containers of an evaluator on this host that died without cleaning up (e.g. SIGKILL).
      const orphans = await removeSandboxContainers(docker);
      if (orphans > 0) opts.logger.warn({ orphans }, 'removed sandbox containers left by a dead evaluator');
      const sandbox = await createDockerSandbox({
        image: opts.image,
        docker,
        poolSize: opts.concurrency,
        logger: opts.logger,
        ...(opts.onRecycle ? { onRecycle: opts.onRecycle } : {}),
      });
      opts.logger.info({ sandbox: sandbox.describe() }, 'docker sandbox ready');
      return sandbox;
    }
    const why = !reachable
      ? `no Docker engine at ${opts.socketPath}`
      : 'EVALFLEET_SANDBOX_IMAGE is not set (scripts/sandbox-image prints it)';
    throw new Error(
      `the evaluator runs untrusted code only in the Docker sandbox, but ${why}. Start an engine ` +
        '(scripts/docker-engine) and build the image (scripts/sandbox-image), or set SANDBOX=process to run ' +
        'it UNISOLATED on this machine.',
    );
  }
  opts.logger.warn(
    { sandbox: 'process' },
    'SANDBOX=process: evaluated code runs UNISOLATED as this user on this machine',
  );
  return createProcessSandbox({ concurrency: opts.concurrency, logger: opts.logger, python: realPython(opts.python) });
}

/**
 * The interpreter itself, not a launcher: shims (pyenv, asdf) need their own environment,
 * which the sandbox's clean job environment does not carry.
 */
export function realPython(candidate = 'python3'): string {
  try {
    const out = execFileSync(candidate, ['-c', 'import sys, pytest; print(sys.executable)'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    const exe = out.trim().split('\n').pop();
    if (exe) return exe;
  } catch {
    // Falls through: the candidate cannot run pytest; the sandbox reports jobs as infra_error.
  }
  return candidate;
}

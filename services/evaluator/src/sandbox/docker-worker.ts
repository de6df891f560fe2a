import { PassThrough, type Duplex } from 'node:stream';

import type Docker from 'dockerode';

import { demultiplex } from './demux.js';
import { SupervisorClient } from './supervisor-client.js';
import type { SandboxLogger } from './types.js';
import type { SupervisorWorker } from './worker-pool.js';

/** Docker answers 404 (gone) or 409 (removal in progress) when AutoRemove got there first. */
function alreadyGone(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return status === 404 || status === 409;
}

/**
 * Create a container, attach to its stdio before it starts (so the supervisor's `ready` line is not
 * missed), start it and wait for `ready`. The container is removed if any step fails.
 */
export async function startDockerWorker(
  docker: Docker,
  spec: Docker.ContainerCreateOptions,
  readyTimeoutMs: number,
  logger: SandboxLogger,
): Promise<SupervisorWorker> {
  const container = await docker.createContainer(spec);
  const label = spec.name ?? container.id.slice(0, 12);
  let stream: Duplex | undefined;
  const remove = async (): Promise<void> => {
    stream?.destroy();
    try {
      await container.remove({ force: true });
    } catch (err) {
      if (!alreadyGone(err)) logger.warn({ worker: label, err: String(err) }, 'could not remove sandbox container');
    }
  };
  try {
    stream = (await container.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as Duplex;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    demultiplex(stream, stdout, stderr);
    forwardLog(stderr, label, logger);
    const client = new SupervisorClient(stream, stdout);
    await container.start();
    await client.ready(readyTimeoutMs);
    return {
      client,
      label,
      jobsRun: 0,
      async destroy(): Promise<void> {
        client.shutdown();
        await remove();
      },
    };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** The supervisor's stderr is its log: forward each line (a capped amount) to ours. */
export function forwardLog(stream: NodeJS.ReadableStream, label: string, logger: SandboxLogger): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending = (pending + chunk).slice(-65536);
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline).trimEnd();
      pending = pending.slice(newline + 1);
      if (line !== '') logger.warn({ worker: label, line: line.slice(0, 2000) }, 'sandbox supervisor log');
      newline = pending.indexOf('\n');
    }
  });
}

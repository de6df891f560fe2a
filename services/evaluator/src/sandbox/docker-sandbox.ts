import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';

import Docker from 'dockerode';

import {
  OWNER_LABEL,
  POOL_LABEL,
  SANDBOX_LABEL,
  hardenedContainerSpec,
  type ContainerLimits,
} from './container-spec.js';
import { startDockerWorker } from './docker-worker.js';
import { createPooledSandbox } from './pooled-sandbox.js';
import { quietLogger } from './runtime-files.js';
import type { JobLimits, Sandbox, SandboxImage, SandboxLogger } from './types.js';
import { WorkerPool, type RecycleReason } from './worker-pool.js';

export type DockerSandboxOptions = {
  /** Image tag, e.g. the last line printed by scripts/sandbox-image. */
  image: string;
  /** Defaults to `new Docker()` (DOCKER_HOST or the local socket). */
  docker?: Docker;
  /** Containers, hence jobs evaluated at once. Default 2. */
  poolSize?: number;
  /** Largest memory a job may use (RLIMIT_AS) and the per-container ceiling. Default 512. */
  memoryMb?: number;
  /** CPUs per container. Default 1. */
  cpus?: number;
  pidsLimit?: number;
  processesPerJob?: number;
  /** Per stream (stdout, stderr); beyond it the middle is dropped and `truncated` is set. Default 256 KiB. */
  outputLimitBytes?: number;
  fileSizeLimitBytes?: number;
  openFiles?: number;
  workDirSizeMb?: number;
  /** Recycle a container after this many jobs. Default 500. */
  maxJobsPerContainer?: number;
  /**
   * Added to a job's timeout before the container is declared hung and recycled. Default 10000: the supervisor
   * itself allows the checker 2 s past the limit, then kills and cleans up (a fork bomb on a loaded machine).
   */
  backstopGraceMs?: number;
  /** How long a new container may take to report ready. Default 30000. */
  startTimeoutMs?: number;
  labels?: Record<string, string>;
  logger?: SandboxLogger;
  /** Told each time a container is replaced, and why (the recycle counter). */
  onRecycle?: (reason: RecycleReason) => void;
};

/**
 * A pool of long-lived hardened containers, each running the supervisor, which runs every job as its own
 * uid in a private directory and proves afterwards that nothing of the job survived (else the container
 * is replaced). Resolves once every container is ready; rejects if the image or engine is unusable.
 */
export async function createDockerSandbox(opts: DockerSandboxOptions): Promise<Sandbox> {
  const docker = opts.docker ?? new Docker();
  const logger = opts.logger ?? quietLogger;
  const poolSize = opts.poolSize ?? 2;
  const jobLimits: JobLimits = {
    memoryMb: opts.memoryMb ?? 512,
    outputLimitBytes: opts.outputLimitBytes ?? 256 * 1024,
    fileSizeLimitBytes: opts.fileSizeLimitBytes ?? 16 * 1024 * 1024,
    openFiles: opts.openFiles ?? 256,
    processesPerJob: opts.processesPerJob ?? 64,
  };
  const containerLimits: ContainerLimits = {
    memoryMb: jobLimits.memoryMb,
    // The supervisor, the zygote and the checker (copy-on-write forks of the zygote) live beside the job.
    overheadMb: 192,
    cpus: opts.cpus ?? 1,
    pidsLimit: opts.pidsLimit ?? jobLimits.processesPerJob * 2,
    workDirSizeMb: opts.workDirSizeMb ?? 64,
    fileSizeLimitBytes: jobLimits.fileSizeLimitBytes,
    openFiles: jobLimits.openFiles,
    processesPerJob: jobLimits.processesPerJob,
  };
  const poolId = randomBytes(4).toString('hex');
  const owner = `${hostname()}:${process.pid}`;
  let sequence = 0;

  const image = imageInfo(opts.image, await docker.getImage(opts.image).inspect());
  const pool = new WorkerPool(
    poolSize,
    () =>
      startDockerWorker(
        docker,
        hardenedContainerSpec({
          image: opts.image,
          name: `evalfleet-sbx-${poolId}-${++sequence}`,
          poolId,
          owner,
          uidBase: 100_000 + randomInt(0, 1 << 20) * 256,
          limits: containerLimits,
          labels: opts.labels,
        }),
        opts.startTimeoutMs ?? 30_000,
        logger,
      ),
    logger,
    opts.onRecycle,
  );
  const sandbox = createPooledSandbox({
    kind: 'docker',
    pool,
    limits: jobLimits,
    backstopGraceMs: opts.backstopGraceMs ?? 10_000,
    maxJobsPerWorker: opts.maxJobsPerContainer ?? 500,
    description:
      `docker sandbox: image ${opts.image}, ${poolSize} container(s) of ${containerLimits.cpus} CPU and ` +
      `${containerLimits.memoryMb + containerLimits.overheadMb} MiB, network none, pool ${poolId}`,
    fingerprint: `docker ${opts.image} cpus=${containerLimits.cpus} memory=${jobLimits.memoryMb}`,
    image,
    logger,
    onClose: () => removeSandboxContainers(docker, { poolId }).then(() => undefined),
  });
  try {
    await pool.warm();
  } catch (err) {
    await sandbox.close();
    throw err;
  }
  return sandbox;
}

/** Labels scripts/sandbox-image puts on the images it builds: what the image holds. */
export const IMAGE_LABELS = {
  manifestSha256: 'org.evalfleet.image.manifest-sha256',
  python: 'org.evalfleet.image.python',
  packages: 'org.evalfleet.image.packages',
} as const;

/** The image as results name it: its tag and, when it has them, its manifest's digest and contents. */
export function imageInfo(
  tag: string,
  inspected: { Config?: { Labels?: Record<string, string> | null } },
): SandboxImage {
  const labels = inspected.Config?.Labels ?? {};
  const image: SandboxImage = { tag };
  for (const [field, label] of Object.entries(IMAGE_LABELS) as [keyof typeof IMAGE_LABELS, string][]) {
    const value = labels[label];
    if (typeof value === 'string' && value !== '') image[field] = value;
  }
  return image;
}

/**
 * Remove sandbox containers: those of one pool, or (without a pool, or with `onlyOrphans`) those whose
 * owning process on this host is gone, i.e. left behind by an evaluator that crashed. Returns how many are
 * gone (removed here, or by another evaluator on this host cleaning up at the same time).
 */
export async function removeSandboxContainers(
  docker: Docker,
  scope: { poolId?: string; onlyOrphans?: boolean } = {},
): Promise<number> {
  const label = scope.poolId ? [`${POOL_LABEL}=${scope.poolId}`] : [`${SANDBOX_LABEL}=true`];
  const orphansOnly = !scope.poolId || scope.onlyOrphans === true;
  const containers = await docker.listContainers({ all: true, filters: { label } });
  let removed = 0;
  for (const info of containers) {
    if (orphansOnly && !isOrphan(info.Labels[OWNER_LABEL])) continue;
    try {
      await docker.getContainer(info.Id).remove({ force: true });
      removed++;
    } catch (err) {
      // Gone already (AutoRemove, or another evaluator on this host cleaning up at its start: 404) or being
      // removed (409): it is gone all the same, and counts. Anything else is left for the next clean-up.
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) removed++;
    }
  }
  return removed;
}

function isOrphan(owner: string | undefined): boolean {
  const [host, pid] = (owner ?? '').split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

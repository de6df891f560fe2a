import type Docker from 'dockerode';

/** Label every sandbox container carries, so ours can be listed and removed. */
export const SANDBOX_LABEL = 'org.evalfleet.sandbox';
export const POOL_LABEL = 'org.evalfleet.sandbox.pool';
export const OWNER_LABEL = 'org.evalfleet.sandbox.owner';

export const SUPERVISOR_PATH = '/opt/evalfleet/runtime/supervisor.py';
export const WORK_DIR = '/work';

export type ContainerLimits = {
  /** Largest per-job memory; the container gets this plus `overheadMb` (supervisor, tmpfs pages). */
  memoryMb: number;
  overheadMb: number;
  cpus: number;
  pidsLimit: number;
  workDirSizeMb: number;
  fileSizeLimitBytes: number;
  openFiles: number;
  processesPerJob: number;
};

export type ContainerSpecInput = {
  image: string;
  name: string;
  poolId: string;
  owner: string;
  /** First of the 64 uids this container's jobs run as (random per container, see supervisor.py). */
  uidBase: number;
  limits: ContainerLimits;
  labels?: Record<string, string>;
};

/**
 * The hardened container a pool worker runs in. The supervisor is uid 0 inside, holding only CAP_SETUID and
 * CAP_SETGID (to give each job and the checker their own uids) and CAP_KILL (to kill a job's processes, which
 * cannot signal it back); it needs no CAP_CHOWN/FOWNER/DAC_OVERRIDE because a deleter that has become the
 * job's uid, once nothing of the job runs, deletes the job's files.
 */
export function hardenedContainerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { limits } = input;
  const memoryBytes = (limits.memoryMb + limits.overheadMb) * 1024 * 1024;
  return {
    name: input.name,
    Image: input.image,
    Cmd: [
      'python3',
      '-E',
      '-B',
      '-s',
      SUPERVISOR_PATH,
      '--mode',
      'docker',
      '--work',
      WORK_DIR,
      '--uid-base',
      String(input.uidBase),
    ],
    User: '0:0',
    WorkingDir: WORK_DIR,
    Env: ['LANG=C.UTF-8', 'PATH=/usr/local/bin:/usr/bin:/bin'],
    // The protocol runs over the attached stdio. StdinOnce: when our connection drops (the evaluator died),
    // the supervisor reads EOF, exits, and AutoRemove deletes the container.
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    Labels: { ...input.labels, [SANDBOX_LABEL]: 'true', [POOL_LABEL]: input.poolId, [OWNER_LABEL]: input.owner },
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      CapAdd: ['SETUID', 'SETGID', 'KILL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      // 0711: only the supervisor (root) creates or lists entries; a job reaches its own directory, whose
      // random name it is given, and nothing else. noexec: jobs read .py files, they never execute one.
      Tmpfs: { [WORK_DIR]: `rw,nosuid,nodev,noexec,size=${limits.workDirSizeMb}m,mode=0711` },
      IpcMode: 'private',
      ShmSize: 16 * 1024 * 1024,
      // SysV IPC of the private namespace, bounded like /dev/shm: 16 MiB of shared memory in all, few objects.
      // A job's objects are removed after it (by owner or creator uid); the bound keeps one job from pinning
      // the container's memory in the meantime.
      Sysctls: {
        'kernel.shmmax': String(16 * 1024 * 1024),
        'kernel.shmall': String((16 * 1024 * 1024) / 4096),
        'kernel.shmmni': '32',
        'kernel.msgmni': '32',
        'kernel.sem': '32 1024 32 32',
      },
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pidsLimit,
      Ulimits: [
        { Name: 'nofile', Soft: Math.max(limits.openFiles, 1024), Hard: Math.max(limits.openFiles, 1024) },
        { Name: 'fsize', Soft: limits.fileSizeLimitBytes, Hard: limits.fileSizeLimitBytes },
        { Name: 'nproc', Soft: limits.processesPerJob * 2, Hard: limits.processesPerJob * 2 },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
      Init: true,
      AutoRemove: true,
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

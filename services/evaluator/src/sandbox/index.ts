export type {
  Integrity,
  JobLimits,
  Sandbox,
  SandboxCodeJob,
  SandboxJob,
  SandboxProjectJob,
  SandboxImage,
  SandboxLogger,
  SandboxResult,
  SandboxRunner,
  TestOutcome,
  Verdict,
} from './types.js';
export type { PoolCounts, RecycleReason } from './worker-pool.js';
export {
  createDockerSandbox,
  IMAGE_LABELS,
  imageInfo,
  removeSandboxContainers,
  type DockerSandboxOptions,
} from './docker-sandbox.js';
export { createProcessSandbox, type ProcessSandboxOptions } from './process-sandbox.js';
export { hardenedContainerSpec, SANDBOX_LABEL, POOL_LABEL, OWNER_LABEL } from './container-spec.js';
export { RUNTIME_DIR } from './runtime-files.js';
export { ensureSandboxImage } from './sandbox-image.js';

import { hostname } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createDockerSandbox,
  ensureSandboxImage,
  removeSandboxContainers,
  type Sandbox,
  type SandboxJob,
} from './index.js';
import { dockerForTests } from './docker-available.test-support.js';

// Infrastructure failures (the container dies, the supervisor hangs) must become infra_error or a backstop
// timeout, and the pool must replace the container.
const { docker, dockerUp } = await dockerForTests('Docker sandbox infrastructure tests');

let counter = 0;
function mbpp(code: string, timeoutMs = 10_000): SandboxJob {
  return { jobId: `infra-${++counter}`, runner: 'mbpp', code, tests: 'assert True', timeoutMs };
}

describe.skipIf(!dockerUp)('docker sandbox infrastructure failures', () => {
  let sandbox: Sandbox;
  let poolId: string;
  let image: string;

  async function containerIds(): Promise<string[]> {
    const list = await docker.listContainers({ filters: { label: [`org.evalfleet.sandbox.pool=${poolId}`] } });
    return list.map((c) => c.Id);
  }

  beforeAll(async () => {
    image = await ensureSandboxImage({ onProgress: (line) => console.log(line) });
    sandbox = await createDockerSandbox({ image, poolSize: 1, backstopGraceMs: 500 });
    poolId = /pool (\w+)/.exec(sandbox.describe())![1]!;
  }, 15 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('reports infra_error when the container dies mid-job, then replaces it', async () => {
    const [victim] = await containerIds();
    const running = sandbox.run(mbpp('import time\ntime.sleep(5)\n'));
    await docker.getContainer(victim!).kill();
    const result = await running;
    expect(result).toMatchObject({ verdict: 'infra_error', reason: 'supervisor_lost', passed: false });

    const next = await sandbox.run(mbpp('x = 1\n'));
    expect(next).toMatchObject({ verdict: 'passed' });
    expect(await containerIds()).not.toContain(victim);
  });

  it('times out from the TypeScript side when the supervisor stops answering, then replaces the container', async () => {
    const [victim] = await containerIds();
    const running = sandbox.run(mbpp('import time\ntime.sleep(30)\n', 500));
    await docker.getContainer(victim!).pause();
    const result = await running;
    expect(result).toMatchObject({ verdict: 'timeout', reason: 'backstop' });

    const next = await sandbox.run(mbpp('x = 1\n'));
    expect(next).toMatchObject({ verdict: 'passed' });
    expect(await containerIds()).not.toContain(victim);
  });

  it('removes containers left behind by an evaluator that died, and only those', async () => {
    // Without the fleet-wide sandbox label: an evaluator starting in another test file at the same time
    // cleans up every orphan on the host, and took this one first (twice in CI). The pool scope with
    // `onlyOrphans` runs the same owner check on this test's containers alone.
    const pool = `orphan-test-${counter}`;
    const labels = (owner: string): Record<string, string> => ({
      'org.evalfleet.sandbox.pool': pool,
      'org.evalfleet.sandbox.owner': owner,
    });
    const create = (owner: string) =>
      docker.createContainer({
        Image: image,
        Cmd: ['sleep', '60'],
        Labels: labels(owner),
        HostConfig: { NetworkMode: 'none', AutoRemove: true },
      });
    // Pid 2^22 + 1 is above Linux's pid_max ceiling, so no process can own it.
    const orphan = await create(`${hostname()}:4194305`);
    const ours = await create(`${hostname()}:${process.pid}`);
    try {
      await orphan.start();
      await ours.start();
      expect(await removeSandboxContainers(docker, { poolId: pool, onlyOrphans: true })).toBe(1);
      const left = await docker.listContainers({
        all: true,
        filters: { label: [`org.evalfleet.sandbox.pool=${pool}`] },
      });
      expect(left.map((c) => c.Id)).toEqual([ours.id]);
    } finally {
      await Promise.allSettled([orphan.remove({ force: true }), ours.remove({ force: true })]);
    }
  });
});

// Sandbox faults on a Docker engine of this file's own (its own socket, data and exec roots; the
// machine's engine, which other tests share, is never touched): the evaluator SIGKILLed and drained
// mid-sandbox, a sandbox container killed from outside, and the engine restarted mid-evaluation.
// The right answers sleep 0.5 s first, so a fault lands while a job runs in a container.
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/rabbit.js';
import { FaultFleet, sandboxImage, writeSamplesFile, type ServiceProcess } from './support/fleet.js';
import { startOwnDockerd } from './support/servers.js';

const jobs = 12;
const ownerLabel = 'org.evalfleet.sandbox.owner';
let dockerd: Awaited<ReturnType<typeof startOwnDockerd>> | undefined;
let fleet: FaultFleet | undefined;
let samples = '';

describe.skipIf(!sandboxImage)('sandbox faults (own Docker engine)', () => {
  beforeAll(async () => {
    dockerd = await startOwnDockerd();
    await dockerd.loadImage(sandboxImage!);
    fleet = await FaultFleet.start({
      label: 'sandbox',
      env: { SANDBOX: 'docker', DOCKER_SOCKET: dockerd.socket, LOG_LEVEL: 'warn' },
    });
    samples = path.join(fleet.dir, 'samples.jsonl');
    await writeSamplesFile(samples, jobs, { sleepSeconds: 0.5 });
    await fleet.ensure('producer', 'evaluator', 'aggregator');
    await fleet.submitSamples('baseline', samples);
    await fleet.waitCompleted('baseline');
  }, 240_000);

  afterAll(async () => {
    await fleet?.stop();
    await dockerd?.dispose();
  }, 120_000);

  beforeEach(async () => {
    if (dockerd!.pid() === undefined) await dockerd!.start();
    await fleet!.ensure('producer', 'evaluator', 'aggregator');
  }, 120_000);

  async function expectWhole(runId: string) {
    const report = await fleet!.ledger(runId, 'baseline');
    expect(report.ok, `${report.diff}\n${report.ok ? '' : await fleet!.logTail()}`).toBe(true);
  }

  /** Wait until `evaluator` has a job in its sandbox (its in-flight gauge). */
  async function midSandbox(evaluator: ServiceProcess) {
    await waitFor(
      'a job in the sandbox',
      async () => {
        const text = await fetch(`${evaluator.opsUrl}/metrics`).then((r) => r.text());
        return /evalfleet_in_flight_messages\{[^}]*stage="evaluate"[^}]*\} [1-9]/.test(text);
      },
      60_000,
      10,
    );
  }

  /** Sandbox containers `evaluator` created on our engine (their owner label names its pid). */
  async function containersOf(evaluator: ServiceProcess, all = false): Promise<string[]> {
    const out = await dockerd!.docker(
      'ps',
      ...(all ? ['-a'] : []),
      '-q',
      '--filter',
      `label=${ownerLabel}=${hostname()}:${evaluator.pid}`,
    );
    return out.split('\n').filter(Boolean);
  }

  it('the fault-free run is whole (the reference)', async () => {
    await expectWhole('baseline');
  });

  it(
    'the evaluator SIGKILLed mid-sandbox, a replacement finishes and removes its containers',
    { timeout: 150_000 },
    async () => {
      const f = fleet!;
      const [evaluator] = f.running('evaluator');
      await f.submitSamples('eval-kill', samples);
      await midSandbox(evaluator!);
      await f.signal(evaluator!, 'SIGKILL');
      expect((await containersOf(evaluator!, true)).length).toBeGreaterThan(0);
      await f.startService('evaluator');
      // The replacement removes the containers of an evaluator that is gone.
      expect(await containersOf(evaluator!, true)).toEqual([]);
      await f.waitCompleted('eval-kill');
      await expectWhole('eval-kill');
    },
  );

  it(
    'the evaluator drained by SIGTERM mid-sandbox: the job finishes, exit 143, containers removed',
    { timeout: 150_000 },
    async () => {
      const f = fleet!;
      const [evaluator] = f.running('evaluator');
      await f.submitSamples('eval-term', samples);
      await midSandbox(evaluator!);
      const [code] = await f.signal(evaluator!, 'SIGTERM');
      expect(code).toBe(143);
      expect(await containersOf(evaluator!, true)).toEqual([]);
      await f.startService('evaluator');
      await f.waitCompleted('eval-term');
      await expectWhole('eval-term');
    },
  );

  it('a sandbox container killed from outside mid-job', { timeout: 150_000 }, async () => {
    const f = fleet!;
    const [evaluator] = f.running('evaluator');
    await f.submitSamples('container-kill', samples);
    await midSandbox(evaluator!);
    // Only the containers this test's evaluator created (by their owner label) on this test's engine.
    const ids = await containersOf(evaluator!);
    expect(ids.length).toBeGreaterThan(0);
    await dockerd!.docker('kill', ...ids);
    await f.waitCompleted('container-kill');
    await expectWhole('container-kill');
    expect(await f.logText()).toContain('sandbox worker failed');
  });

  it('the Docker engine restarted mid-evaluation', { timeout: 180_000 }, async () => {
    const f = fleet!;
    const [evaluator] = f.running('evaluator');
    await f.submitSamples('engine-restart', samples);
    await midSandbox(evaluator!);
    await dockerd!.stop('SIGTERM');
    await dockerd!.start();
    await f.waitCompleted('engine-restart', 150_000);
    await expectWhole('engine-restart');
    expect(await f.logText()).toContain('sandbox_infra');
  });
});

// Calibrated time limits on the bundled problem sets, in the real Docker sandbox: every reference solution
// is measured, and then passes as a sample under the limit it calibrated (so a sample the reference harness
// passes does not time out); a never-ending sample is cut at that limit.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProblemSet, type Problem } from '../shared/src/datasets/index.js';
import { sandboxJobFor, TIMEOUTS, TimeoutCalibrator, timeoutFromReference } from '../shared/src/kinds/solve/index.js';
import { createArtifactStore, type ArtifactStore } from '../shared/src/storage/index.js';
import type { SandboxCapability } from '../shared/src/workflow/index.js';
import { dockerForTests } from '../services/evaluator/src/sandbox/docker-available.test-support.js';
import { createDockerSandbox, ensureSandboxImage, type Sandbox } from '../services/evaluator/src/sandbox/index.js';

const { dockerUp } = await dockerForTests('Calibration tests');

const sets = ['datasets/humaneval-mini.jsonl', 'datasets/mbpp-mini.jsonl', 'datasets/solve-example.jsonl'];

describe.skipIf(!dockerUp)('calibrated time limits on the bundled sets', () => {
  let sandbox: Sandbox;
  let capability: SandboxCapability;
  let dir: string;
  let store: ArtifactStore;

  beforeAll(async () => {
    const image = await ensureSandboxImage({ onProgress: (line) => console.log(line) });
    sandbox = await createDockerSandbox({ image, poolSize: 2 });
    capability = {
      run: (job) => sandbox.run(job),
      describe: () => sandbox.describe(),
      fingerprint: sandbox.fingerprint(),
    };
    dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-calibration-'));
    store = createArtifactStore({ kind: 'fs', root: dir });
  }, 15 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(sets)('%s: every reference passes under the limit it calibrated', { timeout: 300_000 }, async (file) => {
    const problems = parseProblemSet(await readFile(file, 'utf8')).problems;
    expect(problems.length).toBeGreaterThan(0);
    const calibrator = new TimeoutCalibrator(store, (problem, code, mode) =>
      sandboxJobFor(`calibrate:${problem.taskId}`, problem, { code, mode, timeoutMs: 1, memoryMb: 512 }),
    );
    const key = (p: Problem) => `datasets/${path.basename(file)}/problems/${encodeURIComponent(p.taskId)}.json`;
    const lanes = [0, 1].map(async (lane) => {
      for (const problem of problems.filter((_, i) => i % 2 === lane)) {
        const calibration = await calibrator.timeoutFor(key(problem), problem, capability);
        expect(calibration, problem.taskId).toMatchObject({ status: 'calibrated' });
        expect(calibration.timeoutMs).toBe(timeoutFromReference(calibration.referenceMs!));
        const reference = problem.referenceSolution!;
        const result = await sandbox.run(
          sandboxJobFor(`sample:${problem.taskId}`, problem, {
            code: reference,
            mode: problem.referenceMode ?? 'full',
            timeoutMs: calibration.timeoutMs,
            memoryMb: 512,
          }),
        );
        expect(result.verdict, `${problem.taskId}: ${result.reason ?? ''} ${result.message ?? ''}`).toBe('passed');
      }
    });
    await Promise.all(lanes);
  });

  it('cuts a never-ending sample at the calibrated limit', { timeout: 120_000 }, async () => {
    const [problem] = parseProblemSet(await readFile(sets[0]!, 'utf8')).problems;
    const calibrator = new TimeoutCalibrator(store, (p, code, mode) =>
      sandboxJobFor(`calibrate:${p.taskId}`, p, { code, mode, timeoutMs: 1, memoryMb: 512 }),
    );
    const calibration = await calibrator.timeoutFor('datasets/hang/problems/0.json', problem!, capability);
    expect(calibration.timeoutMs).toBeLessThan(TIMEOUTS.defaultMs);
    const result = await sandbox.run(
      sandboxJobFor('hang', problem!, {
        code: '    while True:\n        pass\n',
        mode: 'completion',
        timeoutMs: calibration.timeoutMs,
        memoryMb: 512,
      }),
    );
    expect(result).toMatchObject({ verdict: 'timeout' });
  });
});

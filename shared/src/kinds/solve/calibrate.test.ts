import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Problem } from '../../datasets/index.js';
import { RetryableError } from '../../errors/index.js';
import { createArtifactStore, type ArtifactStore } from '../../storage/index.js';
import type { SandboxCapability, SandboxJob, SandboxResult } from '../../workflow/index.js';
import { calibrationKey, TIMEOUTS, TimeoutCalibrator, timeoutFromReference } from './calibrate.js';

const problem: Problem = {
  taskId: 'T/1',
  entryPoint: 'f',
  prompt: 'f',
  source: 'humaneval',
  tests: 'def check(c): assert c() == 1',
  testFormat: 'humaneval',
  category: 'c',
  referenceSolution: '    return 1\n',
  referenceMode: 'completion',
  starterCode: 'def f():\n',
};
const problemKey = 'datasets/ds1/problems/T%2F1.json';

function result(verdict: SandboxResult['verdict'], durationMs: number): SandboxResult {
  return {
    verdict,
    passed: verdict === 'passed',
    tests: [],
    stdout: '',
    stderr: '',
    truncated: false,
    durationMs,
    exitCode: 0,
    signal: null,
    sandbox: 'docker',
    integrity: 'checker',
  };
}

/** A sandbox whose runs take the given times (ms) in turn and end with the given verdict. */
function sandbox(times: number[], verdict: SandboxResult['verdict'] = 'passed', fingerprint = 'docker img:1') {
  const jobs: SandboxJob[] = [];
  const capability: SandboxCapability = {
    describe: () => `random pool ${Math.random()}`,
    fingerprint,
    run(job) {
      jobs.push(job);
      return Promise.resolve(result(verdict, times[jobs.length - 1] ?? 1));
    },
  };
  return { capability, jobs };
}

const jobFor = (p: Problem, code: string): SandboxJob => ({
  jobId: `calibrate:${p.taskId}`,
  runner: 'humaneval',
  code,
  tests: p.tests,
  entryPoint: p.entryPoint,
  timeoutMs: 1,
});

let dir: string;
let store: ArtifactStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-calibrate-'));
  store = createArtifactStore({ kind: 'fs', root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('timeout calibration', () => {
  it('is max(floor, factor × reference)', () => {
    expect(timeoutFromReference(5)).toBe(TIMEOUTS.floorMs);
    expect(timeoutFromReference(2_000)).toBe(2_000 * TIMEOUTS.factor);
  });

  it('measures a task once, concurrent samples sharing the measurement, and caches it per dataset and sandbox', async () => {
    const { capability, jobs } = sandbox([40]);
    const calibrator = new TimeoutCalibrator(store, jobFor);
    const all = await Promise.all([1, 2, 3].map(() => calibrator.timeoutFor(problemKey, problem, capability)));
    expect(all.map((c) => c.timeoutMs)).toEqual([3_000, 3_000, 3_000]);
    expect(all[0]).toMatchObject({ status: 'calibrated', referenceMs: 40, sandbox: 'docker img:1' });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ code: problem.referenceSolution, timeoutMs: TIMEOUTS.referenceLimitMs });

    // Another evaluator (a new calibrator) finds it in the store; another image measures again.
    const other = sandbox([40]);
    expect(await new TimeoutCalibrator(store, jobFor).timeoutFor(problemKey, problem, other.capability)).toEqual(
      all[0],
    );
    expect(other.jobs).toHaveLength(0);
    const newImage = sandbox([40], 'passed', 'docker img:2');
    await new TimeoutCalibrator(store, jobFor).timeoutFor(problemKey, problem, newImage.capability);
    expect(newImage.jobs).toHaveLength(1);
    expect(calibrationKey(problemKey, 'docker img:1')).not.toBe(calibrationKey(problemKey, 'docker img:2'));
    expect(calibrationKey(problemKey, 'docker img:1')).toMatch(
      /^datasets\/ds1\/calibration\/[0-9a-f]{16}\/T%2F1\.json$/,
    );
  });

  it('measures a slow reference twice and keeps the slower run', async () => {
    const { capability, jobs } = sandbox([1_000, 1_500]);
    const calibration = await new TimeoutCalibrator(store, jobFor).timeoutFor(problemKey, problem, capability);
    expect(jobs).toHaveLength(2);
    expect(calibration).toMatchObject({ status: 'calibrated', referenceMs: 1_500, timeoutMs: 6_000 });
  });

  it('falls back to the default without a reference, or when the reference does not pass', async () => {
    const none = sandbox([]);
    const noReference = { ...problem, referenceSolution: undefined } as Problem;
    expect(await new TimeoutCalibrator(store, jobFor).timeoutFor(problemKey, noReference, none.capability)).toEqual({
      timeoutMs: TIMEOUTS.defaultMs,
      status: 'no_reference',
      sandbox: 'docker img:1',
    });
    expect(none.jobs).toHaveLength(0);

    const failing = sandbox([30], 'failed', 'docker img:3');
    expect(
      await new TimeoutCalibrator(store, jobFor).timeoutFor(problemKey, problem, failing.capability),
    ).toMatchObject({ timeoutMs: TIMEOUTS.defaultMs, status: 'reference_failed', reason: 'failed' });
  });

  it('does not cache an infrastructure failure: the next sample measures again', async () => {
    const broken = sandbox([10], 'infra_error');
    const calibrator = new TimeoutCalibrator(store, jobFor);
    await expect(calibrator.timeoutFor(problemKey, problem, broken.capability)).rejects.toBeInstanceOf(RetryableError);
    const working = sandbox([10]);
    expect(await calibrator.timeoutFor(problemKey, problem, working.capability)).toMatchObject({
      status: 'calibrated',
    });
    expect(working.jobs).toHaveLength(1);
  });
});

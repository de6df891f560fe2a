import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { parseProblemSet, type Problem } from '../../datasets/index.js';
import { RetryableError } from '../../errors/index.js';
import type { ResultRow } from '../../scoring/index.js';
import { createArtifactStore, type ArtifactStore } from '../../storage/index.js';
import type {
  EvalPlusReferenceOptions,
  SandboxCapability,
  SandboxEvalPlusJob,
  SandboxJob,
  SandboxResult,
} from '../../workflow/index.js';
import { EVALPLUS, EvalPlusOracles, evalplusJob, evalplusOutcome, oracleKey } from './evalplus.js';
import { evalplusSummary, sandboxImages } from './evalplus-summary.js';
import type { SolveResult } from './result.js';

const line = JSON.stringify({
  task_id: 'Mini/1',
  prompt: 'def f(x):\n    """Double x."""\n',
  entry_point: 'f',
  canonical_solution: '    return 2 * x\n',
  contract: '\n    assert x >= 0  # $_CONTRACT_$\n',
  atol: 0,
  base_input: [[1], [-1], [2]],
  plus_input: [[3], [4], [5], [6]],
});
const problem = parseProblemSet(line).problems[0] as Problem;
const problemKey = 'datasets/ds1/problems/Mini%2F1.json';

function result(fields: Partial<SandboxResult>): SandboxResult {
  return {
    verdict: 'passed',
    passed: true,
    tests: [],
    stdout: '',
    stderr: '',
    truncated: false,
    durationMs: 5,
    exitCode: 0,
    signal: null,
    sandbox: 'docker',
    integrity: 'checker',
    ...fields,
  };
}

/**
 * A reference that answers at most `perChunk` inputs per job: each output is `o<input text>`, each time 2 ms;
 * inputs with a negative number break the contract when the program has it.
 */
function sandbox(opts: { perChunk?: number; answer?: (job: SandboxEvalPlusJob) => SandboxResult } = {}) {
  const jobs: SandboxEvalPlusJob[] = [];
  const capability: SandboxCapability = {
    describe: () => 'docker',
    fingerprint: 'docker img:1',
    run(job: SandboxJob) {
      const ep = job as SandboxEvalPlusJob;
      jobs.push(ep);
      if (opts.answer) return Promise.resolve(opts.answer(ep));
      const inputs = JSON.parse((ep.evalplus as EvalPlusReferenceOptions).inputs) as number[][];
      const done = Math.min(inputs.length, opts.perChunk ?? inputs.length);
      const contract = ep.code.includes('$_CONTRACT_$');
      const outputs = inputs.slice(0, done).map((i) => (contract && i[0]! < 0 ? null : `o${i[0]}`));
      const errors = outputs.flatMap((o, k) => (o === null ? [[k, 'contract', 'AssertionError']] : []));
      return Promise.resolve(
        result({ data: { outputs, timesMs: outputs.map((o) => (o === null ? null : 2)), errors, done } }),
      );
    },
  };
  return { capability, jobs };
}

let dir: string;
let store: ArtifactStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-evalplus-'));
  store = createArtifactStore({ kind: 'fs', root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('EvalPlus oracles', () => {
  it('runs the reference with its contract in chunks, once per dataset and sandbox, and leaves out what breaks it', async () => {
    const { capability, jobs } = sandbox({ perChunk: 2 });
    const oracles = new EvalPlusOracles(store);
    const [oracle, again] = await Promise.all([1, 2].map(() => oracles.get(problemKey, problem, capability)));
    expect(again).toBe(oracle);
    expect(oracle).toMatchObject({ status: 'ok', contract: 'applied', sandbox: 'docker img:1' });
    expect(oracle!.base).toEqual({
      outputs: ['o1', null, 'o2'],
      timesMs: [2, null, 2],
      excluded: [{ index: 1, reason: 'contract', message: 'AssertionError' }],
    });
    expect(oracle!.plus.outputs).toEqual(['o3', 'o4', 'o5', 'o6']);
    // base: [1, -1] then [2]; plus: [3, 4] then [5, 6].
    expect(jobs.map((j) => (j.evalplus as EvalPlusReferenceOptions).inputs)).toEqual([
      '[[1],[-1],[2]]',
      '[[2]]',
      '[[3],[4],[5],[6]]',
      '[[5],[6]]',
    ]);
    expect(jobs[0]).toMatchObject({
      runner: 'evalplus',
      entryPoint: 'f',
      code: 'def f(x):\n    """Double x."""\n\n    assert x >= 0  # $_CONTRACT_$\n    return 2 * x\n',
      timeoutMs: EVALPLUS.reference.timeoutMs,
      callTimeoutMs: EVALPLUS.reference.callMs,
      evalplus: { mode: 'reference', dataset: 'custom', taskId: 'Mini/1' },
    });
    // Another evaluator finds it in the store; another image computes it again.
    const other = sandbox();
    expect(await new EvalPlusOracles(store).get(problemKey, problem, other.capability)).toEqual(oracle);
    expect(other.jobs).toHaveLength(0);
    expect(oracleKey(problemKey, 'docker img:1')).toMatch(/^datasets\/ds1\/evalplus\/[0-9a-f]{16}\/Mini%2F1\.json$/);
  });

  it('runs without the contract when the program with it does not load; a reference that never loads fails the task', async () => {
    const tried: string[] = [];
    const fallback = sandbox({
      answer: (job) => {
        tried.push(job.code);
        if (job.code.includes('$_CONTRACT_$'))
          return result({ verdict: 'error', passed: false, reason: 'syntax_error' });
        const inputs = JSON.parse((job.evalplus as EvalPlusReferenceOptions).inputs) as unknown[];
        return result({
          data: { outputs: inputs.map(() => 'x'), timesMs: inputs.map(() => 1), errors: [], done: inputs.length },
        });
      },
    });
    const oracle = await new EvalPlusOracles(store).get(problemKey, problem, fallback.capability);
    expect(oracle).toMatchObject({ status: 'ok', contract: 'not_applied' });
    expect(tried.map((code) => code.includes('$_CONTRACT_$'))).toEqual([true, false, false]);
    expect(oracle.base.outputs).toEqual(['x', 'x', 'x']);
    const broken = sandbox({
      answer: () => result({ verdict: 'error', passed: false, reason: 'import_error', message: 'no numpy' }),
    });
    const failed = await new EvalPlusOracles(store).get(problemKey, problem, {
      ...broken.capability,
      fingerprint: 'docker img:2',
    });
    expect(failed).toMatchObject({ status: 'reference_failed', reason: 'error/import_error: no numpy' });
  });

  it('puts an output too large for one reply together from its slices, and leaves it out if it changes', async () => {
    const slicing = (whole: (run: number) => string) => {
      let runs = 0;
      return sandbox({
        answer: (job) => {
          const options = job.evalplus as EvalPlusReferenceOptions;
          const inputs = JSON.parse(options.inputs) as number[][];
          if (inputs[0]![0] !== 1) {
            const outputs = inputs.map((i) => `o${i[0]}`);
            return result({ data: { outputs, timesMs: outputs.map(() => 1), errors: [], done: inputs.length } });
          }
          const text = whole(runs++);
          const offset = options.sliceOffset ?? 0;
          const slice = { offset, total: text.length, sha256: `sha-${text}` };
          return result({
            data: { outputs: [text.slice(offset, offset + 4)], timesMs: [7], errors: [], done: 0, slice },
          });
        },
      });
    };
    const steady = slicing(() => 'ABCDEFGHIJ');
    const oracle = await new EvalPlusOracles(store).get(problemKey, problem, steady.capability);
    expect(oracle.base).toEqual({ outputs: ['ABCDEFGHIJ', 'o-1', 'o2'], timesMs: [7, 1, 1], excluded: [] });
    expect(steady.jobs.map((j) => (j.evalplus as EvalPlusReferenceOptions).sliceOffset)).toEqual([
      undefined,
      4,
      8,
      undefined,
      undefined,
    ]);
    const changing = slicing((run) => (run === 0 ? 'ABCDEFGHIJ' : 'abcdefghij'));
    const other = await new EvalPlusOracles(store).get(problemKey, problem, {
      ...changing.capability,
      fingerprint: 'x',
    });
    expect(other.base.outputs).toEqual([null, 'o-1', 'o2']);
    expect(other.base.excluded).toEqual([
      { index: 0, reason: 'output_not_kept', message: 'the output differs between runs' },
    ]);
  });

  it('does not keep an infrastructure failure', async () => {
    const oracles = new EvalPlusOracles(store);
    const broken = sandbox({ answer: () => result({ verdict: 'infra_error', passed: false, reason: 'closed' }) });
    await expect(oracles.get(problemKey, problem, broken.capability)).rejects.toBeInstanceOf(RetryableError);
    expect((await oracles.get(problemKey, problem, sandbox().capability)).status).toBe('ok');
  });
});

describe('evalplusJob', () => {
  it('sends the sample with the inputs that have outputs, their times and their places', async () => {
    const oracle = await new EvalPlusOracles(store).get(problemKey, problem, sandbox().capability);
    const job = evalplusJob('j', problem, oracle, { code: '    return x + x\n', mode: 'completion', memoryMb: 256 });
    expect(job).toMatchObject({
      runner: 'evalplus',
      code: 'def f(x):\n    """Double x."""\n    return x + x\n',
      entryPoint: 'f',
      memoryMb: 256,
      evalplus: { mode: 'check', dataset: 'custom', atol: 0, floorMs: 1000, factor: 4, phaseCapMs: 60_000 },
    });
    const [base, plus] = (job.evalplus as { phases: unknown[] }).phases;
    expect(base).toEqual({
      name: 'base',
      inputs: '[[1],[2]]',
      expected: '["o1","o2"]',
      refMs: [2, 2],
      indices: [0, 2],
    });
    expect(plus).toMatchObject({ name: 'plus', inputs: '[[3],[4],[5],[6]]', indices: [0, 1, 2, 3] });
    // Load allowance + each phase's min(cap, sum of max(floor, 4 x 2 ms)) + 2 s.
    expect(job.timeoutMs).toBe(EVALPLUS.loadMs + (2_000 + 2_000) + (4_000 + 2_000));
  });

  it("reads the phases' statuses, or takes them from the verdict when the checker gave none", async () => {
    const oracle = await new EvalPlusOracles(store).get(problemKey, problem, sandbox().capability);
    expect(evalplusOutcome(result({ verdict: 'failed', data: { base: 'pass', plus: 'fail' } }), oracle)).toEqual({
      base: 'pass',
      plus: 'fail',
      excludedInputs: 1,
    });
    expect(evalplusOutcome(result({ verdict: 'timeout', reason: 'backstop' }), oracle)).toMatchObject({
      base: 'timeout',
      plus: 'timeout',
    });
  });
});

describe('evalplusSummary', () => {
  const row = (taskId: string, sampleIndex: number, base: string, plus: string, verdict = 'failed') =>
    ({
      runId: 'r',
      taskId,
      model: 'm',
      sampleIndex,
      category: 'c',
      verdict,
      passed: base === 'pass' && plus === 'pass',
      evalplus: { base, plus, excludedInputs: taskId === 'a' ? 2 : 0 },
    }) as ResultRow & Pick<SolveResult, 'evalplus'>;

  it('scores base and base + plus with pass@k as EvalPlus does', () => {
    const rows = [
      row('a', 0, 'pass', 'pass', 'passed'),
      row('a', 1, 'pass', 'fail'),
      row('b', 0, 'fail', 'pass'),
      row('b', 1, 'pass', 'timeout'),
      // Never reached the sandbox: counts as a failure on both.
      { ...row('b', 2, 'fail', 'fail', 'syntax_error'), evalplus: undefined },
      // Not scored at all.
      { ...row('b', 3, 'fail', 'fail', 'dead_lettered'), evalplus: undefined },
    ];
    const summary = evalplusSummary(rows)!;
    expect(summary.ks).toEqual([1, 10, 100]);
    const [m] = summary.models;
    expect(m).toMatchObject({ model: 'm', tasks: 2, samples: 5 });
    // a: 2/2 base, 1/2 plus; b: 1/3 base, 0/3 plus.
    expect(m!.base).toEqual([{ k: 1, value: (1 + 1 / 3) / 2, tasks: 2 }]);
    expect(m!.plus).toEqual([{ k: 1, value: 0.5 / 2, tasks: 2 }]);
    expect(m!.statuses).toEqual({ base: { pass: 3, fail: 1 }, plus: { pass: 2, fail: 1, timeout: 1 } });
    expect(summary.excludedInputs).toEqual([{ taskId: 'a', count: 2 }]);
    expect(evalplusSummary([{ ...row('a', 0, 'pass', 'pass'), evalplus: undefined }])).toBeUndefined();
  });

  it('names the images samples ran in', () => {
    const stored = (tag: string, manifestSha256?: string) =>
      ({ result: { sandboxImage: { tag, ...(manifestSha256 ? { manifestSha256 } : {}) } } }) as never;
    expect(
      sandboxImages([stored('img:1', 'aa'), stored('img:1', 'aa'), stored('img:2'), { result: {} } as never]),
    ).toEqual([
      { tag: 'img:1', manifestSha256: 'aa', samples: 2 },
      { tag: 'img:2', samples: 1 },
    ]);
  });
});

import { buildSolution, evalplusReferenceProgram, type CodeMode, type Problem } from '../../datasets/index.js';
import { RetryableError } from '../../errors/index.js';
import type { ArtifactStore } from '../../storage/index.js';
import type {
  EvalPlusCheckData,
  EvalPlusPhase,
  EvalPlusReferenceData,
  EvalPlusStatus,
  SandboxCapability,
  SandboxEvalPlusJob,
  SandboxResult,
} from '../../workflow/index.js';
import { sandboxFingerprint } from './calibrate.js';
import { perSandboxKey, StoredOnce } from './stored-once.js';

/**
 * EvalPlus's limits (evalplus/config.py and untrusted_check): an input may take max(floorMs, factor × the
 * reference's time on it); a phase (base, plus) min(phaseCapMs, the sum of its inputs' limits) + 2 s.
 * `loadMs` is ours: loading the program and the data, which EvalPlus counts in each phase.
 */
export const EVALPLUS = {
  floorMs: 1_000,
  factor: 4,
  phaseCapMs: 60_000,
  loadMs: 15_000,
  /** Reference chunks: the job's limit, one input's, when to start no new input, inputs' text per chunk. */
  reference: { timeoutMs: 120_000, callMs: 60_000, sliceMs: 20_000, windowChars: 8 * 1024 * 1024 },
} as const;

export type OraclePhase = {
  /** Per input: the reference's output (base64 efsbx_codec), or null when the input is left out. */
  outputs: (string | null)[];
  timesMs: (number | null)[];
  /** Inputs left out and why: `contract` (the input breaks the task's contract), `reference_error`, ... */
  excluded: { index: number; reason: string; message: string }[];
};

/** A task's expected outputs in one sandbox (image and limits), as measured there once. */
export type EvalPlusOracle = {
  status: 'ok' | 'reference_failed';
  reason?: string;
  /** `applied`: the reference ran with the contract's asserts, so inputs that break it are left out. */
  contract: 'applied' | 'none' | 'not_applied';
  sandbox: string;
  base: OraclePhase;
  plus: OraclePhase;
};

/** `datasets/<dataset>/evalplus/<sandbox hash>/<task>.json`, beside the task's calibration. */
export function oracleKey(problemKey: string, fingerprint: string): string {
  return perSandboxKey(problemKey, 'evalplus', fingerprint);
}

/**
 * The expected outputs of EvalPlus tasks, computed once per dataset and sandbox: the first sample of a task
 * runs the canonical solution on every input in the sandbox (samples arriving meanwhile wait for it); the
 * result goes to the store (first writer wins, like calibrations) and a few stay in memory.
 */
export class EvalPlusOracles {
  private readonly known: StoredOnce<EvalPlusOracle>;

  constructor(store: ArtifactStore, maxEntries = 32) {
    this.known = new StoredOnce(store, maxEntries);
  }

  get(problemKey: string, problem: Problem, sandbox: SandboxCapability): Promise<EvalPlusOracle> {
    const fingerprint = sandboxFingerprint(sandbox);
    return this.known.get(oracleKey(problemKey, fingerprint), () => computeOracle(problem, sandbox, fingerprint));
  }
}

const LOAD_FAILURES = new Set([
  'syntax_error',
  'import_error',
  'name_error',
  'module_exception',
  'entry_point_missing',
]);

/** The reference's outputs: with the contract when the task has one (EvalPlus validated its inputs so). */
export async function computeOracle(
  problem: Problem,
  sandbox: SandboxCapability,
  fingerprint: string,
): Promise<EvalPlusOracle> {
  const contracted = evalplusReferenceProgram(problem, true);
  if (contracted !== undefined) {
    const run = await runReference(problem, contracted, sandbox);
    if (!('loadFailure' in run)) return { ...run, contract: 'applied', sandbox: fingerprint };
  }
  const run = await runReference(problem, evalplusReferenceProgram(problem, false)!, sandbox);
  const contract = (problem.evalplus?.contract ?? '').trim() === '' ? 'none' : 'not_applied';
  if ('loadFailure' in run) {
    const empty = { outputs: [], timesMs: [], excluded: [] };
    return {
      status: 'reference_failed',
      reason: run.loadFailure,
      contract,
      sandbox: fingerprint,
      base: empty,
      plus: empty,
    };
  }
  return { ...run, contract, sandbox: fingerprint };
}

type ReferenceRun = Pick<EvalPlusOracle, 'status' | 'reason' | 'base' | 'plus'> | { loadFailure: string };

async function runReference(problem: Problem, code: string, sandbox: SandboxCapability): Promise<ReferenceRun> {
  const tests = problem.evalplus!;
  const phases = { base: tests.baseInputs, plus: tests.plusInputs };
  const result: Record<'base' | 'plus', OraclePhase> = {
    base: { outputs: [], timesMs: [], excluded: [] },
    plus: { outputs: [], timesMs: [], excluded: [] },
  };
  for (const name of ['base', 'plus'] as const) {
    const inputs = phases[name];
    const phase = result[name];
    let start = 0;
    // An output too large for one reply arrives in slices, the reference run again for each.
    let sliced: { parts: string[]; chars: number; sha256: string } | undefined;
    while (start < inputs.length) {
      let end = start + 1;
      let chars = inputs[start]!.length;
      while (end < inputs.length && chars + inputs[end]!.length <= EVALPLUS.reference.windowChars)
        chars += inputs[end++]!.length;
      const run = await sandbox.run({
        jobId: `evalplus-reference:${problem.taskId}:${name}:${start}`,
        runner: 'evalplus',
        code,
        entryPoint: problem.entryPoint,
        timeoutMs: EVALPLUS.reference.timeoutMs,
        callTimeoutMs: EVALPLUS.reference.callMs,
        evalplus: {
          mode: 'reference',
          dataset: tests.dataset,
          taskId: problem.taskId,
          inputs: `[${inputs.slice(start, end).join(',')}]`,
          sliceMs: EVALPLUS.reference.sliceMs,
          ...(sliced ? { sliceOffset: sliced.chars } : {}),
        },
      });
      if (run.verdict === 'infra_error') {
        throw new RetryableError(
          'sandbox_infra',
          `EvalPlus reference of ${problem.taskId}: ${run.reason ?? 'infra_error'}`,
        );
      }
      const data = referenceData(run);
      if (run.verdict !== 'passed' || data === undefined || (data.done < 1 && !data.slice)) {
        const why = `${run.verdict}${run.reason ? `/${run.reason}` : ''}${run.message ? `: ${run.message.slice(-500)}` : ''}`;
        if (run.verdict !== 'passed' && LOAD_FAILURES.has(run.reason ?? '')) return { loadFailure: why };
        return { status: 'reference_failed', reason: why, ...result };
      }
      if (data.slice) {
        const { offset, total, sha256 } = data.slice;
        const part = data.outputs[0] ?? '';
        if (offset !== (sliced?.chars ?? 0) || (sliced && sliced.sha256 !== sha256)) {
          // The output changed between runs: it cannot be put together.
          phase.outputs.push(null);
          phase.timesMs.push(null);
          phase.excluded.push({ index: start, reason: 'output_not_kept', message: 'the output differs between runs' });
          sliced = undefined;
          start++;
          continue;
        }
        sliced = { parts: [...(sliced?.parts ?? []), part], chars: offset + part.length, sha256 };
        if (sliced.chars >= total) {
          phase.outputs.push(sliced.parts.join(''));
          phase.timesMs.push(data.timesMs[0] ?? null);
          sliced = undefined;
          start++;
        }
        continue;
      }
      for (let k = 0; k < data.done; k++) {
        phase.outputs.push(data.outputs[k] ?? null);
        phase.timesMs.push(data.timesMs[k] ?? null);
      }
      for (const [k, reason, message] of data.errors) phase.excluded.push({ index: start + k, reason, message });
      start += data.done;
    }
  }
  return { status: 'ok', ...result };
}

function referenceData(result: SandboxResult): EvalPlusReferenceData | undefined {
  const data = result.data as Partial<EvalPlusReferenceData> | undefined;
  if (!data || !Array.isArray(data.outputs) || !Array.isArray(data.timesMs) || !Array.isArray(data.errors))
    return undefined;
  if (typeof data.done !== 'number') return undefined;
  // A slice comes alone: nothing done, one part of one output.
  const count = data.slice ? 1 : data.done;
  if ((data.slice && data.done !== 0) || data.outputs.length !== count || data.timesMs.length !== count)
    return undefined;
  return data as EvalPlusReferenceData;
}

/** The sandbox job that checks one sample against a task's expected outputs (inputs left out stay out). */
export function evalplusJob(
  jobId: string,
  problem: Problem,
  oracle: EvalPlusOracle,
  sample: { code: string; mode: CodeMode; memoryMb?: number },
): SandboxEvalPlusJob {
  const tests = problem.evalplus!;
  const phases: EvalPlusPhase[] = (['base', 'plus'] as const).map((name) => {
    const inputs = name === 'base' ? tests.baseInputs : tests.plusInputs;
    const expected = oracle[name];
    const kept = inputs.map((_, i) => i).filter((i) => typeof expected.outputs[i] === 'string');
    return {
      name,
      inputs: `[${kept.map((i) => inputs[i]).join(',')}]`,
      expected: `[${kept.map((i) => JSON.stringify(expected.outputs[i])).join(',')}]`,
      refMs: kept.map((i) => expected.timesMs[i] ?? 0),
      indices: kept,
    };
  });
  const phaseMs = (refMs: number[]) =>
    Math.min(
      EVALPLUS.phaseCapMs,
      refMs.reduce((sum, ms) => sum + Math.max(EVALPLUS.floorMs, EVALPLUS.factor * ms), 0),
    ) + 2_000;
  return {
    jobId,
    runner: 'evalplus',
    code: buildSolution(problem, sample.code, sample.mode),
    entryPoint: problem.entryPoint,
    timeoutMs: Math.ceil(EVALPLUS.loadMs + phases.reduce((sum, p) => sum + phaseMs(p.refMs), 0)),
    ...(sample.memoryMb !== undefined ? { memoryMb: sample.memoryMb } : {}),
    evalplus: {
      mode: 'check',
      dataset: tests.dataset,
      taskId: problem.taskId,
      atol: tests.atol,
      floorMs: EVALPLUS.floorMs,
      factor: EVALPLUS.factor,
      phaseCapMs: EVALPLUS.phaseCapMs,
      phases,
    },
  };
}

const STATUSES: readonly EvalPlusStatus[] = ['pass', 'fail', 'timeout', 'not_run'];

/** A sample's EvalPlus outcome: the status of each phase (EvalPlus's words) and how many inputs were left out. */
export type EvalPlusOutcome = { base: EvalPlusStatus; plus: EvalPlusStatus; excludedInputs: number };

export function evalplusOutcome(result: SandboxResult, oracle: EvalPlusOracle): EvalPlusOutcome {
  const data = (result.data ?? {}) as EvalPlusCheckData;
  // No data: the sandbox answered for the checker (its backstop, an invalid job).
  const fallback: EvalPlusStatus = result.verdict === 'timeout' ? 'timeout' : 'fail';
  const status = (s: unknown): EvalPlusStatus =>
    STATUSES.includes(s as EvalPlusStatus) ? (s as EvalPlusStatus) : fallback;
  return {
    base: status(data.base),
    plus: status(data.plus),
    excludedInputs: oracle.base.excluded.length + oracle.plus.excluded.length,
  };
}

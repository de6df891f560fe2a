// The sandbox's `evalplus` runner (services/evaluator/sandbox-runtime/efsbx_evalplus.py): EvalPlus's
// differential testing. One function is called on many inputs; its outputs are compared, in the trusted
// checker, with the outputs of the dataset's reference solution by EvalPlus's rules.
import type { SandboxJobBase } from './sandbox.js';

/** Which EvalPlus release a task comes from: it selects the special oracles and MBPP+'s input conversions. */
export type EvalPlusDataset = 'humaneval' | 'mbpp' | 'custom';

/** EvalPlus's status words for one phase of a sample. */
export type EvalPlusStatus = 'pass' | 'fail' | 'timeout' | 'not_run';

/** One phase of a check: inputs (a JSON array of argument lists, as text in Python's JSON dialect). */
export type EvalPlusPhase = {
  name: 'base' | 'plus';
  inputs: string;
  /** The reference's output for each input: a JSON array (as text) of base64 `efsbx_codec` values. */
  expected: string;
  /** The reference's time for each input; an input may take max(floorMs, factor × it). */
  refMs: number[];
  /** Each input's index in the dataset (for messages). */
  indices: number[];
};

export type EvalPlusReferenceOptions = {
  mode: 'reference';
  dataset: EvalPlusDataset;
  taskId: string;
  /** Inputs to run the reference on, a JSON array as text. */
  inputs: string;
  /** Stop after this many base64 characters of outputs (default 2.5 M: the reply must stay small). */
  budgetChars?: number;
  /** Start no new input after this long (default 20 s); `data.done` says where the chunk stopped. */
  sliceMs?: number;
  /** Resume an output sent in slices (`data.slice`) at this offset: the first input is run again. */
  sliceOffset?: number;
};

export type EvalPlusCheckOptions = {
  mode: 'check';
  dataset: EvalPlusDataset;
  taskId: string;
  atol: number;
  floorMs: number;
  factor: number;
  /** A phase may take min(phaseCapMs, the sum of its inputs' limits) + 2 s (EvalPlus's per-task cap). */
  phaseCapMs: number;
  phases: EvalPlusPhase[];
};

/**
 * `reference`: `code` is the reference program; the verdict is `passed` once it ran, and `data` is
 * `EvalPlusReferenceData`. `check`: `code` is a sample; one test per phase, `data` is `EvalPlusCheckData`;
 * `passed` only when every phase passes.
 */
export type SandboxEvalPlusJob = SandboxJobBase & {
  runner: 'evalplus';
  code: string;
  entryPoint: string;
  evalplus: EvalPlusReferenceOptions | EvalPlusCheckOptions;
};

/** A reference chunk's results: per input given, its output (null when left out) and time. */
export type EvalPlusReferenceData = {
  outputs: (string | null)[];
  timesMs: (number | null)[];
  /** Inputs left out: [index in the chunk, reason (`contract`, `reference_error`, ...), text]. */
  errors: [number, string, string][];
  /** How many of the chunk's inputs it covered; the caller sends the rest again. */
  done: number;
  /**
   * An output over the chunk's budget comes in slices: then `done` is 0 and `outputs` holds the part from
   * `offset` of the `total` characters (`sha256` of the whole, to check the parts belong together).
   */
  slice?: { offset: number; total: number; sha256: string };
};

export type EvalPlusCheckData = Partial<Record<'base' | 'plus', EvalPlusStatus>> & {
  failure?: { phase: string; message: string };
};

/** Bounds of an evalplus job's data (inputs and expected outputs of all phases; checked again inside). */
export const EVALPLUS_LIMITS = { dataBytes: 64 * 1024 * 1024 } as const;

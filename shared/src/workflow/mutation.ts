// The `mutation` capability's contract, kind-agnostic: Python sources in, mutants out. The mutator
// service implements it (tree-sitter and its operators); kinds ask for it with `need(ctx.caps, 'mutation')`.

/** A point in a source file, 1-based, columns in UTF-16 code units (as Stryker's reports count). */
export type SourcePosition = { line: number; column: number };

/** The operators' stable ids (what `--operators` takes), in the order mutants at one place are listed. */
export const mutationOperatorIds = [
  'arithmetic',
  'comparison',
  'logical',
  'not',
  'unary',
  'number',
  'string',
  'boolean',
  'return',
  'statement',
  'loop',
  'index',
  'except',
  'default',
  'augmented',
] as const;
export type MutationOperatorId = (typeof mutationOperatorIds)[number];

/** One mutation operator: a stable id (what `--operators` takes) and a name (Stryker's `mutatorName`). */
export type OperatorInfo = { id: string; name: string; description: string };

/**
 * One mutant of one file. It replaces whole lines `lines[0]..lines[1]` with `text`, which has as many
 * lines, so every other line keeps its number (tracebacks, coverage and the sandbox's code swap rely on it).
 */
export type MutantSpec = {
  file: string;
  /** The operator's id and name. */
  operator: string;
  mutatorName: string;
  /** The replaced span: its original text, its replacement, where it is. */
  original: string;
  replacement: string;
  location: { start: SourcePosition; end: SourcePosition };
  lines: [number, number];
  text: string;
  /**
   * The lines whose execution means a test reached the mutant: the statement that holds it (a compound
   * statement's whole extent when the mutant is in its header), or the mutated expression itself in a
   * `def`/`class` header.
   */
  cover: [number, number];
  /**
   * Whether the mutant is in the body of a function or lambda (code that runs when called), rather than
   * in code that runs at import (module level, class bodies, `def` headers: defaults, decorators).
   */
  inFunction: boolean;
};

export type MutateRequest = {
  files: { path: string; text: string }[];
  /** Operator ids; all when absent. */
  operators?: readonly string[];
};

export type MutateResult = {
  /** In file order, then source order, then operator order; duplicates and unparsable mutants removed. */
  mutants: MutantSpec[];
  /** How many candidates each documented rule left out (`equivalent`, `duplicate`, `unparsable`, ...). */
  skipped: Record<string, number>;
  /** Files that could not be mutated at all (a syntax error in the original). */
  errors: { file: string; message: string }[];
};

export interface MutationCapability {
  operators(): OperatorInfo[];
  mutate(req: MutateRequest): Promise<MutateResult>;
}

import { z } from 'zod';

export const testFormats = ['humaneval', 'mbpp', 'pytest', 'unittest', 'evalplus'] as const;
export type TestFormat = (typeof testFormats)[number];
/** Test formats a native record may name (`evalplus` needs an EvalPlus record's inputs). */
export const nativeTestFormats = ['humaneval', 'mbpp', 'pytest', 'unittest'] as const;

export const problemSources = ['native', 'humaneval', 'mbpp', 'evalplus'] as const;
export type ProblemSource = (typeof problemSources)[number];

/** How a piece of candidate code relates to the problem's starter code. */
export const codeModes = ['completion', 'full'] as const;
export type CodeMode = (typeof codeModes)[number];

// Task ids end up in job ids, S3 keys and file names, so they use the same
// conservative alphabet as message ids.
export const taskIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@/+-]+$/, 'task ids use letters, digits and . _ : @ / + - only');

export const identifierSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Python identifier');

/** Which EvalPlus release a task belongs to (from its task id): it selects special oracles and input conversions. */
export const evalplusDatasets = ['humaneval', 'mbpp', 'custom'] as const;

/**
 * What an EvalPlus task tests with: its inputs, each an argument list as the dataset's own JSON text (Python's
 * dialect: integers of any size, NaN, Infinity), the tolerance for float outputs, and the contract (asserts
 * on the inputs, run with the reference to leave out inputs that break it).
 */
export const evalplusTestsSchema = z.object({
  dataset: z.enum(evalplusDatasets),
  baseInputs: z.array(z.string()),
  plusInputs: z.array(z.string()),
  atol: z.number().nonnegative(),
  contract: z.string(),
});
export type EvalPlusTests = z.infer<typeof evalplusTestsSchema>;

/**
 * One problem, whatever file format it came from.
 *
 * - `prompt` is the text shown to the model. For HumanEval it is the original
 *   code prompt (imports, signature, docstring); for MBPP it is the task text
 *   followed by its asserts, as in the MBPP paper's prompt.
 * - `starterCode` is the code a completion continues (HumanEval's prompt, or a
 *   native problem's starter code). `buildProgram` prepends it in
 *   `completion` mode and keeps its preamble (imports, helpers) in `full` mode.
 * - `setupCode`: MBPP's `test_setup_code` (run after the candidate code,
 *   before the asserts, as MBPP's setup assumes) or a native problem's
 *   `setup_code` (run before the candidate code).
 * - `challengeTests` are MBPP's `challenge_test_list`, kept apart and only run
 *   when asked for.
 * - `evalplus` (test format `evalplus`): the inputs the function is called on; `tests` is then only a
 *   description, and `referenceSolution` (the canonical solution) gives the expected outputs.
 */
export const problemSchema = z.object({
  taskId: taskIdSchema,
  entryPoint: identifierSchema,
  prompt: z.string().min(1),
  tests: z.string().min(1),
  testFormat: z.enum(testFormats),
  category: z.string().min(1),
  complexity: z.string().min(1).optional(),
  referenceSolution: z.string().min(1).optional(),
  /** Whether `referenceSolution` is a completion of `starterCode` (HumanEval) or full code. */
  referenceMode: z.enum(codeModes).optional(),
  setupCode: z.string().optional(),
  signature: z.string().optional(),
  starterCode: z.string().optional(),
  challengeTests: z.string().optional(),
  source: z.enum(problemSources),
  evalplus: evalplusTestsSchema.optional(),
});
export type Problem = z.infer<typeof problemSchema>;

import { z } from 'zod';
import { objectRefSchema } from '../../messages/index.js';
import { modelUsageSchema as usageSchema, type MessageDef } from '../../workflow/index.js';

/** How buggy versions are proposed: the model's own variants, AST operators, constant perturbations. */
export const strategies = ['llm', 'ast', 'numeric'] as const;
export type Strategy = (typeof strategies)[number];

/**
 * `run.requested`'s spec for `synth`. `generate` (the default): `count` scenarios per model, each a
 * job that asks the model for a task and keeps it only once the sandbox has verified it. `validate`:
 * re-runs saved tasks (`tasks`, a tasks.jsonl) — the clean module must pass, the buggy one must fail
 * exactly its recorded FAIL_TO_PASS tests.
 */
export const synthSpecSchema = z
  .object({
    mode: z.enum(['generate', 'validate']).default('generate'),
    /** The scenario catalog (JSON), uploaded by content hash. */
    catalog: objectRefSchema.optional(),
    models: z.array(z.string().min(1)).default([]),
    /** Scenarios (jobs) per model. */
    count: z.number().int().min(1).max(10_000).default(1),
    strategies: z
      .array(z.enum(strategies))
      .min(1)
      .default([...strategies]),
    /** Parse retries per generation, and new generations after a rejected one. */
    retries: z.number().int().min(0).max(10).default(2),
    /** Buggy versions tried per strategy and generation (the mutator's are spread over the module). */
    maxCandidates: z.number().int().min(1).max(50).default(5),
    fileEdit: z.boolean().default(false),
    suppressBuggyCode: z.boolean().default(false),
    allowRepeat: z.boolean().default(false),
    temperature: z.number().min(0).max(2).default(0.7),
    maxTokens: z.number().int().positive().max(128_000).default(4096),
    /** Wall-clock limit of one suite run; buggy versions get a limit calibrated on the clean runs. */
    timeoutMs: z.number().int().positive().max(600_000).default(30_000),
    memoryMb: z.number().int().positive().max(8192).default(512),
    budgetUsd: z.number().positive().optional(),
    noCache: z.boolean().default(false),
    /** `validate`: the tasks to re-run (a tasks.jsonl), uploaded by content hash. */
    tasks: objectRefSchema.optional(),
  })
  .refine((s) => s.mode !== 'generate' || (s.catalog !== undefined && s.models.length > 0), {
    message: 'a synth run needs a catalog and models',
  })
  .refine((s) => s.mode !== 'validate' || s.tasks !== undefined, { message: 'a validate run needs tasks' });
export type SynthSpec = z.infer<typeof synthSpecSchema>;

export const scenarioSchema = z.object({
  id: z.string(),
  domain: z.string(),
  topic: z.string(),
  subtopic: z.string(),
});
export type Scenario = z.infer<typeof scenarioSchema>;

/** Why a generation (no `strategy`) or one buggy version (with its `strategy`) was turned down. */
export const rejectionReasons = [
  // a generation
  'malformed_answer',
  'clean_fails',
  'flaky_suite',
  'too_few_tests',
  'no_valid_bug',
  // a buggy version
  'bug_unappliable',
  'bug_identical',
  'duplicate_bug',
  'bug_passes',
  'no_pass_to_pass',
  'bug_timeout',
] as const;
export type RejectionReason = (typeof rejectionReasons)[number];

export const rejectionSchema = z.object({
  gen: z.number().int().positive(),
  reason: z.enum(rejectionReasons),
  strategy: z.enum(strategies).optional(),
  /** The mutation operator (ast, numeric) or the variant's number (llm). */
  operator: z.string().optional(),
  message: z.string().optional(),
});
export type Rejection = z.infer<typeof rejectionSchema>;

export {
  modelUsageSchema as usageSchema,
  noModelUsage as noUsage,
  type ModelUsage as Usage,
} from '../../workflow/index.js';

/**
 * What every step of a generate job carries: who and what, the options, the generation it is on
 * (the loop's cap travels here: `gen` up to `1 + retries`), and what happened so far.
 */
export const jobSchema = usageSchema.extend({
  mode: z.literal('generate'),
  model: z.string(),
  slot: z.number().int().nonnegative(),
  scenario: scenarioSchema,
  strategies: z.array(z.enum(strategies)).min(1),
  retries: z.number().int().nonnegative(),
  maxCandidates: z.number().int().positive(),
  fileEdit: z.boolean(),
  suppressBuggyCode: z.boolean(),
  temperature: z.number(),
  maxTokens: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  memoryMb: z.number().int().positive(),
  budgetUsd: z.number().positive().optional(),
  noCache: z.boolean(),
  /** The generation this step belongs to (1-based). */
  gen: z.number().int().positive(),
  /** Why the previous generation was turned down (the next prompt says so). */
  feedback: z.string().optional(),
  rejections: z.array(rejectionSchema),
});
export type SynthJob = z.infer<typeof jobSchema>;

/** A generation's parsed answer and conversation (`gen-<n>/answer.json`). */
const answered = { answer: objectRefSchema };

export const cleanPayloadSchema = jobSchema.extend(answered);
export const mutatePayloadSchema = jobSchema.extend({ ...answered, clean: objectRefSchema });
export const checkPayloadSchema = jobSchema.extend({
  ...answered,
  clean: objectRefSchema,
  /** The mutator's candidates (ast, numeric); absent for llm-only runs. */
  mutants: objectRefSchema.optional(),
});
export type CleanPayload = z.infer<typeof cleanPayloadSchema>;
export type MutatePayload = z.infer<typeof mutatePayloadSchema>;
export type CheckPayload = z.infer<typeof checkPayloadSchema>;

export const validatePayloadSchema = z.object({
  mode: z.literal('validate'),
  instanceId: z.string(),
  line: z.number().int().positive(),
  task: objectRefSchema,
  timeoutMs: z.number().int().positive(),
  memoryMb: z.number().int().positive(),
});
export type ValidatePayload = z.infer<typeof validatePayloadSchema>;

export const synthMessages = {
  generate: {
    type: 'synth.generate',
    stage: 'generate',
    schema: jobSchema,
    timeoutMs: 10 * 60_000,
    retry: { maxAttempts: 6, delaysMs: [1_000, 5_000, 30_000, 120_000] },
    description:
      'Ask the model for a task (problem, outline, module, tests, buggy variants) as YAML or JSON; a malformed answer is retried in the same conversation with the parse error.',
  },
  clean: {
    type: 'synth.clean',
    stage: 'evaluate',
    schema: cleanPayloadSchema,
    timeoutMs: 10 * 60_000,
    description: 'Run the clean suite three times: it must pass every time (different outcomes: flaky).',
  },
  mutate: {
    type: 'synth.mutate',
    stage: 'mutate',
    schema: mutatePayloadSchema,
    timeoutMs: 5 * 60_000,
    description: "Propose AST and numeric bugs with the mutator's operators, spread over the module.",
  },
  check: {
    type: 'synth.check',
    stage: 'evaluate',
    schema: checkPayloadSchema,
    timeoutMs: 20 * 60_000,
    description:
      'Run each buggy version; keep the first per strategy that fails ≥ 1 test and passes ≥ 1 (FAIL_TO_PASS, PASS_TO_PASS).',
  },
  validate: {
    type: 'synth.validate',
    stage: 'evaluate',
    schema: validatePayloadSchema,
    timeoutMs: 10 * 60_000,
    description: 'Re-run a saved task: the clean module passes, the buggy one fails exactly its FAIL_TO_PASS tests.',
  },
} as const satisfies Record<string, MessageDef>;

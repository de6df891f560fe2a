import { z } from 'zod';
import type { ObjectRefField } from '../../messages/index.js';
import { runKeys } from '../../runs/index.js';
import { getJson, putJson } from '../../storage/index.js';
import type { JobContext } from '../../workflow/index.js';
import { strategies, usageSchema } from './messages.js';

// What one generation leaves in the store for its next steps (`runs/<run>/jobs/<job>/gen-<n>/…`):
// deterministic keys, so a redelivered step overwrites its own file with the same content.

const chatMessageSchema = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });

export const synthAnswerSchema = z.object({
  problemStatement: z.string(),
  solutionOutline: z.string(),
  moduleName: z.string(),
  testFramework: z.enum(['pytest', 'unittest']),
  moduleCode: z.string(),
  testCode: z.string(),
  bugs: z.array(z.object({ description: z.string(), code: z.string().optional(), error: z.string().optional() })),
});

/** The generation's usable answer, the conversation that led to it, and what its calls cost. */
export const storedAnswerSchema = z.object({
  gen: z.number().int().positive(),
  answer: synthAnswerSchema,
  messages: z.array(chatMessageSchema),
  usage: usageSchema,
  tries: z.number().int().positive(),
});
export type StoredAnswer = z.infer<typeof storedAnswerSchema>;

/** The clean suite's runs: every test id (all passed) and the slowest run. */
export const cleanRunsSchema = z.object({
  tests: z.array(z.string()),
  durationMs: z.number().nonnegative(),
  runs: z.array(z.object({ verdict: z.string(), failing: z.array(z.string()), durationMs: z.number() })),
});
export type CleanRuns = z.infer<typeof cleanRunsSchema>;

/** One buggy version to try: its strategy, the operator (or the model's variant) and the whole module. */
export const candidateSchema = z.object({
  strategy: z.enum(strategies),
  operator: z.string().optional(),
  /** Stryker's name of the operator, or the model's description of its bug. */
  description: z.string(),
  /** The mutated line (1-based) and its text before and after, for mutants. */
  line: z.number().int().positive().optional(),
  original: z.string().optional(),
  replacement: z.string().optional(),
  code: z.string(),
});
export type Candidate = z.infer<typeof candidateSchema>;

export const mutantsSchema = z.object({
  candidates: z.array(candidateSchema),
  /** Mutants the mutator made per strategy before the cap. */
  made: z.record(z.string(), z.number().int().nonnegative()),
  errors: z.array(z.string()),
});
export type Mutants = z.infer<typeof mutantsSchema>;

export function genKey(ctx: JobContext, gen: number, name: string): string {
  return runKeys.job(ctx.env.runId, ctx.env.jobId, `gen-${gen}/${name}`);
}

export function saveJson(ctx: JobContext, gen: number, name: string, value: unknown): Promise<ObjectRefField> {
  return putJson(ctx.store, genKey(ctx, gen, name), value);
}

export function loadAnswer(ctx: JobContext, ref: ObjectRefField): Promise<StoredAnswer> {
  return getJson(ctx.store, ref.key, storedAnswerSchema);
}

export function loadClean(ctx: JobContext, ref: ObjectRefField): Promise<CleanRuns> {
  return getJson(ctx.store, ref.key, cleanRunsSchema);
}

export function loadMutants(ctx: JobContext, ref: ObjectRefField): Promise<Mutants> {
  return getJson(ctx.store, ref.key, mutantsSchema);
}

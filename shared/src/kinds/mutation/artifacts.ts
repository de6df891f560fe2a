// What a project's jobs keep in the store (deterministic keys under the run, written once): its mutants,
// its baseline, and its plan. Reports and `evalfleet mutants` read them back.
import { z } from 'zod';
import { runKeys } from '../../runs/index.js';
import { getJson, type ArtifactStore, type ObjectRef } from '../../storage/index.js';

const position = z.object({ line: z.number().int(), column: z.number().int() });

export const storedMutantSchema = z.object({
  id: z.string(),
  file: z.string(),
  operator: z.string(),
  mutatorName: z.string(),
  original: z.string(),
  replacement: z.string(),
  location: z.object({ start: position, end: position }),
  lines: z.tuple([z.number().int(), z.number().int()]),
  text: z.string(),
  cover: z.tuple([z.number().int(), z.number().int()]),
  inFunction: z.boolean().default(true),
});
export type StoredMutant = z.infer<typeof storedMutantSchema>;

export const mutantsDocSchema = z.object({
  project: z.string(),
  mutants: z.array(storedMutantSchema),
  /** Candidates each rule left out, and files the mutator could not parse. */
  skipped: z.record(z.string(), z.number()),
  errors: z.array(z.object({ file: z.string(), message: z.string() })),
  /** How many mutants there were before `maxMutants` (or the rerun filter) chose these. */
  generated: z.number().int().nonnegative(),
});
export type MutantsDoc = z.infer<typeof mutantsDocSchema>;

export const baselineDocSchema = z.object({
  passed: z.boolean(),
  reason: z.string().optional(),
  message: z.string().optional(),
  /** The suite in collection order, each test with its outcome and baseline duration. */
  tests: z.array(z.object({ name: z.string(), outcome: z.string(), ms: z.number() })),
  setupMs: z.number(),
  durationMs: z.number(),
  /** Mutant indexes (in mutants.json) reached while collecting, and by each test. */
  collect: z.array(z.number().int()),
  reached: z.array(z.array(z.number().int())),
});
export type BaselineDoc = z.infer<typeof baselineDocSchema>;

export const batchMutantSchema = z.object({
  id: z.string(),
  file: z.string(),
  lines: z.tuple([z.number().int(), z.number().int()]),
  text: z.string(),
  run: z.array(z.number().int()),
  first: z.number().int(),
  fresh: z.boolean(),
});

export const planDocSchema = z.object({
  testFiles: z.array(z.string()),
  tests: z.array(z.string()),
  testMs: z.array(z.number()),
  setupMs: z.number(),
  factor: z.number(),
  floorMs: z.number(),
  /** Mutant id → the tests (indexes into `tests`) that reach it. */
  covered: z.record(z.string(), z.array(z.number().int())),
  noCoverage: z.array(z.string()),
  batches: z.array(z.object({ timeoutMs: z.number().int().positive(), mutants: z.array(batchMutantSchema) })),
});
export type PlanDoc = z.infer<typeof planDocSchema>;

export const projectKeys = {
  mutants: (runId: string, project: string) => runKeys.job(runId, project, 'mutants.json'),
  baseline: (runId: string, project: string) => runKeys.job(runId, project, 'baseline.json'),
  plan: (runId: string, project: string) => runKeys.job(runId, project, 'plan.json'),
};

/**
 * Writes a document once: a redelivered step that computed it again reads back the first one, so every
 * later step (and every batch) sees the same mutants, baseline and plan.
 */
export async function putOnce<S extends z.ZodType>(
  store: ArtifactStore,
  key: string,
  value: z.output<S>,
  schema: S,
): Promise<{ ref: ObjectRef; value: z.output<S> }> {
  const { ref, created } = await store.putIfAbsent(key, JSON.stringify(value), { contentType: 'application/json' });
  return { ref, value: created ? value : await getJson(store, key, schema) };
}

/** Documents by claim check, kept per worker (a project's batches need the same plan). */
export class DocCache {
  private readonly cache = new Map<string, unknown>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly max = 32,
  ) {}

  async get<S extends z.ZodType>(ref: ObjectRef, schema: S): Promise<z.output<S>> {
    const hit = this.cache.get(ref.key);
    if (hit !== undefined) return schema.parse(hit);
    const value = await getJson(this.store, ref.key, schema);
    if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value ?? '');
    this.cache.set(ref.key, value);
    return value;
  }
}

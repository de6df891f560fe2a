// The pipeline file: ordered stages, each a prompt (system + user templates) for one model with a
// JSON Schema for the answer and an optional `when`. Parsed and checked as a whole before any
// record is looked at, so every mistake in it surfaces at submit.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { compileAnswerSchema, type AnswerValidator } from './answer.js';
import { conditionPaths, parseCondition, type Condition } from './condition.js';
import { pathProblem, stageOf, templatePaths } from './template.js';

export const stageDefaults = { temperature: 0, maxTokens: 1024, maxRetries: 2 } as const;

const stageName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a stage name is letters, digits and _ (it names files and JSON fields)');

const tuning = {
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().max(128_000).optional(),
  /** Retries of an answer that is not valid JSON or breaks the schema, in the same conversation. */
  max_retries: z.number().int().min(0).max(10).optional(),
};

const stageFileSchema = z
  .object({
    name: stageName,
    model: z.string().min(1).optional(),
    system: z.string().optional(),
    user: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    when: z.string().min(1).optional(),
    ...tuning,
  })
  .strict();

const pipelineFileSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    defaults: z
      .object({ model: z.string().min(1).optional(), system: z.string().optional(), ...tuning })
      .strict()
      .default({}),
    stages: z.array(stageFileSchema).min(1).max(50),
  })
  .strict();

export type PromptStage = {
  name: string;
  model: string;
  system: string | undefined;
  user: string;
  schema: Record<string, unknown>;
  when: string | undefined;
  condition: Condition | undefined;
  temperature: number;
  maxTokens: number;
  maxRetries: number;
  validator: AnswerValidator;
  /** Record fields the templates name (each record must have them). */
  recordPaths: string[];
  /** Earlier stages whose answers the templates need. */
  needs: string[];
};

export type PromptPipeline = { name: string | undefined; stages: PromptStage[] };

/** Problems of one stage's references: unknown paths, stages that are not earlier ones. */
function checkPaths(paths: readonly string[], earlier: ReadonlySet<string>, where: string): string[] {
  const problems: string[] = [];
  for (const path of paths) {
    const bad = pathProblem(path);
    if (bad) {
      problems.push(`${where}: ${bad}`);
      continue;
    }
    if (path === 'stages') problems.push(`${where}: {{stages}} must name a stage (stages.<stage>.<field>)`);
    const stage = stageOf(path);
    if (stage !== undefined && !earlier.has(stage))
      problems.push(`${where}: ${path} names ${stage}, which is not an earlier stage`);
  }
  return problems;
}

/** Parses and checks a pipeline file (YAML or JSON); throws one error listing every problem. */
export function parsePipeline(text: string): PromptPipeline {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Error(`pipeline is not valid YAML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const parsed = pipelineFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`invalid pipeline: ${issues.join('; ')}`);
  }
  const file = parsed.data;
  const problems: string[] = [];
  const earlier = new Set<string>();
  const stages: PromptStage[] = [];
  for (const s of file.stages) {
    const where = `stage ${s.name}`;
    if (earlier.has(s.name)) problems.push(`${where}: the name is used twice`);
    const model = s.model ?? file.defaults.model;
    if (model === undefined) problems.push(`${where}: no model (set model here or under defaults)`);
    const system = s.system ?? file.defaults.system;
    const paths = [...new Set([...templatePaths(system ?? ''), ...templatePaths(s.user)])];
    problems.push(...checkPaths(paths, earlier, where));
    let condition: Condition | undefined;
    if (s.when !== undefined) {
      try {
        condition = parseCondition(s.when);
        problems.push(...checkPaths(conditionPaths(condition), earlier, `${where} when`));
      } catch (err) {
        problems.push(`${where} when: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    let validator: AnswerValidator | undefined;
    try {
      validator = compileAnswerSchema(s.schema);
    } catch (err) {
      problems.push(`${where} schema: ${err instanceof Error ? err.message : String(err)}`);
    }
    earlier.add(s.name);
    if (model === undefined || validator === undefined) continue;
    stages.push({
      name: s.name,
      model,
      system,
      user: s.user,
      schema: s.schema,
      when: s.when,
      condition,
      temperature: s.temperature ?? file.defaults.temperature ?? stageDefaults.temperature,
      maxTokens: s.max_tokens ?? file.defaults.max_tokens ?? stageDefaults.maxTokens,
      maxRetries: s.max_retries ?? file.defaults.max_retries ?? stageDefaults.maxRetries,
      validator,
      recordPaths: paths.filter((p) => stageOf(p) === undefined && p !== 'stages'),
      needs: [...new Set(paths.map(stageOf).filter((x): x is string => x !== undefined))],
    });
  }
  if (problems.length > 0) throw new Error(`invalid pipeline: ${problems.join('; ')}`);
  return { name: file.name, stages };
}

/** The models a pipeline calls, once each. */
export function pipelineModels(pipeline: PromptPipeline): string[] {
  return [...new Set(pipeline.stages.map((s) => s.model))];
}

const scalarTypes = new Set(['string', 'number', 'integer', 'boolean']);

/** Whether a property schema holds a scalar (a CSV cell): a scalar type, or an enum/const of scalars. */
function isScalar(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const s = schema as Record<string, unknown>;
  const t = s['type'];
  if (typeof t === 'string') return scalarTypes.has(t);
  if (Array.isArray(t))
    return t.length > 0 && t.every((x) => x === 'null' || (typeof x === 'string' && scalarTypes.has(x)));
  const values = Array.isArray(s['enum']) ? s['enum'] : 'const' in s ? [s['const']] : undefined;
  return values !== undefined && values.every((v) => v === null || typeof v !== 'object');
}

/** The top-level properties of a stage's answer schema that are scalars, in declaration order. */
export function scalarFields(schema: Record<string, unknown>): string[] {
  const properties = schema['properties'];
  if (typeof properties !== 'object' || properties === null) return [];
  return Object.entries(properties)
    .filter(([, s]) => isScalar(s))
    .map(([name]) => name);
}

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { runKeys } from '../../runs/index.js';
import { putJson } from '../../storage/index.js';
import type { JobContext } from '../../workflow/index.js';
import { bundleFiles, tarGz } from './bundle.js';
import { buildConversation, fixPatch } from './conversation.js';
import { scenarioSchema, strategies, type CheckPayload } from './messages.js';
import { taskPaths } from './project.js';
import type { TaskSummary } from './result.js';
import type { Candidate, StoredAnswer } from './state.js';

/** One accepted task: a line of tasks.jsonl. */
export const taskRecordSchema = z.object({
  instance_id: z.string(),
  scenario: scenarioSchema,
  problem_statement: z.string(),
  solution_outline: z.string(),
  module_path: z.string(),
  clean_code: z.string(),
  buggy_code: z.string(),
  test_path: z.string(),
  test_code: z.string(),
  test_framework: z.enum(['pytest', 'unittest']),
  strategy: z.enum(strategies),
  /** The mutation operator (ast, numeric); null for the model's own variants. */
  operator: z.string().nullable(),
  bug_description: z.string(),
  FAIL_TO_PASS: z.array(z.string()),
  PASS_TO_PASS: z.array(z.string()),
  failing_output: z.string(),
  conversation: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })),
  /** buggy → clean, as a unified diff. */
  patch: z.string(),
  file_edit: z.boolean(),
  model: z.string(),
  /** The calls of the generation the task came from (shared by the tasks of one generation). */
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  cost_usd: z.number().nonnegative(),
  run_id: z.string(),
  job_id: z.string(),
  generation: z.number().int().positive(),
  /** The file-edit bundle (tar.gz) in the store. */
  bundle: z.string(),
});
export type TaskRecord = z.infer<typeof taskRecordSchema>;

/** SWE-smith's instance: the fix as a patch and the tests it must turn and keep green. */
export function instanceOf(t: TaskRecord) {
  return {
    instance_id: t.instance_id,
    patch: t.patch,
    FAIL_TO_PASS: t.FAIL_TO_PASS,
    PASS_TO_PASS: t.PASS_TO_PASS,
    problem_statement: t.problem_statement,
  };
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);

/** `<subtopic>__<module>.<hash of run, job, generation>.<strategy>[_<operator>]`: unique and readable. */
export function instanceIdOf(ctx: JobContext, p: CheckPayload, moduleName: string, c: Candidate): string {
  const h = createHash('sha256')
    .update(`${ctx.env.runId}\u0000${ctx.env.jobId}\u0000${p.gen}`)
    .digest('hex')
    .slice(0, 8);
  return `${slug(p.scenario.subtopic)}__${moduleName}.${h}.${c.strategy}${c.operator && c.strategy !== 'llm' ? `_${c.operator}` : ''}`;
}

export type Verified = { candidate: Candidate; failToPass: string[]; passToPass: string[]; failingOutput: string };

/**
 * Writes an accepted task (its record and its file-edit bundle) under the job's own keys and returns
 * its summary for the job's result.
 */
export async function saveTask(
  ctx: JobContext,
  p: CheckPayload,
  stored: StoredAnswer,
  v: Verified,
): Promise<TaskSummary> {
  const a = stored.answer;
  const { modulePath, testPath } = taskPaths(a.moduleName);
  const instanceId = instanceIdOf(ctx, p, a.moduleName, v.candidate);
  const patch = fixPatch(modulePath, v.candidate.code, a.moduleCode);
  const bundleKey = runKeys.job(ctx.env.runId, ctx.env.jobId, `tasks/${instanceId}.tar.gz`);
  const bundleBody = await tarGz(
    bundleFiles({
      instanceId,
      modulePath,
      buggyCode: v.candidate.code,
      testPath,
      testCode: a.testCode,
      testFramework: a.testFramework,
      problemStatement: a.problemStatement,
      failingOutput: v.failingOutput,
    }),
  );
  const bundle = await ctx.store.put(bundleKey, bundleBody, { contentType: 'application/gzip' });
  const record: TaskRecord = {
    instance_id: instanceId,
    scenario: p.scenario,
    problem_statement: a.problemStatement,
    solution_outline: a.solutionOutline,
    module_path: modulePath,
    clean_code: a.moduleCode,
    buggy_code: v.candidate.code,
    test_path: testPath,
    test_code: a.testCode,
    test_framework: a.testFramework,
    strategy: v.candidate.strategy,
    operator: v.candidate.strategy === 'llm' ? null : (v.candidate.operator ?? null),
    bug_description: v.candidate.description,
    FAIL_TO_PASS: v.failToPass,
    PASS_TO_PASS: v.passToPass,
    failing_output: v.failingOutput,
    conversation: buildConversation({
      problemStatement: a.problemStatement,
      modulePath,
      testPath,
      buggyCode: v.candidate.code,
      cleanCode: a.moduleCode,
      failingOutput: v.failingOutput,
      failToPass: v.failToPass,
      passToPass: v.passToPass,
      candidate: v.candidate,
      patch,
      fileEdit: p.fileEdit || p.suppressBuggyCode,
      suppressBuggyCode: p.suppressBuggyCode,
    }),
    patch,
    file_edit: p.fileEdit || p.suppressBuggyCode,
    model: p.model,
    prompt_tokens: stored.usage.promptTokens,
    completion_tokens: stored.usage.completionTokens,
    cost_usd: stored.usage.costUsd,
    run_id: ctx.env.runId,
    job_id: ctx.env.jobId,
    generation: p.gen,
    bundle: bundle.key,
  };
  const task = await putJson(ctx.store, runKeys.job(ctx.env.runId, ctx.env.jobId, `tasks/${instanceId}.json`), record);
  return {
    instanceId,
    strategy: v.candidate.strategy,
    ...(v.candidate.operator !== undefined ? { operator: v.candidate.operator } : {}),
    gen: p.gen,
    failToPass: v.failToPass.length,
    passToPass: v.passToPass.length,
    task,
    bundle,
  };
}

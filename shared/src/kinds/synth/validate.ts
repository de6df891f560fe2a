import { getJson } from '../../storage/index.js';
import { projectProblem, type JobContext, type SandboxResult } from '../../workflow/index.js';
import type { ValidatePayload } from './messages.js';
import { failingTests, runSuite, splitTests, suiteJob, type TaskFiles } from './project.js';
import type { ValidateResult } from './result.js';
import { taskRecordSchema } from './task.js';

/** What `validate` needs of a saved task (a tasks.jsonl line; other fields are ignored). */
export const savedTaskSchema = taskRecordSchema
  .pick({
    instance_id: true,
    module_path: true,
    clean_code: true,
    buggy_code: true,
    test_path: true,
    test_code: true,
    FAIL_TO_PASS: true,
    PASS_TO_PASS: true,
  })
  .extend({ test_framework: taskRecordSchema.shape.test_framework.optional() });

const summary = (r: SandboxResult) => ({
  verdict: r.verdict,
  failing: failingTests(r),
  passed: r.tests.filter((t) => t.outcome === 'passed').length,
});

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/**
 * `synth.validate`: a saved task re-run in fresh sandboxes. Valid when the clean module passes every
 * test (the recorded ones among them) and the buggy one fails exactly the recorded FAIL_TO_PASS.
 */
export async function validateTask(p: ValidatePayload, ctx: JobContext): Promise<void> {
  const t = await getJson(ctx.store, p.task.key, savedTaskSchema);
  const files: TaskFiles = {
    modulePath: t.module_path,
    testPath: t.test_path,
    testFramework: t.test_framework ?? 'pytest',
    testCode: t.test_code,
  };
  const base = {
    mode: 'validate' as const,
    instanceId: p.instanceId,
    line: p.line,
    expectedFailToPass: t.FAIL_TO_PASS,
  };
  const problem = projectProblem(suiteJob('check', files, t.clean_code, p));
  if (problem !== undefined || t.module_path === t.test_path) {
    const result: ValidateResult = {
      ...base,
      ok: false,
      problems: [`not a runnable task: ${problem ?? 'module and tests share a path'}`],
    };
    await ctx.emit('invalid', result, { progress: 'validate' });
    return;
  }
  const limits = { timeoutMs: p.timeoutMs, memoryMb: p.memoryMb };
  const clean = await runSuite(ctx, suiteJob(`${ctx.env.jobId}/clean`, files, t.clean_code, limits));
  const buggy = await runSuite(ctx, suiteJob(`${ctx.env.jobId}/buggy`, files, t.buggy_code, limits));
  const problems: string[] = [];
  const cleanFailing = failingTests(clean);
  if (clean.verdict !== 'passed' || cleanFailing.length > 0)
    problems.push(`the clean module fails (${clean.verdict}): ${cleanFailing.slice(0, 5).join(', ')}`);
  const collected = new Set(clean.tests.map((x) => x.name));
  const missing = [...t.FAIL_TO_PASS, ...t.PASS_TO_PASS].filter((x) => !collected.has(x));
  if (missing.length > 0) problems.push(`recorded tests the suite does not have: ${missing.slice(0, 5).join(', ')}`);
  const passing = clean.tests.filter((x) => x.outcome === 'passed').map((x) => x.name);
  const { f2p } = splitTests(passing, buggy);
  if (!sameSet(f2p, t.FAIL_TO_PASS))
    problems.push(
      `the buggy module fails [${f2p.slice(0, 5).join(', ')}] instead of FAIL_TO_PASS [${t.FAIL_TO_PASS.slice(0, 5).join(', ')}]`,
    );
  const result: ValidateResult = {
    ...base,
    ok: problems.length === 0,
    clean: summary(clean),
    buggy: summary(buggy),
    problems,
  };
  await ctx.emit(result.ok ? 'valid' : 'invalid', result, { progress: 'validate' });
}

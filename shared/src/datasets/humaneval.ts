import { z } from 'zod';
import { complexityText, describeIssues, finish, type RecordResult, taskIdPrefix } from './record-result.js';

const humanEvalRecordSchema = z.object({
  task_id: z.string(),
  prompt: z.string(),
  canonical_solution: z.string().optional(),
  test: z.string(),
  entry_point: z.string(),
  category: z.string().optional(),
  complexity: z.union([z.string(), z.number()]).optional(),
});

/**
 * HumanEval record. The prompt is both what the model sees and the code a
 * completion continues; the harness runs `prompt + completion + "\n" + test +
 * "\n" + "check(entry_point)"`.
 */
export function fromHumanEvalRecord(record: Record<string, unknown>): RecordResult {
  const parsed = humanEvalRecordSchema.safeParse(record);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, record) };
  const r = parsed.data;
  return finish(
    {
      taskId: r.task_id,
      entryPoint: r.entry_point,
      prompt: r.prompt,
      tests: r.test,
      testFormat: 'humaneval',
      category: r.category?.trim() || taskIdPrefix(r.task_id) || 'humaneval',
      complexity: complexityText(r.complexity),
      referenceSolution: r.canonical_solution,
      referenceMode: r.canonical_solution === undefined ? undefined : 'completion',
      signature: signatureLine(r.prompt, r.entry_point),
      starterCode: r.prompt,
      source: 'humaneval',
    },
    { taskId: 'task_id', entryPoint: 'entry_point', tests: 'test', referenceSolution: 'canonical_solution' },
  );
}

/** The `def name(...)` line of the entry point, when the prompt has one on a single line. */
export function signatureLine(code: string, entryPoint: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entryPoint)) return undefined;
  const pattern = new RegExp(`^\\s*(?:async\\s+)?def\\s+${entryPoint}\\s*\\(.*$`, 'm');
  return pattern.exec(code)?.[0].trim();
}

import { z } from 'zod';
import { nativeTestFormats } from './problem.js';
import { complexityText, describeIssues, finish, optionalText, type RecordResult } from './record-result.js';

// Field aliases accepted from older collection datasets: `name` for the entry
// point and `canonical_solution` for the reference solution.
const nativeRecordSchema = z.object({
  task_id: z.union([z.string(), z.number()]),
  entry_point: z.string().optional(),
  name: z.string().optional(),
  problem: z.string(),
  tests: z.union([z.string(), z.array(z.string())]),
  test_format: z.enum(nativeTestFormats).default('pytest'),
  category: z.string().optional(),
  complexity: z.union([z.string(), z.number()]).optional(),
  reference_solution: z.string().optional(),
  canonical_solution: z.string().optional(),
  setup_code: z.string().optional(),
  signature: z.string().optional(),
  starter_code: z.string().optional(),
});

/** Native evalfleet record: `task_id`, `entry_point`, `problem`, `tests`, `test_format` (default pytest), `category`, … */
export function fromNativeRecord(record: Record<string, unknown>): RecordResult {
  const parsed = nativeRecordSchema.safeParse(record);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, record) };
  const r = parsed.data;
  const entryPoint = r.entry_point ?? r.name;
  if (entryPoint === undefined) return { ok: false, message: "missing field 'entry_point'" };
  const reference = r.reference_solution ?? r.canonical_solution;
  const starterCode = optionalText(r.starter_code);
  return finish(
    {
      taskId: String(r.task_id),
      entryPoint,
      prompt: r.problem,
      tests: Array.isArray(r.tests) ? r.tests.join('\n') : r.tests,
      testFormat: r.test_format,
      category: r.category?.trim() || 'uncategorized',
      complexity: complexityText(r.complexity),
      referenceSolution: reference,
      referenceMode: reference === undefined ? undefined : 'full',
      setupCode: r.setup_code,
      signature: r.signature,
      starterCode,
      source: 'native',
    },
    {
      taskId: 'task_id',
      entryPoint: 'entry_point',
      prompt: 'problem',
      testFormat: 'test_format',
      referenceSolution: 'reference_solution',
      setupCode: 'setup_code',
      starterCode: 'starter_code',
    },
  );
}

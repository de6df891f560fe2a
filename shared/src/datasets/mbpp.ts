import { z } from 'zod';
import { signatureLine } from './humaneval.js';
import { complexityText, describeIssues, finish, type RecordResult } from './record-result.js';

const mbppRecordSchema = z.object({
  task_id: z.union([z.number().int(), z.string()]),
  text: z.string(),
  code: z.string().optional(),
  test_list: z.array(z.string()).min(1),
  test_setup_code: z.string().optional(),
  challenge_test_list: z.array(z.string()).optional(),
  entry_point: z.string().optional(),
  category: z.string().optional(),
  complexity: z.union([z.string(), z.number()]).optional(),
});

// Calls that wrap the function under test in MBPP asserts, e.g.
// `assert set(similar_elements(...)) == ...` or `assert math.isclose(area(2), ...)`.
const wrapperCalls = new Set([
  'set',
  'sorted',
  'list',
  'tuple',
  'dict',
  'frozenset',
  'str',
  'int',
  'float',
  'bool',
  'len',
  'abs',
  'round',
  'any',
  'all',
  'isclose',
  'math',
  'type',
  'isinstance',
  'sum',
  'min',
  'max',
]);

/**
 * The function an MBPP task tests: the first function called in the first
 * assert that the reference code defines, else the first call that is not a
 * well-known wrapper.
 */
export function mbppEntryPoint(tests: readonly string[], code?: string): string | undefined {
  const first = tests[0] ?? '';
  const calls = [...first.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) => m[1] ?? '');
  if (code !== undefined) {
    const defined = new Set(
      [...code.matchAll(/^\s*(?:async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/gm)].map((m) => m[1]),
    );
    const hit = calls.find((name) => defined.has(name));
    if (hit !== undefined) return hit;
  }
  return calls.find((name) => !wrapperCalls.has(name) && name !== 'assert');
}

/** Task ids become `Mbpp/<n>` (as in EvalPlus) so they cannot collide with other sets' numeric ids. */
export function mbppTaskId(taskId: number | string): string {
  return typeof taskId === 'number' || /^\d+$/.test(taskId) ? `Mbpp/${taskId}` : taskId;
}

/** MBPP record; the prompt is the task text followed by its asserts, as in the MBPP paper. */
export function fromMbppRecord(record: Record<string, unknown>): RecordResult {
  const parsed = mbppRecordSchema.safeParse(record);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, record) };
  const r = parsed.data;
  const entryPoint = r.entry_point ?? mbppEntryPoint(r.test_list, r.code);
  if (entryPoint === undefined) {
    return { ok: false, message: "cannot find the function under test in the first assert of 'test_list'" };
  }
  const challenge = r.challenge_test_list ?? [];
  return finish(
    {
      taskId: mbppTaskId(r.task_id),
      entryPoint,
      prompt: `${r.text.trim()}\nYour code should pass these tests:\n\n${r.test_list.join('\n')}\n`,
      tests: r.test_list.join('\n'),
      testFormat: 'mbpp',
      category: r.category?.trim() || 'Mbpp',
      complexity: complexityText(r.complexity),
      referenceSolution: r.code,
      referenceMode: r.code === undefined ? undefined : 'full',
      setupCode: r.test_setup_code === '' ? undefined : r.test_setup_code,
      signature: r.code === undefined ? undefined : signatureLine(r.code, entryPoint),
      challengeTests: challenge.length > 0 ? challenge.join('\n') : undefined,
      source: 'mbpp',
    },
    {
      taskId: 'task_id',
      entryPoint: 'entry_point',
      prompt: 'text',
      tests: 'test_list',
      referenceSolution: 'code',
      setupCode: 'test_setup_code',
    },
  );
}

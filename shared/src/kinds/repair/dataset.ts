import { z } from 'zod';
import { describeIssues } from '../../messages/index.js';

const relativePath = z
  .string()
  .min(1)
  .max(300)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\\') && !p.includes('\0'), {
    message: 'paths are relative, with / separators, and never leave the project (no ..)',
  });

const fileMap = z.record(relativePath, z.string().max(1_000_000));

/** One line of a bug dataset (native JSONL). */
export const bugRecordSchema = z
  .object({
    bug_id: z
      .string()
      .min(1)
      .max(120)
      .regex(/^[A-Za-z0-9._:@+-]+$/, 'bug ids use letters, digits and . _ : @ + - only'),
    files: fileMap.refine((f) => Object.keys(f).length > 0, { message: 'files is empty' }),
    test_files: fileMap.refine((f) => Object.keys(f).length > 0, { message: 'test_files is empty' }),
    failing_tests: z.array(z.string().min(1)).optional(),
    traceback: z.string().max(200_000).optional(),
    category: z.string().min(1).max(80).default('uncategorized'),
  })
  .refine((b) => Object.keys(b.files).every((p) => b.test_files[p] === undefined), {
    message: 'a path is both in files and in test_files',
  });

/** A bug as the kind keeps it (stored once, by content hash, and read by every job of it). */
export const bugSchema = z.object({
  bugId: z.string(),
  category: z.string(),
  files: z.record(z.string(), z.string()),
  testFiles: z.record(z.string(), z.string()),
  failingTests: z.array(z.string()).optional(),
  traceback: z.string().optional(),
});
export type Bug = z.infer<typeof bugSchema>;

export type ParsedBugs = { bugs: Bug[]; errors: { line: number; message: string }[] };

/** A bug dataset: one record per line; a bad line is an error naming it, the rest stay usable. */
export function parseBugs(text: string): ParsedBugs {
  const bugs: Bug[] = [];
  const errors: ParsedBugs['errors'] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      errors.push({ line, message: `not JSON: ${(err as Error).message}` });
      return;
    }
    const parsed = bugRecordSchema.safeParse(value);
    if (!parsed.success) {
      errors.push({ line, message: describeIssues(parsed.error) });
      return;
    }
    const r = parsed.data;
    if (seen.has(r.bug_id)) {
      errors.push({ line, message: `bug_id ${r.bug_id} appears twice` });
      return;
    }
    seen.add(r.bug_id);
    bugs.push({
      bugId: r.bug_id,
      category: r.category,
      files: r.files,
      testFiles: r.test_files,
      ...(r.failing_tests ? { failingTests: r.failing_tests } : {}),
      ...(r.traceback ? { traceback: r.traceback } : {}),
    });
  });
  return { bugs, errors };
}

/** The modules a patch may change: the project's Python files that are not tests. */
export function sourceModules(bug: Bug): string[] {
  return Object.keys(bug.files)
    .filter((p) => p.endsWith('.py'))
    .sort();
}

/** `--patches`: `{bug_id, completion}` per line (the raw answer text). */
export const patchLineSchema = z.object({ bug_id: z.string().min(1), completion: z.string() });

export function parsePatches(text: string): {
  patches: { line: number; bugId: string; completion: string; raw: Record<string, unknown> }[];
  errors: { line: number; message: string }[];
} {
  const patches: { line: number; bugId: string; completion: string; raw: Record<string, unknown> }[] = [];
  const errors: { line: number; message: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      errors.push({ line: i + 1, message: `not JSON: ${(err as Error).message}` });
      return;
    }
    const parsed = patchLineSchema.safeParse(value);
    if (!parsed.success) {
      errors.push({ line: i + 1, message: describeIssues(parsed.error) });
      return;
    }
    patches.push({
      line: i,
      bugId: parsed.data.bug_id,
      completion: parsed.data.completion,
      raw: z.record(z.string(), z.unknown()).parse(value),
    });
  });
  return { patches, errors };
}

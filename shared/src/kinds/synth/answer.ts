import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** What a generation's answer must hold, normalised (the model writes snake_case YAML or JSON). */
export type SynthAnswer = {
  problemStatement: string;
  solutionOutline: string;
  moduleName: string;
  testFramework: 'pytest' | 'unittest';
  moduleCode: string;
  testCode: string;
  /** Each buggy variant as a whole module, or why the model's edit could not be applied. */
  bugs: SynthBug[];
};

export type SynthBug = { description: string; code?: string; error?: string };

export type ParsedAnswer = { ok: true; answer: SynthAnswer } | { ok: false; error: string };

// Names that would shadow a module the suite, pytest or the standard library itself imports.
const shadowed = new Set(
  (
    'abc ast asyncio builtins bisect cmath code collections contextlib copy csv dataclasses datetime decimal enum ' +
    'fractions functools heapq inspect io itertools json logging math numbers operator os pathlib pickle pytest ' +
    'queue random re signal socket statistics string struct sys tempfile test textwrap time types typing unittest ' +
    'warnings weakref conftest setup run_tests'
  ).split(' '),
);

export function moduleNameProblem(name: string): string | undefined {
  if (!/^[a-z_][a-z0-9_]{0,59}$/.test(name))
    return `module_name ${JSON.stringify(name)} must be a lower-case Python identifier`;
  if (name.startsWith('test')) return `module_name ${JSON.stringify(name)} must not start with "test"`;
  if (shadowed.has(name)) return `module_name ${JSON.stringify(name)} would shadow a standard module`;
  return undefined;
}

/** Code as the model may wrap it: a fenced block inside the field, trailing blanks. */
function code(text: string): string {
  const fenced = /^\s*```[\w+-]*[ \t]*\n([\s\S]*?)\n?```\s*$/.exec(text);
  const body = (fenced ? fenced[1]! : text).replace(/^(\s*\n)+/, '').replace(/\s+$/, '');
  return `${body}\n`;
}

const text = z.string().trim().min(1);
// Code keeps its first line's indentation (trimming it would change the program).
const source = z
  .string()
  .refine((s) => s.trim() !== '', { message: 'must not be empty' })
  .transform(code);
const outline = z
  .union([text, z.array(z.union([text, z.number()])).min(1)])
  .transform((v) =>
    Array.isArray(v) ? v.map((step, i) => `${i + 1}. ${String(step).replace(/^\d+[.)]\s*/, '')}`).join('\n') : v,
  );

const rawSchema = z.object({
  problem_statement: text,
  solution_outline: outline,
  module_name: text.transform((n) => n.replace(/\.py$/, '')),
  test_framework: z.enum(['pytest', 'unittest']).optional(),
  module_code: source,
  test_code: source,
  bugs: z
    .array(
      z
        .object({
          description: text,
          code: source.optional(),
          find: z.string().optional(),
          replace: z.string().optional(),
        })
        .refine((b) => b.code !== undefined || (b.find !== undefined && b.replace !== undefined), {
          message: 'a bug needs `find` and `replace` (or the whole buggy module as `code`)',
        }),
    )
    .default([]),
});

// Names models use for the same fields.
const aliases: Record<string, string> = {
  problem: 'problem_statement',
  statement: 'problem_statement',
  outline: 'solution_outline',
  solution: 'solution_outline',
  module: 'module_code',
  code: 'module_code',
  module_path: 'module_name',
  tests: 'test_code',
  test: 'test_code',
  framework: 'test_framework',
  buggy_variants: 'bugs',
  bug_variants: 'bugs',
  buggy_versions: 'bugs',
  variants: 'bugs',
};

const keyOf = (k: string) =>
  k
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** Top-level keys in snake_case with the aliases resolved (`Problem Statement`, `module-code`, `tests`). */
function normaliseKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  // `task: {problem_statement: ...}`: the answer wrapped in one key.
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only && typeof only[1] === 'object' && only[1] !== null && !Array.isArray(only[1]))
    return normaliseKeys(only[1]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const key = keyOf(k);
    const name = aliases[key] ?? key;
    if (!(name in out)) out[name] = v;
  }
  if (typeof out['test_framework'] === 'string') out['test_framework'] = out['test_framework'].trim().toLowerCase();
  if (Array.isArray(out['bugs'])) {
    out['bugs'] = out['bugs'].map((b: unknown) => {
      if (typeof b !== 'object' || b === null) return b;
      const bug: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(b)) {
        const key = keyOf(k);
        const renamed: Record<string, string> = {
          buggy_code: 'code',
          module_code: 'code',
          bug: 'description',
          search: 'find',
          old: 'find',
          new: 'replace',
        };
        bug[renamed[key] ?? key] = v;
      }
      return bug;
    });
  }
  return out;
}

/**
 * A search/replace edit applied to the module: `find` must occur exactly once (as written, or without
 * its surrounding blank space, which models add and drop freely).
 */
export function applyEdit(module: string, find: string, replace: string): { code: string } | { error: string } {
  for (const [f, r] of [
    [find, replace],
    [find.trim(), replace.trim()],
  ] as const) {
    if (f === '') continue;
    const at = module.indexOf(f);
    if (at === -1) continue;
    if (module.indexOf(f, at + 1) !== -1) return { error: 'the text to find occurs more than once in module_code' };
    return { code: module.slice(0, at) + r + module.slice(at + f.length) };
  }
  return { error: 'the text to find does not occur in module_code' };
}

/** The document inside the answer: a fenced yaml/json block if there is one, else the whole text. */
function documentOf(answer: string): string {
  const blocks = [...answer.matchAll(/```(yaml|yml|json)?[ \t]*\n([\s\S]*?)(?:\n```|$(?![\s\S]))/gi)];
  const tagged = blocks.find((b) => b[1] !== undefined) ?? blocks[0];
  return tagged ? tagged[2]! : answer;
}

function parseDocument(doc: string): { value: unknown } | { error: string } {
  try {
    return { value: parseYaml(doc, { prettyErrors: true, uniqueKeys: false }) as unknown };
  } catch (yamlError) {
    // JSON is YAML, but a model's JSON may carry what YAML rejects (tabs); try it as JSON too.
    const start = doc.indexOf('{');
    const end = doc.lastIndexOf('}');
    if (start !== -1 && end > start) {
      try {
        return { value: JSON.parse(doc.slice(start, end + 1)) as unknown };
      } catch {
        // the YAML error says more
      }
    }
    const message = yamlError instanceof Error ? yamlError.message : String(yamlError);
    return { error: `the answer is not valid YAML or JSON: ${message.split('\n').slice(0, 6).join('\n')}` };
  }
}

/**
 * A generation's answer, parsed robustly: the fenced block or the whole text, YAML or JSON, keys in any
 * case, outline as text or a list, code with or without fences. The error says what to fix, for the
 * retry in the same conversation.
 */
export function parseSynthAnswer(answer: string): ParsedAnswer {
  const doc = parseDocument(documentOf(answer));
  if ('error' in doc) return { ok: false, error: doc.error };
  if (typeof doc.value !== 'object' || doc.value === null || Array.isArray(doc.value))
    return { ok: false, error: 'the answer must be one YAML (or JSON) mapping with the fields asked for' };
  const parsed = rawSchema.safeParse(normaliseKeys(doc.value));
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 6).map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`);
    return { ok: false, error: `the answer is missing or has invalid fields: ${problems.join('; ')}` };
  }
  const a = parsed.data;
  const problem = moduleNameProblem(a.module_name);
  if (problem) return { ok: false, error: problem };
  const framework =
    a.test_framework ??
    (/unittest\.TestCase|\bTestCase\)/.test(a.test_code) && !/import pytest/.test(a.test_code) ? 'unittest' : 'pytest');
  return {
    ok: true,
    answer: {
      problemStatement: a.problem_statement,
      solutionOutline: a.solution_outline,
      moduleName: a.module_name,
      testFramework: framework,
      moduleCode: a.module_code,
      testCode: a.test_code,
      bugs: a.bugs.map((b): SynthBug => {
        if (b.code !== undefined) return { description: b.description, code: b.code };
        const edited = applyEdit(a.module_code, b.find ?? '', b.replace ?? '');
        return { description: b.description, ...edited };
      }),
    },
  };
}

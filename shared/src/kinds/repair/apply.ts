import { createTwoFilesPatch } from 'diff';
import type { Parser } from 'web-tree-sitter';
import type { AnswerPatch } from './answer.js';
import { definitionsOf, importsOf, reindent, syntaxProblem, type Definition } from './source.js';

export type Applied = {
  ok: true;
  files: Record<string, string>;
  /** Modules that changed, and a unified diff of them (buggy → patched). */
  changed: string[];
  diff: string;
  /** `path:name` of each replaced definition, and of each one appended. */
  replaced: string[];
  appended: string[];
};

export type NotApplied = { ok: false; reason: 'unknown_function' | 'ambiguous' | 'syntax_error'; message: string };

type Edit = { startRow: number; endRow: number; text: string };

/**
 * Applies a model's definitions to a project: each replaces the same-named top-level `def`/`class`
 * of a module (whole lines, decorators included; `modules` gives the order to look in), or, when no
 * top-level one exists, the same-named method of a class, re-indented as a method. Definitions the
 * project does not have are appended to the module of the first replacement, and imports the answer
 * brings are merged in after that module's imports. An answer none of whose definitions exists in
 * the project is not applied (`unknown_function`): it names nothing to fix.
 */
export function applyPatch(
  parser: Parser,
  files: Readonly<Record<string, string>>,
  modules: readonly string[],
  patch: AnswerPatch,
): Applied | NotApplied {
  const parsed = modules
    .filter((m) => files[m] !== undefined)
    .map((path) => ({ path, ...definitionsOf(parser, files[path] ?? '') }));
  const edits = new Map<string, Edit[]>();
  const replaced: string[] = [];
  const fresh: Definition[] = [];
  for (const d of patch.definitions) {
    const top = parsed.find((m) => m.topLevel.some((t) => t.name === d.name));
    const target = top?.topLevel.find((t) => t.name === d.name);
    if (top && target) {
      addEdit(edits, top.path, { startRow: target.startRow, endRow: target.endRow, text: reindent(d.text, 0) });
      replaced.push(`${top.path}:${d.name}`);
      continue;
    }
    const owners = parsed.flatMap((m) => m.methods.filter((x) => x.name === d.name).map((x) => ({ path: m.path, x })));
    if (d.kind === 'function' && owners.length > 1) {
      const where = owners.map((o) => `${o.path}:${o.x.owner ?? '?'}.${d.name}`).join(', ');
      return { ok: false, reason: 'ambiguous', message: `the answer's ${d.name} could be any of ${where}` };
    }
    const method = d.kind === 'function' ? owners[0] : undefined;
    if (method) {
      addEdit(edits, method.path, {
        startRow: method.x.startRow,
        endRow: method.x.endRow,
        text: reindent(d.text, method.x.indent),
      });
      replaced.push(`${method.path}:${method.x.owner ?? '?'}.${d.name}`);
      continue;
    }
    fresh.push(d);
  }
  if (replaced.length === 0) {
    const names = patch.definitions.map((d) => d.name).join(', ');
    return {
      ok: false,
      reason: 'unknown_function',
      message: `the answer defines ${names}; the project has no function or class of that name to fix`,
    };
  }
  const home = replaced[0]!.split(':')[0]!;
  const out: Record<string, string> = { ...files };
  for (const [path, list] of edits) out[path] = applyEdits(out[path] ?? '', list);
  const appended: string[] = [];
  if (fresh.length > 0) {
    out[home] =
      `${(out[home] ?? '').replace(/\s+$/, '')}\n\n\n${fresh.map((d) => reindent(d.text, 0)).join('\n\n\n')}\n`;
    appended.push(...fresh.map((d) => `${home}:${d.name}`));
  }
  out[home] = mergeImports(parser, out[home] ?? '', patch.imports);
  const changed = Object.keys(out)
    .filter((p) => out[p] !== files[p])
    .sort();
  for (const path of changed) {
    const problem = syntaxProblem(parser, out[path] ?? '');
    if (problem !== undefined)
      return { ok: false, reason: 'syntax_error', message: `${path} does not parse after the patch: ${problem}` };
  }
  const diff = changed
    .map((p) => createTwoFilesPatch(`a/${p}`, `b/${p}`, files[p] ?? '', out[p] ?? '', '', '', { context: 3 }))
    .join('');
  return { ok: true, files: out, changed, diff, replaced, appended };
}

function addEdit(edits: Map<string, Edit[]>, path: string, edit: Edit): void {
  const list = edits.get(path) ?? [];
  // A later definition of the same name in the answer wins over an earlier one.
  const same = list.findIndex((e) => e.startRow === edit.startRow);
  if (same >= 0) list[same] = edit;
  else list.push(edit);
  edits.set(path, list);
}

function applyEdits(source: string, edits: readonly Edit[]): string {
  const lines = source.split('\n');
  for (const e of [...edits].sort((a, b) => b.startRow - a.startRow))
    lines.splice(e.startRow, e.endRow - e.startRow + 1, ...e.text.split('\n'));
  return lines.join('\n');
}

/** Imports the module does not already have, placed after its last top-level import (or first). */
function mergeImports(parser: Parser, source: string, imports: readonly string[]): string {
  const present = importsOf(parser, source);
  const have = new Set(present.map((i) => i.text.trim()));
  const missing = imports.filter((i) => !have.has(i.trim()));
  if (missing.length === 0) return source;
  const lines = source.split('\n');
  const at = present.length > 0 ? Math.max(...present.map((i) => i.endRow)) + 1 : 0;
  lines.splice(at, 0, ...missing);
  return lines.join('\n');
}

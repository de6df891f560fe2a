import type { Parser } from 'web-tree-sitter';
import { findCodeRuns, leadingIndentedRun } from './code-runs.js';
import { findFencedBlocks, isOtherLanguageBlock, isPythonBlock, textOutsideFences } from './fences.js';
import { analyzePython, type PythonAnalysis } from './python-analysis.js';
import { createPythonParser } from './python-parser.js';

export const extractionOutcomes = ['ok', 'no_code', 'syntax_error', 'missing_entry_point'] as const;
export type ExtractionOutcome = (typeof extractionOutcomes)[number];
export const extractionMethods = ['fenced_python', 'fenced_any', 'unfenced'] as const;
export type ExtractionMethod = (typeof extractionMethods)[number];

export interface ExtractOptions {
  /** The function (or class) the tests call. */
  entryPoint: string;
  /**
   * The code a completion continues (HumanEval's prompt, a problem's starter
   * code). Without it an answer must define the entry point itself.
   */
  prompt?: string;
}

export interface ExtractionResult {
  outcome: ExtractionOutcome;
  /** The code to evaluate; present unless the outcome is `no_code`. */
  code?: string;
  /** `completion`: `code` is appended to the prompt; `full`: `code` defines the entry point. */
  mode: 'full' | 'completion';
  method: ExtractionMethod;
  message?: string;
  /** 1-based position of a syntax error, relative to `code`. */
  line?: number;
  column?: number;
}

export interface Extractor {
  /** Never throws for any answer text: a malformed answer is a recorded outcome. */
  extract(response: string, opts: ExtractOptions): ExtractionResult;
}

interface Candidate {
  code: string;
  method: ExtractionMethod;
}

/** Load the Python grammar once and return an extractor with a synchronous `extract`. */
export async function createExtractor(opts: { grammarPath?: string } = {}): Promise<Extractor> {
  const parser = await createPythonParser(opts.grammarPath);
  return { extract: (response, options) => extractWith(parser, response, options) };
}

let shared: Promise<Extractor> | undefined;

/** Convenience for one-off calls; services should hold one `createExtractor()` result. */
export async function extractCode(response: string, opts: ExtractOptions): Promise<ExtractionResult> {
  shared ??= createExtractor();
  return (await shared).extract(response, opts);
}

function definesPattern(entryPoint: string): RegExp {
  const name = entryPoint.replace(/[^A-Za-z0-9_]/g, '');
  return new RegExp(`^\\s*(?:(?:async\\s+)?def\\s+${name}\\s*\\(|class\\s+${name}\\b|${name}\\s*=)`, 'm');
}

function last<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as T;
    if (test(item)) return item;
  }
  return undefined;
}

function longest(codes: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const code of codes) if (code.trim() !== '' && (best === undefined || code.length > best.length)) best = code;
  return best;
}

/** Drop reasoning sections some models emit before the answer; they often hold draft code. */
function stripReasoning(text: string): string {
  return text.replace(/<think(?:ing)?>[\s\S]*?<\/think(?:ing)?>/gi, '');
}

function extractWith(parser: Parser, response: string, opts: ExtractOptions): ExtractionResult {
  const text = stripReasoning(response.replace(/\r\n?/g, '\n'));
  const blocks = findFencedBlocks(text).filter((b) => b.code.trim() !== '');
  const python = blocks.filter(isPythonBlock);
  const other = blocks.filter((b) => !isPythonBlock(b));
  const unlabeled = other.filter((b) => !isOtherLanguageBlock(b));
  const outside = textOutsideFences(text, blocks);
  const runs = findCodeRuns(outside);
  const defines = definesPattern(opts.entryPoint);

  // 1. Code that defines the entry point. When several blocks do, the last one
  // is usually the final answer ("here is a corrected version"), unless it is
  // broken (a truncated answer) and an earlier one is not.
  const pick = (codes: readonly string[]): string | undefined => {
    const defining = codes.filter((code) => defines.test(code));
    return last(defining, (code) => analyzePython(parser, code).syntax === undefined) ?? defining.at(-1);
  };
  const full: Candidate | undefined =
    fromCode(pick(python.map((b) => b.code)), 'fenced_python') ??
    fromCode(pick(other.map((b) => b.code)), 'fenced_any') ??
    fromCode(pick(runs), 'unfenced');
  if (full !== undefined) return finishFull(parser, full, opts);

  // 2. A body that continues the prompt.
  if (opts.prompt !== undefined) {
    const body =
      fromCode(longest(python.map((b) => b.code)), 'fenced_python') ??
      fromCode(longest(unlabeled.map((b) => b.code)), 'fenced_any') ??
      fromCode(leadingIndentedRun(outside), 'unfenced');
    const completion = body === undefined ? undefined : asCompletion(body.code, opts.prompt);
    if (body !== undefined && completion !== undefined) {
      return finishCompletion(
        parser,
        { code: completion.code, method: body.method },
        opts.prompt,
        opts.entryPoint,
        completion.reindented,
      );
    }
  }

  // 3. Whatever code there is, to report why it cannot be used.
  const fallback =
    fromCode(longest(python.map((b) => b.code)), 'fenced_python') ??
    fromCode(longest(unlabeled.map((b) => b.code)), 'fenced_any') ??
    fromCode(longest(runs), 'unfenced');
  if (fallback === undefined) {
    return { outcome: 'no_code', mode: 'full', method: 'unfenced', message: 'no Python code found in the answer' };
  }
  return finishFull(parser, fallback, opts);
}

function fromCode(code: string | undefined, method: ExtractionMethod): Candidate | undefined {
  return code === undefined || code.trim() === '' ? undefined : { code, method };
}

function finishFull(parser: Parser, candidate: Candidate, opts: ExtractOptions): ExtractionResult {
  const analysis = analyzePython(parser, candidate.code);
  const base = { mode: 'full' as const, method: candidate.method };
  if (analysis.syntax !== undefined) {
    const { line, column, message } = analysis.syntax;
    return {
      ...base,
      outcome: 'syntax_error',
      code: candidate.code,
      line,
      column,
      message: `line ${line}, column ${column}: ${message}`,
    };
  }
  if (!analysis.topLevel.some((d) => d.name === opts.entryPoint)) {
    const owners = analysis.methodOwners(opts.entryPoint);
    const message =
      owners.length > 0
        ? `'${opts.entryPoint}' is defined only as a method of class ${owners.map((o) => `'${o}'`).join(', ')}`
        : `the code does not define '${opts.entryPoint}'`;
    return { ...base, outcome: 'missing_entry_point', code: candidate.code, message };
  }
  const { code, removed } = withoutMainGuards(candidate.code, analysis, 0);
  return {
    ...base,
    outcome: 'ok',
    code,
    ...(removed ? { message: "removed the `if __name__ == '__main__':` block" } : {}),
  };
}

/**
 * Whether code reads as the rest of a function body: indented lines, or (when
 * a model dropped the indentation) unindented statements that end the function
 * with return/yield/raise, which are re-indented to the prompt's body level.
 */
function asCompletion(code: string, prompt: string): { code: string; reindented: boolean } | undefined {
  const lines = code.split('\n');
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const lead = prompt.endsWith('\n') || prompt === '' ? '' : '\n';
  if (/^\s/.test(first)) return { code: lead + code, reindented: false };
  if (/^(?:async\s+def|def|class|import|from|@)\b/.test(first)) return undefined;
  if (!lines.some((l) => /^\s*(?:return|yield|raise)\b/.test(l))) return undefined;
  const indent = bodyIndent(prompt);
  const reindented = lines.map((l) => (l.trim() === '' ? l : indent + l)).join('\n');
  return { code: lead + reindented, reindented: true };
}

/** The indentation of the prompt's last non-blank line (its docstring), or one level below a bare header. */
function bodyIndent(prompt: string): string {
  const lastLine = [...prompt.split('\n')].reverse().find((l) => l.trim() !== '') ?? '';
  const indent = /^\s*/.exec(lastLine)?.[0] ?? '';
  return lastLine.trimEnd().endsWith(':') ? `${indent}    ` : indent === '' ? '    ' : indent;
}

function finishCompletion(
  parser: Parser,
  candidate: Candidate,
  prompt: string,
  entryPoint: string,
  reindented: boolean,
): ExtractionResult {
  const source = prompt + candidate.code;
  const promptRows = prompt.split('\n').length - 1;
  const analysis = analyzePython(parser, source);
  const base = { mode: 'completion' as const, method: candidate.method };
  if (analysis.syntax !== undefined) {
    const { column, message } = analysis.syntax;
    const line = analysis.syntax.line - promptRows;
    const where = line >= 1 ? `line ${line}, column ${column}` : 'in the prompt';
    return {
      ...base,
      outcome: 'syntax_error',
      code: candidate.code,
      ...(line >= 1 ? { line, column } : {}),
      message: `${where}: ${message}`,
    };
  }
  const fn = analysis.topLevel.find((d) => d.name === entryPoint && d.kind === 'function');
  if (fn === undefined || fn.endRow < promptRows) {
    return {
      ...base,
      outcome: 'missing_entry_point',
      code: candidate.code,
      message: `the answer does not continue the body of '${entryPoint}'`,
    };
  }
  const stripped = withoutMainGuards(source, analysis, promptRows);
  const notes = [
    reindented ? 're-indented the answer as the function body' : '',
    stripped.removed ? "removed the `if __name__ == '__main__':` block" : '',
  ]
    .filter((n) => n !== '')
    .join('; ');
  return {
    ...base,
    outcome: 'ok',
    code: stripped.code.slice(prompt.length),
    ...(notes === '' ? {} : { message: notes }),
  };
}

/** Remove top-level main guards at or below `fromRow`: the sandbox runs HumanEval/MBPP programs as `__main__`. */
function withoutMainGuards(
  source: string,
  analysis: PythonAnalysis,
  fromRow: number,
): { code: string; removed: boolean } {
  const guards = analysis.mainGuards.filter((g) => g.startRow >= fromRow);
  if (guards.length === 0) return { code: source, removed: false };
  const lines = source.split('\n');
  const kept = lines.filter((_, row) => !guards.some((g) => row >= g.startRow && row <= g.endRow));
  return { code: `${kept.join('\n').replace(/\s+$/, '')}\n`, removed: true };
}

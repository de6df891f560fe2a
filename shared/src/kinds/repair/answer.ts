import type { Parser } from 'web-tree-sitter';
import { findFencedBlocks } from '../../extraction/index.js';
import { definitionsOf, importsOf, reindent, syntaxProblem, type Definition } from './source.js';

/** What a model's answer offers to apply: whole definitions and the imports they need. */
export type AnswerPatch = { definitions: Definition[]; imports: string[] };

export type AnswerFailure = { reason: 'no_code' | 'syntax_error' | 'no_definitions'; message: string };

const pythonLangs = new Set(['', 'python', 'py', 'python3', 'py3']);

/**
 * The definitions in a model's answer: every ```python block (each may hold several); without any
 * block, the whole answer when it parses as Python. Statements other than `def`, `class` and imports
 * (examples, asserts, prints) are ignored. Indented blocks (a method on its own) are dedented.
 */
export function extractPatch(parser: Parser, answer: string): AnswerPatch | AnswerFailure {
  const blocks = findFencedBlocks(answer).filter((b) => pythonLangs.has(b.lang) && b.code.trim() !== '');
  const sources = blocks.length > 0 ? blocks.map((b) => b.code) : [answer];
  const definitions: Definition[] = [];
  const imports: string[] = [];
  let firstProblem: string | undefined;
  for (const raw of sources) {
    const code = reindent(raw, 0) + '\n';
    const problem = syntaxProblem(parser, code);
    if (problem !== undefined) {
      firstProblem ??= problem;
      continue;
    }
    definitions.push(...definitionsOf(parser, code).topLevel);
    imports.push(...importsOf(parser, code).map((i) => i.text));
  }
  if (definitions.length > 0) return { definitions, imports: [...new Set(imports)] };
  if (blocks.length === 0 && firstProblem !== undefined)
    return { reason: 'no_code', message: 'the answer has no ```python block and is not Python code' };
  if (firstProblem !== undefined)
    return { reason: 'syntax_error', message: `the answer's code does not parse: ${firstProblem}` };
  return { reason: 'no_definitions', message: 'the answer defines no function or class' };
}

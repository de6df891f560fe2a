import type { Node, Parser, Tree } from 'web-tree-sitter';
import type { MutantSpec } from '@evalfleet/shared/workflow';
import { analyzePython } from '@evalfleet/shared/extraction';
import { normalisedTokens } from './normalise.js';
import type { Candidate, Operator } from './operator.js';
import { pragmaRows, skippedRegion, type SkipRule } from './skip.js';

const simpleStatements = new Set([
  'expression_statement',
  'return_statement',
  'assert_statement',
  'raise_statement',
  'delete_statement',
  'pass_statement',
  'break_statement',
  'continue_statement',
  'global_statement',
  'nonlocal_statement',
  'import_statement',
  'import_from_statement',
  'future_import_statement',
  'print_statement',
  'exec_statement',
  'type_alias_statement',
]);
const compoundStatements = new Set([
  'if_statement',
  'for_statement',
  'while_statement',
  'try_statement',
  'with_statement',
  'match_statement',
]);
const definitions = new Set(['function_definition', 'class_definition', 'decorated_definition']);

/** The statement a mutant at `node` belongs to, and the rows that mean "a test reached it" (see MutantSpec.cover). */
function statementOf(node: Node): { statement: Node; cover: [number, number] } {
  for (let n: Node | null = node; n; n = n.parent) {
    if (simpleStatements.has(n.type) || compoundStatements.has(n.type))
      return { statement: n, cover: [n.startPosition.row + 1, n.endPosition.row + 1] };
    if (definitions.has(n.type)) {
      // In a header (a default value, a base class): the expression runs at definition time.
      return { statement: n, cover: [node.startPosition.row + 1, node.endPosition.row + 1] };
    }
  }
  return { statement: node, cover: [node.startPosition.row + 1, node.endPosition.row + 1] };
}

/** Whether `node` lies in the body of a function or lambda (it runs when called, not at import). */
function inFunctionBody(node: Node): boolean {
  for (let n: Node | null = node; n?.parent; n = n.parent) {
    const parent = n.parent;
    if (parent.type === 'function_definition' && parent.childForFieldName('body')?.id === n.id) return true;
    if (parent.type === 'lambda' && parent.childForFieldName('body')?.id === n.id) return true;
  }
  return false;
}

/** Offsets where each line starts, to turn UTF-16 indices into rows and columns. */
function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(starts: number[], index: number): { row: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= index) lo = mid;
    else hi = mid - 1;
  }
  return { row: lo, column: index - (starts[lo] ?? 0) };
}

type Found = { node: Node; op: Operator; candidate: Candidate; region?: SkipRule };

function collect(root: Node, operators: readonly Operator[], pragma: Set<number>): Found[] {
  const found: Found[] = [];
  const visit = (node: Node, region: SkipRule | undefined) => {
    const here = region ?? skippedRegion(node);
    for (const op of operators) {
      for (const candidate of op.candidates(node)) {
        const row = node.startPosition.row;
        const rule = here ?? (pragma.has(row) ? 'pragma' : undefined);
        found.push({ node, op, candidate, ...(rule ? { region: rule } : {}) });
      }
    }
    for (const child of node.children) if (child) visit(child, here);
  };
  visit(root, undefined);
  return found;
}

/** Mutants of one file, in source order then operator order; counts what each rule left out into `skipped`. */
export function mutateFile(
  parser: Parser,
  file: { path: string; text: string },
  operators: readonly Operator[],
  skipped: Record<string, number>,
): MutantSpec[] | { error: string } {
  const source = file.text;
  const problem = analyzePython(parser, source).syntax;
  if (problem) return { error: `line ${problem.line}: ${problem.message}` };
  const tree = parser.parse(source);
  if (!tree) return { error: 'tree-sitter returned no tree' };
  const count = (rule: string) => (skipped[rule] = (skipped[rule] ?? 0) + 1);
  try {
    const starts = lineStarts(source);
    const found = collect(tree.rootNode, operators, pragmaRows(source));
    found.sort((a, b) => a.candidate.start - b.candidate.start || operators.indexOf(a.op) - operators.indexOf(b.op));
    const seen = new Set<string>();
    const originals = new Map<number, string>();
    const mutants: MutantSpec[] = [];
    for (const f of found) {
      const rule = f.region ?? f.candidate.skip;
      if (rule) {
        count(rule);
        continue;
      }
      const spec = build(parser, file.path, source, starts, f, originals, seen);
      if (typeof spec === 'string') count(spec);
      else mutants.push(spec);
    }
    return mutants;
  } finally {
    tree.delete();
  }
}

function build(
  parser: Parser,
  path: string,
  source: string,
  starts: number[],
  f: Found,
  originals: Map<number, string>,
  seen: Set<string>,
): MutantSpec | SkipRule {
  const { start, end, replacement } = f.candidate;
  const mutated = source.slice(0, start) + replacement + source.slice(end);
  const { statement, cover } = statementOf(f.node);
  let tree: Tree | null = null;
  try {
    // Every operator keeps the line count; a candidate that does not is a bug, never a mutant.
    if (mutated.split('\n').length !== starts.length) return 'unparsable';
    tree = parser.parse(mutated);
    if (!tree || tree.rootNode.hasError) return 'unparsable';
    const delta = replacement.length - (end - start);
    let original = originals.get(statement.id);
    if (original === undefined) originals.set(statement.id, (original = normalisedTokens(statement)));
    // The rest of the file is unchanged: the statement's tokens decide sameness.
    const tokens = normalisedTokens(tree.rootNode, { start: statement.startIndex, end: statement.endIndex + delta });
    if (tokens === original) return 'same_source';
    const key = `${statement.startIndex}\u0001${tokens}`;
    if (seen.has(key)) return 'duplicate';
    seen.add(key);
  } finally {
    tree?.delete();
  }
  const from = position(starts, start);
  const to = position(starts, end);
  const lines = mutated.split('\n').slice(from.row, to.row + 1);
  return {
    file: path,
    operator: f.op.id,
    mutatorName: f.op.name,
    original: source.slice(start, end),
    replacement,
    location: {
      start: { line: from.row + 1, column: from.column + 1 },
      end: { line: to.row + 1, column: to.column + 1 },
    },
    lines: [from.row + 1, to.row + 1],
    text: lines.join('\n'),
    cover,
    inFunction: inFunctionBody(f.node),
  };
}

import type { Node, Parser } from 'web-tree-sitter';
import { analyzePython } from '../../extraction/index.js';

/** A `def` or `class` in a module: where it is (whole lines), what it is called, its text. */
export type Definition = {
  name: string;
  kind: 'function' | 'class';
  /** 0-based first line (its first decorator when decorated) and last line. */
  startRow: number;
  endRow: number;
  /** Indentation of its first line: 0 at top level, the method's indent inside a class. */
  indent: number;
  /** The class a method belongs to; undefined at top level. */
  owner?: string;
  text: string;
};

function definitionOf(node: Node): Node {
  return node.type === 'decorated_definition' ? (node.childForFieldName('definition') ?? node) : node;
}

function asDefinition(node: Node, lines: readonly string[], owner?: string): Definition | undefined {
  const def = definitionOf(node);
  if (def.type !== 'function_definition' && def.type !== 'class_definition') return undefined;
  const name = def.childForFieldName('name')?.text;
  if (name === undefined) return undefined;
  const startRow = node.startPosition.row;
  const endRow = node.endPosition.row;
  return {
    name,
    kind: def.type === 'class_definition' ? 'class' : 'function',
    startRow,
    endRow,
    indent: node.startPosition.column,
    ...(owner ? { owner } : {}),
    text: lines.slice(startRow, endRow + 1).join('\n'),
  };
}

/** Top-level definitions, and the methods of top-level classes, of a module. */
export function definitionsOf(parser: Parser, source: string): { topLevel: Definition[]; methods: Definition[] } {
  const tree = parser.parse(source);
  if (tree === null) throw new Error('tree-sitter returned no tree');
  try {
    const lines = source.split('\n');
    const topLevel: Definition[] = [];
    const methods: Definition[] = [];
    for (const child of tree.rootNode.namedChildren) {
      const d = asDefinition(child, lines);
      if (!d) continue;
      topLevel.push(d);
      const body = d.kind === 'class' ? definitionOf(child).childForFieldName('body') : null;
      for (const member of body?.namedChildren ?? []) {
        const m = asDefinition(member, lines, d.name);
        if (m?.kind === 'function') methods.push(m);
      }
    }
    return { topLevel, methods };
  } finally {
    tree.delete();
  }
}

/** Top-level `import` / `from … import` statements of a module, as source lines. */
export function importsOf(parser: Parser, source: string): { text: string; endRow: number }[] {
  const tree = parser.parse(source);
  if (tree === null) throw new Error('tree-sitter returned no tree');
  try {
    return tree.rootNode.namedChildren
      .filter((n) => n.type === 'import_statement' || n.type === 'import_from_statement')
      .map((n) => ({ text: n.text, endRow: n.endPosition.row }));
  } finally {
    tree.delete();
  }
}

/** The first syntax problem of `source`, as text, or undefined when it parses. */
export function syntaxProblem(parser: Parser, source: string): string | undefined {
  const problem = analyzePython(parser, source).syntax;
  return problem ? `line ${problem.line}: ${problem.message}` : undefined;
}

/** `text` re-indented so its least indented line starts at `indent` spaces. */
export function reindent(text: string, indent: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  const current = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines
    .map((l) => (l.trim() === '' ? '' : ' '.repeat(indent) + l.slice(Number.isFinite(current) ? current : 0)))
    .join('\n');
}

import type { Node, Parser } from 'web-tree-sitter';

export interface SyntaxProblem {
  /** 1-based line. */
  line: number;
  /** 1-based column (UTF-16 code units, as JavaScript strings count). */
  column: number;
  message: string;
}

export interface TopLevelName {
  name: string;
  kind: 'function' | 'class' | 'assignment';
  /** 0-based first and last line of the definition. */
  startRow: number;
  endRow: number;
}

export interface PythonAnalysis {
  syntax: SyntaxProblem | undefined;
  /** Names bound by top-level `def`, `class` and simple assignments. */
  topLevel: TopLevelName[];
  /** Classes whose methods carry a given name (for "defined only as a method" messages). */
  methodOwners: (name: string) => string[];
  /** 0-based line ranges of top-level `if __name__ == "__main__":` blocks. */
  mainGuards: { startRow: number; endRow: number }[];
}

const py2Statements: Record<string, string> = {
  print_statement: 'Python 2 print statement (use print(...))',
  exec_statement: 'Python 2 exec statement (use exec(...))',
};

/**
 * Parse Python and report the first syntax problem. Tree-sitter recovers from
 * errors (ERROR and MISSING nodes) but accepts some code CPython rejects, so
 * this also checks what the grammar leaves to the compiler: empty blocks,
 * statements that do not line up with their block, and `return` outside a
 * function.
 */
export function analyzePython(parser: Parser, source: string): PythonAnalysis {
  const tree = parser.parse(source);
  if (tree === null) throw new Error('tree-sitter returned no tree (no language set?)');
  try {
    const root = tree.rootNode;
    const lines = source.split('\n');
    const problems: SyntaxProblem[] = [];
    visit(root, lines, problems, false);
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    const methods = collectMethods(root);
    return {
      syntax: problems[0],
      topLevel: topLevelNames(root),
      methodOwners: (name) => methods.get(name) ?? [],
      mainGuards: root.namedChildren
        .filter(isMainGuard)
        .map((n) => ({ startRow: n.startPosition.row, endRow: n.endPosition.row })),
    };
  } finally {
    tree.delete();
  }
}

function at(node: Node, message: string): SyntaxProblem {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1, message };
}

function snippet(node: Node): string {
  const text = node.text.split('\n')[0] ?? '';
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function startsLine(node: Node, lines: readonly string[]): boolean {
  const line = lines[node.startPosition.row] ?? '';
  return line.slice(0, node.startPosition.column).trim() === '';
}

function visit(node: Node, lines: readonly string[], problems: SyntaxProblem[], inFunction: boolean): void {
  if (node.isMissing) {
    problems.push(at(node, `missing '${node.type}'`));
    return;
  }
  if (node.isError) {
    problems.push(at(node, `invalid syntax near '${snippet(node)}'`));
    return;
  }
  const py2 = py2Statements[node.type];
  if (py2 !== undefined) problems.push(at(node, py2));
  if (node.type === 'return_statement' && !inFunction) problems.push(at(node, "'return' outside function"));
  if (node.type === 'module' || node.type === 'block') checkAlignment(node, lines, problems);
  const nested = inFunction || node.type === 'function_definition';
  // A class body is not a function even inside one; only `def` opens a new scope for return.
  for (const child of node.children) {
    visit(child, lines, problems, node.type === 'class_definition' ? false : nested);
  }
}

function checkAlignment(node: Node, lines: readonly string[], problems: SyntaxProblem[]): void {
  const statements = node.namedChildren.filter((c) => c.type !== 'comment');
  if (node.type === 'block' && statements.length === 0) {
    // The block is empty and sits at the end of its header line; CPython reports the next line.
    problems.push({ line: node.startPosition.row + 2, column: 1, message: 'expected an indented block' });
    return;
  }
  let indent = node.type === 'module' ? 0 : undefined;
  for (const statement of statements) {
    if (!startsLine(statement, lines)) continue;
    indent ??= statement.startPosition.column;
    if (statement.startPosition.column !== indent) {
      problems.push(
        at(
          statement,
          statement.startPosition.column > indent
            ? 'unexpected indent'
            : 'unindent does not match any outer indentation level',
        ),
      );
      return;
    }
  }
}

function definitionOf(node: Node): Node {
  return node.type === 'decorated_definition' ? (node.childForFieldName('definition') ?? node) : node;
}

function topLevelNames(root: Node): TopLevelName[] {
  const names: TopLevelName[] = [];
  for (const child of root.namedChildren) {
    const def = definitionOf(child);
    const span = { startRow: child.startPosition.row, endRow: child.endPosition.row };
    if (def.type === 'function_definition' || def.type === 'class_definition') {
      const name = def.childForFieldName('name')?.text;
      if (name !== undefined)
        names.push({ name, kind: def.type === 'class_definition' ? 'class' : 'function', ...span });
    } else if (def.type === 'expression_statement') {
      const assignment = def.namedChildren[0];
      const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
      if (left?.type === 'identifier') names.push({ name: left.text, kind: 'assignment', ...span });
    }
  }
  return names;
}

function collectMethods(root: Node): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const cls of root.descendantsOfType('class_definition')) {
    const className = cls.childForFieldName('name')?.text ?? '?';
    const body = cls.childForFieldName('body');
    for (const member of body?.namedChildren ?? []) {
      const def = definitionOf(member);
      if (def.type !== 'function_definition') continue;
      const name = def.childForFieldName('name')?.text;
      if (name !== undefined) owners.set(name, [...(owners.get(name) ?? []), className]);
    }
  }
  return owners;
}

function isMainGuard(node: Node): boolean {
  if (node.type !== 'if_statement') return false;
  const condition = node.childForFieldName('condition')?.text.replace(/\s+/g, '') ?? '';
  return /^__name__==(['"])__main__\1$/.test(condition) || /^(['"])__main__\1==__name__$/.test(condition);
}

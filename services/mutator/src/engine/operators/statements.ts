// Operators on statements and definitions: return values, statement deletion, break/continue,
// exception handlers, default arguments, index and slice bounds.
import type { Node } from 'web-tree-sitter';
import { asOperand, numericValue, replaceNode, type Candidate, type Operator } from '../operator.js';

/** The replacement padded with the line breaks of what it replaces (the line count must not change). */
export function keepLines(node: Node, replacement: string): string {
  const breaks = (node.text.match(/\n/g) ?? []).length;
  return replacement + '\n'.repeat(breaks);
}

export const returnValue: Operator = {
  id: 'return',
  name: 'ReturnValue',
  description: 'return <value> → return None',
  candidates(node) {
    if (node.type !== 'return_statement') return [];
    const value = node.namedChildren.find((c) => c !== null && c.type !== 'comment');
    if (!value || value.type === 'none') return [];
    return [replaceNode(value, keepLines(value, 'None'))];
  },
};

/** A bare string (docstring or not), `...` or `pass`: deleting it changes nothing. */
export function isInert(statement: Node): boolean {
  if (statement.type === 'pass_statement') return true;
  if (statement.type !== 'expression_statement') return false;
  const only = statement.namedChildCount === 1 ? statement.namedChild(0) : null;
  return only !== null && ['string', 'concatenated_string', 'ellipsis'].includes(only.type);
}

const deletable = new Set(['expression_statement', 'assert_statement', 'raise_statement', 'delete_statement']);

export const statement: Operator = {
  id: 'statement',
  name: 'StatementDeletion',
  description: 'an expression, assignment, assert, raise or del statement → pass',
  candidates(node) {
    if (!deletable.has(node.type)) return [];
    if (isInert(node)) return [];
    return [replaceNode(node, keepLines(node, 'pass'))];
  },
};

export const loopControl: Operator = {
  id: 'loop',
  name: 'BreakContinue',
  description: 'break ↔ continue',
  candidates(node) {
    if (node.type === 'break_statement') return [replaceNode(node, 'continue')];
    if (node.type === 'continue_statement') return [replaceNode(node, 'break')];
    return [];
  },
};

export const exceptionHandler: Operator = {
  id: 'except',
  name: 'ExceptionHandler',
  description: 'except X: → except (): (the handler never catches; a bare except too)',
  candidates(node) {
    if (node.type !== 'except_clause') return [];
    const keyword = node.child(0);
    if (!keyword || keyword.type !== 'except') return [];
    const next = node.child(1);
    if (!next || next.type === '*') return []; // except* (exception groups) is left alone
    if (next.type === ':') return [replaceNode(keyword, 'except ()')];
    const caught = next.type === 'as_pattern' ? next.namedChild(0) : next;
    if (!caught || (caught.type === 'tuple' && caught.namedChildCount === 0)) return [];
    return [replaceNode(caught, keepLines(caught, '()'))];
  },
};

export const defaultArgument: Operator = {
  id: 'default',
  name: 'DefaultArgument',
  description: 'def f(x=<value>) → def f(x=None)',
  candidates(node) {
    if (node.type !== 'default_parameter' && node.type !== 'typed_default_parameter') return [];
    const value = node.childForFieldName('value');
    if (!value || value.type === 'none') return [];
    return [replaceNode(value, keepLines(value, 'None'))];
  },
};

/** Literal indices are the number operator's (a[1] → a[2]); string keys and tuples are not positions. */
function isPosition(index: Node): boolean {
  if (numericValue(index) !== undefined) return false;
  if (index.type === 'unary_operator' && numericValue(index.childForFieldName('argument') ?? index) !== undefined)
    return false;
  return !['string', 'concatenated_string', 'tuple', 'slice', 'none', 'true', 'false', 'ellipsis'].includes(index.type);
}

function offByOne(bound: Node): Candidate[] {
  const operand = asOperand(bound);
  return [replaceNode(bound, `${operand} + 1`), replaceNode(bound, `${operand} - 1`)];
}

export const indexOffByOne: Operator = {
  id: 'index',
  name: 'IndexOffByOne',
  description: 'a[i] → a[i + 1], a[i - 1]; each bound of a slice likewise (literal bounds: the number operator)',
  candidates(node) {
    if (node.type !== 'subscript') return [];
    const indices = node.childrenForFieldName('subscript').filter((c): c is Node => c !== null);
    if (indices.length !== 1) return [];
    const [index] = indices;
    if (!index) return [];
    if (index.type !== 'slice') return isPosition(index) ? offByOne(index) : [];
    return index.namedChildren.filter((b): b is Node => b !== null && isPosition(b)).flatMap(offByOne);
  },
};

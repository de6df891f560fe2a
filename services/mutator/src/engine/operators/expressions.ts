// Operators on expressions: arithmetic, comparison, logical, `not`, unary, augmented assignment.
import type { Node } from 'web-tree-sitter';
import { isLiteral, operatorToken, replaceNode, type Candidate, type Operator } from '../operator.js';

/** One replacement per operator, as mutmut: each operator becomes its "opposite". */
const arithmeticSwap: Record<string, string> = {
  '+': '-',
  '-': '+',
  '*': '/',
  '/': '*',
  '//': '/',
  '%': '/',
  '**': '*',
  '<<': '>>',
  '>>': '<<',
  '&': '|',
  '|': '&',
  '^': '&',
};

export const arithmetic: Operator = {
  id: 'arithmetic',
  name: 'ArithmeticOperator',
  description: '+ ↔ -, * ↔ /, // → /, % → /, ** → *, << ↔ >>, & ↔ |, ^ → &',
  candidates(node) {
    if (node.type !== 'binary_operator') return [];
    const op = operatorToken(node);
    const swapped = op ? arithmeticSwap[op.type] : undefined;
    if (!op || !swapped) return [];
    const right = node.childForFieldName('right');
    // x + 0 and x - 0 are the same number; so are x ** 1 and x * 1.
    const equivalent =
      ((op.type === '+' || op.type === '-') && isLiteral(right, 0)) || (op.type === '**' && isLiteral(right, 1));
    return [replaceNode(op, swapped, equivalent ? 'equivalent' : undefined)];
  },
};

/** Boundaries (< ↔ <=, > ↔ >=) and negations of equality, identity and membership. */
const comparisonSwap: Record<string, string> = {
  '<': '<=',
  '<=': '<',
  '>': '>=',
  '>=': '>',
  '==': '!=',
  '!=': '==',
  '<>': '==',
  is: 'is not',
  'is not': 'is',
  in: 'not in',
  'not in': 'in',
};

export const comparison: Operator = {
  id: 'comparison',
  name: 'ComparisonOperator',
  description: '< ↔ <=, > ↔ >=, == ↔ !=, is ↔ is not, in ↔ not in (each operator of a chain on its own)',
  candidates(node) {
    if (node.type !== 'comparison_operator') return [];
    const out: Candidate[] = [];
    for (const child of node.children) {
      if (!child || child.isNamed) continue;
      const swapped = comparisonSwap[child.type];
      if (swapped) out.push(replaceNode(child, swapped));
    }
    return out;
  },
};

export const logical: Operator = {
  id: 'logical',
  name: 'LogicalOperator',
  description: 'and ↔ or',
  candidates(node) {
    if (node.type !== 'boolean_operator') return [];
    const op = operatorToken(node);
    if (!op) return [];
    if (op.type === 'and') return [replaceNode(op, 'or')];
    if (op.type === 'or') return [replaceNode(op, 'and')];
    return [];
  },
};

export const notRemoval: Operator = {
  id: 'not',
  name: 'NotRemoval',
  description: 'not x → x',
  candidates(node) {
    if (node.type !== 'not_operator') return [];
    const arg = node.childForFieldName('argument');
    if (!arg) return [];
    // A line break between `not` and its operand stays (with its indentation), so the line count does too.
    const removed = node.text.slice(0, arg.startIndex - node.startIndex);
    return [
      { start: node.startIndex, end: arg.startIndex, replacement: removed.includes('\n') ? removed.slice(3) : '' },
    ];
  },
};

export const unary: Operator = {
  id: 'unary',
  name: 'UnaryOperator',
  description: '-x → +x, +x → -x, ~x → x',
  candidates(node) {
    if (node.type !== 'unary_operator') return [];
    const op = operatorToken(node);
    const arg = node.childForFieldName('argument');
    if (!op || !arg) return [];
    // -0 and +0 are 0.
    const skip = isLiteral(arg, 0) ? 'equivalent' : undefined;
    if (op.type === '-') return [replaceNode(op, '+', skip)];
    if (op.type === '+') return [replaceNode(op, '-', skip)];
    if (op.type === '~') return [{ start: op.startIndex, end: arg.startIndex, replacement: '' }];
    return [];
  },
};

const augmentedSwap: Record<string, string> = {
  '+=': '-=',
  '-=': '+=',
  '*=': '/=',
  '/=': '*=',
  '//=': '/=',
  '%=': '/=',
  '**=': '*=',
  '<<=': '>>=',
  '>>=': '<<=',
  '&=': '|=',
  '|=': '&=',
  '^=': '&=',
};

export const augmented: Operator = {
  id: 'augmented',
  name: 'AugmentedAssignment',
  description: '+= ↔ -=, *= ↔ /=, //= → /=, %= → /=, **= → *=, <<= ↔ >>=, &= ↔ |=, ^= → &=',
  candidates(node: Node) {
    if (node.type !== 'augmented_assignment') return [];
    const op = operatorToken(node);
    const swapped = op ? augmentedSwap[op.type] : undefined;
    if (!op || !swapped) return [];
    const right = node.childForFieldName('right');
    const equivalent = (op.type === '+=' || op.type === '-=') && isLiteral(right, 0);
    return [replaceNode(op, swapped, equivalent ? 'equivalent' : undefined)];
  },
};

import type { Node } from 'web-tree-sitter';
import type { OperatorInfo } from '@evalfleet/shared/workflow';

/**
 * One way to change the program at `node`: replace source[start, end) (UTF-16 indices, as tree-sitter
 * counts) with `replacement`. `rule` names a documented reason to leave it out instead (see skip.ts).
 */
export type Candidate = { start: number; end: number; replacement: string; skip?: string };

export type Operator = OperatorInfo & {
  /** Candidates at `node` (called for every node outside the skipped regions). */
  candidates(node: Node): Candidate[];
};

/** Replace the whole node. */
export function replaceNode(node: Node, replacement: string, skip?: string): Candidate {
  return { start: node.startIndex, end: node.endIndex, replacement, ...(skip ? { skip } : {}) };
}

/** The anonymous operator token of a binary, boolean, augmented or unary node. */
export function operatorToken(node: Node): Node | null {
  return node.childForFieldName('operator');
}

const simpleExpressions = new Set([
  'identifier',
  'attribute',
  'call',
  'subscript',
  'parenthesized_expression',
  'integer',
  'float',
  'string',
  'list',
  'tuple',
  'dictionary',
  'set',
]);

/** `node`'s text, parenthesised unless it is an atom (so `i + 1` keeps its meaning in any context). */
export function asOperand(node: Node): string {
  return simpleExpressions.has(node.type) ? node.text : `(${node.text})`;
}

/** A numeric literal's value; `undefined` for imaginary literals and anything unparsable. */
export function numericValue(node: Node): { int: bigint } | { float: number } | undefined {
  const text = node.text.replace(/_/g, '');
  if (node.type === 'integer') {
    if (/[jJ]$/.test(text)) return undefined;
    try {
      return { int: BigInt(/^0[0-7]+$/.test(text) ? `0o${text.slice(1)}` : text.toLowerCase()) };
    } catch {
      return undefined;
    }
  }
  if (node.type === 'float') {
    if (/[jJ]$/.test(text)) return undefined;
    const value = Number(text);
    return Number.isFinite(value) ? { float: value } : undefined;
  }
  return undefined;
}

/** A float as Python source (always with a `.` or an exponent, so it stays a float). */
export function floatText(value: number): string {
  const text = String(value);
  return /[.eEn]/.test(text) ? text : `${text}.0`;
}

/** Whether `node` is a numeric literal equal to `value` (optionally under unary minus). */
export function isLiteral(node: Node | null, value: number): boolean {
  if (!node) return false;
  const n = numericValue(node);
  if (!n) return false;
  return 'int' in n ? n.int === BigInt(value) : n.float === value;
}

// Operators on literals: numbers, strings, True/False.
import type { Node } from 'web-tree-sitter';
import { floatText, numericValue, replaceNode, type Candidate, type Operator } from '../operator.js';

export const number: Operator = {
  id: 'number',
  name: 'NumberLiteral',
  description: 'n → n+1, n → n-1, n → 0 (a replacement equal to n, or to another one, is made once)',
  candidates(node) {
    const value = numericValue(node);
    if (!value) return [];
    const texts =
      'int' in value
        ? [value.int + 1n, value.int - 1n, 0n].map((v) => v.toString())
        : [value.float + 1, value.float - 1, 0].map(floatText);
    const original = 'int' in value ? value.int.toString() : floatText(value.float);
    return [...new Set(texts)]
      .filter((t) => t !== original)
      .map((t) => replaceNode(node, t.startsWith('-') && precededByOperator(node) ? `(${t})` : t));
  },
};

/** `x - -1` reads badly and `x**-1` binds differently in places: a negative replacement after an operator is parenthesised. */
function precededByOperator(node: Node): boolean {
  const prev = node.previousSibling;
  return prev !== null && !prev.isNamed && !['(', '[', ',', '=', ':', '{'].includes(prev.type);
}

type StringParts = { prefix: string; quote: string; content: string; multiline: boolean; interpolated: boolean };

function parts(node: Node): StringParts | undefined {
  const start = node.children.find((c) => c?.type === 'string_start');
  if (!start) return undefined;
  const m = /^([A-Za-z]*)("""|'''|"|')$/.exec(start.text);
  if (!m) return undefined;
  const prefix = m[1] ?? '';
  const quote = m[2] ?? '"';
  const content = node.text.slice(start.text.length, node.text.length - quote.length);
  return {
    prefix,
    quote,
    content,
    multiline: content.includes('\n'),
    interpolated: node.children.some((c) => c?.type === 'interpolation'),
  };
}

export const string: Operator = {
  id: 'string',
  name: 'StringLiteral',
  description:
    'a non-empty string → empty, an empty one → "mutated" (docstrings and other bare strings are left alone)',
  candidates(node): Candidate[] {
    if (node.type !== 'string') return [];
    const p = parts(node);
    if (!p) return [];
    if (p.content === '') return [replaceNode(node, `${p.prefix}${p.quote}mutated${p.quote}`)];
    // A multi-line string keeps its line breaks (inside the quotes), so every other line keeps its number.
    const inner = p.multiline ? p.content.replace(/[^\n]/g, '') : '';
    if (inner === p.content) return [];
    return [replaceNode(node, `${p.prefix}${p.quote}${inner}${p.quote}`)];
  },
};

export const boolean: Operator = {
  id: 'boolean',
  name: 'BooleanLiteral',
  description: 'True ↔ False',
  candidates(node) {
    if (node.type === 'true') return [replaceNode(node, 'False')];
    if (node.type === 'false') return [replaceNode(node, 'True')];
    return [];
  },
};

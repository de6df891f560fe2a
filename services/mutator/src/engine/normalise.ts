import type { Node } from 'web-tree-sitter';

/**
 * The tokens of `node` with what cannot change behaviour taken out: comments, layout, quote style
 * ('a' and "a"), number spelling (0x10 and 16, 1_000 and 1000). Two sources with the same normalised
 * tokens are the same program for mutation purposes.
 */
export function normalisedTokens(node: Node, range?: { start: number; end: number }): string {
  const out: string[] = [];
  const cursor = node.walk();
  const from = range?.start ?? node.startIndex;
  const to = range?.end ?? node.endIndex;
  try {
    let descending = true;
    for (;;) {
      const current = cursor.currentNode;
      // Only what lies in the range: a statement of a whole mutated file.
      const overlaps = current.endIndex > from && current.startIndex < to;
      if (descending && overlaps) {
        const leaf = leafText(current);
        if (leaf !== undefined) {
          if (leaf !== '' && current.startIndex >= from && current.endIndex <= to) out.push(leaf);
        } else if (cursor.gotoFirstChild()) {
          continue;
        }
      }
      if (cursor.gotoNextSibling()) {
        descending = true;
        continue;
      }
      if (!cursor.gotoParent() || cursor.currentNode.id === node.id) break;
      descending = false;
    }
  } finally {
    cursor.delete();
  }
  return out.join('\u0000');
}

/** The normalised text of a node that is a token for our purposes, '' to drop it, undefined to descend. */
function leafText(node: Node): string | undefined {
  switch (node.type) {
    case 'comment':
      return '';
    case 'string':
      return normalisedString(node.text);
    case 'integer':
      try {
        return BigInt(node.text.replace(/_/g, '').toLowerCase()).toString();
      } catch {
        return node.text;
      }
    case 'float': {
      const value = Number(node.text.replace(/_/g, ''));
      return Number.isFinite(value) ? `f${value}` : node.text;
    }
    default:
      return node.childCount === 0 ? node.text : undefined;
  }
}

function normalisedString(text: string): string {
  const m = /^([A-Za-z]*)("""|'''|"|')([\s\S]*)\2$/.exec(text);
  if (!m) return text;
  const prefix = (m[1] ?? '').toLowerCase().split('').sort().join('');
  return `${prefix}"${m[3] ?? ''}"`;
}

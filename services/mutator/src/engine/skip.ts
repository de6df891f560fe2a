// Where no mutant is made, and why (each rule is counted in MutateResult.skipped):
// - `docstring`: bare strings (docstrings and string "comments") — a program never reads them as values;
// - `annotation`: parameter, return and variable annotations — Python does not check them at run time;
// - `decorator`: decorator expressions (mutmut's rule: they mostly configure frameworks);
// - `main_guard`: `if __name__ == "__main__":` blocks — never run under pytest;
// - `type_checking`: `if TYPE_CHECKING:` blocks — never run;
// - `dunder`: assignments to `__all__`, `__version__`, `__slots__` and other dunder names (metadata);
// - `pragma`: lines marked `# pragma: no mutate`;
// - `equivalent`: a replacement that cannot change behaviour (x + 0 → x - 0, -0 → +0, x ** 1 → x * 1);
// - `same_source` / `duplicate` (generate.ts): the normalised mutated source equals the original's or an
//   earlier mutant's; `unparsable`: tree-sitter finds an error in the mutated file.
import type { Node } from 'web-tree-sitter';
import { isInert } from './operators/statements.js';

export const skipRules = [
  'docstring',
  'annotation',
  'decorator',
  'main_guard',
  'type_checking',
  'dunder',
  'pragma',
  'equivalent',
  'same_source',
  'duplicate',
  'unparsable',
] as const;
export type SkipRule = (typeof skipRules)[number];

const dunder = /^__\w+__$/;

function isMainGuard(node: Node): boolean {
  if (node.type !== 'if_statement') return false;
  const cond = node.childForFieldName('condition');
  if (!cond || cond.type !== 'comparison_operator') return false;
  const text = cond.text.replace(/\s+/g, '').replace(/'/g, '"');
  return text === '__name__=="__main__"' || text === '"__main__"==__name__';
}

function isTypeChecking(node: Node): boolean {
  if (node.type !== 'if_statement') return false;
  const cond = node.childForFieldName('condition');
  return cond !== null && /^(typing\.)?TYPE_CHECKING$/.test(cond.text);
}

function isDunderAssignment(node: Node): boolean {
  if (node.type !== 'expression_statement') return false;
  const assignment = node.namedChild(0);
  if (!assignment || (assignment.type !== 'assignment' && assignment.type !== 'augmented_assignment')) return false;
  const left = assignment.childForFieldName('left');
  return left !== null && left.type === 'identifier' && dunder.test(left.text);
}

/** The rule that excludes `node` and everything under it, if any. */
export function skippedRegion(node: Node): SkipRule | undefined {
  switch (node.type) {
    case 'decorator':
      return 'decorator';
    case 'type':
      return 'annotation';
    default:
      break;
  }
  const parent = node.parent;
  if (parent?.type === 'function_definition' && parent.childForFieldName('return_type')?.id === node.id)
    return 'annotation';
  if (isInert(node)) return 'docstring';
  if (isMainGuard(node)) return 'main_guard';
  if (isTypeChecking(node)) return 'type_checking';
  if (isDunderAssignment(node)) return 'dunder';
  return undefined;
}

/** 0-based rows of lines carrying `# pragma: no mutate`. */
export function pragmaRows(source: string): Set<number> {
  const rows = new Set<number>();
  source.split('\n').forEach((line, row) => {
    if (/#\s*pragma:\s*no\s+mutate/.test(line)) rows.add(row);
  });
  return rows;
}

import type { Operator } from '../operator.js';
import { arithmetic, augmented, comparison, logical, notRemoval, unary } from './expressions.js';
import { boolean, number, string } from './literals.js';
import { defaultArgument, exceptionHandler, indexOffByOne, loopControl, returnValue, statement } from './statements.js';

/** Every operator, in the order mutants at one place are listed (and ids given). Ids never change. */
export const operators: readonly Operator[] = [
  arithmetic,
  comparison,
  logical,
  notRemoval,
  unary,
  number,
  string,
  boolean,
  returnValue,
  statement,
  loopControl,
  indexOffByOne,
  exceptionHandler,
  defaultArgument,
  augmented,
];

/** The operators with these ids (all when absent); an unknown id is an error that names the known ones. */
export function selectOperators(ids?: readonly string[]): Operator[] {
  if (!ids || ids.length === 0) return [...operators];
  const known = new Map(operators.map((o) => [o.id, o]));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw new Error(`unknown mutation operator ${unknown.join(', ')} (known: ${[...known.keys()].join(', ')})`);
  return operators.filter((o) => ids.includes(o.id));
}

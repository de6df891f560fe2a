import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '@evalfleet/shared/extraction';
import type { MutantSpec, MutationCapability, MutateResult } from '@evalfleet/shared/workflow';
import { mutateFile } from './generate.js';
import { operators, selectOperators } from './operators/index.js';

export { operators, selectOperators } from './operators/index.js';
export { skipRules } from './skip.js';

/**
 * The `mutation` capability: Python files in, mutants out (tree-sitter, the operators in ./operators,
 * the rules in ./skip.ts). One parser per engine; calls are serialised by the caller's await.
 */
export async function createMutationEngine(): Promise<MutationCapability> {
  const parser: Parser = await createPythonParser();
  return {
    operators: () => operators.map(({ id, name, description }) => ({ id, name, description })),
    mutate: (req) => {
      const selected = selectOperators(req.operators);
      const result: MutateResult = { mutants: [], skipped: {}, errors: [] };
      const files = [...req.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      for (const file of files) {
        const out: MutantSpec[] | { error: string } = mutateFile(parser, file, selected, result.skipped);
        if ('error' in out) result.errors.push({ file: file.path, message: out.error });
        else result.mutants.push(...out);
      }
      return Promise.resolve(result);
    },
  };
}

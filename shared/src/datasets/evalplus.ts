import { signatureLine } from './humaneval.js';
import type { EvalPlusTests, Problem } from './problem.js';
import { arrayElements, checkPythonJson, objectMembers, type Span } from './raw-json.js';
import { finish, taskIdPrefix, type RecordResult } from './record-result.js';

/**
 * An EvalPlus record (HumanEval+ and MBPP+ share the format): `task_id`, `prompt`, `entry_point`,
 * `canonical_solution`, `base_input`, `plus_input`, `atol`, `contract`; other fields are ignored. Read from the
 * line's own text (`raw-json.ts`), because the inputs are Python's JSON: they are kept as text, one argument
 * list each, and only Python reads them. A completion continues the prompt (`prompt + completion`, as EvalPlus
 * builds a solution); for MBPP+ the prompt is a docstring and the completion the whole function.
 */
export function fromEvalPlusLine(line: string): RecordResult {
  let members: Map<string, Span>;
  try {
    members = objectMembers(line);
  } catch (err) {
    return { ok: false, message: `invalid JSON: ${(err as Error).message}` };
  }
  const raw = (key: string) => {
    const span = members.get(key);
    return span === undefined ? undefined : line.slice(span.start, span.end);
  };
  const scalar = (key: string): unknown => {
    const text = raw(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return Symbol.for('invalid');
    }
  };
  const text = (key: string, fallback?: string): string | { error: string } => {
    const value = scalar(key) ?? fallback;
    if (typeof value === 'string') return value;
    return { error: value === undefined ? `missing field '${key}'` : `field '${key}' must be a string` };
  };
  const taskIdValue = scalar('task_id');
  const fields = {
    prompt: text('prompt'),
    entryPoint: text('entry_point'),
    canonical: text('canonical_solution'),
    contract: text('contract', ''),
  };
  for (const value of Object.values(fields)) if (typeof value !== 'string') return { ok: false, message: value.error };
  if (typeof taskIdValue !== 'string' && typeof taskIdValue !== 'number')
    return { ok: false, message: "missing field 'task_id'" };
  const atol = scalar('atol') ?? 0;
  if (typeof atol !== 'number' || !(atol >= 0)) return { ok: false, message: "field 'atol' must be a number >= 0" };
  const base = inputsOf(raw('base_input'), 'base_input');
  const plus = inputsOf(raw('plus_input') ?? '[]', 'plus_input');
  if ('error' in base) return { ok: false, message: base.error };
  if ('error' in plus) return { ok: false, message: plus.error };

  const taskId = String(taskIdValue);
  const [prompt, entryPoint, canonical, contract] = [
    fields.prompt,
    fields.entryPoint,
    fields.canonical,
    fields.contract,
  ] as string[];
  const tests: EvalPlusTests = {
    dataset: evalplusDatasetOf(taskId),
    baseInputs: base.inputs,
    plusInputs: plus.inputs,
    atol,
    contract: contract!,
  };
  return finish(
    {
      taskId,
      entryPoint: entryPoint!,
      prompt: prompt!,
      tests: `EvalPlus differential tests: ${base.inputs.length} base and ${plus.inputs.length} plus inputs, outputs compared with the canonical solution's`,
      testFormat: 'evalplus',
      category: taskIdPrefix(taskId) ?? 'evalplus',
      referenceSolution: canonical!,
      referenceMode: 'completion',
      signature: signatureLine(prompt! + canonical!, entryPoint!),
      starterCode: prompt!,
      source: 'evalplus',
      evalplus: tests,
    },
    { taskId: 'task_id', entryPoint: 'entry_point', referenceSolution: 'canonical_solution' },
  );
}

function inputsOf(text: string | undefined, field: string): { inputs: string[] } | { error: string } {
  if (text === undefined) return { error: `missing field '${field}'` };
  try {
    checkPythonJson(text);
    const inputs = arrayElements(text);
    const bad = inputs.findIndex((input) => !input.startsWith('['));
    if (bad >= 0) return { error: `field '${field}': input ${bad} is not a list of arguments` };
    return { inputs };
  } catch (err) {
    return { error: `field '${field}': ${(err as Error).message}` };
  }
}

/** `HumanEval/…` and `Mbpp/…` tasks get that release's special oracles and input conversions; others none. */
export function evalplusDatasetOf(taskId: string): EvalPlusTests['dataset'] {
  if (taskId.startsWith('HumanEval/')) return 'humaneval';
  if (taskId.startsWith('Mbpp/')) return 'mbpp';
  return 'custom';
}

/** Whether a line looks like an EvalPlus record (its top-level keys), without parsing its values. */
export function looksLikeEvalPlus(line: string): boolean {
  try {
    const members = objectMembers(line);
    return members.has('base_input') && members.has('canonical_solution');
  } catch {
    return false;
  }
}

/**
 * The reference program EvalPlus computes expected outputs with: `prompt + canonical_solution`; with the
 * contract, the program its input generator validated inputs with: HumanEval+ puts the contract between the
 * prompt and the body, MBPP+ right after the `def <entry_point>(` line of the canonical solution (undefined when
 * there is no such line). A task without a contract has no contract program.
 */
export function evalplusReferenceProgram(problem: Problem, withContract: boolean): string | undefined {
  const prompt = problem.starterCode ?? '';
  const canonical = problem.referenceSolution ?? '';
  if (!withContract) return prompt + canonical;
  const contract = problem.evalplus?.contract ?? '';
  if (contract.trim() === '') return undefined;
  const promptDefines = new RegExp(`^\\s*def\\s+${problem.entryPoint}\\s*\\(`, 'm').test(prompt);
  if (problem.evalplus?.dataset === 'humaneval' || (problem.evalplus?.dataset === 'custom' && promptDefines)) {
    return prompt + contract + canonical;
  }
  const lines = canonical.split('\n');
  const index = lines.findIndex(
    (line) => line.startsWith(`def ${problem.entryPoint}(`) || line.startsWith(`def ${problem.entryPoint} (`),
  );
  if (index < 0) return undefined;
  lines.splice(index + 1, 0, contract);
  return prompt + lines.join('\n');
}

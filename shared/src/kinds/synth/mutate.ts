import { createHash } from 'node:crypto';
import { need, type JobContext, type MutantSpec, type OperatorInfo } from '../../workflow/index.js';
import { jobOf } from './job.js';
import type { MutatePayload, Strategy } from './messages.js';
import { taskPaths } from './project.js';
import { loadAnswer, saveJson, type Candidate, type Mutants } from './state.js';

// Which of the mutator's operators each strategy uses. Numeric perturbations are the constant
// operator (n → n+1, n-1, 0); AST edits are the structural ones. String literals are left out: they
// mostly reword messages no test reads.
const numericOperators = new Set(['number']);
const excluded = new Set(['string']);

export function operatorsFor(strategy: Strategy, all: readonly OperatorInfo[]): string[] {
  if (strategy === 'llm') return [];
  return all
    .map((o) => o.id)
    .filter((id) => !excluded.has(id) && (strategy === 'numeric') === numericOperators.has(id));
}

/** The module with the mutant's lines replaced (a mutant keeps the line count). */
export function applyMutant(source: string, m: Pick<MutantSpec, 'lines' | 'text'>): string {
  const lines = source.split('\n');
  lines.splice(m.lines[0] - 1, m.lines[1] - m.lines[0] + 1, ...m.text.split('\n'));
  return lines.join('\n');
}

/**
 * Up to `max` mutants spread over the module: ordered by a hash of `seed` (the scenario, generation
 * and strategy) and the mutant, so the choice is stable across redeliveries and reruns and does not
 * favour the top of the file.
 */
export function pickMutants(mutants: readonly MutantSpec[], max: number, seed: string): MutantSpec[] {
  const rank = (m: MutantSpec) =>
    createHash('sha256')
      .update(`${seed}\u0000${m.operator}\u0000${m.lines.join(':')}\u0000${m.text}`)
      .digest('hex');
  return [...mutants]
    .map((m) => ({ m, r: rank(m) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .slice(0, max)
    .map((x) => x.m);
}

/** `synth.mutate`: the mutator's AST and numeric bugs for the clean module, up to the cap per strategy. */
export async function mutate(p: MutatePayload, ctx: JobContext): Promise<void> {
  const mutation = need(ctx.caps, 'mutation');
  const { answer } = await loadAnswer(ctx, p.answer);
  const { modulePath } = taskPaths(answer.moduleName);
  const all = mutation.operators();
  const wanted = p.strategies.filter((s): s is Exclude<Strategy, 'llm'> => s !== 'llm');
  const result = await mutation.mutate({
    files: [{ path: modulePath, text: answer.moduleCode }],
    operators: [...new Set(wanted.flatMap((s) => operatorsFor(s, all)))],
  });
  const candidates: Candidate[] = [];
  const made: Record<string, number> = {};
  for (const strategy of wanted) {
    const ops = new Set(operatorsFor(strategy, all));
    const own = result.mutants.filter((m) => ops.has(m.operator));
    made[strategy] = own.length;
    for (const m of pickMutants(own, p.maxCandidates, `${p.scenario.id}/${p.gen}/${strategy}`)) {
      candidates.push({
        strategy,
        operator: m.operator,
        description: m.mutatorName,
        line: m.location.start.line,
        original: m.original,
        replacement: m.replacement,
        code: applyMutant(answer.moduleCode, m),
      });
    }
  }
  const record: Mutants = { candidates, made, errors: result.errors.map((e) => e.message.slice(0, 300)) };
  const mutants = await saveJson(ctx, p.gen, 'mutants.json', record);
  await ctx.emit('proposed', { ...jobOf(p), answer: p.answer, clean: p.clean, mutants }, { progress: 'mutate' });
}

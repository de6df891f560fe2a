import type { Kind, Stage } from './envelope.js';

/**
 * The pipeline of every job kind: for each stage, where a job goes next on each
 * outcome. Services look their next step up here instead of naming each other's queues.
 * `'done'` means the job is terminal at that stage.
 */
export type Transitions = Readonly<Record<string, Stage | 'done'>>;
export type Pipeline = Readonly<Partial<Record<Stage, Transitions>>>;

export const workflow: Readonly<Partial<Record<Kind, Pipeline>>> = {
  echo: {
    produce: { ok: 'aggregate' },
    aggregate: { ok: 'done' },
  },
  solve: {
    produce: { ok: 'generate' },
    // A generation that yields code is evaluated; no code / syntax error / budget stop is a result already.
    generate: {
      ok: 'evaluate',
      no_code: 'aggregate',
      syntax_error: 'aggregate',
      budget_exhausted: 'aggregate',
      failed: 'aggregate',
    },
    evaluate: { ok: 'aggregate' },
    aggregate: { ok: 'done' },
  },
};

export class WorkflowError extends Error {
  override name = 'WorkflowError';
}

/** Next stage of `kind` after `stage` finished with `outcome` (falls back to the `ok` transition only if none is given for that outcome and `strict` is false). */
export function nextStage(kind: Kind, stage: Stage, outcome: string): Stage | 'done' {
  const transitions = workflow[kind]?.[stage];
  if (!transitions) throw new WorkflowError(`kind ${kind} has no stage ${stage}`);
  const next = transitions[outcome];
  if (!next) throw new WorkflowError(`kind ${kind} stage ${stage} has no transition for outcome ${outcome}`);
  return next;
}

/** The stage a new job of `kind` starts at after the producer. */
export function firstStage(kind: Kind): Stage {
  const next = nextStage(kind, 'produce', 'ok');
  if (next === 'done') throw new WorkflowError(`kind ${kind} ends at produce`);
  return next;
}

export function stagesOf(kind: Kind): Stage[] {
  return Object.keys(workflow[kind] ?? {}) as Stage[];
}

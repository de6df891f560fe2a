import { z } from 'zod';
import { defineKind, RESULT, type Loop } from '../../workflow/index.js';
import { promptCli } from './cli.js';
import { promptDeadLettered } from './dead-letter.js';
import { expandPrompt } from './expand.js';
import { promptHtml } from './html.js';
import { promptMessages, promptResultSchema, promptSpecSchema, stageOutcomes } from './messages.js';
import { promptReport } from './report.js';
import { stageHandler } from './stage.js';

export * from './messages.js';
export {
  compileAnswerSchema,
  parseJsonAnswer,
  retryPrompt,
  type AnswerValidator,
  type CheckedAnswer,
} from './answer.js';
export { evaluateCondition, parseCondition, type Condition } from './condition.js';
export { parsePipeline, pipelineModels, scalarFields, type PromptPipeline, type PromptStage } from './pipeline.js';
export { checkRecordFields, parseRecords, selectRecords, type PromptRecord } from './records.js';
export { renderTemplate, templatePaths } from './template.js';
export { promptJobId } from './expand.js';
export { promptSummaryLines } from './cli.js';
export type { PromptSummary, StageSummary } from './report.js';

const position = z.object({ stageIndex: z.number(), stageCount: z.number() });

// Every outcome of a stage moves the record on: to the next stage while there is one (the cap
// travels in the payload), else the record's result.
const next: Loop = {
  to: promptMessages.stage.type,
  while: (payload) => {
    const p = position.safeParse(payload);
    return p.success && p.data.stageIndex < p.data.stageCount;
  },
  otherwise: RESULT,
};

/**
 * `prompt`: a staged LLM pipeline over JSONL records. Each record is a job whose stages run in
 * order as a loop on `prompt.stage` (generate): `when` may skip a stage, answers must match the
 * stage's JSON Schema (invalid ones are retried with the errors), every answer is cached.
 */
export const promptKind = defineKind({
  name: 'prompt',
  description: 'a staged LLM pipeline over JSONL records: templates, JSON-schema answers, conditions, cached',
  spec: promptSpecSchema,
  messages: [promptMessages.stage],
  pipeline: {
    produce: { ok: promptMessages.stage.type },
    [promptMessages.stage.type]: Object.fromEntries(stageOutcomes.map((o) => [o, next])),
  },
  expand: expandPrompt,
  worker: (host) => [stageHandler(host.store)],
  result: promptResultSchema,
  deadLettered: promptDeadLettered,
  report: promptReport,
  html: promptHtml,
  cli: promptCli,
});

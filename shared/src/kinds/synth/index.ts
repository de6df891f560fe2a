import { defineHandler, defineKind, RESULT } from '../../workflow/index.js';
import { check } from './check.js';
import { clean } from './clean.js';
import { synthCli } from './cli.js';
import { expandSynth } from './expand.js';
import { generate } from './generate.js';
import { synthHtml } from './html.js';
import { nextGeneration } from './job.js';
import { synthMessages, synthSpecSchema } from './messages.js';
import { mutate } from './mutate.js';
import { synthReport } from './report.js';
import { synthDeadLettered, synthResultSchema } from './result.js';
import { validateTask } from './validate.js';

export * from './messages.js';
export * from './result.js';
export { parseCatalog, interleaveByDomain, scenarioId } from './catalog.js';
export { parseSynthAnswer } from './answer.js';
export { assignScenarios, scenarioKeys, usedSetName } from './scenarios.js';
export { taskRecordSchema, instanceOf, type TaskRecord } from './task.js';
export { untarGz } from './bundle.js';
export { synthSummary, type SynthSummary } from './report.js';
export { bundledCatalog } from './cli.js';

/**
 * `synth`: verified synthetic debugging tasks. Per scenario and model: the model writes a module,
 * its tests and buggy variants (`synth.generate`); the clean suite must pass three times
 * (`synth.clean`); the mutator adds AST and numeric bugs (`synth.mutate`); each strategy's first
 * buggy version that fails ≥ 1 test and passes ≥ 1 becomes a task (`synth.check`). A generation
 * turned down starts the next one while retries are left. `validate` re-runs saved tasks.
 */
export const synthKind = defineKind({
  name: 'synth',
  description: 'verified synthetic debugging tasks: module + tests that pass, a bug that fails them, the conversation',
  spec: synthSpecSchema,
  messages: [
    synthMessages.generate,
    synthMessages.clean,
    synthMessages.mutate,
    synthMessages.check,
    synthMessages.validate,
  ],
  pipeline: {
    produce: { generate: synthMessages.generate.type, validate: synthMessages.validate.type },
    [synthMessages.generate.type]: {
      generated: synthMessages.clean.type,
      rejected: nextGeneration,
      budget_exhausted: RESULT,
    },
    [synthMessages.clean.type]: {
      passed: synthMessages.mutate.type,
      passed_llm_only: synthMessages.check.type,
      rejected: nextGeneration,
    },
    [synthMessages.mutate.type]: { proposed: synthMessages.check.type },
    [synthMessages.check.type]: { accepted: RESULT, rejected: nextGeneration },
    [synthMessages.validate.type]: { valid: RESULT, invalid: RESULT },
  },
  expand: expandSynth,
  worker: () => [
    defineHandler(synthMessages.generate, generate),
    defineHandler(synthMessages.clean, clean),
    defineHandler(synthMessages.mutate, mutate),
    defineHandler(synthMessages.check, check),
    defineHandler(synthMessages.validate, validateTask),
  ],
  result: synthResultSchema,
  group: (r) => (r.mode === 'generate' ? r.model : 'validate'),
  deadLettered: synthDeadLettered,
  report: synthReport,
  html: synthHtml,
  cli: synthCli,
});

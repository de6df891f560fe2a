import { z } from 'zod';
import { defineKind, RESULT, type Loop } from '../../workflow/index.js';
import { repairCli } from './cli.js';
import { expandRepair } from './expand.js';
import { repairHandlers } from './handlers.js';
import { repairHtml } from './html.js';
import { repairMessages, repairSpecSchema } from './messages.js';
import { repairReport } from './report.js';
import { repairDeadLettered, repairResultSchema } from './result.js';

export * from './dataset.js';
export * from './messages.js';
export * from './result.js';
export { extractPatch } from './answer.js';
export { applyPatch } from './apply.js';
export { repairJobId } from './expand.js';

const turnCap = z.object({ turn: z.number().int(), maxTurns: z.number().int() });

/** Another turn while the cap carried in the payload allows (`turn` is the next turn's number). */
const nextTurn: Loop = {
  to: repairMessages.generate.type,
  while: (payload) => {
    const p = turnCap.safeParse(payload);
    return p.success && p.data.turn <= p.data.maxTurns;
  },
  otherwise: RESULT,
};

/** `repair`: patches for real bugs, tested in the sandbox, retried with the new error up to K turns. */
export const repairKind = defineKind({
  name: 'repair',
  description: 'LLM patches for real bugs, applied and tested, retried with the new error as feedback',
  spec: repairSpecSchema,
  messages: [repairMessages.baseline, repairMessages.generate, repairMessages.evaluate],
  pipeline: {
    produce: { ok: repairMessages.baseline.type },
    [repairMessages.baseline.type]: {
      failing: repairMessages.generate.type,
      patched: repairMessages.evaluate.type,
      not_reproducible: RESULT,
      unusable: RESULT,
    },
    // An answer that cannot be applied is a failed turn: the next one says why.
    [repairMessages.generate.type]: {
      patched: repairMessages.evaluate.type,
      unusable: nextTurn,
      budget_exhausted: RESULT,
    },
    [repairMessages.evaluate.type]: { fixed: RESULT, given_failed: RESULT, failed: nextTurn },
  },
  expand: expandRepair,
  worker: (host) => repairHandlers(host),
  result: repairResultSchema,
  group: (r) => r.model,
  deadLettered: repairDeadLettered,
  report: repairReport,
  html: repairHtml,
  cli: repairCli,
});

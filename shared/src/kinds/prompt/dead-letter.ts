import { z } from 'zod';
import type { DeadLetterInfo } from '../../workflow/index.js';
import { stageRecordSchema, type PromptResult } from './messages.js';

// What a dead letter may still tell: the record's id and the stages it finished. Read loosely —
// the payload may be why the message died.
const partial = z.object({
  id: z.string().min(1),
  stages: z.record(z.string(), stageRecordSchema).catch({}).default({}),
});

/**
 * The result of a record whose message was dead-lettered: the stages it finished are kept (their
 * answers count), the stage it died in is the first without a record.
 */
export function promptDeadLettered(info: DeadLetterInfo): PromptResult {
  // A dead `job.result` carries the result one level down.
  const nested: unknown =
    typeof info.payload === 'object' && info.payload !== null ? Reflect.get(info.payload, 'result') : undefined;
  const direct = partial.safeParse(info.payload);
  const inner = partial.safeParse(nested);
  const found = direct.success ? direct.data : inner.success ? inner.data : { id: info.jobId, stages: {} };
  const message = info.message.slice(0, 500);
  return {
    id: found.id,
    stages: found.stages,
    deadLetter: { stage: info.stage, type: info.type, code: info.code, message },
  };
}

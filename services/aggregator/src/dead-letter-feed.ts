import { deadLetterOrigin, type HeaderTable } from '@evalfleet/shared/broker';
import {
  envelopeSchema,
  makeEnvelope,
  platformStages,
  type Envelope,
  type MessageCatalog,
} from '@evalfleet/shared/messages';
import { PlatformTypes } from '@evalfleet/shared/workflow';

/** Message types whose dead letters say nothing about a job. */
const notAboutJobs = new Set<string>([PlatformTypes.jobDeadLettered, PlatformTypes.runCompleted]);

/**
 * A copy of a dead letter (from `<ns>.deadletters`) → a `job.dead_lettered` message for the job it
 * belonged to. Bytes that are not an envelope, or carry no job, are skipped: the stage's DLQ keeps
 * them for an operator either way. So is an envelope of a type the catalog does not know: no stage
 * ever handled it, so it was never a job of any run, and recording it would add a job the run does
 * not have (its done count would reach the total early and the reports would miss a real job).
 */
export function deadLetterToEnvelope(
  content: Buffer,
  headers: HeaderTable,
  catalog?: MessageCatalog,
): Envelope | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  // The payload may be why it was dead-lettered; only the envelope's identity must hold.
  const env = envelopeSchema.safeParse(raw);
  if (!env.success || notAboutJobs.has(env.data.type)) return undefined;
  if (catalog && !catalog.entry(env.data.type)) return undefined;
  const origin = deadLetterOrigin(headers);
  return makeEnvelope({
    type: PlatformTypes.jobDeadLettered,
    runId: env.data.runId,
    jobId: env.data.jobId,
    kind: env.data.kind,
    stage: platformStages.aggregate,
    traceId: env.data.traceId,
    payload: {
      type: env.data.type,
      stage: origin.stage ?? env.data.stage,
      code: origin.code,
      message: origin.message,
      payload: env.data.payload,
    },
  });
}

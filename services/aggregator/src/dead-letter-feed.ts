import { deadLetterOrigin, type HeaderTable } from '@evalfleet/shared/broker';
import { envelopeSchema, makeEnvelope, platformStages, type Envelope } from '@evalfleet/shared/messages';
import { PlatformTypes } from '@evalfleet/shared/workflow';

/** Message types whose dead letters say nothing about a job. */
const notAboutJobs = new Set<string>([PlatformTypes.jobDeadLettered, PlatformTypes.runCompleted]);

/**
 * A copy of a dead letter (from `<ns>.deadletters`) → a `job.dead_lettered` message for the job it
 * belonged to. Bytes that are not an envelope, or carry no job, are skipped: the stage's DLQ keeps
 * them for an operator either way.
 */
export function deadLetterToEnvelope(content: Buffer, headers: HeaderTable): Envelope | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  // The payload may be why it was dead-lettered; only the envelope's identity must hold.
  const env = envelopeSchema.safeParse(raw);
  if (!env.success || notAboutJobs.has(env.data.type)) return undefined;
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

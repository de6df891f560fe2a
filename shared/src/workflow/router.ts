import { ErrorCodes, PermanentError } from '../errors/index.js';
import { describeIssues, makeEnvelope, platformStages, type Envelope } from '../messages/index.js';
import type { Bus } from '../service/bus.js';
import { PlatformTypes } from './platform.js';
import type { KindRegistry } from './registry.js';
import type { EmitOptions } from './types.js';

/** Where an emit comes from: a job of a run of a kind, at step `produce` or a message type. */
export type Origin = Pick<Envelope, 'runId' | 'jobId' | 'kind' | 'traceId'> & { step: string };

export type Routed = { type: string; stage: string; jobId: string };

/**
 * Routes by the registry: an outcome of a step becomes the next message of the job (its payload
 * validated against the catalog) or the job's terminal result (validated against the kind's result
 * schema). Handlers never name a stage, a queue or another kind.
 */
export class Router {
  constructor(
    private readonly registry: KindRegistry,
    private readonly bus: Bus,
  ) {}

  /** The envelope an outcome leads to, validated; nothing is published. */
  envelopeFor(origin: Origin, outcome: string, payload: unknown, opts: EmitOptions = {}): Envelope {
    const target = this.registry.resolve(origin.kind, origin.step, outcome, payload);
    const jobId = opts.jobId ?? origin.jobId;
    const common = { runId: origin.runId, jobId, kind: origin.kind, traceId: origin.traceId };
    if (target.kind === 'result') {
      const result = this.registry.kind(origin.kind).parseResult(payload);
      return makeEnvelope({
        ...common,
        type: PlatformTypes.jobResult,
        stage: platformStages.aggregate,
        payload: { kind: origin.kind, outcome, result, artifacts: opts.artifacts ?? {} },
      });
    }
    const parsed = target.entry.schema.safeParse(payload);
    if (!parsed.success) {
      throw new PermanentError(
        ErrorCodes.schemaViolation,
        `${origin.step} → ${outcome}: invalid ${target.entry.type} payload: ${describeIssues(parsed.error)}`,
      );
    }
    return makeEnvelope({ ...common, type: target.entry.type, stage: target.entry.stage, payload: parsed.data });
  }

  async emit(origin: Origin, outcome: string, payload: unknown, opts: EmitOptions = {}): Promise<Routed> {
    const env = this.envelopeFor(origin, outcome, payload, opts);
    await this.bus.publish(env);
    return { type: env.type, stage: env.stage, jobId: env.jobId };
  }
}

import type { MessageHandler } from '../broker/index.js';
import { PermanentError } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import type { Stage } from '../messages/index.js';
import type { ArtifactStore } from '../storage/index.js';
import type { Capabilities } from './capabilities.js';
import type { KindRegistry } from './registry.js';
import type { Router } from './router.js';
import type { Handler, JobContext } from './types.js';

export type StepObserver = (step: {
  runId: string;
  stage: Stage;
  kind: string;
  type: string;
  outcome: string;
  /** The kind's own finer progress label (EmitOptions.progress), if any. */
  progress?: string;
}) => void;

export type HostOptions = {
  registry: KindRegistry;
  router: Router;
  /** The stages this process consumes. */
  stages: readonly Stage[];
  caps: Capabilities;
  store: ArtifactStore;
  logger: Logger;
  /** The platform's own handlers (producer, aggregator), by message type. */
  platform?: ReadonlyMap<string, MessageHandler>;
  /** Called after each outcome a kind's handler emitted (progress counters, metrics). */
  onStep?: StepObserver;
  /** Grows a run's total by the jobs a job fans out into (JobContext.addJobs). */
  addJobs?: (runId: string, jobId: string, count: number) => Promise<void>;
};

/**
 * One dispatching handler per hosted stage: by message type, to the platform's handler or to the
 * kind's. Fails at start when a message type on a hosted stage has no handler, so a worker never
 * takes a message it cannot handle.
 */
export async function stageHandlers(opts: HostOptions): Promise<Map<Stage, MessageHandler>> {
  const kindHandlers = new Map<string, Handler>();
  const hostedTypes = opts.stages.flatMap((s) => opts.registry.typesOn(s));
  const kindsNeeded = new Set(hostedTypes.map((e) => e.type.split('.')[0] ?? ''));
  for (const kind of opts.registry.kinds()) {
    if (!kindsNeeded.has(kind.name)) continue;
    const handlers = await kind.worker({ store: opts.store, logger: opts.logger, caps: opts.caps });
    for (const h of handlers) kindHandlers.set(h.type, h);
  }
  const missing = hostedTypes.filter((e) => !kindHandlers.has(e.type) && !opts.platform?.has(e.type));
  if (missing.length > 0)
    throw new Error(`no handler for ${missing.map((e) => `${e.type} (stage ${e.stage})`).join(', ')} in this service`);

  const out = new Map<Stage, MessageHandler>();
  const add = opts.addJobs;
  for (const stage of opts.stages) {
    out.set(stage, async (env, hctx) => {
      const platform = opts.platform?.get(env.type);
      if (platform) return platform(env, hctx);
      const handler = kindHandlers.get(env.type);
      if (!handler) throw new PermanentError('no_handler', `stage ${stage} has no handler for ${env.type}`);
      const outcomes: { outcome: string; progress?: string }[] = [];
      const ctx: JobContext = {
        env,
        signal: hctx.signal,
        logger: hctx.logger,
        store: opts.store,
        caps: opts.caps,
        emit: async (outcome, payload, emitOpts) => {
          const origin = { ...env, step: env.type };
          // An item of a batch message: its consumer publishes the batch's next messages together.
          if (hctx.collect) hctx.collect(opts.router.envelopeFor(origin, outcome, payload, emitOpts));
          else await opts.router.emit(origin, outcome, payload, emitOpts);
          outcomes.push({ outcome, ...(emitOpts?.progress ? { progress: emitOpts.progress } : {}) });
        },
        ...(add ? { addJobs: (count: number) => add(env.runId, env.jobId, count) } : {}),
      };
      await handler.run(env.payload, ctx);
      if (outcomes.length === 0)
        throw new PermanentError('nothing_emitted', `the ${env.type} handler finished without an outcome`);
      for (const o of outcomes) opts.onStep?.({ runId: env.runId, stage, kind: env.kind, type: env.type, ...o });
    });
  }
  return out;
}

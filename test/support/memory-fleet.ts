// Handler logic without a broker: a kind's jobs flow through its own handlers over an in-memory
// bus, with the filesystem store, until every job has a result. For unit tests of a kind's
// handlers only; how services behave together is tested on the real RabbitMQ, Redis and store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../../shared/src/logger/index.js';
import type { Envelope } from '../../shared/src/messages/index.js';
import type { StoredResult } from '../../shared/src/runs/index.js';
import type { Bus } from '../../shared/src/service/bus.js';
import { createArtifactStore, type ArtifactStore } from '../../shared/src/storage/index.js';
import {
  jobResultBaseSchema,
  PlatformTypes,
  PRODUCE,
  Router,
  stageHandlers,
  type Capabilities,
  type KindRegistry,
} from '../../shared/src/workflow/index.js';
import { testLogger } from './rabbit.js';

export type MemoryRun = {
  results: StoredResult[];
  /** Every message the jobs went through, in order (results excluded). */
  messages: Envelope[];
  reports: Record<string, string>;
  store: ArtifactStore;
};

export type MemoryFleet = {
  store: ArtifactStore;
  run(kind: string, spec: unknown, runId?: string): Promise<MemoryRun>;
  close(): Promise<void>;
};

/** A kind's pipeline in-process: expansion, its handlers with `caps`, and its report. */
export async function memoryFleet(
  registry: KindRegistry,
  caps: Capabilities,
  opts: { knownModels?: readonly string[] } = {},
): Promise<MemoryFleet> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-memory-'));
  const store = createArtifactStore({ kind: 'fs', root: dir });
  const logger: Logger = testLogger();
  const queue: Envelope[] = [];
  const bus: Bus = {
    publish: (e) => {
      queue.push(e);
      return Promise.resolve();
    },
    publishEvent: () => Promise.resolve(),
  };
  const router = new Router(registry, bus);
  const handlers = await stageHandlers({
    registry,
    router,
    stages: registry.stages().filter((s) => s !== 'produce' && s !== 'aggregate'),
    caps,
    store,
    logger,
  });
  return {
    store,
    async run(kindName, spec, runId = `mem-${Date.now().toString(36)}`) {
      const kind = registry.kind(kindName);
      const expansion = await kind.expand({
        runId,
        spec,
        store,
        logger,
        knownModels: () => new Set(opts.knownModels ?? []),
      });
      const origin = { runId, kind: kindName, traceId: 'f'.repeat(32), step: PRODUCE };
      for (const job of expansion.jobs)
        queue.push(router.envelopeFor({ ...origin, jobId: job.jobId }, job.outcome, job.payload));
      const results: StoredResult[] = [];
      const messages: Envelope[] = [];
      for (let env = queue.shift(); env; env = queue.shift()) {
        if (env.type === PlatformTypes.jobResult) {
          const r = jobResultBaseSchema.parse(env.payload);
          results.push({ ...r, runId, jobId: env.jobId, attempt: env.attempt, recordedAt: new Date().toISOString() });
          continue;
        }
        messages.push(env);
        const handler = handlers.get(env.stage);
        if (!handler) throw new Error(`no handler for stage ${env.stage}`);
        await handler(env, {
          headers: {},
          deliveryCount: 0,
          redelivered: false,
          signal: new AbortController().signal,
          logger,
        });
      }
      const now = new Date().toISOString();
      const record = {
        runId,
        kind: kindName,
        createdAt: now,
        updatedAt: now,
        totalJobs: expansion.jobs.length,
        skippedJobs: 0,
        spec: kind.parseSpec(spec),
        meta: expansion.meta,
      };
      const reports = await kind.report({ record, results, store });
      return { results, messages, reports, store };
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { z } from 'zod';
import type { ArtifactStore } from '../storage/index.js';
import { getJson } from '../storage/index.js';
import type { RunCounters } from './counters.js';
import { encodeJobId } from './keys.js';

// Jobs a run gains after its expansion: a job that fans out into jobs the producer could not count
// (mutants known only after mutating) adds them to the run's total before it emits them. Each job adds
// once, whatever the redeliveries: a marker in the store (`runs/<run>/added/<job>.json`, the source of
// truth, written first) and, in Redis, the job in the run's `added` set (the total grows only when the
// job joins the set). A run's total is its expansion's job count plus every marker.

const addedSchema = z.object({ jobId: z.string(), count: z.number().int().nonnegative() });

export const addedKeys = {
  marker: (runId: string, jobId: string) => `runs/${runId}/added/${encodeJobId(jobId)}.json`,
  prefix: (runId: string) => `runs/${runId}/added/`,
};

/** `jobId` adds `count` jobs to its run (idempotent per job; the count of the first call stands). */
export async function addJobs(
  deps: { store: ArtifactStore; counters: RunCounters },
  runId: string,
  jobId: string,
  count: number,
): Promise<void> {
  if (!Number.isInteger(count) || count < 0) throw new Error(`cannot add ${count} jobs`);
  const key = addedKeys.marker(runId, jobId);
  await deps.store.putIfAbsent(key, JSON.stringify({ jobId, count }), { contentType: 'application/json' });
  const stored = await getJson(deps.store, key, addedSchema);
  await deps.counters.addJobs(runId, jobId, stored.count);
}

/** Every job added to a run so far: job id → count (from the store alone). */
export async function addedJobs(runId: string, store: ArtifactStore): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const key of store.list(addedKeys.prefix(runId))) {
    if (!key.endsWith('.json')) continue;
    const marker = await getJson(store, key, addedSchema);
    out.set(marker.jobId, marker.count);
  }
  return out;
}

/** The run's total: its expansion's jobs and every job added since. */
export function totalWith(base: number, added: ReadonlyMap<string, number>): number {
  let total = base;
  for (const n of added.values()) total += n;
  return total;
}

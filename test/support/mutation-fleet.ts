// A fleet for mutation runs: producer, mutator, evaluator(s) and aggregator in-process (no generator: no
// model is called). The sandbox is Docker when EVALFLEET_SANDBOX_IMAGE is set (scripts/test sets it), the
// process sandbox otherwise.
import { z } from 'zod';
import { readJsonl, type ArtifactStore } from '../../shared/src/storage/index.js';
import { runKeys } from '../../shared/src/runs/index.js';
import { startFleet, type ServiceName, type TestFleet } from './fleet.js';

export const sandboxImage = process.env.EVALFLEET_SANDBOX_IMAGE;

export function startMutationFleet(
  label: string,
  opts: { services?: ServiceName[]; env?: Record<string, string> } = {},
): Promise<TestFleet> {
  return startFleet(label, {
    services: opts.services ?? ['producer', 'mutator', 'evaluator', 'aggregator'],
    env: {
      SANDBOX: sandboxImage ? 'docker' : 'process',
      ...(sandboxImage ? { EVALFLEET_SANDBOX_IMAGE: sandboxImage } : {}),
      EVALUATOR_CONCURRENCY: '2',
      ...opts.env,
    },
  });
}

export const mutantLineSchema = z.object({
  project: z.string(),
  id: z.string(),
  file: z.string(),
  line: z.number(),
  operator: z.string(),
  original: z.string(),
  replacement: z.string(),
  status: z.string(),
  killedBy: z.array(z.string()).optional(),
});
export type MutantLine = z.infer<typeof mutantLineSchema>;

/** mutants.jsonl of a completed run. */
export async function mutantLines(store: ArtifactStore, runId: string): Promise<MutantLine[]> {
  const out: MutantLine[] = [];
  for await (const row of readJsonl(store, runKeys.report(runId, 'mutants.jsonl')))
    out.push(mutantLineSchema.parse(row));
  return out;
}

/** `file:line operator original→replacement` → status, the way tests name known mutants. */
export function statusByChange(lines: readonly MutantLine[]): Map<string, string> {
  return new Map(lines.map((m) => [`${m.file}:${m.line} ${m.operator} ${m.original}→${m.replacement}`, m.status]));
}

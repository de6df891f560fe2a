import { z } from 'zod';
import { putJson, putJsonl } from '../../storage/index.js';
import { runKeys } from '../../runs/index.js';
import { defineKind, RESULT } from '../../workflow/index.js';

export const echoSpecSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  text: z.string().max(10_000).default('hello'),
});
export type EchoSpec = z.infer<typeof echoSpecSchema>;

export const echoResultSchema = z.object({ index: z.number().int().nonnegative(), text: z.string() });

/**
 * `echo`: the smoke pipeline. The producer turns `count` into that many jobs whose results go
 * straight to the aggregator (produce → aggregate); the report lists each once.
 */
export const echoKind = defineKind({
  name: 'echo',
  description: 'the smoke pipeline: N trivial jobs from the producer straight to the aggregator',
  spec: echoSpecSchema,
  messages: [],
  pipeline: { produce: { ok: RESULT } },
  expand: ({ spec }) =>
    Promise.resolve({
      jobs: Array.from({ length: spec.count }, (_, index) => ({
        jobId: `echo-${index}`,
        outcome: 'ok',
        payload: { index, text: spec.text },
      })),
      meta: { text: spec.text },
    }),
  result: echoResultSchema,
  deadLettered: (info) => ({ index: Number(/(\d+)$/.exec(info.jobId)?.[1] ?? 0), text: `dead-lettered: ${info.code}` }),
  report: async ({ record, results, store }) => {
    const rows = results
      .map((r) => ({ jobId: r.jobId, outcome: r.outcome, ...r.result }))
      .sort((a, b) => a.jobId.localeCompare(b.jobId, 'en', { numeric: true }));
    const outcomes: Record<string, number> = {};
    for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    const resultsKey = runKeys.report(record.runId, 'results.jsonl');
    const summaryKey = runKeys.report(record.runId, 'summary.json');
    await putJsonl(store, resultsKey, rows);
    await putJson(store, summaryKey, {
      runId: record.runId,
      kind: record.kind,
      totalJobs: record.totalJobs,
      results: results.length,
      outcomes,
    });
    return { 'results.jsonl': resultsKey, 'summary.json': summaryKey };
  },
  cli: {
    description: 'the smoke pipeline: N trivial jobs from the producer straight to the aggregator',
    options: [
      { flags: '--count <n>', description: 'number of jobs', type: 'int', default: 10 },
      { flags: '--text <text>', description: 'text each job carries', default: 'hello' },
    ],
    plan: (opts) => {
      const spec = echoSpecSchema.parse({ count: opts['count'], text: opts['text'] });
      return Promise.resolve({ spec, jobs: spec.count, lines: [`total jobs: ${spec.count}`] });
    },
  },
});

// A kind that lives outside the project's services, loaded by module specifier
// (EVALFLEET_KINDS): one folder-less file plus nothing else. It adds its own stage, `tally`, whose
// handlers need no capability, so the generator (which provides `general`) hosts it.
// Words can be told to fail, to exercise the platform's failure paths:
// - `failValidation`: the handler throws a schema validation error (permanent → DLQ at once);
// - `failInfra`: the handler throws a retryable error on every attempt, until the store holds
//   `test/heal/<word>` (so a requeued dead letter can succeed);
// - `badResult`: the handler emits a result that breaks the result schema.
import { z } from 'zod';
import { RetryableError } from '../../shared/src/errors/index.js';
import { putJson } from '../../shared/src/storage/index.js';
import { runKeys } from '../../shared/src/runs/index.js';
import { defineHandler, defineKind, RESULT } from '../../shared/src/workflow/index.js';

const spec = z.object({
  words: z.array(z.string().regex(/^[a-z]+$/)).min(1),
  failValidation: z.array(z.string()).default([]),
  failInfra: z.array(z.string()).default([]),
  badResult: z.array(z.string()).default([]),
});

const tally = {
  type: 'wordcount.tally',
  stage: 'tally',
  schema: z.object({ word: z.string(), failValidation: z.boolean(), failInfra: z.boolean(), badResult: z.boolean() }),
  timeoutMs: 10_000,
  retry: { maxAttempts: 2, delaysMs: [1_000] },
  description: 'Count the letters of one word.',
};

const result = z.object({
  word: z.string(),
  letters: z.number().int().nonnegative(),
  upper: z.string(),
  deadLetter: z.string().optional(),
});

export default defineKind({
  name: 'wordcount',
  description: 'letters per word (a test kind defined outside the services)',
  spec,
  messages: [tally],
  stages: [{ name: 'tally', needs: 'general', description: 'counts letters (any worker)' }],
  pipeline: {
    produce: { ok: tally.type },
    [tally.type]: { counted: RESULT },
  },
  expand: ({ spec: s }) =>
    Promise.resolve({
      jobs: s.words.map((word) => ({
        jobId: `word/${word}`,
        outcome: 'ok',
        payload: {
          word,
          failValidation: s.failValidation.includes(word),
          failInfra: s.failInfra.includes(word),
          badResult: s.badResult.includes(word),
        },
      })),
      meta: { words: s.words.length },
    }),
  worker: () => [
    defineHandler(tally, async (job, ctx) => {
      if (job.failValidation) z.object({ needed: z.string() }).parse({});
      if (job.failInfra && !(await ctx.store.exists(`test/heal/${job.word}`)))
        throw new RetryableError('sandbox_infra', `infrastructure down for ${job.word}`);
      await ctx.emit(
        'counted',
        job.badResult
          ? { word: job.word, letters: -1 }
          : { word: job.word, letters: job.word.length, upper: job.word.toUpperCase() },
      );
    }),
  ],
  result,
  deadLettered: (info) => ({ word: info.jobId.replace(/^word\//, ''), letters: 0, upper: '', deadLetter: info.code }),
  report: async ({ record, results, store }) => {
    const rows = results
      .map((r) => ({ jobId: r.jobId, outcome: r.outcome, ...r.result }))
      .sort((a, b) => a.word.localeCompare(b.word));
    const key = runKeys.report(record.runId, 'summary.json');
    await putJson(store, key, {
      runId: record.runId,
      letters: rows.reduce((n, r) => n + r.letters, 0),
      counted: rows.filter((r) => r.outcome === 'counted').map((r) => r.word),
      deadLettered: rows
        .filter((r) => r.outcome === 'dead_lettered')
        .map((r) => ({ word: r.word, code: r.deadLetter })),
    });
    return { 'summary.json': key };
  },
  cli: {
    description: 'count letters of words',
    options: [
      { flags: '--words <list>', description: 'comma-separated lower-case words', required: true },
      { flags: '--fail-validation <list>', description: 'words whose handler throws a validation error' },
      { flags: '--fail-infra <list>', description: 'words whose handler fails retryably until healed' },
    ],
    plan: (opts) => {
      const list = (v: unknown) => (typeof v === 'string' ? v.split(',').filter(Boolean) : []);
      const s = spec.parse({
        words: list(opts['words']),
        failValidation: list(opts['failValidation']),
        failInfra: list(opts['failInfra']),
      });
      return Promise.resolve({ spec: s, jobs: s.words.length, lines: [`${s.words.length} words`] });
    },
  },
});

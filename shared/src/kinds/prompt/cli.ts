import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { runCompletedRecordSchema, runKeys } from '../../runs/index.js';
import { optNumber, optString, uploadUnlessDryRun, type KindCli } from '../../workflow/index.js';
import { promptSpecSchema, testLimit } from './messages.js';
import { parsePipeline, pipelineModels } from './pipeline.js';
import { checkRecordFields, parseRecords, selectRecords } from './records.js';
import { reportOutcomes } from './report.js';

/** Runs `f`, prefixing what it throws with the file it read. */
function inFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

const summaryView = z.object({
  runId: z.string(),
  pipeline: z.string().nullable(),
  records: z.number(),
  calls: z.number(),
  cached: z.number(),
  costUsd: z.number(),
  jobs: z.object({ complete: z.number(), incomplete: z.number(), dead_lettered: z.number() }),
  stages: z.array(
    z.object({
      name: z.string(),
      model: z.string(),
      outcomes: z.record(z.string(), z.number()),
      calls: z.number(),
      cached: z.number(),
      costUsd: z.number(),
    }),
  ),
});

/** `evalfleet report` for a prompt run: one line per stage with its outcomes, calls and cost. */
export function promptSummaryLines(summary: unknown): string[] {
  const parsed = summaryView.safeParse(summary);
  if (!parsed.success) return [JSON.stringify(summary, null, 2)];
  const s = parsed.data;
  const shown = reportOutcomes.filter((o) => s.stages.some((st) => (st.outcomes[o] ?? 0) > 0));
  const header = ['stage', 'model', ...shown, 'calls', 'cached', 'cost $'];
  const rows = s.stages.map((st) => [
    st.name,
    st.model,
    ...shown.map((o) => String(st.outcomes[o] ?? 0)),
    String(st.calls),
    String(st.cached),
    st.costUsd.toFixed(4),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [
    `prompt run ${s.runId}${s.pipeline ? ` (${s.pipeline})` : ''}: ${s.records} records, ${s.jobs.complete} complete, ${s.jobs.incomplete} incomplete, ${s.jobs.dead_lettered} dead-lettered`,
    `provider calls ${s.calls}, cached answers ${s.cached}, cost $${s.costUsd.toFixed(4)}`,
    '',
    line(header),
    ...rows.map(line),
  ];
}

/** `evalfleet submit prompt`: the pipeline and records are checked here, so mistakes never reach the fleet. */
export const promptCli: KindCli = {
  description: 'run a staged LLM pipeline (templates, JSON-schema answers, conditions) over JSONL records',
  options: [
    {
      flags: '--pipeline <file>',
      description: 'pipeline file (YAML): stages with model, prompts, schema, when',
      required: true,
    },
    { flags: '--records <file>', description: 'records, one JSON object per line, each with an id', required: true },
    { flags: '--limit <n>', description: 'only the first N records', type: 'int' },
    { flags: '--test', description: `only the first ${testLimit} records (a quick check)`, type: 'boolean' },
    { flags: '--id-field <field>', description: 'the records’ id field', default: 'id' },
    {
      flags: '--budget-usd <usd>',
      description: 'stop calling models for this run once it has spent this much',
      type: 'number',
    },
    {
      flags: '--no-cache',
      description: 'ask the providers again instead of answering from the response cache',
      type: 'boolean',
    },
    {
      flags: '--out <dir>',
      description: 'with --wait: write the reports (merged.jsonl, results.csv, …) into this directory',
    },
  ],

  async plan(opts, ctx) {
    const pipelineFile = optString(opts['pipeline']);
    const recordsFile = optString(opts['records']);
    if (!pipelineFile) throw new Error('--pipeline is required');
    if (!recordsFile) throw new Error('--records is required');
    const limitOpt = optNumber(opts['limit']);
    if (limitOpt !== undefined && opts['test'] === true) throw new Error('--limit and --test exclude each other');
    if (limitOpt !== undefined && limitOpt < 1) throw new Error('--limit must be at least 1');
    const limit = opts['test'] === true ? testLimit : limitOpt;
    const idField = optString(opts['idField']) ?? 'id';
    const pipelineText = ctx.readText(pipelineFile);
    const recordsText = ctx.readText(recordsFile);
    const pipeline = inFile(pipelineFile, () => parsePipeline(pipelineText));
    const records = inFile(recordsFile, () => parseRecords(recordsText, idField));
    ctx.checkModels(pipelineModels(pipeline));
    const selected = selectRecords(records, limit);
    inFile(recordsFile, () => checkRecordFields(pipeline, selected));
    const lines = [
      `pipeline ${pipelineFile}: ${pipeline.stages.map((s) => `${s.name} (${s.model}${s.when ? `, when ${s.when}` : ''})`).join(' → ')}`,
      `records ${recordsFile}: ${records.length}, ${selected.length} selected`,
      `total jobs: ${selected.length} (at most ${selected.length * pipeline.stages.length} answers before retries)`,
    ];
    const budgetUsd = optNumber(opts['budgetUsd']);
    const spec = promptSpecSchema.parse({
      pipeline: await uploadUnlessDryRun(ctx, 'pipelines', pipelineText, '.yaml'),
      records: await uploadUnlessDryRun(ctx, 'datasets', recordsText, '.jsonl'),
      idField,
      ...(limit !== undefined ? { limit } : {}),
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
      noCache: opts['cache'] === false,
    });
    return {
      spec,
      jobs: selected.length,
      lines,
      details: { records: selected.length, stages: pipeline.stages.map((s) => s.name) },
    };
  },

  summaryLines: promptSummaryLines,

  async afterWait(runId, opts, ctx) {
    const out = optString(opts['out']);
    if (!out) return;
    const body = await ctx.store.getOptional(runKeys.completed(runId));
    if (!body) return;
    const completed = runCompletedRecordSchema.parse(JSON.parse(body.toString('utf8')));
    for (const [name, key] of Object.entries(completed.reports)) {
      const file = path.join(out, ...name.split('/'));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await ctx.store.get(key));
    }
    ctx.err(`wrote ${Object.keys(completed.reports).length} reports to ${out}`);
  },
};

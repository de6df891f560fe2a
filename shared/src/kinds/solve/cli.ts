import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseProblemSet, parseSamples, resolveSampleTask, selectProblems } from '../../datasets/index.js';
import { runKeys } from '../../runs/index.js';
import { optList, optNumber, optString, uploadUnlessDryRun, type KindCli } from '../../workflow/index.js';
import { solveSpecSchema } from './messages.js';
import { summaryLines } from './summary-table.js';

/** `evalfleet submit solve`: validate locally (models, keys, dataset, samples), upload, build the spec. */
export const solveCli: KindCli = {
  description: 'generate solutions with models (or take a samples file) and score them with pass@k',
  options: [
    {
      flags: '--dataset <file>',
      description: 'problem set: native JSONL, HumanEval, MBPP or EvalPlus (auto-detected; .jsonl.gz too)',
      required: true,
    },
    {
      flags: '--format <format>',
      description: 'problem set format',
      choices: ['native', 'humaneval', 'mbpp', 'evalplus'],
    },
    { flags: '--models <list>', description: 'comma-separated registry model names (see evalfleet models)' },
    {
      flags: '--samples-per-task <n>',
      description: 'samples per problem and model (n of pass@k)',
      type: 'int',
      default: 1,
    },
    { flags: '--categories <list>', description: 'only these categories' },
    { flags: '--limit <n>', description: 'at most this many problems', type: 'int' },
    { flags: '--quick-test', description: 'one problem per category', type: 'boolean' },
    { flags: '--temperature <t>', description: 'sampling temperature', type: 'number' },
    { flags: '--max-tokens <n>', description: 'max output tokens per call', type: 'int' },
    {
      flags: '--samples <file>',
      description: 'evaluate a human-eval samples file (task_id + completion) instead of calling models',
    },
    {
      flags: '--timeout-ms <ms>',
      description:
        'wall-clock limit per evaluation (default: per task, max(3 s, 4 x its reference solution in the same sandbox); 10 s without a reference). EvalPlus tasks always limit each input to max(1 s, 4 x the reference on it)',
      type: 'int',
    },
    {
      flags: '--budget-usd <usd>',
      description: 'stop calling models for this run once it has spent this much',
      type: 'number',
    },
    { flags: '--no-cache', description: 'do not answer from the response cache', type: 'boolean' },
    {
      flags: '--judge <model>',
      description: "a model that labels each failed sample's mistake (JSON answer, cached; shown in report.html)",
    },
  ],

  async plan(opts, ctx) {
    const datasetFile = optString(opts['dataset']);
    if (!datasetFile) throw new Error('--dataset is required');
    const format = z.enum(['native', 'humaneval', 'mbpp', 'evalplus']).optional().parse(opts['format']);
    const text = ctx.readText(datasetFile);
    const parsed = parseProblemSet(text, format ? { format } : {});
    for (const e of parsed.errors) ctx.err(`${datasetFile}:${e.line}: ${e.message}`);
    if (parsed.problems.length === 0) throw new Error(`${datasetFile}: no usable problem`);
    const categories = optList(opts['categories']);
    const limit = optNumber(opts['limit']);
    const problems = selectProblems(parsed.problems, {
      ...(categories ? { categories } : {}),
      ...(opts['quickTest'] === true ? { perCategory: 1 } : {}),
      ...(limit ? { limit } : {}),
    });
    const models = optList(opts['models']) ?? [];
    const samplesPerTask = optNumber(opts['samplesPerTask']) ?? 1;
    const samplesFile = optString(opts['samples']);
    const judgeModel = optString(opts['judge']);
    if (judgeModel) ctx.checkModels([judgeModel]);
    let jobs: number;
    let samplesText: string | undefined;
    if (samplesFile) {
      samplesText = ctx.readText(samplesFile);
      const s = parseSamples(samplesText);
      for (const e of s.errors) ctx.err(`${samplesFile}:${e.line}: ${e.message}`);
      const known = new Set(parsed.problems.map((p) => p.taskId));
      const unknown = [
        ...new Set(s.samples.filter((x) => resolveSampleTask(x.taskId, known) === undefined).map((x) => x.taskId)),
      ];
      if (unknown.length)
        throw new Error(`${samplesFile}: tasks not in the dataset: ${unknown.slice(0, 5).join(', ')}`);
      jobs = s.samples.length;
    } else {
      if (models.length === 0) throw new Error('--models is required (or --samples to evaluate existing samples)');
      ctx.checkModels(models);
      if (problems.length === 0) throw new Error('the filters select no problem');
      jobs = problems.length * models.length * samplesPerTask;
    }
    const lines = [
      `dataset ${datasetFile}: ${parsed.problems.length} problems (${parsed.format}), ${problems.length} selected in ${new Set(problems.map((p) => p.category)).size} categories`,
      `total jobs: ${jobs}${models.length ? ` (${models.join(', ')} × ${samplesPerTask} samples)` : ' (samples file)'}`,
      ...(judgeModel ? [`failed samples are judged by ${judgeModel}`] : []),
    ];
    const dataset = await uploadUnlessDryRun(ctx, 'datasets', text, '.jsonl');
    const samples =
      samplesText === undefined ? undefined : await uploadUnlessDryRun(ctx, 'samples', samplesText, '.jsonl');
    const temperature = optNumber(opts['temperature']);
    const maxTokens = optNumber(opts['maxTokens']);
    const timeoutMs = optNumber(opts['timeoutMs']);
    const budgetUsd = optNumber(opts['budgetUsd']);
    const spec = solveSpecSchema.parse({
      dataset,
      ...(format ? { datasetFormat: format } : {}),
      models,
      samplesPerTask,
      ...(categories ? { categories } : {}),
      ...(limit ? { limit } : {}),
      quickTest: opts['quickTest'] === true,
      ...(temperature !== undefined ? { temperature } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(samples ? { samples } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
      noCache: opts['cache'] === false,
      ...(judgeModel ? { judgeModel } : {}),
    });
    return { spec, jobs, lines, details: { problems: problems.length, models } };
  },

  summaryLines: (summary) => summaryLines(summary) ?? [JSON.stringify(summary, null, 2)],

  async afterWait(runId, opts, ctx) {
    const samplesFile = optString(opts['samples']);
    if (!samplesFile) return;
    // Like human-eval: the results land beside the samples file as `<file>_results.jsonl`.
    const body = await ctx.store.getOptional(runKeys.report(runId, 'samples_results.jsonl'));
    if (body) {
      await writeFile(`${samplesFile}_results.jsonl`, body);
      ctx.err(`wrote ${samplesFile}_results.jsonl`);
    }
  },
};

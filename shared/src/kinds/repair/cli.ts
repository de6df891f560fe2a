import { z } from 'zod';
import { optList, optNumber, optString, uploadUnlessDryRun, type KindCli } from '../../workflow/index.js';
import { parseBugs, parsePatches } from './dataset.js';
import { selectBugs } from './expand.js';
import { repairSpecSchema } from './messages.js';

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`;

const modelSummary = z.object({
  model: z.string(),
  scoredAttempts: z.number(),
  fixedAttempts: z.number(),
  bugs: z.number(),
  fixedBugs: z.number(),
  fixRate: z.number().nullable(),
  repairAtK: z.array(z.object({ k: z.number(), value: z.number() })),
  fixedByTurn: z.array(z.object({ turn: z.number(), fixed: z.number() })),
  costUsd: z.number(),
  costPerFixedBug: z.number().nullable(),
  tokensPerFixedBug: z.number().nullable(),
  withRegressions: z.number(),
});

/** `evalfleet submit repair`: bugs × models, or given patches; validated locally before anything is published. */
export const repairCli: KindCli = {
  description: 'LLM patches for real bugs: applied, tested in the sandbox, retried with the new error (repair@k)',
  options: [
    {
      flags: '--dataset <file>',
      description: 'bug dataset (native JSONL: bug_id, files, test_files, ...)',
      required: true,
    },
    { flags: '--models <list>', description: 'comma-separated registry model names' },
    {
      flags: '--samples <n>',
      description: 'independent attempts per bug and model (n of repair@k)',
      type: 'int',
      default: 1,
    },
    {
      flags: '--max-turns <k>',
      description: 'turns per attempt (first answer + retries with the new error)',
      type: 'int',
      default: 3,
    },
    { flags: '--limit <n>', description: 'at most this many bugs', type: 'int' },
    { flags: '--bugs <list>', description: 'only these bug ids' },
    { flags: '--categories <list>', description: 'only these categories' },
    { flags: '--temperature <t>', description: 'sampling temperature', type: 'number' },
    { flags: '--max-tokens <n>', description: 'max output tokens per call', type: 'int' },
    { flags: '--timeout-ms <ms>', description: 'wall-clock limit per test run', type: 'int' },
    {
      flags: '--budget-usd <usd>',
      description: 'stop calling models for this run once it has spent this much',
      type: 'number',
    },
    { flags: '--no-cache', description: 'do not answer from the response cache', type: 'boolean' },
    {
      flags: '--patches <file>',
      description: 'evaluate given answers ({bug_id, completion} per line) instead of calling models',
    },
  ],

  async plan(opts, ctx) {
    const datasetFile = optString(opts['dataset']);
    if (!datasetFile) throw new Error('--dataset is required');
    const text = ctx.readText(datasetFile);
    const parsed = parseBugs(text);
    for (const e of parsed.errors) ctx.err(`${datasetFile}:${e.line}: ${e.message}`);
    if (parsed.bugs.length === 0) throw new Error(`${datasetFile}: no usable bug`);
    const models = optList(opts['models']) ?? [];
    const samples = optNumber(opts['samples']) ?? 1;
    const maxTurns = optNumber(opts['maxTurns']) ?? 3;
    const filters = {
      ...(optList(opts['bugs']) ? { bugIds: optList(opts['bugs']) } : {}),
      ...(optList(opts['categories']) ? { categories: optList(opts['categories']) } : {}),
      ...(optNumber(opts['limit']) ? { limit: optNumber(opts['limit']) } : {}),
    };
    const patchesFile = optString(opts['patches']);
    let jobs: number;
    let patchesText: string | undefined;
    if (patchesFile) {
      patchesText = ctx.readText(patchesFile);
      const p = parsePatches(patchesText);
      for (const e of p.errors) ctx.err(`${patchesFile}:${e.line}: ${e.message}`);
      const known = new Set(parsed.bugs.map((b) => b.bugId));
      const unknown = [...new Set(p.patches.filter((x) => !known.has(x.bugId)).map((x) => x.bugId))];
      if (unknown.length > 0)
        throw new Error(`${patchesFile}: bugs not in the dataset: ${unknown.slice(0, 5).join(', ')}`);
      jobs = p.patches.length;
    } else {
      if (models.length === 0) throw new Error('--models is required (or --patches to evaluate given answers)');
      ctx.checkModels(models);
      const bugs = selectBugs(parsed.bugs, filters);
      if (bugs.length === 0) throw new Error('the filters select no bug');
      jobs = bugs.length * models.length * samples;
    }
    const dataset = await uploadUnlessDryRun(ctx, 'datasets', text, '.jsonl');
    const patches =
      patchesText === undefined ? undefined : await uploadUnlessDryRun(ctx, 'patches', patchesText, '.jsonl');
    const spec = repairSpecSchema.parse({
      dataset,
      models,
      samples,
      maxTurns,
      ...filters,
      ...(optNumber(opts['temperature']) !== undefined ? { temperature: optNumber(opts['temperature']) } : {}),
      ...(optNumber(opts['maxTokens']) !== undefined ? { maxTokens: optNumber(opts['maxTokens']) } : {}),
      ...(optNumber(opts['timeoutMs']) !== undefined ? { timeoutMs: optNumber(opts['timeoutMs']) } : {}),
      ...(optNumber(opts['budgetUsd']) !== undefined ? { budgetUsd: optNumber(opts['budgetUsd']) } : {}),
      ...(patches ? { patches } : {}),
      noCache: opts['cache'] === false,
    });
    const lines = [
      `dataset ${datasetFile}: ${parsed.bugs.length} bugs`,
      patchesFile
        ? `total jobs: ${jobs} (given patches)`
        : `total jobs: ${jobs} (${models.join(', ')} × ${samples} samples, up to ${maxTurns} turns each)`,
    ];
    return { spec, jobs, lines, details: { bugs: parsed.bugs.length, models } };
  },

  summaryLines(summary) {
    const parsed = z.object({ models: z.array(modelSummary) }).safeParse(summary);
    if (!parsed.success) return [JSON.stringify(summary, null, 2)];
    const width = Math.max(5, ...parsed.data.models.map((m) => m.model.length));
    const lines = [
      `${'model'.padEnd(width)}  attempts  fixed  fix rate  repair@1  bugs fixed  by turn           tokens/fix   $/fix  regressions`,
    ];
    for (const m of parsed.data.models) {
      lines.push(
        [
          m.model.padEnd(width),
          String(m.scoredAttempts).padStart(8),
          String(m.fixedAttempts).padStart(5),
          pct(m.fixRate).padStart(8),
          pct(m.repairAtK.find((r) => r.k === 1)?.value).padStart(8),
          `${m.fixedBugs}/${m.bugs}`.padStart(10),
          m.fixedByTurn
            .map((t) => t.fixed)
            .join('/')
            .padEnd(16),
          (m.tokensPerFixedBug === null ? '-' : Math.round(m.tokensPerFixedBug).toString()).padStart(10),
          (m.costPerFixedBug === null ? '-' : m.costPerFixedBug.toFixed(4)).padStart(7),
          String(m.withRegressions).padStart(11),
        ].join('  '),
      );
    }
    return lines;
  },
};

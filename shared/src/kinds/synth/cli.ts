import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { optList, optNumber, optString, type KindCli } from '../../workflow/index.js';
import { parseCatalog } from './catalog.js';
import { validateCommand } from './command.js';
import { strategies, synthSpecSchema, type Strategy } from './messages.js';

/** The catalog that ships with evalfleet (datasets/synth-catalog.json). */
export const bundledCatalog = fileURLToPath(new URL('../../../../datasets/synth-catalog.json', import.meta.url));

function strategiesOf(v: unknown): Strategy[] {
  const asked = optList(v) ?? [...strategies];
  const unknown = asked.filter((s) => !strategies.includes(s as Strategy));
  if (unknown.length > 0) throw new Error(`unknown strategies ${unknown.join(', ')} (llm, ast, numeric)`);
  return strategies.filter((s) => asked.includes(s));
}

const pct = (v: number | null) => (v === null ? '    –' : `${(v * 100).toFixed(1).padStart(5)}%`);
const usd = (v: number | null) => (v === null ? '–' : `$${v.toFixed(4)}`);

const yieldRow = z.object({
  strategy: z.string(),
  proposed: z.number(),
  valid: z.number(),
  yield: z.number().nullable(),
});
const generateSummary = z.object({
  mode: z.literal('generate'),
  jobs: z.number(),
  acceptedJobs: z.number(),
  tasks: z.number(),
  byStrategy: z.array(yieldRow),
  rejections: z.record(z.string(), z.number()),
  costUsd: z.number(),
  costPerTaskUsd: z.number().nullable(),
  models: z.array(
    z.object({
      model: z.string(),
      jobs: z.number(),
      acceptedJobs: z.number(),
      tasks: z.number(),
      costPerTaskUsd: z.number().nullable(),
    }),
  ),
});
const validateSummary = z.object({
  mode: z.literal('validate'),
  tasks: z.number(),
  valid: z.number(),
  invalid: z.number(),
});

/** `evalfleet submit synth`: scenarios × models, verified in the sandbox; options checked before anything is published. */
export const synthCli: KindCli = {
  description: 'verified synthetic debugging tasks: module + tests that pass, a bug that fails them, the conversation',
  options: [
    { flags: '--count <n>', description: 'scenarios (jobs) per model', type: 'int', default: 1 },
    { flags: '--models <list>', description: 'comma-separated registry model names', required: true },
    { flags: '--catalog <file>', description: 'scenario catalog (JSON); default: the bundled STEM catalog' },
    { flags: '--strategies <list>', description: 'how bugs are proposed: llm, ast, numeric (default all)' },
    {
      flags: '--retries <k>',
      description: 'parse retries per answer, and new generations when nothing fails',
      type: 'int',
      default: 2,
    },
    { flags: '--max-candidates <n>', description: 'buggy versions tried per strategy and generation', type: 'int' },
    { flags: '--file-edit', description: 'conversations point at the files of the task bundle', type: 'boolean' },
    {
      flags: '--suppress-buggy-code',
      description: 'file-edit conversations without the buggy code inline',
      type: 'boolean',
    },
    {
      flags: '--allow-repeat',
      description: 'reuse scenarios earlier runs used when no unused one is left',
      type: 'boolean',
    },
    { flags: '--temperature <t>', description: 'sampling temperature', type: 'number' },
    { flags: '--max-tokens <n>', description: 'max output tokens per call', type: 'int' },
    { flags: '--timeout-ms <ms>', description: 'wall-clock limit per suite run', type: 'int' },
    {
      flags: '--budget-usd <usd>',
      description: 'stop calling models once the run has spent this much',
      type: 'number',
    },
    { flags: '--no-cache', description: 'do not answer from the response cache', type: 'boolean' },
  ],
  commands: [validateCommand],

  async plan(opts, ctx) {
    const models = optList(opts['models']) ?? [];
    if (models.length === 0) throw new Error('--models is required');
    ctx.checkModels(models);
    const catalogFile = optString(opts['catalog']) ?? bundledCatalog;
    const text = ctx.readText(catalogFile);
    const catalog = parseCatalog(text);
    const count = optNumber(opts['count']) ?? 1;
    const asked = strategiesOf(opts['strategies']);
    const catalogRef = ctx.dryRun
      ? { key: 'dry-run', size: 0, sha256: '0'.repeat(64) }
      : await ctx.upload('synth/catalogs', text, '.json');
    const spec = synthSpecSchema.parse({
      mode: 'generate',
      catalog: catalogRef,
      models,
      count,
      strategies: asked,
      retries: optNumber(opts['retries']) ?? 2,
      ...(optNumber(opts['maxCandidates']) !== undefined ? { maxCandidates: optNumber(opts['maxCandidates']) } : {}),
      fileEdit: opts['fileEdit'] === true || opts['suppressBuggyCode'] === true,
      suppressBuggyCode: opts['suppressBuggyCode'] === true,
      allowRepeat: opts['allowRepeat'] === true,
      ...(optNumber(opts['temperature']) !== undefined ? { temperature: optNumber(opts['temperature']) } : {}),
      ...(optNumber(opts['maxTokens']) !== undefined ? { maxTokens: optNumber(opts['maxTokens']) } : {}),
      ...(optNumber(opts['timeoutMs']) !== undefined ? { timeoutMs: optNumber(opts['timeoutMs']) } : {}),
      ...(optNumber(opts['budgetUsd']) !== undefined ? { budgetUsd: optNumber(opts['budgetUsd']) } : {}),
      noCache: opts['cache'] === false,
    });
    const jobs = count * models.length;
    if (jobs > catalog.scenarios.length && !spec.allowRepeat)
      throw new Error(`${jobs} scenarios asked for, the catalog has ${catalog.scenarios.length}; pass --allow-repeat`);
    return {
      spec,
      jobs,
      lines: [
        `catalog ${catalogFile}: ${catalog.scenarios.length} scenarios (${catalog.name})`,
        `total jobs: ${jobs} (${count} unused scenarios × ${models.join(', ')}), strategies ${asked.join(', ')}, up to ${spec.retries + 1} generations each`,
      ],
      details: { scenarios: catalog.scenarios.length, models, strategies: asked },
    };
  },

  summaryLines(summary) {
    const v = validateSummary.safeParse(summary);
    if (v.success) return [`${v.data.tasks} tasks re-run: ${v.data.valid} valid, ${v.data.invalid} invalid`];
    const parsed = generateSummary.safeParse(summary);
    if (!parsed.success) return [JSON.stringify(summary, null, 2)];
    const s = parsed.data;
    const width = Math.max(5, ...s.models.map((m) => m.model.length));
    return [
      `${s.tasks} tasks from ${s.acceptedJobs} of ${s.jobs} scenarios; cost ${usd(s.costUsd)}, ${usd(s.costPerTaskUsd)} per task`,
      '',
      'strategy  proposed  valid   yield',
      ...s.byStrategy.map(
        (x) =>
          `${x.strategy.padEnd(8)}  ${String(x.proposed).padStart(8)}  ${String(x.valid).padStart(5)}  ${pct(x.yield)}`,
      ),
      '',
      `rejections: ${
        Object.entries(s.rejections)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ') || 'none'
      }`,
      '',
      `${'model'.padEnd(width)}  scenarios  accepted  tasks  cost/task`,
      ...s.models.map(
        (m) =>
          `${m.model.padEnd(width)}  ${String(m.jobs).padStart(9)}  ${String(m.acceptedJobs).padStart(8)}  ${String(m.tasks).padStart(5)}  ${usd(m.costPerTaskUsd)}`,
      ),
    ];
  },
};

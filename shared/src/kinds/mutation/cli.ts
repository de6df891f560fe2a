import { z } from 'zod';
import { runKeys } from '../../runs/index.js';
import { mutationOperatorIds, optList, optNumber, optString, type KindCli } from '../../workflow/index.js';
import { mutantsCommand } from './command.js';
import { mutationSpecSchema, type Project } from './messages.js';
import { parseProjects, projectError } from './project.js';
import { readProjectDir } from './project-dir.js';

const str = optString;
const num = optNumber;
/** An empty `--source ''` is no option at all (not an empty list). */
const list = (v: unknown): string[] | undefined => optList(optString(v));

const summaryView = z.object({
  runId: z.string(),
  mutants: z.number(),
  counts: z.record(z.string(), z.number()),
  score: z.number().nullable(),
  scoreCovered: z.number().nullable(),
  projects: z.array(
    z.object({ project: z.string(), status: z.string(), error: z.string().optional(), mutants: z.number() }),
  ),
  perFile: z.array(
    z.object({
      project: z.string().optional(),
      file: z.string().optional(),
      mutants: z.number(),
      counts: z.record(z.string(), z.number()),
      score: z.number().nullable(),
    }),
  ),
});

const pct = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)}%`);

/** `evalfleet report` for a mutation run: the score, then one line per file. */
export function mutationSummaryLines(summary: unknown): string[] {
  const parsed = summaryView.safeParse(summary);
  if (!parsed.success) return [JSON.stringify(summary, null, 2)];
  const s = parsed.data;
  const c = (k: string) => s.counts[k] ?? 0;
  const lines = [
    `mutation run ${s.runId}: ${s.mutants} mutants, score ${pct(s.score)} (covered ${pct(s.scoreCovered)})`,
    `killed ${c('killed')}, survived ${c('survived')}, timeout ${c('timeout')}, no coverage ${c('no_coverage')}, ` +
      `incompetent ${c('incompetent')}, infra errors ${c('infra_error')}`,
    '',
  ];
  for (const f of s.perFile) {
    const k = (x: string) => f.counts[x] ?? 0;
    lines.push(
      `${`${f.project ?? ''}/${f.file ?? ''}`.padEnd(40)} ${String(f.mutants).padStart(5)} mutants  ` +
        `killed ${k('killed') + k('timeout')}  survived ${k('survived')}  no coverage ${k('no_coverage')}  score ${pct(f.score)}`,
    );
  }
  for (const p of s.projects.filter((x) => x.status !== 'tested'))
    lines.push(`project ${p.project}: ${p.status}${p.error ? ` — ${p.error}` : ''}`);
  return lines;
}

function projectsFrom(opts: Record<string, unknown>, readText: (f: string) => string, err: (l: string) => void) {
  const dir = str(opts['project']);
  const dataset = str(opts['dataset']);
  if (dir) {
    const { project, skipped } = readProjectDir(dir, {
      ...(list(opts['source']) ? { source: list(opts['source']) } : {}),
      ...(list(opts['tests']) ? { tests: list(opts['tests']) } : {}),
    });
    if (skipped.length > 0)
      err(`left out ${skipped.length} binary or oversized files: ${skipped.slice(0, 5).join(', ')}`);
    if (project.tests.length === 0)
      throw new Error(`${dir}: no test files (tests are test_*.py or *_test.py; see --tests)`);
    if (project.source.length === 0) throw new Error(`${dir}: no source files to mutate (see --source)`);
    const problem = projectError(project);
    if (problem) throw new Error(`${dir}: ${problem}`);
    return [project];
  }
  if (dataset) return parseProjects(readText(dataset));
  return undefined;
}

/** `evalfleet submit mutation`: projects are read and checked here, uploaded as one content-hashed bundle. */
export const mutationCli: KindCli = {
  description: 'mutation-test Python projects: mutants of the sources, killed or surviving under the tests',
  options: [
    { flags: '--project <dir>', description: 'a directory of Python modules with pytest or unittest tests' },
    {
      flags: '--source <globs>',
      description: 'comma-separated globs of files to mutate (default: non-test .py files)',
    },
    {
      flags: '--tests <globs>',
      description: 'comma-separated globs of test files (default: **/test_*.py,**/*_test.py)',
    },
    {
      flags: '--dataset <file>',
      description: 'many projects: JSONL of {id, files: {path: text}, source: [...], tests: [...]}',
    },
    { flags: '--from-run <run>', description: 'the passing solutions of a solve run, against their problems’ tests' },
    { flags: '--rerun-survivors <run>', description: 'only the mutants that survived in an earlier mutation run' },
    { flags: '--operators <ids>', description: 'comma-separated operator ids (default: all)' },
    { flags: '--max-mutants <n>', description: 'at most N mutants per project, spread evenly', type: 'int' },
    {
      flags: '--timeout-factor <x>',
      description: 'a mutant may take this many times its tests’ baseline time',
      type: 'number',
    },
    { flags: '--timeout-floor-ms <ms>', description: 'the least time a mutant’s tests get', type: 'int' },
    {
      flags: '--batch-mutants <n>',
      description: 'mutants per sandbox job (default: sized by the baseline)',
      type: 'int',
    },
    { flags: '--memory-mb <mb>', description: 'memory limit of each sandbox job', type: 'int' },
    {
      flags: '--covering-only',
      description: 'run only the tests that reach a mutant (faster; may miss kills through state it leaves)',
      type: 'boolean',
    },
  ],

  async plan(opts, ctx) {
    const sources = ['project', 'dataset', 'fromRun', 'rerunSurvivors'].filter((k) => str(opts[k]));
    if (sources.length !== 1)
      throw new Error('give exactly one of --project, --dataset, --from-run, --rerun-survivors');
    const known: readonly string[] = mutationOperatorIds;
    const unknown = (list(opts['operators']) ?? []).filter((o) => !known.includes(o));
    if (unknown.length > 0)
      throw new Error(`unknown operator ${unknown.join(', ')} (known: ${mutationOperatorIds.join(', ')})`);
    const projects: Project[] | undefined = projectsFrom(
      opts,
      (f) => ctx.readText(f),
      (l) => ctx.err(l),
    );
    const settings = {
      ...(list(opts['operators']) ? { operators: list(opts['operators']) } : {}),
      ...(num(opts['maxMutants']) !== undefined ? { maxMutants: num(opts['maxMutants']) } : {}),
      ...(num(opts['timeoutFactor']) !== undefined ? { timeoutFactor: num(opts['timeoutFactor']) } : {}),
      ...(num(opts['timeoutFloorMs']) !== undefined ? { timeoutFloorMs: num(opts['timeoutFloorMs']) } : {}),
      ...(num(opts['batchMutants']) !== undefined ? { batchMutants: num(opts['batchMutants']) } : {}),
      ...(num(opts['memoryMb']) !== undefined ? { memoryMb: num(opts['memoryMb']) } : {}),
      ...(opts['coveringOnly'] === true ? { testScope: 'covering' } : {}),
    };
    const placeholder = { key: 'dry-run', size: 0, sha256: '0'.repeat(64) };
    const bundle = projects?.map((p) => JSON.stringify(p)).join('\n');
    const spec = mutationSpecSchema.parse({
      ...settings,
      ...(bundle !== undefined
        ? { projects: ctx.dryRun ? placeholder : await ctx.upload('datasets', `${bundle}\n`, '.jsonl') }
        : {}),
      ...(str(opts['fromRun']) ? { fromRun: str(opts['fromRun']) } : {}),
      ...(str(opts['rerunSurvivors']) ? { rerunSurvivors: str(opts['rerunSurvivors']) } : {}),
    });
    const lines = projects
      ? projects.map(
          (p) =>
            `project ${p.id}: ${Object.keys(p.files).length} files, ${p.source.length} to mutate, ${p.tests.length} test files`,
        )
      : [
          str(opts['fromRun'])
            ? `passing solutions of solve run ${str(opts['fromRun'])}`
            : `survivors of ${str(opts['rerunSurvivors'])}`,
        ];
    return {
      spec,
      jobs: projects?.length ?? 1,
      lines: [...lines, 'each project adds a job per batch of mutants once its baseline passes'],
      details: { projects: projects?.map((p) => p.id) ?? [] },
    };
  },

  summaryLines: mutationSummaryLines,

  async afterWait(runId, _opts, ctx) {
    const body = await ctx.store.getOptional(runKeys.report(runId, 'summary.json'));
    const parsed = summaryView.safeParse(body ? JSON.parse(body.toString('utf8')) : undefined);
    if (!parsed.success) return;
    for (const line of mutationSummaryLines(parsed.data)) ctx.err(line);
    const failed = parsed.data.projects.filter((p) => p.status === 'baseline_failed');
    // A suite that fails without mutants says nothing about mutants: that is an error for whoever waited.
    if (failed.length > 0)
      throw new Error(failed.map((p) => `project ${p.project}: ${p.error ?? 'the baseline failed'}`).join('\n'));
  },

  commands: [mutantsCommand],
};

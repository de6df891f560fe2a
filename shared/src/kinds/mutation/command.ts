import { loadResults, loadRunRecord } from '../../runs/index.js';
import type { KindCommand } from '../../workflow/index.js';
import { collectProjects } from './collect.js';
import { mutantDiff } from './diff.js';
import { mutantStatuses, mutationResultSchema } from './result.js';

/** `evalfleet mutants RUN [--status survived] [--project ID]`: each mutant with its status and its diff. */
export const mutantsCommand: KindCommand = {
  name: 'mutants',
  description: 'list the mutants of a mutation run with their status, the test that killed them and their diff',
  args: ['<run>'],
  options: [
    { flags: '--status <status>', description: 'only mutants with this status', choices: mutantStatuses },
    { flags: '--project <id>', description: 'only this project' },
    { flags: '--no-diff', description: 'one line per mutant, no diff', type: 'boolean' },
  ],
  async run([runId], opts, ctx) {
    if (!runId) throw new Error('a run id is needed');
    const record = await loadRunRecord(runId, ctx.store).catch(() => undefined);
    if (!record) {
      ctx.err(`no run ${runId} in the store`);
      return 2;
    }
    if (record.kind !== 'mutation') {
      ctx.err(`run ${runId} is a ${record.kind} run`);
      return 2;
    }
    const results = (await loadResults(runId, ctx.store)).flatMap((r) => {
      const parsed = mutationResultSchema.safeParse(r.result);
      return parsed.success ? [{ ...r, result: parsed.data }] : [];
    });
    const projects = (await collectProjects(results, ctx.store)).filter(
      (p) => opts['project'] === undefined || p.id === opts['project'],
    );
    const rows = projects.flatMap((p) =>
      p.rows
        .filter((r) => opts['status'] === undefined || r.outcome.status === opts['status'])
        .map((r) => ({ project: p, ...r })),
    );
    if (opts['json'] === true) {
      for (const { project: p, mutant: m, outcome: o } of rows)
        ctx.out(JSON.stringify({ project: p.id, ...m, ...o, diff: mutantDiff(p.project?.files[m.file] ?? '', m) }));
      return 0;
    }
    for (const { project: p, mutant: m, outcome: o } of rows) {
      const by = o.killedBy?.length ? ` by ${o.killedBy.join(', ')}` : '';
      ctx.out(
        `${p.id}:${m.id} ${o.status}${by}  ${m.file}:${m.location.start.line}:${m.location.start.column}  ${m.mutatorName}`,
      );
      if (opts['diff'] !== false) {
        for (const line of mutantDiff(p.project?.files[m.file] ?? '', m).split('\n')) ctx.out(`    ${line}`);
        ctx.out('');
      }
    }
    for (const p of projects.filter((x) => x.status !== 'tested'))
      ctx.err(`project ${p.id}: ${p.status}${p.error ? ` — ${p.error}` : ''}`);
    ctx.err(`${rows.length} mutants`);
    return 0;
  },
};

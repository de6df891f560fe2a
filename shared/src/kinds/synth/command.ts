import { loadResults, runKeys } from '../../runs/index.js';
import type { KindCommand } from '../../workflow/index.js';
import { parseSavedTasks } from './expand.js';
import { validateResultSchema, type ValidateResult } from './result.js';

/** The table `synth validate` prints: one row per task. */
export function validationTable(rows: readonly ValidateResult[]): string[] {
  const width = Math.max(8, ...rows.map((r) => r.instanceId.length));
  return [
    `${'instance'.padEnd(width)}  clean    buggy fails        result`,
    ...rows.map((r) => {
      const fails = r.buggy ? `${r.buggy.failing.length} (expected ${r.expectedFailToPass.length})` : '–';
      return `${r.instanceId.padEnd(width)}  ${(r.clean?.verdict ?? '–').padEnd(7)}  ${fails.padEnd(17)}  ${r.ok ? 'valid' : `INVALID: ${r.problems.join('; ')}`}`;
    }),
  ];
}

/**
 * `evalfleet synth validate FILE|RUN`: a tasks.jsonl (a file, or a synth run's) re-run through the
 * fleet as a `validate` run — the same sandbox, hardening and evaluators as the run that made the
 * tasks, and the CLI never runs untrusted code itself. Exit code 0 when every task is valid.
 */
export const validateCommand: KindCommand = {
  name: 'synth validate',
  description:
    "re-run saved tasks in the sandbox through the fleet: the clean module passes, the buggy one fails exactly its FAIL_TO_PASS (a tasks.jsonl or a synth run's id)",
  args: ['<tasks>'],
  options: [{ flags: '--timeout-ms <ms>', description: 'wall-clock limit per suite run', type: 'int' }],
  async run([source], opts, ctx) {
    if (!source) throw new Error('a tasks.jsonl file or a synth run id is needed');
    if (!ctx.submitRun) throw new Error('this CLI cannot submit runs from a command');
    let text: string | undefined;
    try {
      text = ctx.readText(source);
    } catch {
      text = (await ctx.store.getOptional(runKeys.report(source, 'tasks.jsonl')))?.toString('utf8');
    }
    if (text === undefined) {
      ctx.err(`${source} is neither a file nor a synth run with tasks.jsonl`);
      return 2;
    }
    const { tasks, errors } = parseSavedTasks(text);
    for (const e of errors) ctx.err(`${source}:${e.line}: ${e.message}`);
    if (tasks.length === 0) {
      ctx.err(`${source}: no task to validate`);
      return 2;
    }
    const ref = await ctx.upload('synth/validate', text, '.jsonl');
    const timeoutMs = typeof opts['timeoutMs'] === 'number' ? { timeoutMs: opts['timeoutMs'] } : {};
    const run = await ctx.submitRun('synth', { mode: 'validate', tasks: ref, ...timeoutMs });
    if (run.status === 'stopped') return 130;
    if (run.status === 'failed') return 1;
    const rows = (await loadResults(run.runId, ctx.store))
      .map((r) => validateResultSchema.safeParse(r.result))
      .flatMap((p) => (p.success ? [p.data] : []))
      .sort((a, b) => a.line - b.line);
    if (opts['json'] === true) for (const r of rows) ctx.out(JSON.stringify(r));
    else for (const line of validationTable(rows)) ctx.out(line);
    const invalid = rows.filter((r) => !r.ok).length;
    ctx.err(`${rows.length} tasks re-run in run ${run.runId}: ${rows.length - invalid} valid, ${invalid} invalid`);
    return invalid === 0 && rows.length === tasks.length ? 0 : 1;
  },
};

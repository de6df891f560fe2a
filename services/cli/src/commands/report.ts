import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { finalizeRun, loadResults, loadRunRecord, runKeys } from '@evalfleet/shared/runs';
import type { CliContext } from '../context.js';
import { readCompleted, readRun } from './runs.js';

type ReportOptions = { json?: boolean; out?: string; rebuild?: boolean; html?: boolean; open?: boolean };

/** Opens a file in the desktop's browser; detached, so the CLI does not wait for it. */
function openInBrowser(ctx: CliContext, file: string): void {
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', file]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', file]
        : ['xdg-open', file];
  const child = spawn(command ?? 'xdg-open', args, { detached: true, stdio: 'ignore' });
  child.on('error', (err) => ctx.err(`could not open a browser (${err.message}); open ${pathToFileURL(file).href}`));
  child.unref();
}

/**
 * `--html`: writes report.html from the stored results (also for a run still going) to the store
 * and to a local file (`--out DIR/report.html`, else `./evalfleet-report-<run>.html`).
 */
async function writeHtml(ctx: CliContext, runId: string, opts: ReportOptions): Promise<void> {
  const store = ctx.store();
  const registry = await ctx.registry();
  const record = await loadRunRecord(runId, store);
  const results = await loadResults(runId, store);
  const reports = (await readCompleted(ctx, runId))?.reports ?? {};
  const key = await registry.kind(record.kind).html({ record, results, store, reports });
  const file = path.resolve(opts.out ? path.join(opts.out, 'report.html') : `evalfleet-report-${runId}.html`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await store.get(key));
  ctx.err(`wrote ${file} (${results.length} of ${record.totalJobs} jobs have a result; stored as ${key})`);
  if (opts.open) openInBrowser(ctx, file);
}

/** `evalfleet report RUN`: the summary table and where every report file is. */
export async function reportCommand(ctx: CliContext, runId: string, opts: ReportOptions): Promise<number> {
  const store = ctx.store();
  const registry = await ctx.registry();
  if (opts.rebuild) {
    await finalizeRun(
      runId,
      { registry, bus: await ctx.bus(), store, logger: ctx.logger },
      { force: true, partial: true },
    );
  }
  if (opts.html) await writeHtml(ctx, runId, opts);
  const completed = await readCompleted(ctx, runId);
  if (!completed && opts.html) return 0;
  if (!completed) {
    ctx.err(
      `run ${runId} has not completed (evalfleet status ${runId}); --rebuild writes reports from the results stored so far`,
    );
    return 2;
  }
  const summaryBody = await store.getOptional(runKeys.report(runId, 'summary.json'));
  if (opts.json) {
    ctx.out(summaryBody ? summaryBody.toString('utf8') : JSON.stringify(completed, null, 2));
  } else if (summaryBody) {
    const summary: unknown = JSON.parse(summaryBody.toString('utf8'));
    const record = await readRun(ctx, runId);
    const kind = record && registry.has(record.kind) ? registry.kind(record.kind) : undefined;
    const lines = kind?.cli?.summaryLines?.(summary) ?? [JSON.stringify(summary, null, 2)];
    for (const line of lines) ctx.out(line);
  }
  if (opts.out) {
    for (const [name, key] of Object.entries(completed.reports)) {
      const file = path.join(opts.out, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await store.get(key));
    }
    ctx.err(`wrote ${Object.keys(completed.reports).length} report files to ${opts.out}`);
  }
  if (!opts.json) {
    ctx.out('');
    ctx.out(`reports (${store.describe()}):`);
    for (const key of Object.values(completed.reports).sort()) ctx.out(`  ${key}`);
  }
  return 0;
}

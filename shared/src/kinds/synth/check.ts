import type { JobContext } from '../../workflow/index.js';
import { taskFilesOf } from './clean.js';
import { ended, jobOf, rejectGeneration } from './job.js';
import type { SynthBug } from './answer.js';
import type { CheckPayload, Rejection, Strategy } from './messages.js';
import { failingOutput, normaliseCode, runSuite, splitTests, suiteJob } from './project.js';
import type { TaskSummary } from './result.js';
import { loadAnswer, loadClean, loadMutants, type Candidate, type CleanRuns } from './state.js';
import { saveTask } from './task.js';

/**
 * The limit a buggy version runs under: four times the slowest clean run, at least 5 s, at most the
 * run's own limit (a mutant that loops forever costs seconds, not the whole limit).
 */
export function buggyTimeoutMs(clean: CleanRuns, limitMs: number): number {
  return Math.min(limitMs, Math.max(5_000, Math.ceil(4 * clean.durationMs)));
}

/** The model's own buggy variants, in its order; an edit that could not be applied carries its error. */
export function llmCandidates(bugs: readonly SynthBug[]): (Candidate & { error?: string })[] {
  return bugs.map((b, i) => ({
    strategy: 'llm',
    operator: `variant-${i + 1}`,
    description: b.description,
    code: b.code ?? '',
    ...(b.error !== undefined ? { error: b.error } : {}),
  }));
}

/**
 * `synth.check`: each strategy's buggy versions in turn until one is valid — it fails at least one of
 * the clean suite's tests (FAIL_TO_PASS) and still passes at least one (PASS_TO_PASS). Every version
 * turned down is a rejection with its reason. A generation with no valid version at all is turned
 * down (`no_valid_bug`) and the job generates again while retries are left.
 */
export async function check(p: CheckPayload, ctx: JobContext): Promise<void> {
  const stored = await loadAnswer(ctx, p.answer);
  const clean = await loadClean(ctx, p.clean);
  const mutants = p.mutants ? await loadMutants(ctx, p.mutants) : undefined;
  const files = taskFilesOf(stored.answer);
  const timeoutMs = buggyTimeoutMs(clean, p.timeoutMs);
  const pool: (Candidate & { error?: string })[] = [
    ...llmCandidates(stored.answer.bugs),
    ...(mutants?.candidates ?? []),
  ];
  const seen = new Set([normaliseCode(stored.answer.moduleCode)]);
  const rejections: Rejection[] = [];
  const tasks: TaskSummary[] = [];
  const tried: Partial<Record<Strategy, number>> = {};
  for (const strategy of p.strategies) {
    const candidates = pool.filter((c) => c.strategy === strategy);
    for (const [i, c] of candidates.entries()) {
      const reject = (reason: Rejection['reason'], message?: string) =>
        rejections.push({
          gen: p.gen,
          reason,
          strategy,
          ...(c.operator !== undefined ? { operator: c.operator } : {}),
          ...(message ? { message: message.slice(0, 300) } : {}),
        });
      tried[strategy] = (tried[strategy] ?? 0) + 1;
      if (c.error !== undefined) {
        reject('bug_unappliable', c.error);
        continue;
      }
      const code = normaliseCode(c.code);
      if (code === normaliseCode(stored.answer.moduleCode)) {
        reject('bug_identical', 'the buggy version is the clean module');
        continue;
      }
      if (seen.has(code)) {
        reject('duplicate_bug', 'the same code as an earlier buggy version');
        continue;
      }
      seen.add(code);
      const result = await runSuite(
        ctx,
        suiteJob(`${ctx.env.jobId}/gen-${p.gen}/${strategy}-${i + 1}`, files, c.code, {
          timeoutMs,
          memoryMb: p.memoryMb,
        }),
      );
      if (result.verdict === 'timeout' || result.verdict === 'oom') {
        reject('bug_timeout', `${result.verdict} after ${result.durationMs} ms (limit ${timeoutMs} ms)`);
        continue;
      }
      const { f2p, p2p } = splitTests(clean.tests, result);
      if (f2p.length === 0) {
        reject('bug_passes', `all ${p2p.length} tests still pass`);
        continue;
      }
      if (p2p.length === 0) {
        reject('no_pass_to_pass', `every test fails (${result.verdict}${result.reason ? `, ${result.reason}` : ''})`);
        continue;
      }
      tasks.push(
        await saveTask(ctx, p, stored, {
          candidate: c,
          failToPass: f2p,
          passToPass: p2p,
          failingOutput: failingOutput(result),
        }),
      );
      break;
    }
  }
  const job = { ...jobOf(p), rejections: [...p.rejections, ...rejections] };
  if (tasks.length > 0) {
    await ctx.emit('accepted', ended(job, { status: 'accepted', tasks }), { progress: 'check' });
    return;
  }
  const proposed = Object.entries(tried)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  await rejectGeneration(
    ctx,
    job,
    {
      gen: p.gen,
      reason: 'no_valid_bug',
      message: proposed
        ? `none of the buggy versions (${proposed}) failed a test while others passed`
        : 'no buggy version was proposed',
    },
    'check',
  );
}

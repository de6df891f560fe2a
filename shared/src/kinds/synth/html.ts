// The synth kind's sections of report.html: valid yield per strategy, why buggy versions and
// generations were turned down, cost per accepted task by model, and the tasks themselves (patch,
// failing output, conversation) as drill-down records.
import { clip, type Cell, type Detail, type ReportPart } from '../../report/index.js';
import type { HtmlReportContext, TypedResult } from '../../workflow/index.js';
import { rejectionReasons, strategies, type Strategy } from './messages.js';
import { loadTasks, synthSummary } from './report.js';
import type { GenerateResult, SynthResult, ValidateResult } from './result.js';

/** Tasks embedded on the page at most; tasks.jsonl has them all. */
const maxTasks = 200;

const usd = (n: number | null) => (n === null ? '–' : `$${n.toFixed(4)}`);
const pct = (n: number | null) => (n === null ? '–' : `${(n * 100).toFixed(1)}%`);

function validateHtml(results: readonly ValidateResult[]): ReportPart {
  const rows: Cell[][] = [...results]
    .sort((a, b) => a.line - b.line)
    .map((r) => [
      { text: r.instanceId, mono: true },
      { text: r.ok ? 'valid' : 'invalid', tone: r.ok ? 'good' : 'bad' },
      r.clean?.verdict ?? '–',
      r.buggy ? r.buggy.failing.join(', ') : '–',
      r.problems.join('; '),
    ]);
  return {
    sections: [
      {
        id: 'validation',
        title: 'Saved tasks re-run',
        intro: 'Each task: the clean module must pass, the buggy one must fail exactly its FAIL_TO_PASS tests.',
        blocks: [
          { type: 'table', columns: ['task', 'result', 'clean', 'buggy fails', 'problems'], rows, filter: true },
        ],
      },
    ],
  };
}

export async function synthHtml(ctx: HtmlReportContext<SynthResult>): Promise<ReportPart> {
  if (ctx.record.spec['mode'] === 'validate')
    return validateHtml(ctx.results.flatMap((r) => (r.result.mode === 'validate' ? [r.result] : [])));
  const generated = ctx.results.filter((r): r is TypedResult<GenerateResult> => r.result.mode === 'generate');
  const asked = Array.isArray(ctx.record.spec['strategies'])
    ? (ctx.record.spec['strategies'] as Strategy[])
    : [...strategies];
  const s = synthSummary(
    ctx.record.runId,
    generated.map((r) => r.result),
    asked,
  );
  const tasks = await loadTasks(ctx.store, generated);
  const details: Record<string, Detail> = {};
  for (const t of tasks.slice(0, maxTasks)) {
    details[t.instance_id] = {
      title: t.instance_id,
      fields: [
        { label: 'Scenario', text: `${t.scenario.domain} / ${t.scenario.topic} / ${t.scenario.subtopic}` },
        { label: 'Problem statement', text: clip(t.problem_statement, 2000).text },
        { label: 'Bug', text: `${t.strategy}${t.operator ? ` (${t.operator})` : ''}: ${t.bug_description}` },
        { label: 'Fix (buggy → clean)', kind: 'code', ...clip(t.patch, 4000) },
        { label: 'FAIL_TO_PASS', text: t.FAIL_TO_PASS.join('\n'), kind: 'code' },
        { label: 'Failing output', kind: 'code', ...clip(t.failing_output, 4000, 'tail') },
        ...t.conversation.map((m, i) => ({ label: `Conversation ${i + 1}: ${m.role}`, ...clip(m.content, 4000) })),
      ],
    };
  }
  const reasons = rejectionReasons.filter((r) => s.rejections[r]);
  return {
    sections: [
      {
        id: 'yield',
        title: 'Valid yield per strategy',
        intro: `${s.tasks} tasks from ${s.acceptedJobs} of ${s.jobs} scenarios; a buggy version is valid when it fails ≥ 1 test and passes ≥ 1.`,
        blocks: [
          {
            type: 'chart',
            title: 'buggy versions',
            chart: {
              kind: 'bar',
              labels: s.byStrategy.map((x) => x.strategy),
              series: [
                { name: 'valid', values: s.byStrategy.map((x) => x.valid), color: '#2e7d32' },
                { name: 'turned down', values: s.byStrategy.map((x) => x.proposed - x.valid), color: '#c62828' },
              ],
              stacked: true,
            },
          },
          {
            type: 'table',
            columns: ['strategy', 'proposed', 'valid', 'yield'],
            rows: s.byStrategy.map((x) => [x.strategy, x.proposed, x.valid, pct(x.yield)]),
          },
        ],
      },
      {
        id: 'rejections',
        title: 'Rejections',
        intro:
          'Generations turned down (malformed answer, failing or flaky suite, no valid bug) and buggy versions turned down.',
        blocks: [
          {
            type: 'chart',
            title: 'by reason',
            chart: {
              kind: 'bar',
              labels: reasons,
              series: [{ name: 'rejections', values: reasons.map((r) => s.rejections[r] ?? 0) }],
              horizontal: true,
            },
          },
          {
            type: 'table',
            columns: ['reason', 'of', 'count'],
            rows: reasons.map((r) => [
              r,
              s.generationRejections[r] ? 'generation' : 'buggy version',
              s.rejections[r] ?? 0,
            ]),
          },
        ],
      },
      {
        id: 'cost',
        title: 'Cost per accepted task',
        blocks: [
          {
            type: 'table',
            columns: ['model', 'scenarios', 'accepted', 'tasks', 'cost', 'cost / task'],
            rows: [
              ...s.models.map((m) => [m.model, m.jobs, m.acceptedJobs, m.tasks, usd(m.costUsd), usd(m.costPerTaskUsd)]),
              ['all', s.jobs, s.acceptedJobs, s.tasks, usd(s.costUsd), usd(s.costPerTaskUsd)],
            ],
          },
        ],
      },
      {
        id: 'tasks',
        title: 'Tasks',
        blocks: [
          {
            type: 'table',
            columns: ['task', 'model', 'strategy', 'operator', 'FAIL_TO_PASS', 'PASS_TO_PASS', 'scenario'],
            rows: tasks
              .slice(0, maxTasks)
              .map((t) => [
                { text: t.instance_id, details: [t.instance_id], mono: true },
                t.model,
                t.strategy,
                t.operator ?? '–',
                t.FAIL_TO_PASS.length,
                t.PASS_TO_PASS.length,
                t.scenario.subtopic,
              ]),
            filter: true,
          },
        ],
      },
    ],
    details,
    notes: tasks.length > maxTasks ? [`${maxTasks} of ${tasks.length} tasks listed; tasks.jsonl has them all`] : [],
  };
}

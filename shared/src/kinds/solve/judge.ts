// `--judge MODEL`: a model names the mistake of each failed sample (a category from a fixed list
// and a sentence why), answering JSON that follows a schema. The call goes through the models
// capability like any other (response cache, run budget, rate limits, a trace of its own under
// `<jobId>#judge`), so a re-run never pays twice.
import { z } from 'zod';
import type { Problem } from '../../datasets/index.js';
import { RetryableError, PermanentError } from '../../errors/index.js';
import { objectRefSchema } from '../../messages/index.js';
import { defineHandler, need, type ChatMessage, type Handler, type JobContext } from '../../workflow/index.js';
import { judgeSettingsSchema } from './messages.js';
import type { ProblemCache } from './problems.js';
import { solveResultSchema, type Judgement, type SolveResult } from './result.js';

/** The mistakes a judge may name, with what each means (the prompt lists them). */
export const mistakeCategories = {
  wrong_algorithm: 'the approach cannot produce the right answers',
  edge_case: 'right in general, wrong on empty, boundary or special inputs',
  off_by_one: 'an index, range or count is off by one',
  misread_spec: 'solves a different problem than the one described',
  wrong_output_format: 'the right idea, but the result has the wrong type, shape or format',
  runtime_error: 'crashes (an exception) on valid input',
  too_slow: 'too slow or does not terminate',
  incomplete: 'unfinished: placeholders, missing parts or the function is not defined',
  other: 'none of the above',
} as const;
export type MistakeCategory = keyof typeof mistakeCategories;
const categoryNames = Object.keys(mistakeCategories) as [MistakeCategory, ...MistakeCategory[]];

/** The category given when the judge gave no usable answer. */
export const UNJUDGED = 'unjudged';

export const judgeAnswerSchema = z.object({ category: z.enum(categoryNames), explanation: z.string().min(1) });

/** The JSON schema the judge's answer must follow (the provider's `response_format`). */
export const judgeJsonSchema = {
  name: 'mistake',
  schema: {
    type: 'object',
    properties: {
      category: { type: 'string', enum: categoryNames },
      explanation: { type: 'string', description: 'one or two sentences on what the code gets wrong' },
    },
    required: ['category', 'explanation'],
    additionalProperties: false,
  },
};

export const solveJudgePayloadSchema = solveResultSchema.extend({
  judge: judgeSettingsSchema,
  problem: objectRefSchema,
  /** The sandbox's verdict file, attached to the result the judge emits. */
  verdictRef: objectRefSchema.optional(),
});
export type SolveJudgePayload = z.infer<typeof solveJudgePayloadSchema>;

export const solveJudgeMessage = {
  type: 'solve.judge',
  stage: 'generate',
  schema: solveJudgePayloadSchema,
  timeoutMs: 5 * 60_000,
  retry: { maxAttempts: 4, delaysMs: [1_000, 5_000, 30_000] },
  description: "Ask a judge model to name a failed sample's mistake.",
} as const;

/** Whether an evaluated sample goes to the judge: its run has a judge model and it failed. */
export function wantsJudge(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && Reflect.get(payload, 'judge') !== undefined;
}

const tail = (text: string, max: number) => (text.length <= max ? text : `…${text.slice(-max)}`);
const head = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)}…`);

export function judgePrompt(problem: Problem, sample: SolveResult): ChatMessage[] {
  const failing = sample.tests?.find((t) => t.outcome === 'failed' || t.outcome === 'error');
  const categories = Object.entries(mistakeCategories).map(([name, meaning]) => `- ${name}: ${meaning}`);
  const user = [
    `Task: ${problem.taskId}`,
    '',
    problem.prompt.trim(),
    '',
    'Candidate solution:',
    '```python',
    head(sample.code ?? '', 6000).trimEnd(),
    '```',
    '',
    `Verdict: ${sample.verdict}${sample.reason ? ` (${sample.reason})` : ''}`,
    ...(failing ? [`Failing test: ${failing.name}`] : []),
    ...(sample.message ? ['Error output:', '```', tail(sample.message, 1500), '```'] : []),
    '',
    'Name the main mistake with one of these categories:',
    ...categories,
    '',
    'Answer with a JSON object: {"category": "...", "explanation": "..."}.',
  ].join('\n');
  return [
    {
      role: 'system',
      content:
        'You review failed solutions to programming tasks. Name the main mistake with one category ' +
        'and explain it in one or two sentences. Answer with JSON only.',
    },
    { role: 'user', content: user },
  ];
}

/** The judge's answer as a judgement, or why it is none. */
export function parseJudgeAnswer(text: string): { category: string; explanation: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { category: UNJUDGED, explanation: `the judge's answer is not JSON: ${head(text, 200)}` };
  }
  const parsed = judgeAnswerSchema.safeParse(json);
  return parsed.success
    ? parsed.data
    : { category: UNJUDGED, explanation: `the judge's answer does not follow the schema: ${head(text, 200)}` };
}

/**
 * `solve.judge`: labels one failed sample and emits it as the job's result (with its verdict as
 * the outcome). A judge that cannot answer — a permanent provider error, the run's budget, the
 * last attempt of a transient failure — leaves the sample `unjudged` rather than dead-lettering
 * it: the verdict is what counts, and it is known already.
 */
async function judge(job: SolveJudgePayload, ctx: JobContext, problems: ProblemCache): Promise<void> {
  const { judge: settings, problem: problemRef, verdictRef, ...sample } = job;
  const unjudged = (explanation: string): Judgement => ({
    category: UNJUDGED,
    explanation,
    model: settings.model,
    costUsd: 0,
    cached: false,
  });
  let judgement: Judgement;
  try {
    const problem = await problems.get(problemRef.key);
    const outcome = await need(ctx.caps, 'models').call({
      runId: ctx.env.runId,
      jobId: `${ctx.env.jobId}#judge`,
      attempt: ctx.env.attempt,
      model: settings.model,
      messages: judgePrompt(problem, sample),
      temperature: 0,
      maxTokens: 400,
      sampleIndex: 0,
      ...(settings.budgetUsd !== undefined ? { budgetUsd: settings.budgetUsd } : {}),
      noCache: settings.noCache,
      signal: ctx.signal,
      jsonSchema: judgeJsonSchema,
    });
    if (outcome.kind === 'budget_exhausted') judgement = unjudged('the run budget was reached before the judge call');
    else if (outcome.kind === 'malformed') judgement = unjudged(`the judge's answer was malformed: ${outcome.message}`);
    else
      judgement = {
        ...parseJudgeAnswer(outcome.answer.text),
        model: settings.model,
        costUsd: outcome.answer.costUsd,
        cached: outcome.answer.cached,
      };
  } catch (err) {
    const lastTry = ctx.env.attempt >= solveJudgeMessage.retry.maxAttempts;
    if (err instanceof RetryableError && !lastTry) throw err;
    if (!(err instanceof RetryableError) && !(err instanceof PermanentError)) throw err;
    ctx.logger.warn({ err, judge: settings.model }, 'judge gave no answer: sample recorded unjudged');
    judgement = unjudged(`the judge call failed: ${err.code}: ${err.message}`);
  }
  await ctx.emit(sample.verdict, { ...sample, judgement }, verdictRef ? { artifacts: { verdict: verdictRef } } : {});
}

export function judgeHandler(problems: ProblemCache): Handler {
  return defineHandler(solveJudgeMessage, (job, ctx) => judge(job, ctx, problems));
}

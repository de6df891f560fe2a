import { PermanentError } from '../../errors/index.js';
import type { ArtifactStore } from '../../storage/index.js';
import {
  defineHandler,
  need,
  type ChatMessage,
  type Handler,
  type JobContext,
  type ModelsCapability,
} from '../../workflow/index.js';
import { retryPrompt, type CheckedAnswer } from './answer.js';
import { evaluateCondition } from './condition.js';
import { promptMessages, type PromptStagePayload, type StageRecord } from './messages.js';
import { parsePipeline, type PromptPipeline, type PromptStage } from './pipeline.js';
import { renderTemplate } from './template.js';

/**
 * Parsed pipelines by store key. Keys are content hashes, so an entry never goes stale; the bound
 * only keeps a long-lived worker from holding every pipeline it ever saw.
 */
export class PipelineCache {
  private readonly entries = new Map<string, Promise<PromptPipeline>>();
  private readonly store: ArtifactStore;
  private readonly max: number;

  constructor(store: ArtifactStore, max = 64) {
    this.store = store;
    this.max = max;
  }

  get(key: string): Promise<PromptPipeline> {
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= this.max) this.entries.clear();
      entry = this.store.get(key).then((body) => {
        try {
          return parsePipeline(body.toString('utf8'));
        } catch (err) {
          throw new PermanentError('invalid_pipeline', err instanceof Error ? err.message : String(err));
        }
      });
      // A failed load (a store hiccup) is not remembered: the retry loads again.
      void entry.catch(() => this.entries.delete(key));
      this.entries.set(key, entry);
    }
    return entry;
  }
}

type Usage = Pick<StageRecord, 'tries' | 'calls' | 'cached' | 'promptTokens' | 'completionTokens' | 'costUsd'>;

const noUsage = (): Usage => ({ tries: 0, calls: 0, cached: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 });

function skipped(reason: string): StageRecord {
  return { outcome: 'skipped', answer: null, reason, ...noUsage() };
}

/** The messages that open a stage's conversation, or why they cannot be written. */
function openingMessages(stage: PromptStage, context: unknown): ChatMessage[] | string {
  const messages: ChatMessage[] = [];
  for (const [role, template] of [
    ['system', stage.system],
    ['user', stage.user],
  ] as const) {
    if (template === undefined) continue;
    const rendered = renderTemplate(template, context);
    if (!rendered.ok) return `${rendered.missing} is missing`;
    messages.push({ role, content: rendered.text });
  }
  return messages;
}

/**
 * Asks for a stage's answer: the prompt, then — while the answer is not valid JSON for the
 * schema and retries are left — the invalid answer and its validation errors appended to the same
 * conversation (each try is its own cache entry, so a re-run replays the same conversation).
 */
async function ask(
  models: ModelsCapability,
  stage: PromptStage,
  messages: ChatMessage[],
  job: PromptStagePayload,
  ctx: JobContext,
): Promise<StageRecord> {
  const usage = noUsage();
  let last: Extract<CheckedAnswer, { ok: false }> | undefined;
  for (let t = 0; t <= stage.maxRetries; t++) {
    const outcome = await models.call({
      runId: ctx.env.runId,
      // One trace per try: the job id alone would keep only the last call of the job's last stage.
      jobId: `${ctx.env.jobId}/${stage.name}/try-${t}`,
      attempt: ctx.env.attempt,
      model: stage.model,
      messages: [...messages],
      temperature: stage.temperature,
      maxTokens: stage.maxTokens,
      sampleIndex: 0,
      ...(job.budgetUsd !== undefined ? { budgetUsd: job.budgetUsd } : {}),
      noCache: job.noCache,
      signal: ctx.signal,
      jsonSchema: { name: stage.name, schema: stage.schema },
    });
    if (outcome.kind === 'budget_exhausted')
      return { outcome: 'budget_exhausted', answer: null, reason: `run budget spent ($${outcome.spentUsd})`, ...usage };
    usage.tries += 1;
    if (outcome.kind === 'malformed') {
      usage.calls += 1;
      usage.promptTokens += outcome.promptTokens;
      usage.costUsd += outcome.costUsd;
      return { outcome: 'malformed', answer: null, reason: outcome.message.slice(0, 500), ...usage };
    }
    const a = outcome.answer;
    if (a.cached) usage.cached += 1;
    else usage.calls += 1;
    usage.promptTokens += a.promptTokens;
    usage.completionTokens += a.completionTokens;
    usage.costUsd += a.costUsd;
    const checked = stage.validator.check(a.text);
    if (checked.ok) return { outcome: 'ok', answer: checked.value, ...usage };
    last = checked;
    messages.push({ role: 'assistant', content: a.text }, { role: 'user', content: retryPrompt(checked) });
  }
  return {
    outcome: 'invalid_answer',
    answer: null,
    reason: last?.problem ?? 'no valid answer',
    errors: (last?.errors ?? []).slice(0, 20),
    ...usage,
  };
}

/** One stage of one record: `when`, the answers it needs, the conversation; the outcome is the stage's. */
async function runStage(job: PromptStagePayload, ctx: JobContext, pipelines: PipelineCache): Promise<void> {
  const pipeline = await pipelines.get(job.pipeline.key);
  const stage = pipeline.stages[job.stageIndex];
  if (!stage || pipeline.stages.length !== job.stageCount)
    throw new PermanentError(
      'pipeline_mismatch',
      `stage ${job.stageIndex + 1} of ${job.stageCount} does not exist in pipeline ${job.pipeline.key}`,
    );
  const record: unknown = JSON.parse((await ctx.store.get(job.record.key)).toString('utf8'));
  const answers: Record<string, unknown> = {};
  for (const s of pipeline.stages.slice(0, job.stageIndex)) answers[s.name] = job.stages[s.name]?.answer ?? null;
  // Templates see the record's fields and the earlier answers; `stages` is reserved for the latter.
  const context = { ...(typeof record === 'object' && record !== null ? record : {}), stages: answers };

  let result: StageRecord;
  const upstream = stage.needs.filter((name) => answers[name] === null || answers[name] === undefined);
  if (stage.condition && !evaluateCondition(stage.condition, context)) result = skipped(`when: ${stage.when ?? ''}`);
  else if (upstream.length > 0) result = skipped(`no answer from ${upstream.join(', ')}`);
  else {
    const messages = openingMessages(stage, context);
    result =
      typeof messages === 'string' ? skipped(messages) : await ask(need(ctx.caps, 'models'), stage, messages, job, ctx);
  }
  await ctx.emit(
    result.outcome,
    { ...job, stageIndex: job.stageIndex + 1, stages: { ...job.stages, [stage.name]: result } },
    { progress: stage.name },
  );
}

export function stageHandler(store: ArtifactStore): Handler {
  const pipelines = new PipelineCache(store);
  return defineHandler(promptMessages.stage, (job, ctx) => runStage(job, ctx, pipelines));
}

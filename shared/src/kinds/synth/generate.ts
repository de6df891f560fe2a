import { need, type ChatMessage, type JobContext } from '../../workflow/index.js';
import { parseSynthAnswer } from './answer.js';
import { addUsage, ended, jobOf, rejectGeneration } from './job.js';
import { noUsage, type Rejection, type SynthJob } from './messages.js';
import { openingMessages, retryMessage } from './prompt.js';
import { saveJson, type StoredAnswer } from './state.js';

/**
 * `synth.generate`: one generation. The model answers the scenario's prompt; while the answer cannot
 * be parsed and retries are left, the answer and the parse error go back in the same conversation
 * (each try its own call, cache entry and trace). Every unusable answer is a `malformed_answer`
 * rejection; when none is usable the generation is turned down.
 */
export async function generate(p: SynthJob, ctx: JobContext): Promise<void> {
  const models = need(ctx.caps, 'models');
  const messages: ChatMessage[] = openingMessages(p.scenario, p.strategies, p.feedback);
  let usage = noUsage;
  const rejections: Rejection[] = [];
  for (let t = 1; t <= p.retries + 1; t++) {
    const outcome = await models.call({
      runId: ctx.env.runId,
      jobId: `${ctx.env.jobId}/gen-${p.gen}/try-${t}`,
      attempt: ctx.env.attempt,
      model: p.model,
      messages: [...messages],
      temperature: p.temperature,
      maxTokens: p.maxTokens,
      // A new generation after a rejection is a new sample, never the cached answer of the last one.
      sampleIndex: p.gen - 1,
      ...(p.budgetUsd !== undefined ? { budgetUsd: p.budgetUsd } : {}),
      noCache: p.noCache,
      signal: ctx.signal,
    });
    if (outcome.kind === 'budget_exhausted') {
      const job = { ...jobOf(p), rejections: [...p.rejections, ...rejections], ...addUsage(p, usage) };
      await ctx.emit(
        'budget_exhausted',
        ended(job, { status: 'budget_exhausted', tasks: [], reason: `run budget spent ($${outcome.spentUsd})` }),
        { progress: 'generate' },
      );
      return;
    }
    if (outcome.kind === 'malformed') {
      usage = addUsage(usage, { promptTokens: outcome.promptTokens, completionTokens: 0, costUsd: outcome.costUsd });
      rejections.push({
        gen: p.gen,
        reason: 'malformed_answer',
        message: `provider: ${outcome.message.slice(0, 300)}`,
      });
      continue;
    }
    const a = outcome.answer;
    usage = addUsage(usage, { promptTokens: a.promptTokens, completionTokens: a.completionTokens, costUsd: a.costUsd });
    const parsed = parseSynthAnswer(a.text);
    if (!parsed.ok) {
      rejections.push({ gen: p.gen, reason: 'malformed_answer', message: parsed.error.slice(0, 500) });
      messages.push({ role: 'assistant', content: a.text }, { role: 'user', content: retryMessage(parsed.error) });
      continue;
    }
    const stored: StoredAnswer = {
      gen: p.gen,
      answer: parsed.answer,
      messages: [...messages, { role: 'assistant', content: a.text }],
      usage,
      tries: t,
    };
    const answer = await saveJson(ctx, p.gen, 'answer.json', stored);
    await ctx.emit(
      'generated',
      { ...jobOf(p), rejections: [...p.rejections, ...rejections], ...addUsage(p, usage), answer },
      { progress: 'generate' },
    );
    return;
  }
  // Every try left a rejection; the last one says why the generation ends.
  const last = rejections.pop() ?? { gen: p.gen, reason: 'malformed_answer' as const };
  const job = { ...jobOf(p), ...addUsage(p, usage), rejections: [...p.rejections, ...rejections] };
  await rejectGeneration(ctx, job, last, 'generate');
}

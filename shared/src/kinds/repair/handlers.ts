import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../extraction/index.js';
import { runKeys } from '../../runs/index.js';
import { defineHandler, need, type Handler, type JobContext, type WorkerHost } from '../../workflow/index.js';
import { extractPatch } from './answer.js';
import { applyPatch } from './apply.js';
import { sourceModules, type Bug } from './dataset.js';
import {
  noUsage,
  repairMessages,
  type BaselinePayload,
  type EvaluatePayload,
  type GeneratePayload,
  type TurnSummary,
  type Usage,
} from './messages.js';
import { failureOutput, openingMessages } from './prompt.js';
import type { RepairResult } from './result.js';
import { baselineOf, BugCache, judge, loadTurn, projectJob, reproduces, runSuite, saveTurn } from './state.js';

type Deps = { bugs: BugCache; parser: () => Promise<Parser> };

const identityOf = (p: BaselinePayload | GeneratePayload | EvaluatePayload) => ({
  bugId: p.bugId,
  model: p.model,
  sampleIndex: p.sampleIndex,
  category: p.category,
});

/** The fields every step after the baseline carries on. */
const carried = (p: BaselinePayload | GeneratePayload | EvaluatePayload) => ({
  ...identityOf(p),
  bug: p.bug,
  maxTurns: p.maxTurns,
  temperature: p.temperature,
  maxTokens: p.maxTokens,
  timeoutMs: p.timeoutMs,
  memoryMb: p.memoryMb,
  ...(p.budgetUsd !== undefined ? { budgetUsd: p.budgetUsd } : {}),
  noCache: p.noCache,
});

function add(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costUsd: a.costUsd + b.costUsd,
  };
}

function ended(
  p: BaselinePayload | GeneratePayload | EvaluatePayload,
  fields: Omit<RepairResult, 'bugId' | 'model' | 'sampleIndex' | 'category'>,
): RepairResult {
  return { ...identityOf(p), ...fields };
}

/** `repair.baseline`: what the buggy code fails; the traceback the model starts from (or a given patch). */
async function baseline(p: BaselinePayload, ctx: JobContext, deps: Deps): Promise<void> {
  const bug = await deps.bugs.get(p.bug);
  const base = await baselineOf(ctx, bug, p.bug, p);
  if (!reproduces(bug, base)) {
    await ctx.emit(
      'not_reproducible',
      ended(p, {
        fixed: false,
        verdict: 'not_reproducible',
        turns: 0,
        history: [],
        failing: [],
        regressions: [],
        ...noUsage,
        reason: 'the buggy code passes its tests',
        ...(p.given ? { patchLine: p.given.line } : {}),
      }),
    );
    return;
  }
  if (p.given) {
    // `--patches`: one turn, the given answer, no model.
    const applied = await patchWith(deps, bug, bug.files, p.given.answer);
    if (!applied.ok) {
      const summary: TurnSummary = {
        turn: 1,
        outcome: 'unusable',
        reason: applied.reason,
        cached: false,
        failing: [],
        regressions: [],
        ...noUsage,
      };
      await ctx.emit(
        'unusable',
        ended(p, {
          fixed: false,
          verdict: 'not_fixed',
          turns: 1,
          history: [summary],
          failing: base.failing,
          regressions: [],
          ...noUsage,
          patchLine: p.given.line,
          reason: applied.reason,
          message: applied.message,
        }),
      );
      return;
    }
    const state = await saveTurn(ctx, {
      turn: 1,
      files: applied.files,
      messages: [],
      answer: p.given.answer,
      replaced: applied.replaced,
      appended: applied.appended,
      diff: applied.diff,
    });
    await ctx.emit('patched', {
      ...carried(p),
      turn: 1,
      state,
      usage: noUsage,
      history: [],
      turnUsage: { ...noUsage, cached: false },
      given: { line: p.given.line },
    });
    return;
  }
  await ctx.emit('failing', {
    ...carried(p),
    turn: 1,
    feedback: bug.traceback ?? base.output,
    usage: noUsage,
    history: [],
  });
}

async function patchWith(deps: Deps, bug: Bug, files: Record<string, string>, answer: string) {
  const parser = await deps.parser();
  const patch = extractPatch(parser, answer);
  if ('reason' in patch) return { ok: false as const, reason: patch.reason, message: patch.message };
  return applyPatch(parser, files, sourceModules(bug), patch);
}

/**
 * `repair.generate`: one turn. The model gets the traceback and the code (first turn) or the new
 * error in the same conversation (later turns); its functions are applied to the project as it
 * stands. An answer that cannot be applied is a failed turn with its reason, and the next turn tells
 * the model why.
 */
async function generate(p: GeneratePayload, ctx: JobContext, deps: Deps): Promise<void> {
  const bug = await deps.bugs.get(p.bug);
  const previous = p.state ? await loadTurn(ctx, p.state) : undefined;
  const files = previous?.files ?? bug.files;
  const messages = previous
    ? [...previous.messages, { role: 'user' as const, content: `New error:\n${p.feedback}` }]
    : openingMessages(await deps.parser(), bug, p.feedback);
  const outcome = await need(ctx.caps, 'models').call({
    runId: ctx.env.runId,
    jobId: ctx.env.jobId,
    attempt: ctx.env.attempt,
    model: p.model,
    messages,
    temperature: p.temperature,
    maxTokens: p.maxTokens,
    sampleIndex: p.sampleIndex,
    ...(p.budgetUsd !== undefined ? { budgetUsd: p.budgetUsd } : {}),
    noCache: p.noCache,
    signal: ctx.signal,
  });
  if (outcome.kind === 'budget_exhausted') {
    await ctx.emit(
      'budget_exhausted',
      ended(p, {
        fixed: false,
        verdict: 'budget_exhausted',
        turns: p.turn - 1,
        history: p.history,
        failing: [],
        regressions: [],
        ...p.usage,
        reason: 'budget_exhausted',
      }),
    );
    return;
  }
  const answer = outcome.kind === 'answer' ? outcome.answer.text : '';
  const turnUsage =
    outcome.kind === 'answer'
      ? {
          promptTokens: outcome.answer.promptTokens,
          completionTokens: outcome.answer.completionTokens,
          costUsd: outcome.answer.costUsd,
          cached: outcome.answer.cached,
        }
      : { promptTokens: outcome.promptTokens, completionTokens: 0, costUsd: outcome.costUsd, cached: false };
  const applied =
    outcome.kind === 'answer'
      ? await patchWith(deps, bug, files, answer)
      : { ok: false as const, reason: 'malformed_response', message: outcome.message };
  const conversation = [...messages, { role: 'assistant' as const, content: answer }];
  const usage = add(p.usage, turnUsage);
  if (!applied.ok) {
    const summary: TurnSummary = {
      turn: p.turn,
      outcome: 'unusable',
      reason: applied.reason,
      cached: turnUsage.cached,
      failing: [],
      regressions: [],
      promptTokens: turnUsage.promptTokens,
      completionTokens: turnUsage.completionTokens,
      costUsd: turnUsage.costUsd,
    };
    const history = [...p.history, summary];
    // A loop edge: the payload is both the next turn's (while turns remain) and the final result.
    const state = await saveTurn(ctx, {
      turn: p.turn,
      files,
      messages: conversation,
      answer,
      replaced: [],
      appended: [],
      diff: '',
    });
    await ctx.emit('unusable', {
      ...carried(p),
      turn: p.turn + 1,
      feedback: `Your answer could not be applied: ${applied.message}`,
      state,
      usage,
      ...ended(p, {
        fixed: false,
        verdict: 'not_fixed',
        turns: p.turn,
        history,
        failing: [],
        regressions: [],
        ...usage,
        reason: applied.reason,
        message: applied.message,
      }),
    });
    return;
  }
  const state = await saveTurn(ctx, {
    turn: p.turn,
    files: applied.files,
    messages: conversation,
    answer,
    replaced: applied.replaced,
    appended: applied.appended,
    diff: applied.diff,
  });
  await ctx.emit('patched', { ...carried(p), turn: p.turn, state, usage, history: p.history, turnUsage });
}

/** `repair.evaluate`: the whole suite on the patched project; fixed ends the attempt, else the next turn. */
async function evaluate(p: EvaluatePayload, ctx: JobContext, deps: Deps): Promise<void> {
  const bug = await deps.bugs.get(p.bug);
  const state = await loadTurn(ctx, p.state);
  const base = await baselineOf(ctx, bug, p.bug, p);
  const result = await runSuite(ctx, projectJob(`${ctx.env.jobId}/turn-${p.turn}`, bug, state.files, p));
  const verdict = judge(bug, base, result);
  const output = failureOutput(result);
  await ctx.store.put(
    runKeys.job(ctx.env.runId, ctx.env.jobId, `turn-${p.turn}-tests.json`),
    JSON.stringify({
      turn: p.turn,
      verdict: result.verdict,
      ...verdict,
      tests: result.tests,
      output,
      integrity: result.integrity,
    }),
    { contentType: 'application/json' },
  );
  const summary: TurnSummary = {
    turn: p.turn,
    outcome: verdict.fixed ? 'fixed' : 'failed',
    ...(verdict.fixed ? {} : { reason: result.verdict }),
    cached: p.turnUsage.cached,
    failing: verdict.failing,
    regressions: verdict.regressions,
    promptTokens: p.turnUsage.promptTokens,
    completionTokens: p.turnUsage.completionTokens,
    costUsd: p.turnUsage.costUsd,
  };
  const history = [...p.history, summary];
  const final = ended(p, {
    fixed: verdict.fixed,
    verdict: verdict.fixed ? 'fixed' : 'not_fixed',
    turns: p.turn,
    ...(verdict.fixed ? { fixedAtTurn: p.turn } : {}),
    history,
    failing: verdict.failing,
    regressions: verdict.regressions,
    ...p.usage,
    ...(p.given ? { patchLine: p.given.line } : {}),
  });
  if (verdict.fixed || p.given) {
    await ctx.emit(verdict.fixed ? 'fixed' : 'given_failed', final);
    return;
  }
  await ctx.emit('failed', {
    ...carried(p),
    turn: p.turn + 1,
    feedback: output,
    state: p.state,
    usage: p.usage,
    // The same history serves the next turn and the result.
    ...final,
  });
}

export function repairHandlers(host: WorkerHost): Handler[] {
  let parser: Promise<Parser> | undefined;
  const deps: Deps = { bugs: new BugCache(host.store), parser: () => (parser ??= createPythonParser()) };
  return [
    defineHandler(repairMessages.baseline, (p, ctx) => baseline(p, ctx, deps)),
    defineHandler(repairMessages.generate, (p, ctx) => generate(p, ctx, deps)),
    defineHandler(repairMessages.evaluate, (p, ctx) => evaluate(p, ctx, deps)),
  ];
}

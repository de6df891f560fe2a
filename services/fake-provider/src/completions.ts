import { createHash } from 'node:crypto';
import { estimatePromptTokens, estimateTokens, formatDurationMs } from '@evalfleet/shared/llm';
import { malformedBody, proseAnswer, rightAnswer, syntaxErrorAnswer, wrongAnswer } from './answers.js';
import { parseBehaviour, type Behaviour } from './behaviour.js';
import { draw } from './draw.js';
import { SlidingWindowLimiter } from './limiter.js';
import { findProblem, type Problem } from './problems.js';
import { findBug, repairAnswer, type RepairBug } from './repair.js';
import { parseResponseFormat, structuredAnswer, type ResponseFormatRequest } from './structured.js';
import { synthAnswer } from './synth.js';

/** One request as `/_log` reports it. */
export interface Arrival {
  /** Arrival time in ms since the epoch (from the provider's clock). */
  timeMs: number;
  model: string | null;
  promptTokens: number;
  maxTokens: number | null;
  /** HTTP status answered, or null while (or because) no answer was sent. */
  status: number | null;
  taskId: string | null;
  /** Tokens the rate limiter counted for the request; present only when an RPM or TPM limit is set. */
  tokens?: number;
}

export interface EngineOptions {
  problems: Problem[];
  /** Bugs with their fixes, for repair conversations. */
  bugs?: RepairBug[];
  rpm?: number;
  tpm?: number;
  /** Length of the sliding rate-limit window, default 60 000 ms (shorter windows keep tests fast). */
  windowMs?: number;
  /**
   * What a request costs against the TPM limit: `reserved` (default) is prompt estimate + max_tokens,
   * charged on admission like OpenAI; `actual` is prompt estimate + the tokens actually answered,
   * like providers that count real usage.
   */
  tokenCost?: 'reserved' | 'actual';
  seed?: string | number;
  /** Model ids that stand for a behaviour spec, e.g. `{ 'gpt-4o': 'fake/right-fraction:0.8' }`. */
  aliases?: Record<string, string>;
  /** Bearer token every /v1 request must carry; unset means no auth. */
  apiKey?: string;
  /** Wait the flaky-429 behaviour asks for, default 1000 ms. */
  retryAfterMs?: number;
  /** max_tokens assumed when a request sets none (counts toward TPM), default 1024. */
  defaultMaxTokens?: number;
  now?: () => number;
  maxLogEntries?: number;
}

/** What the HTTP layer should do with a request. */
export type Reply =
  | {
      kind: 'answer';
      status: number;
      headers: Record<string, string>;
      body: string;
      delayMs: number;
      arrival?: Arrival;
    }
  | { kind: 'hang'; arrival: Arrival };

interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  maxTokens: number | undefined;
  seed: number | undefined;
  temperature: number | undefined;
  /** JSON asked for with `response_format`; absent for free text. */
  format: ResponseFormatRequest | undefined;
}

function errorBody(message: string, type: string, code: string | null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  // The array form: [{ type: 'text', text }, ...]
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '',
    )
    .join('');
}

function parseChatRequest(text: string): ChatRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'request body is not valid JSON';
  }
  if (typeof body !== 'object' || body === null) return 'request body must be a JSON object';
  const record = body as Record<string, unknown>;
  if (typeof record.model !== 'string' || record.model === '') return "'model' is required";
  if (!Array.isArray(record.messages) || record.messages.length === 0) return "'messages' must be a non-empty array";
  const messages: { role: string; content: string }[] = [];
  for (const raw of record.messages as unknown[]) {
    if (typeof raw !== 'object' || raw === null) return 'each message must be an object';
    const message = raw as Record<string, unknown>;
    const content = contentText(message.content);
    if (typeof message.role !== 'string' || content === undefined) return 'each message needs a role and content';
    messages.push({ role: message.role, content });
  }
  const maxTokens = record.max_tokens ?? record.max_completion_tokens;
  const number = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
  return {
    model: record.model,
    messages,
    maxTokens: number(maxTokens),
    seed: number(record.seed),
    temperature: number(record.temperature),
    format: parseResponseFormat(record.response_format),
  };
}

/** The fake provider's behaviour, independent of HTTP so it stays small and testable. */
export class CompletionEngine {
  private readonly options: EngineOptions;
  private readonly limiter: SlidingWindowLimiter;
  private readonly now: () => number;
  private arrivals: Arrival[] = [];
  private requestCounts = new Map<string, number>();
  private rightSets = new Map<string, Set<string>>();
  private served = 0;

  // A plain field rather than a parameter property, so Node can run this file by stripping types.
  constructor(options: EngineOptions) {
    this.options = options;
    this.limiter = new SlidingWindowLimiter(options.rpm, options.tpm, options.windowMs);
    this.now = options.now ?? Date.now;
  }

  get problems(): readonly Problem[] {
    return this.options.problems;
  }

  log(): Arrival[] {
    return this.arrivals.map((a) => ({ ...a }));
  }

  reset(): void {
    this.arrivals = [];
    this.requestCounts.clear();
    this.limiter.reset();
  }

  /** Model ids `/v1/models` lists: the aliases and one of each behaviour. */
  modelIds(): string[] {
    const examples = [
      'fake/always-right',
      'fake/right-fraction:0.6',
      'fake/prose',
      'fake/malformed',
      'fake/syntax-error',
    ];
    return [...Object.keys(this.options.aliases ?? {}), ...examples];
  }

  authorized(authorization: string | undefined): boolean {
    return this.options.apiKey === undefined || authorization === `Bearer ${this.options.apiKey}`;
  }

  handle(bodyText: string): Reply {
    const at = this.now();
    const request = parseChatRequest(bodyText);
    if (typeof request === 'string')
      return this.finish(this.record(at, null, 0, null), 400, {}, errorBody(request, 'invalid_request_error', null));

    const promptTokens = estimatePromptTokens(request.messages);
    const prompt = request.messages.map((m) => m.content).join('\n');
    const problem = findProblem(this.options.problems, prompt);
    const arrival = this.record(at, request.model, promptTokens, request.maxTokens ?? null, problem?.taskId ?? null);

    let behaviour: Behaviour;
    try {
      behaviour = parseBehaviour(this.options.aliases?.[request.model] ?? request.model);
    } catch (err) {
      return this.finish(
        arrival,
        404,
        {},
        errorBody((err as Error).message, 'invalid_request_error', 'model_not_found'),
      );
    }

    const maxTokens = request.maxTokens ?? this.options.defaultMaxTokens ?? 1024;
    // The answer depends only on the request, so it can be known before admission (for `actual` token cost).
    const completion =
      behaviour.timeout || behaviour.form === 'malformed'
        ? undefined
        : this.completion(behaviour, request, problem, maxTokens);
    const cost = promptTokens + (this.options.tokenCost === 'actual' ? (completion?.usedTokens ?? 0) : maxTokens);
    if (this.limiter.enabled) arrival.tokens = cost;
    const limit = this.limiter.take(at, cost);
    if (limit.tooLarge) {
      const message = `request needs ${cost} tokens, more than the ${String(this.options.tpm)} per minute limit`;
      return this.finish(arrival, 413, limit.headers, errorBody(message, 'invalid_request_error', 'request_too_large'));
    }
    if (!limit.admitted) {
      const headers = {
        ...limit.headers,
        'retry-after': String(Math.ceil(limit.retryAfterMs / 1000)),
        'retry-after-ms': String(limit.retryAfterMs),
      };
      const message = `rate limit reached: try again in ${formatDurationMs(limit.retryAfterMs)}`;
      return this.finish(arrival, 429, headers, errorBody(message, 'requests', 'rate_limit_exceeded'));
    }

    // Flakiness is drawn per distinct request and per repeat of it, so a retry gets a fresh draw.
    const requestKey = createHash('sha256').update(bodyText).digest('hex');
    const repeat = (this.requestCounts.get(requestKey) ?? 0) + 1;
    this.requestCounts.set(requestKey, repeat);
    if (repeat <= behaviour.first429 || draw(this.options.seed, 'flaky-429', requestKey, repeat) < behaviour.flaky429) {
      const waitMs = this.options.retryAfterMs ?? 1000;
      const headers = {
        ...limit.headers,
        'retry-after': String(Math.ceil(waitMs / 1000)),
        'retry-after-ms': String(waitMs),
      };
      return this.finish(
        arrival,
        429,
        headers,
        errorBody('the model is overloaded (fake flaky-429)', 'requests', 'rate_limit_exceeded'),
      );
    }
    if (draw(this.options.seed, 'flaky-500', requestKey, repeat) < behaviour.flaky500) {
      return this.finish(
        arrival,
        500,
        limit.headers,
        errorBody('internal error (fake flaky-500)', 'server_error', null),
      );
    }
    if (behaviour.timeout) return { kind: 'hang', arrival };
    if (draw(this.options.seed, 'flaky-timeout', requestKey, repeat) < behaviour.flakyTimeout)
      return { kind: 'hang', arrival };

    if (completion === undefined) return this.finish(arrival, 200, limit.headers, malformedBody, behaviour.slowMs);
    const { text, usedTokens, truncated } = completion;
    this.served += 1;
    const body = JSON.stringify({
      id: `chatcmpl-fake-${this.served}`,
      object: 'chat.completion',
      created: Math.floor(at / 1000),
      model: request.model,
      system_fingerprint: 'fp_evalfleet_fake',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text },
          logprobs: null,
          finish_reason: truncated ? 'length' : 'stop',
        },
      ],
      usage: { prompt_tokens: promptTokens, completion_tokens: usedTokens, total_tokens: promptTokens + usedTokens },
    });
    return this.finish(arrival, 200, limit.headers, body, behaviour.slowMs);
  }

  /** The answer text as sent (cut at max_tokens) and the completion tokens it counts as. */
  private completion(
    behaviour: Behaviour,
    request: ChatRequest,
    problem: Problem | undefined,
    maxTokens: number,
  ): { text: string; usedTokens: number; truncated: boolean } {
    const content = this.answer(behaviour, request, problem);
    const completionTokens = estimateTokens(content);
    const truncated = completionTokens > maxTokens;
    return {
      text: truncated ? content.slice(0, maxTokens * 4) : content,
      usedTokens: truncated ? maxTokens : completionTokens,
      truncated,
    };
  }

  private answer(behaviour: Behaviour, request: ChatRequest, problem: Problem | undefined): string {
    if (request.format !== undefined)
      return structuredAnswer(behaviour, { ...request, format: request.format }, this.options.seed);
    const synth = synthAnswer(behaviour, request.messages);
    if (synth !== undefined) return synth;
    const conversation = request.messages.map((m) => m.content).join('\n');
    const bug = findBug(this.options.bugs ?? [], conversation);
    if (bug !== undefined) {
      if (behaviour.form === 'prose') return 'The function looks wrong around the loop; check the bounds.';
      if (behaviour.form === 'syntax-error') return '```python\ndef broken(:\n```';
      return repairAnswer(behaviour, bug, conversation);
    }
    if (problem === undefined || behaviour.form === 'prose') return proseAnswer(problem);
    if (behaviour.form === 'syntax-error') return syntaxErrorAnswer(problem);
    const sample = [request.model, request.seed, request.temperature] as const;
    if (draw(this.options.seed, 'prose', ...sample, problem.taskId) < behaviour.proseFraction)
      return proseAnswer(problem);
    return this.isRight(behaviour, sample, problem) ? rightAnswer(problem) : wrongAnswer(problem);
  }

  /**
   * Right on exactly round(fraction × tasks) of the problem set for a given model,
   * seed and temperature: tasks are ranked by a reproducible draw and the first ones are right.
   */
  private isRight(behaviour: Behaviour, sample: readonly (string | number | undefined)[], problem: Problem): boolean {
    if (behaviour.rightFraction >= 1) return true;
    if (behaviour.rightFraction <= 0) return false;
    const key = `${behaviour.rightFraction}\u0000${sample.map(String).join('\u0000')}`;
    let right = this.rightSets.get(key);
    if (right === undefined) {
      const ranked = this.options.problems
        .map((p) => ({ taskId: p.taskId, rank: draw(this.options.seed, 'right', ...sample, p.taskId) }))
        .sort((a, b) => a.rank - b.rank);
      const count = Math.round(behaviour.rightFraction * ranked.length);
      right = new Set(ranked.slice(0, count).map((p) => p.taskId));
      // Bounded: one entry per (model, seed, temperature) seen, and runs use few of those.
      if (this.rightSets.size >= 1000) this.rightSets.clear();
      this.rightSets.set(key, right);
    }
    return right.has(problem.taskId);
  }

  private record(
    timeMs: number,
    model: string | null,
    promptTokens: number,
    maxTokens: number | null,
    taskId: string | null = null,
  ): Arrival {
    const arrival: Arrival = { timeMs, model, promptTokens, maxTokens, status: null, taskId };
    this.arrivals.push(arrival);
    const cap = this.options.maxLogEntries ?? 100_000;
    if (this.arrivals.length > cap) this.arrivals.splice(0, this.arrivals.length - cap);
    return arrival;
  }

  private finish(arrival: Arrival, status: number, headers: Record<string, string>, body: string, delayMs = 0): Reply {
    // The status is set when the answer is decided, so a request that is still being delayed shows it already.
    arrival.status = status;
    return { kind: 'answer', status, headers, body, delayMs, arrival };
  }
}

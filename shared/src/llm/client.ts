import { randomUUID } from 'node:crypto';
import { fetch as undiciFetch } from 'undici';
import { z } from 'zod';
import { EvalfleetError, PermanentError, RetryableError } from '../errors/index.js';
import { errorForStatus, truncate } from './classify.js';
import { pickRateLimitHeaders } from './headers.js';
import { costUsd, getModel, getProvider, type Registry } from './registry.js';
import { estimatePromptTokens, estimateTokens } from './tokens.js';
import { LlmErrorCodes, type LlmClient, type LlmRequest, type LlmResponse, type LlmTrace } from './types.js';

/** The part of a fetch response the client reads; both undici's and the global fetch fit. */
export interface FetchResponseLike {
  status: number;
  headers: { forEach(callback: (value: string, name: string) => void): void };
  text(): Promise<string>;
}

export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<FetchResponseLike>;

export interface LlmClientOptions {
  registry: Registry;
  /** Where `api_key_env` names are looked up; the composition root passes its config's env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** API keys by provider name; they win over `env`. */
  apiKeys?: Readonly<Record<string, string>>;
  /** Whole-call deadline (connect, headers and body), default 120 s. */
  timeoutMs?: number;
  fetch?: FetchLike;
}

const completionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string() }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
      total_tokens: z.number().int().nonnegative().optional(),
    })
    .optional()
    .catch(undefined),
});

/** An OpenAI-compatible chat client with no hidden retries: every attempt is visible to the caller's limiter. */
export function createLlmClient(options: LlmClientOptions): LlmClient {
  const env = options.env ?? {};
  const timeoutMs = options.timeoutMs ?? 120_000;
  const doFetch: FetchLike = options.fetch ?? ((url, init) => undiciFetch(url, init));

  async function complete(request: LlmRequest): Promise<LlmResponse> {
    const startedAt = new Date();
    const started = performance.now();
    const model = getModel(options.registry, request.model);
    const provider = getProvider(options.registry, model.provider);
    const maxTokens = request.maxTokens ?? model.maxOutputTokens;

    const trace: LlmTrace = {
      id: randomUUID(),
      model: model.name,
      provider: provider.name,
      remoteModel: model.model,
      request: {
        messages: request.messages,
        maxTokens,
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
        ...(request.seed === undefined ? {} : { seed: request.seed }),
      },
      promptTokensEstimate: estimatePromptTokens(request.messages),
      responseText: null,
      finishReason: null,
      usage: null,
      latencyMs: 0,
      costUsd: 0,
      status: null,
      ...(request.attempt === undefined ? {} : { attempt: request.attempt }),
      outcome: 'ok',
      headers: {},
      startedAt: startedAt.toISOString(),
      finishedAt: startedAt.toISOString(),
    };
    const context = { provider: provider.name, model: model.name, remoteModel: model.model };

    const apiKey =
      options.apiKeys?.[provider.name] ?? (provider.apiKeyEnv === null ? undefined : env[provider.apiKeyEnv]);
    // Keys must never reach traces, errors or logs, even when a provider echoes them back.
    const redact = (text: string): string =>
      apiKey === undefined || apiKey.length < 4 ? text : text.split(apiKey).join('[redacted]');

    const fail = (error: EvalfleetError, rawBody?: string): EvalfleetError => {
      trace.outcome = error.code as LlmTrace['outcome'];
      trace.error = { code: error.code, message: error.message };
      if (rawBody !== undefined) trace.rawBody = truncate(rawBody);
      trace.latencyMs = Math.round(performance.now() - started);
      trace.finishedAt = new Date().toISOString();
      const details = { ...error.details, trace };
      if (error instanceof RetryableError) {
        return new RetryableError(error.code, error.message, {
          cause: error.cause,
          details,
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        });
      }
      return new PermanentError(error.code, error.message, { cause: error.cause, details });
    };

    if (provider.apiKeyEnv !== null && (apiKey === undefined || apiKey.trim() === '')) {
      throw fail(
        new PermanentError(
          LlmErrorCodes.missingApiKey,
          `no API key for provider "${provider.name}": set ${provider.apiKeyEnv}`,
          { details: { ...context, keyEnv: provider.apiKeyEnv } },
        ),
      );
    }

    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...provider.headers,
    };
    if (apiKey !== undefined && apiKey !== '') headers.authorization = `Bearer ${apiKey}`;
    const body = JSON.stringify({
      model: model.model,
      messages: request.messages,
      max_tokens: maxTokens,
      stream: false,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
    });

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = request.signal === undefined ? deadline.signal : AbortSignal.any([deadline.signal, request.signal]);
    let status: number;
    let text: string;
    try {
      const response = await doFetch(`${provider.baseUrl}/chat/completions`, { method: 'POST', headers, body, signal });
      status = response.status;
      trace.status = status;
      const pairs: [string, string][] = [];
      response.headers.forEach((value, name) => pairs.push([name, value]));
      trace.headers = pickRateLimitHeaders(pairs);
      text = redact(await response.text());
    } catch (err) {
      if (deadline.signal.aborted) {
        throw fail(
          new RetryableError(LlmErrorCodes.providerTimeout, `${provider.name} did not answer within ${timeoutMs} ms`, {
            cause: err,
            details: { ...context, timeoutMs },
          }),
        );
      }
      if (request.signal?.aborted === true) {
        throw fail(
          new RetryableError(LlmErrorCodes.aborted, 'request aborted by caller', { cause: err, details: context }),
        );
      }
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw fail(
        new RetryableError(LlmErrorCodes.providerUnavailable, `${provider.name} unreachable: ${redact(reason)}`, {
          cause: err,
          details: context,
        }),
      );
    } finally {
      clearTimeout(timer);
    }

    if (status < 200 || status >= 300) {
      throw fail(errorForStatus(status, trace.headers, text, context), text);
    }

    let parsed: z.infer<typeof completionSchema>;
    try {
      const result = completionSchema.safeParse(JSON.parse(text));
      if (!result.success) throw new Error(result.error.issues[0]?.message ?? 'unexpected shape');
      parsed = result.data;
    } catch (err) {
      throw fail(
        new PermanentError(
          LlmErrorCodes.malformedResponse,
          `${provider.name} answered HTTP ${status} without choices[0].message.content: ${(err as Error).message}`,
          { details: { ...context, status, rawBody: truncate(text) } },
        ),
        text,
      );
    }

    const choice = parsed.choices[0];
    const content = choice?.message.content ?? '';
    const usage = parsed.usage
      ? {
          promptTokens: parsed.usage.prompt_tokens,
          completionTokens: parsed.usage.completion_tokens,
          totalTokens: parsed.usage.total_tokens ?? parsed.usage.prompt_tokens + parsed.usage.completion_tokens,
        }
      : {
          promptTokens: trace.promptTokensEstimate,
          completionTokens: estimateTokens(content),
          totalTokens: trace.promptTokensEstimate + estimateTokens(content),
          estimated: true,
        };
    const cost = costUsd(model, usage);
    const latencyMs = Math.round(performance.now() - started);
    const finishReason = choice?.finish_reason ?? 'unknown';

    trace.remoteModel = parsed.model ?? model.model;
    trace.responseText = content;
    trace.finishReason = finishReason;
    trace.usage = {
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      totalTokens: usage.totalTokens,
    };
    trace.costUsd = cost;
    trace.latencyMs = latencyMs;
    trace.finishedAt = new Date().toISOString();

    return {
      text: content,
      finishReason,
      usage,
      latencyMs,
      costUsd: cost,
      remoteModel: trace.remoteModel,
      provider: provider.name,
      model: model.name,
      headers: trace.headers,
      status,
      ...(request.attempt === undefined ? {} : { attempt: request.attempt }),
      trace,
    };
  }

  return { complete };
}

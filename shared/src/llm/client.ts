import OpenAI, { APIError } from 'openai';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { PermanentError, type EvalfleetError } from '../errors/index.js';
import { classifySdkError, malformedResponse } from './classify.js';
import { pickRateLimitHeaders } from './headers.js';
import { costUsd, getModel, getProvider, type ProviderConfig, type Registry } from './registry.js';
import { countPromptTokens, countTextTokens } from './tokenizer.js';
import { recordFailure, startTrace, withTrace } from './trace.js';
import { createTransport } from './transport.js';
import { LlmErrorCodes, type LlmClient, type LlmRequest, type LlmResponse, type ResponseFormat } from './types.js';

export interface LlmClientOptions {
  registry: Registry;
  /** Where `api_key_env` names are looked up; the composition root passes its config's env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** API keys by provider name; they win over `env`. */
  apiKeys?: Readonly<Record<string, string>>;
  /** Whole-call deadline (connect, headers and body), default 120 s. */
  timeoutMs?: number;
  /** Pooled connections per provider origin; default unbounded (the caller caps calls in flight). */
  connections?: number;
  /** Send through this undici dispatcher instead of a keep-alive pool of the client's own. */
  dispatcher?: Dispatcher;
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

// The SDK insists on a key; keyless local servers (Ollama, vLLM) get this, and no Authorization header.
const placeholderKey = 'evalfleet-no-key';

function sdkResponseFormat(format: ResponseFormat | undefined): OpenAI.ChatCompletionCreateParams['response_format'] {
  if (format === undefined || format.type !== 'json_schema') return format;
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name,
      schema: format.schema,
      ...(format.strict === undefined ? {} : { strict: format.strict }),
      ...(format.description === undefined ? {} : { description: format.description }),
    },
  };
}

/** The rate-limit headers of a fetch `Headers` (what the SDK hands back), undefined for anything else. */
function rateLimitHeadersOf(headers: unknown): Record<string, string> | undefined {
  if (!(headers instanceof Headers)) return undefined;
  const pairs: [string, string][] = [];
  headers.forEach((value, name) => pairs.push([name, value]));
  return pickRateLimitHeaders(pairs);
}

/**
 * An OpenAI-compatible chat client on the official SDK with its hidden retries off, so every
 * attempt is visible to the caller's limiter; one keep-alive pool serves every provider.
 */
export function createLlmClient(options: LlmClientOptions): LlmClient {
  const env = options.env ?? {};
  const timeoutMs = options.timeoutMs ?? 120_000;
  const transport = createTransport({
    timeoutMs,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });
  const sdks = new Map<string, OpenAI>();

  const keyOf = (provider: ProviderConfig): string | undefined => {
    const key = options.apiKeys?.[provider.name] ?? (provider.apiKeyEnv === null ? undefined : env[provider.apiKeyEnv]);
    return key === undefined || key.trim() === '' ? undefined : key;
  };

  function sdkFor(provider: ProviderConfig): OpenAI {
    let sdk = sdks.get(provider.name);
    if (sdk === undefined) {
      const apiKey = keyOf(provider);
      const ownAuth = Object.keys(provider.headers).some((name) => name.toLowerCase() === 'authorization');
      sdk = new OpenAI({
        apiKey: apiKey ?? placeholderKey,
        baseURL: provider.baseUrl,
        // Everything explicit: the SDK would otherwise read OPENAI_* variables from process.env
        // (only OPENAI_CUSTOM_HEADERS cannot be turned off; the provider's headers win over it).
        organization: null,
        project: null,
        webhookSecret: null,
        adminAPIKey: null,
        maxRetries: 0,
        timeout: timeoutMs,
        logLevel: 'off',
        fetch: transport.fetch,
        defaultHeaders: { ...provider.headers, ...(apiKey === undefined && !ownAuth ? { Authorization: null } : {}) },
      });
      sdks.set(provider.name, sdk);
    }
    return sdk;
  }

  async function complete(request: LlmRequest): Promise<LlmResponse> {
    const startedAt = new Date();
    const started = performance.now();
    const model = getModel(options.registry, request.model);
    const provider = getProvider(options.registry, model.provider);
    const maxTokens = request.maxTokens ?? model.maxOutputTokens;

    const trace = startTrace(
      model,
      { ...request, maxTokens },
      await countPromptTokens(model, request.messages),
      startedAt,
    );
    const context = { provider: provider.name, model: model.name, remoteModel: model.model };

    const apiKey = keyOf(provider);
    // Keys must never reach traces, errors or logs, even when a provider echoes them back.
    const redact = (text: string): string =>
      apiKey === undefined || apiKey.length < 4 ? text : text.split(apiKey).join('[redacted]');

    const fail = (error: EvalfleetError, rawBody?: string): EvalfleetError => {
      recordFailure(trace, error, Math.round(performance.now() - started), rawBody);
      return withTrace(error, trace);
    };

    if (provider.apiKeyEnv !== null && apiKey === undefined) {
      throw fail(
        new PermanentError(
          LlmErrorCodes.missingApiKey,
          `no API key for provider "${provider.name}": set ${provider.apiKeyEnv}`,
          { details: { ...context, keyEnv: provider.apiKeyEnv } },
        ),
      );
    }

    const { exchange, result } = transport.capture(() =>
      sdkFor(provider)
        .chat.completions.create(
          {
            model: model.model,
            messages: request.messages,
            max_tokens: maxTokens,
            stream: false,
            ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
            ...(request.seed === undefined ? {} : { seed: request.seed }),
            ...(request.responseFormat === undefined
              ? {}
              : { response_format: sdkResponseFormat(request.responseFormat) }),
          },
          { maxRetries: 0, timeout: timeoutMs, ...(request.signal === undefined ? {} : { signal: request.signal }) },
        )
        .withResponse(),
    );

    let data: unknown;
    try {
      const answered = await result;
      data = answered.data;
      trace.status = answered.response.status;
      trace.headers = rateLimitHeadersOf(answered.response.headers) ?? {};
    } catch (err) {
      // An HTTP error carries its own status and headers; a body the SDK could not parse does not.
      const status = err instanceof APIError && typeof err.status === 'number' ? err.status : exchange.status;
      if (status !== undefined) trace.status = status;
      const errorHeaders = err instanceof APIError ? rateLimitHeadersOf(err.headers) : undefined;
      const headers = errorHeaders ?? exchange.headers;
      if (headers !== undefined) trace.headers = headers;
      const { error, rawBody } = classifySdkError(err, {
        ...context,
        timeoutMs,
        seen: { ...exchange, headers: trace.headers },
        callerAborted: request.signal?.aborted === true,
        redact,
      });
      throw fail(error, rawBody);
    }

    const parsed = completionSchema.safeParse(data);
    if (!parsed.success) {
      const rawBody = redact(exchange.body ?? (typeof data === 'string' ? data : JSON.stringify(data ?? null)));
      const why = parsed.error.issues[0]?.message ?? 'unexpected shape';
      throw fail(malformedResponse(context, trace.status ?? 200, why, rawBody), rawBody);
    }

    const choice = parsed.data.choices[0];
    const content = redact(choice?.message.content ?? '');
    const reported = parsed.data.usage;
    const usage = reported
      ? {
          promptTokens: reported.prompt_tokens,
          completionTokens: reported.completion_tokens,
          totalTokens: reported.total_tokens ?? reported.prompt_tokens + reported.completion_tokens,
        }
      : await (async () => {
          const completionTokens = await countTextTokens(model, content);
          return {
            promptTokens: trace.promptTokensEstimate,
            completionTokens,
            totalTokens: trace.promptTokensEstimate + completionTokens,
            estimated: true,
          };
        })();
    const cost = costUsd(model, usage);
    const latencyMs = Math.round(performance.now() - started);
    const finishReason = choice?.finish_reason ?? 'unknown';

    trace.remoteModel = parsed.data.model ?? model.model;
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
      status: trace.status ?? 200,
      ...(request.attempt === undefined ? {} : { attempt: request.attempt }),
      trace,
    };
  }

  return {
    complete,
    close: () => transport.close(),
  };
}

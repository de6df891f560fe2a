import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { pickRateLimitHeaders } from './headers.js';

/** What one HTTP exchange looked like on the wire, for traces and error classification. */
export interface Exchange {
  status?: number;
  /** Rate-limit headers only (see pickRateLimitHeaders). */
  headers?: Record<string, string>;
  /** The body exactly as received, before the SDK parsed it. */
  body?: string;
}

/** The `fetch` the OpenAI SDK is given; the SDK's own type, which uses the global Request/Response. */
export type SdkFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** Upper bound of one call; the pool's own header/body timeouts sit just above it so the SDK's fires first. */
  timeoutMs: number;
  /** Connections per origin; undefined means as many as calls in flight. */
  connections?: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs?: number;
  /** Use this dispatcher (not closed by us) instead of a pool of our own. */
  dispatcher?: Dispatcher;
}

export interface Transport {
  fetch: SdkFetch;
  /** Runs `fn` (one SDK call) and returns what its HTTP exchange looked like, however the call ended. */
  capture<T>(fn: () => Promise<T>): { exchange: Exchange; result: Promise<T> };
  close(): Promise<void>;
}

// Headers that described the encoded body; the copy handed to the SDK is already decoded text.
const encodingHeaders = new Set(['content-encoding', 'content-length', 'transfer-encoding']);
// Statuses whose Response must not have a body.
const nullBodyStatuses = new Set([101, 204, 205, 304]);

/**
 * HTTP for the OpenAI SDK over one pooled keep-alive undici dispatcher. Every body is read here
 * (we never stream), so the raw text of an answer the SDK cannot parse still reaches the trace.
 */
export function createTransport(options: TransportOptions): Transport {
  let owned: Agent | undefined;
  let dispatcher: Dispatcher;
  if (options.dispatcher !== undefined) dispatcher = options.dispatcher;
  else {
    owned = new Agent({
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      keepAliveMaxTimeout: 10 * 60_000,
      headersTimeout: options.timeoutMs + 1000,
      bodyTimeout: options.timeoutMs + 1000,
      ...(options.connections === undefined ? {} : { connections: options.connections }),
    });
    dispatcher = owned;
  }
  // The SDK calls fetch inside our call's async context, so the exchange lands on the right call.
  const current = new AsyncLocalStorage<Exchange>();

  const fetch: SdkFetch = async (input, init) => {
    if (typeof input !== 'string' && !(input instanceof URL)) {
      throw new TypeError('the LLM transport takes a URL, not a Request');
    }
    if (init?.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      throw new TypeError('the LLM transport sends JSON text bodies only');
    }
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const response = await undiciFetch(input, {
      method: init?.method ?? 'GET',
      headers,
      ...(typeof init?.body === 'string' ? { body: init.body } : {}),
      ...(init?.signal ? { signal: init.signal } : {}),
      dispatcher,
    });
    const exchange = current.getStore();
    const pairs: [string, string][] = [];
    response.headers.forEach((value, name) => pairs.push([name, value]));
    if (exchange !== undefined) {
      exchange.status = response.status;
      exchange.headers = pickRateLimitHeaders(pairs);
    }
    const body = await response.text();
    if (exchange !== undefined) exchange.body = body;
    return new Response(nullBodyStatuses.has(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: pairs.filter(([name]) => !encodingHeaders.has(name)),
    });
  };

  return {
    fetch,
    capture<T>(fn: () => Promise<T>) {
      const exchange: Exchange = {};
      return { exchange, result: current.run(exchange, fn) };
    },
    async close() {
      await owned?.close();
    },
  };
}

import { PermanentError } from '../errors/index.js';
import type { Extractor } from '../extraction/index.js';
import type { MutationCapability } from './mutation.js';
import type { SandboxJob, SandboxResult } from './sandbox.js';

/**
 * What a worker can do for the handlers it hosts. A stage names the one capability its handlers
 * need; a service hosts every registered stage whose capability it provides.
 * - `models`: call LLMs (cache, budget, fleet-wide limits, trace) — the generator
 * - `sandbox`: run untrusted code against tests — the evaluator
 * - `mutation`: parse Python and derive mutants — the mutator
 * - `general`: nothing beyond the store — the generator hosts these too
 */
export const capabilityNames = ['models', 'sandbox', 'mutation', 'general'] as const;
export type CapabilityName = (typeof capabilityNames)[number];

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

/** One model call as a handler asks for it; the capability adds cache, budget, limits and the trace. */
export type ModelCallRequest = {
  runId: string;
  jobId: string;
  attempt: number;
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  /** Distinguishes samples of one prompt (cache key, provider seed). */
  sampleIndex: number;
  budgetUsd?: number;
  noCache: boolean;
  signal: AbortSignal;
  /** Structured answers: a JSON schema the provider should follow (`response_format`). */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
};

export type ModelAnswer = {
  text: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
  cached: boolean;
};

/**
 * `answer`: the provider (or cache) answered. `malformed`: the provider's reply was not a usable
 * completion (recorded as an outcome, not retried). `budget_exhausted`: the run's budget is spent.
 * Transient failures are thrown as RetryableError; permanent ones as PermanentError.
 */
export type ModelCallOutcome =
  | { kind: 'answer'; answer: ModelAnswer }
  | { kind: 'malformed'; message: string; promptTokens: number; costUsd: number; latencyMs: number }
  | { kind: 'budget_exhausted'; spentUsd: number };

export interface ModelsCapability {
  call(req: ModelCallRequest): Promise<ModelCallOutcome>;
}

export interface SandboxCapability {
  run(job: SandboxJob): Promise<SandboxResult>;
  describe(): string;
  /** What makes two sandboxes time code alike (image, CPU and memory limits); keys cached calibrations. */
  readonly fingerprint?: string;
}

/** Everything a host may offer; each member is present only where its capability is provided. */
export type Capabilities = {
  models?: ModelsCapability;
  sandbox?: SandboxCapability;
  extractor?: Extractor;
  mutation?: MutationCapability;
};

/** The capability a handler needs, or a clear error naming the service that lacks it. */
export function need<K extends keyof Capabilities>(caps: Capabilities, name: K): NonNullable<Capabilities[K]> {
  const cap = caps[name];
  if (cap === undefined)
    throw new PermanentError(
      'capability_missing',
      `this service does not provide the ${name} capability; its stage is hosted elsewhere`,
    );
  return cap;
}

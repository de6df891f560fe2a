import type { ModelConfig, TokenEncoding } from './registry.js';
import { chatFraming, estimatePromptTokens, estimateTokens, type ChatMessage } from './tokens.js';

// Model families whose tokenizer OpenAI publishes, by the id a provider is asked for. Order
// matters: `gpt-4o` and `gpt-4.1` must win over the older `gpt-4` family.
const families: [RegExp, TokenEncoding][] = [
  [/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4)(?![a-z0-9])/, 'o200k_base'],
  [/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)(?![a-z0-9])/, 'cl100k_base'],
];

/**
 * The encoding of a model, from `encoding` in models.yaml or else its provider id (`gpt-4o-mini`,
 * `openai/gpt-4.1` behind a router). Undefined for families whose tokenizer we do not have.
 */
export function encodingForModel(model: Pick<ModelConfig, 'model' | 'encoding'>): TokenEncoding | undefined {
  if (model.encoding !== undefined) return model.encoding;
  // Routers prefix the vendor (`openai/gpt-4o`); only OpenAI's own models use these encodings.
  const slash = model.model.lastIndexOf('/');
  const vendor = slash < 0 ? undefined : model.model.slice(0, slash).toLowerCase();
  if (vendor !== undefined && vendor !== 'openai' && vendor !== 'azure') return undefined;
  const id = model.model.slice(slash + 1).toLowerCase();
  return families.find(([pattern]) => pattern.test(id))?.[1];
}

type Counter = (text: string) => number;

// Each encoding's rank table is megabytes of JavaScript: loaded on first use, once per process.
const loaders: Record<TokenEncoding, () => Promise<Counter>> = {
  o200k_base: async () => {
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    // Special-token text in a prompt is plain text to the provider, so count it as such.
    return (text) => countTokens(text, { disallowedSpecial: new Set() });
  },
  cl100k_base: async () => {
    const { countTokens } = await import('gpt-tokenizer/encoding/cl100k_base');
    return (text) => countTokens(text, { disallowedSpecial: new Set() });
  },
};
const loaded = new Map<TokenEncoding, Promise<Counter>>();

function counterFor(encoding: TokenEncoding): Promise<Counter> {
  let counter = loaded.get(encoding);
  if (counter === undefined) {
    counter = loaders[encoding]();
    // A failed load is retried next time rather than remembered.
    counter.catch(() => loaded.delete(encoding));
    loaded.set(encoding, counter);
  }
  return counter;
}

/** Tokens of a text: exact where the model's encoding is known, characters / 4 otherwise. */
export async function countTextTokens(model: Pick<ModelConfig, 'model' | 'encoding'>, text: string): Promise<number> {
  const encoding = encodingForModel(model);
  if (encoding === undefined) return estimateTokens(text);
  return (await counterFor(encoding))(text);
}

/**
 * Prompt tokens for rate-limit reservations and budget holds: the messages' tokens plus the chat
 * framing, so that a reservation errs on the side of too many tokens.
 */
export async function countPromptTokens(
  model: Pick<ModelConfig, 'model' | 'encoding'>,
  messages: readonly Pick<ChatMessage, 'content'>[],
): Promise<number> {
  const encoding = encodingForModel(model);
  if (encoding === undefined) return estimatePromptTokens(messages);
  const count = await counterFor(encoding);
  let total = chatFraming.replyPriming;
  for (const message of messages) total += chatFraming.perMessage + count(message.content);
  return total;
}

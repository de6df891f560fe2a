/** One chat message in the OpenAI shape. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string;
}

/** Tokens a chat format adds around each message (role markers, separators). */
const perMessageOverhead = 4;
/** Tokens that prime the assistant's reply. */
const replyPriming = 3;

/** Rough token count of a text: about four characters a token, rounded up. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Token estimate of a prompt for rate-limit reservations. Rounds up and adds the
 * chat framing so that a reservation errs on the side of too many tokens.
 */
export function estimatePromptTokens(messages: readonly Pick<ChatMessage, 'content'>[]): number {
  let total = replyPriming;
  for (const message of messages) total += perMessageOverhead + estimateTokens(message.content);
  return total;
}

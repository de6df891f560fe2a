/** One chat message in the OpenAI shape. */
export interface ChatMessage {
  // No 'tool' role: a tool message needs a tool_call_id, and no workload calls tools.
  role: 'system' | 'user' | 'assistant' | 'developer';
  content: string;
}

export const chatFraming = {
  /** Tokens a chat format adds around each message (role markers, separators). */
  perMessage: 4,
  /** Tokens that prime the assistant's reply. */
  replyPriming: 3,
} as const;

/** Rough token count of a text: about four characters a token, rounded up (see tokenizer.ts for exact counts). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Token estimate of a prompt for rate-limit reservations. Rounds up and adds the
 * chat framing so that a reservation errs on the side of too many tokens.
 */
export function estimatePromptTokens(messages: readonly Pick<ChatMessage, 'content'>[]): number {
  let total = chatFraming.replyPriming;
  for (const message of messages) total += chatFraming.perMessage + estimateTokens(message.content);
  return total;
}

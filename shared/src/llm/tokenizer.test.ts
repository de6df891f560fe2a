import { describe, expect, it } from 'vitest';
import { countPromptTokens, countTextTokens, encodingForModel } from './tokenizer.js';
import { estimatePromptTokens, estimateTokens } from './tokens.js';

const model = (id: string, encoding?: 'o200k_base' | 'cl100k_base') => ({ model: id, encoding });

describe('encodingForModel', () => {
  it('knows OpenAI families by the id sent to the provider, with or without a router prefix', () => {
    for (const id of [
      'gpt-4o',
      'gpt-4o-mini',
      'openai/gpt-4o-mini',
      'gpt-4.1-nano',
      'o1',
      'o3-mini',
      'o4-mini',
      'gpt-5',
    ])
      expect(encodingForModel(model(id)), id).toBe('o200k_base');
    for (const id of ['gpt-4', 'gpt-4-turbo', 'gpt-3.5-turbo', 'openai/gpt-3.5-turbo-0125'])
      expect(encodingForModel(model(id)), id).toBe('cl100k_base');
  });

  it('does not guess for other vendors, look-alikes or our fake', () => {
    for (const id of [
      'anthropic/claude-sonnet-4',
      'llama3.1:8b',
      'Qwen/Qwen2.5-Coder-7B-Instruct',
      'fake/always-right',
      'meta/gpt-4o',
      'o1x',
      'gpt-40',
    ])
      expect(encodingForModel(model(id)), id).toBeUndefined();
  });

  it('takes the encoding models.yaml names over the id', () => {
    expect(encodingForModel(model('my-proxy-alias', 'cl100k_base'))).toBe('cl100k_base');
  });
});

describe('token counts', () => {
  it('counts exactly with a known encoding', async () => {
    // Reference counts from OpenAI's tiktoken.
    expect(await countTextTokens(model('gpt-4o'), 'hello world')).toBe(2);
    expect(await countTextTokens(model('gpt-4'), 'hello world')).toBe(2);
    const code = 'def add(a: int, b: int) -> int:\n    return a + b\n';
    expect(await countTextTokens(model('gpt-4o'), code)).not.toBe(estimateTokens(code));
  });

  it('treats special-token text in a prompt as plain text', async () => {
    expect(await countTextTokens(model('gpt-4o'), 'say <|endoftext|> now')).toBeGreaterThan(3);
  });

  it('frames chat prompts like the estimate does and falls back to characters / 4', async () => {
    const messages = [{ content: 'hello world' }, { content: 'hello world' }];
    expect(await countPromptTokens(model('gpt-4o'), messages)).toBe(3 + (4 + 2) * 2);
    expect(await countPromptTokens(model('fake/always-right'), messages)).toBe(estimatePromptTokens(messages));
    expect(await countTextTokens(model('llama3.1:8b'), 'abcdefgh')).toBe(2);
  });
});

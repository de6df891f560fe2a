import { describe, expect, it } from 'vitest';
import { CompletionEngine } from './completions.js';
import { defaultBehaviour, parseBehaviour } from './behaviour.js';

describe('parseBehaviour', () => {
  it('reads single behaviours', () => {
    expect(parseBehaviour('fake/always-right')).toEqual(defaultBehaviour);
    expect(parseBehaviour('fake/right-fraction:0.6').rightFraction).toBe(0.6);
    expect(parseBehaviour('fake/prose').form).toBe('prose');
    expect(parseBehaviour('fake/malformed').form).toBe('malformed');
    expect(parseBehaviour('fake/syntax-error').form).toBe('syntax-error');
    expect(parseBehaviour('fake/slow:250').slowMs).toBe(250);
    expect(parseBehaviour('fake/flaky-429:0.3').flaky429).toBe(0.3);
    expect(parseBehaviour('fake/flaky-500:1').flaky500).toBe(1);
    expect(parseBehaviour('fake/timeout').timeout).toBe(true);
    expect(parseBehaviour('fake/flaky-timeout:0.5').flakyTimeout).toBe(0.5);
    expect(parseBehaviour('fake/invalid-json-fraction:0.25').invalidJsonFraction).toBe(0.25);
    expect(parseBehaviour('fake/invalid-json-first:2').invalidJsonFirst).toBe(2);
    expect(parseBehaviour('fake/off-schema-first:1').offSchemaFirst).toBe(1);
    expect(parseBehaviour('fake/always-right').invalidJsonFraction).toBeUndefined();
  });

  it('combines parts joined by +', () => {
    expect(parseBehaviour('fake/right-fraction:0.6+prose-fraction:0.1+slow:20+flaky-429:0.2')).toEqual({
      ...defaultBehaviour,
      rightFraction: 0.6,
      proseFraction: 0.1,
      slowMs: 20,
      flaky429: 0.2,
    });
  });

  it('reads an exact number of 429s per request, and the engine answers exactly those', () => {
    expect(parseBehaviour('fake/always-right+429-first:2')).toEqual({ ...defaultBehaviour, first429: 2 });
    expect(() => parseBehaviour('fake/429-first:0.5')).toThrow(/whole number/);
    const engine = new CompletionEngine({ problems: [], seed: 'x' });
    const status = (content: string) => {
      const reply = engine.handle(
        JSON.stringify({ model: 'fake/always-right+429-first:2', messages: [{ role: 'user', content }] }),
      );
      return reply.kind === 'answer' ? reply.status : reply.kind;
    };
    expect([status('a'), status('a'), status('b'), status('a'), status('b'), status('b')]).toEqual([
      429, 429, 429, 200, 429, 200,
    ]);
  });

  it('rejects unknown parts and bad arguments', () => {
    expect(() => parseBehaviour('gpt-4o')).toThrow(/not a fake/);
    expect(() => parseBehaviour('fake/sometimes')).toThrow(/unknown fake behaviour "sometimes"/);
    expect(() => parseBehaviour('fake/right-fraction:1.5')).toThrow(/between 0 and 1/);
    expect(() => parseBehaviour('fake/right-fraction')).toThrow(/between 0 and 1/);
    expect(() => parseBehaviour('fake/slow:fast')).toThrow(/milliseconds/);
    expect(() => parseBehaviour('fake/invalid-json-first:1.5')).toThrow(/whole number/);
  });
});

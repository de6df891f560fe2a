// Structured answers: valid for the request's schema (checked with ajv, as the prompt kind does),
// the same for the same prompt, and broken or off-schema exactly when the behaviour says so.
import { describe, expect, it } from 'vitest';
import { compileAnswerSchema } from '../../../shared/src/kinds/prompt/answer.js';
import { parseBehaviour } from './behaviour.js';
import { CompletionEngine } from './completions.js';
import { draw } from './draw.js';
import { schemaAnswer } from './schema-answer.js';
import { structuredAnswer, type ResponseFormatRequest } from './structured.js';

const schemas: Record<string, Record<string, unknown>> = {
  triage: {
    type: 'object',
    properties: {
      is_bug: { type: 'boolean' },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      severity: { type: 'integer', minimum: 1, maximum: 5 },
      category: { enum: ['memory', 'concurrency', 'logic'] },
      summary: { type: 'string', minLength: 20, maxLength: 40 },
    },
    required: ['is_bug', 'confidence', 'category'],
    additionalProperties: false,
  },
  shapes: {
    type: 'object',
    $defs: { tag: { type: 'string', enum: ['a', 'b', 'c', 'd'] } },
    properties: {
      tags: { type: 'array', items: { $ref: '#/$defs/tag' }, minItems: 2, maxItems: 4, uniqueItems: true },
      pair: { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }], minItems: 2 },
      maybe: { anyOf: [{ type: 'null' }, { type: 'string', format: 'date-time' }] },
      either: { oneOf: [{ type: 'integer', multipleOf: 5, exclusiveMinimum: 0, maximum: 20 }, { type: 'string' }] },
      fixed: { const: 'v1' },
      nullable: { type: ['null', 'number'], exclusiveMaximum: 10, exclusiveMinimum: 9 },
      both: { allOf: [{ properties: { x: { type: 'integer' } }, required: ['x'] }, { required: ['y'] }] },
      nested: { type: 'object', properties: { deep: { type: 'array', items: { type: 'boolean' } } } },
    },
    required: ['tags', 'pair', 'either', 'fixed', 'nullable', 'both'],
  },
  scalar: { type: 'string', enum: ['yes', 'no'] },
};

describe('schemaAnswer', () => {
  it('validates against each schema for many prompts', () => {
    for (const [name, schema] of Object.entries(schemas)) {
      const validator = compileAnswerSchema(schema);
      for (let i = 0; i < 200; i++) {
        const value = schemaAnswer(schema, (place) => draw('seed', name, i, place));
        const checked = validator.check(JSON.stringify(value));
        expect(checked, `${name} #${i}: ${JSON.stringify(value)}`).toMatchObject({ ok: true });
      }
    }
  });

  it('answers the same for the same choices, and spreads over the values', () => {
    const schema = schemas['triage']!;
    const one = schemaAnswer(schema, (p) => draw('s', 'r1', p));
    expect(schemaAnswer(schema, (p) => draw('s', 'r1', p))).toEqual(one);
    const bugs = Array.from({ length: 100 }, (_, i) => schemaAnswer(schema, (p) => draw('s', i, p))).filter(
      (v) => (v as { is_bug: boolean }).is_bug,
    ).length;
    expect(bugs).toBeGreaterThan(25);
    expect(bugs).toBeLessThan(75);
  });
});

const format: ResponseFormatRequest = { type: 'json_schema', schema: schemas['triage']! };
const opening = [
  { role: 'system', content: 'Classify.' },
  { role: 'user', content: 'record 1' },
];
const retry = (n: number) =>
  Array.from({ length: n }, () => [
    { role: 'assistant', content: 'x' },
    { role: 'user', content: 'again' },
  ]).flat();
const ask = (behaviour: string, messages = opening, model = 'm') =>
  structuredAnswer(parseBehaviour(behaviour), { model, messages, format }, 'seed');
const isValid = (text: string) => compileAnswerSchema(schemas['triage']!).check(text).ok;

describe('structuredAnswer', () => {
  it('answers valid JSON that depends only on the opening of the conversation', () => {
    const first = ask('fake/always-right');
    expect(isValid(first)).toBe(true);
    expect(ask('fake/always-right', [...opening, ...retry(1)])).toBe(first);
    expect(ask('fake/always-right', [opening[0]!, { role: 'user', content: 'record 2' }])).not.toBe(first);
  });

  it('breaks the first tries exactly as asked', () => {
    const broken = ask('fake/invalid-json-first:2');
    expect(() => JSON.parse(broken) as unknown).toThrow();
    expect(() => JSON.parse(ask('fake/invalid-json-first:2', [...opening, ...retry(1)])) as unknown).toThrow();
    expect(isValid(ask('fake/invalid-json-first:2', [...opening, ...retry(2)]))).toBe(true);
    expect(ask('fake/off-schema-first:1')).toBe('{}');
    expect(isValid(ask('fake/off-schema-first:1', [...opening, ...retry(1)]))).toBe(true);
    expect(isValid(ask('fake/prose', [...opening, ...retry(5)]))).toBe(false);
  });

  it('answers broken JSON at the invalid-json fraction, or at the prose fraction when unset', () => {
    const prompts = Array.from({ length: 1000 }, (_, i) => [{ role: 'user', content: `record ${i}` }]);
    const brokenShare = (behaviour: string) =>
      prompts.filter((messages) => !isValid(ask(behaviour, messages))).length / prompts.length;
    expect(brokenShare('fake/invalid-json-fraction:0.2')).toBeCloseTo(0.2, 1);
    // fake-mixed in models.yaml: prose on 10 % of code answers, broken JSON on 10 % of structured ones.
    expect(brokenShare('fake/right-fraction:0.6+prose-fraction:0.1')).toBeCloseTo(0.1, 1);
    expect(brokenShare('fake/always-right')).toBe(0);
  });
});

describe('the engine', () => {
  it('answers a json_schema request with schema-valid JSON, and other requests as before', () => {
    const engine = new CompletionEngine({ problems: [], seed: 'x' });
    const body = (extra: Record<string, unknown>) =>
      JSON.stringify({ model: 'fake/always-right', messages: [{ role: 'user', content: 'hi' }], ...extra });
    const reply = engine.handle(
      body({ response_format: { type: 'json_schema', json_schema: { name: 'triage', schema: schemas['triage'] } } }),
    );
    expect(reply.kind === 'answer' && reply.status).toBe(200);
    const text = (
      JSON.parse(reply.kind === 'answer' ? reply.body : '{}') as {
        choices: { message: { content: string } }[];
      }
    ).choices[0]!.message.content;
    expect(isValid(text)).toBe(true);
    const plain = engine.handle(body({}));
    expect(plain.kind === 'answer' && plain.body).toContain('walk through the input once');
  });
});

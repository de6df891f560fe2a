import { describe, expect, it } from 'vitest';
import { parsePipeline, pipelineModels, scalarFields } from './pipeline.js';
import { promptJobId } from './expand.js';
import { checkRecordFields, parseRecords, selectRecords } from './records.js';
import { renderTemplate, templatePaths } from './template.js';

const twoStages = `
name: triage
defaults:
  model: fake-good
  max_retries: 1
stages:
  - name: classify
    system: You triage issue reports for {{meta.repo}}.
    user: "Title: {{title}}\\nBody: {{ body }}"
    schema:
      type: object
      properties:
        is_bug: { type: boolean }
        confidence: { type: number, minimum: 0, maximum: 1 }
        tags: { type: array, items: { type: string } }
      required: [is_bug, confidence]
  - name: root_cause
    model: fake-mixed
    when: stages.classify.is_bug == true
    user: "Why did {{title}} break? First guess: {{stages.classify.confidence}}"
    temperature: 0.3
    max_tokens: 200
    schema:
      type: object
      properties:
        category: { enum: [memory, concurrency, logic] }
        detail: { type: [string, "null"] }
        nested: { type: object }
      required: [category]
`;

describe('pipeline file', () => {
  it('reads stages in order with defaults applied', () => {
    const p = parsePipeline(twoStages);
    expect(p.name).toBe('triage');
    expect(p.stages.map((s) => [s.name, s.model, s.temperature, s.maxTokens, s.maxRetries])).toEqual([
      ['classify', 'fake-good', 0, 1024, 1],
      ['root_cause', 'fake-mixed', 0.3, 200, 1],
    ]);
    expect(p.stages[0]?.recordPaths).toEqual(['meta.repo', 'title', 'body']);
    expect(p.stages[1]?.recordPaths).toEqual(['title']);
    expect(p.stages[1]?.needs).toEqual(['classify']);
    expect(p.stages[1]?.when).toBe('stages.classify.is_bug == true');
    expect(pipelineModels(p)).toEqual(['fake-good', 'fake-mixed']);
  });

  it('validates answers against each stage’s schema', () => {
    const [classify] = parsePipeline(twoStages).stages;
    expect(classify?.validator.check('{"is_bug": true, "confidence": 0.5}')).toEqual({
      ok: true,
      value: { is_bug: true, confidence: 0.5 },
    });
    expect(classify?.validator.check('{"is_bug": "yes", "confidence": 2}')).toMatchObject({
      ok: false,
      errors: ['answer/is_bug must be boolean', 'answer/confidence must be <= 1'],
    });
  });

  it('lists the scalar fields of a schema for the CSV', () => {
    const [classify, rootCause] = parsePipeline(twoStages).stages;
    expect(scalarFields(classify!.schema)).toEqual(['is_bug', 'confidence']);
    expect(scalarFields(rootCause!.schema)).toEqual(['category', 'detail']);
  });

  it('reports every problem at once', () => {
    const bad = `
stages:
  - name: a
    user: "{{stages.b.x}} {{stages}}"
    schema: { type: object }
  - name: b
    model: m
    user: hi
    when: "stages.a.x = 1"
    schema: { type: objekt }
  - name: b
    model: m
    user: "{{ }}"
    schema: {}
`;
    let message = '';
    try {
      parsePipeline(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('stage a: no model');
    expect(message).toContain('stage a: stages.b.x names b, which is not an earlier stage');
    expect(message).toContain('stage a: {{stages}} must name a stage');
    expect(message).toContain('stage b when: use == to compare');
    expect(message).toContain('stage b schema: invalid JSON Schema');
    expect(message).toContain('stage b: the name is used twice');
    expect(message).toContain('stage b: an empty placeholder');
  });

  it('rejects unknown keys and bad names', () => {
    expect(() => parsePipeline('stages: [{name: a, model: m, user: u, schema: {}, temprature: 1}]')).toThrow(
      /temprature/,
    );
    expect(() => parsePipeline('stages: [{name: "a b", model: m, user: u, schema: {}}]')).toThrow(/stage name/);
    expect(() => parsePipeline('stages: []')).toThrow(/stages/);
    expect(() => parsePipeline('stages: [\n  - {')).toThrow(/not valid YAML/);
  });
});

describe('templates', () => {
  const context = { title: 'OOM', n: 3, tags: ['a'], stages: { classify: { is_bug: true } } };

  it('fills fields, nested paths and earlier answers; non-strings as JSON', () => {
    expect(renderTemplate('{{title}} x{{ n }} {{tags}} {{stages.classify.is_bug}} {{tags.0}}', context)).toEqual({
      ok: true,
      text: 'OOM x3 ["a"] true a',
    });
    expect(renderTemplate('{{stages.classify}}', context)).toEqual({ ok: true, text: '{"is_bug":true}' });
  });

  it('names the first missing path instead of rendering nothing', () => {
    expect(renderTemplate('{{title}} {{body}}', context)).toEqual({ ok: false, missing: 'body' });
    expect(renderTemplate('{{toString}}', context)).toEqual({ ok: false, missing: 'toString' });
    expect(templatePaths('{{a}} {{b.c}} {{a}}')).toEqual(['a', 'b.c']);
  });
});

describe('records', () => {
  it('reads JSONL keyed by the id field, numbers as strings', () => {
    const records = parseRecords('{"id": 1, "t": "x"}\n\n{"id": "b", "t": "y"}\n', 'id');
    expect(records.map((r) => [r.id, r.line])).toEqual([
      ['1', 1],
      ['b', 3],
    ]);
    expect(parseRecords('{"key": {"n": 7}}', 'key.n')[0]?.id).toBe('7');
    expect(selectRecords(records, 1).map((r) => r.id)).toEqual(['1']);
  });

  it('names each bad line', () => {
    expect(() => parseRecords('{"id": 1}\nnot json\n[1]\n{"t": 2}\n{"id": 1}', 'id')).toThrow(
      'invalid records: line 2 is not valid JSON; line 3 is not a JSON object; line 4 has no id (a string or number; choose another field with --id-field); line 5 repeats id 1 of line 1',
    );
    expect(() => parseRecords('\n', 'id')).toThrow(/no record/);
  });

  it('names the record that lacks a template field', () => {
    const pipeline = parsePipeline(twoStages);
    const records = parseRecords(
      [
        '{"id": "r1", "title": "a", "body": "b", "meta": {"repo": "x"}}',
        '{"id": "r2", "title": "a", "meta": {"repo": "x"}}',
      ].join('\n'),
      'id',
    );
    expect(() => checkRecordFields(pipeline, records)).toThrow(
      'records lack template fields: record r2 (line 2) has no body, which stage classify uses as {{body}}',
    );
    expect(() => checkRecordFields(pipeline, records.slice(0, 1))).not.toThrow();
    const typo = parsePipeline('stages: [{name: a, model: m, user: "{{titel}}", schema: {}}]');
    expect(() => checkRecordFields(typo, records)).toThrow(
      'records lack template fields: no record has titel, which stage a uses as {{titel}}',
    );
  });

  it('turns any record id into a job id the envelope accepts, keeping safe ones as they are', () => {
    expect(promptJobId('ISSUE-0001')).toBe('ISSUE-0001');
    const odd = promptJobId('issue 7 / é');
    expect(odd).toMatch(/^issue_7_\/_-[0-9a-f]{12}$/);
    expect(promptJobId('issue 7 / è')).not.toBe(odd);
  });
});

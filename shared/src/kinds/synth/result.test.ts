import { describe, expect, it } from 'vitest';
import { synthCli } from './cli.js';
import { validationTable } from './command.js';
import { synthDeadLettered, synthResultSchema } from './result.js';

describe('synth results', () => {
  it('a dead-lettered step still ends its job with what it had done, never with a task', () => {
    const scenario = { id: 'p/o/t', domain: 'P', topic: 'O', subtopic: 'T' };
    const rejections = [{ gen: 1, reason: 'clean_fails' as const }];
    const r = synthDeadLettered({
      jobId: 'm/3',
      type: 'synth.check',
      stage: 'evaluate',
      payload: {
        model: 'm',
        slot: 3,
        scenario,
        gen: 2,
        rejections,
        promptTokens: 5,
        completionTokens: 6,
        costUsd: 0.5,
      },
      code: 'delivery_limit',
      message: 'crashed',
    });
    expect(synthResultSchema.parse(r)).toMatchObject({
      mode: 'generate',
      model: 'm',
      slot: 3,
      status: 'dead_lettered',
      generations: 2,
      tasks: [],
      rejections,
      costUsd: 0.5,
      deadLetter: { stage: 'evaluate', code: 'delivery_limit' },
    });
    const unreadable = synthDeadLettered({
      jobId: 'm/1',
      type: 'synth.generate',
      stage: 'generate',
      payload: 'x',
      code: 'schema',
      message: '',
    });
    expect(unreadable).toMatchObject({ mode: 'generate', model: 'm', slot: 1, status: 'dead_lettered' });
    const v = synthDeadLettered({
      jobId: 'validate/4',
      type: 'synth.validate',
      stage: 'evaluate',
      payload: { instanceId: 'i', line: 4 },
      code: 'c',
      message: 'm',
    });
    expect(v).toMatchObject({ mode: 'validate', instanceId: 'i', line: 4, ok: false, problems: ['dead-lettered: c'] });
  });

  it("report's first screen and validate's table", () => {
    const lines = synthCli.summaryLines!({
      mode: 'generate',
      jobs: 2,
      acceptedJobs: 1,
      tasks: 2,
      byStrategy: [
        { strategy: 'llm', proposed: 3, valid: 1, yield: 0.333333 },
        { strategy: 'ast', proposed: 0, valid: 0, yield: null },
      ],
      rejections: { bug_passes: 2 },
      costUsd: 0.02,
      costPerTaskUsd: 0.01,
      models: [{ model: 'm', jobs: 2, acceptedJobs: 1, tasks: 2, costPerTaskUsd: 0.01 }],
    });
    expect(lines).toEqual([
      '2 tasks from 1 of 2 scenarios; cost $0.0200, $0.0100 per task',
      '',
      'strategy  proposed  valid   yield',
      'llm              3      1   33.3%',
      'ast              0      0      –',
      '',
      'rejections: bug_passes 2',
      '',
      'model  scenarios  accepted  tasks  cost/task',
      'm              2         1      2  $0.0100',
    ]);
    expect(synthCli.summaryLines!({ mode: 'validate', tasks: 3, valid: 2, invalid: 1 })).toEqual([
      '3 tasks re-run: 2 valid, 1 invalid',
    ]);
    const table = validationTable([
      {
        mode: 'validate',
        instanceId: 'a',
        line: 1,
        ok: false,
        clean: { verdict: 'passed', failing: [], passed: 5 },
        buggy: { verdict: 'passed', failing: [], passed: 5 },
        expectedFailToPass: ['t1'],
        problems: ['the buggy module fails [] instead of FAIL_TO_PASS [t1]'],
      },
    ]);
    expect(table[1]).toBe(
      'a         passed   0 (expected 1)     INVALID: the buggy module fails [] instead of FAIL_TO_PASS [t1]',
    );
  });
});

// The status `queues` block and watch's warnings, from queue depths as the broker reports them.
import { describe, expect, it } from 'vitest';
import { queueBlock, QueueWarnings, type StageDepth } from './queues.js';

const depth = (stage: string, work: number | null, consumers: number | null): StageDepth => ({
  stage,
  work,
  consumers,
  deadLetters: 0,
});

describe('queues', () => {
  it('status: a line per existing stage, a warning under one with work and no consumer', () => {
    const lines = queueBlock([depth('produce', 0, 0), depth('evaluate', 5, 0), depth('mutate', null, null)]);
    expect(lines[0]).toBe('produce: 0 queued, 0 consumer(s), 0 dead');
    expect(lines[1]).toBe('evaluate: 5 queued, 0 consumer(s), 0 dead');
    expect(lines[2]).toMatch(/^ {2}WARNING: evaluate has 5 queued message\(s\) and no consumer/);
    expect(lines).toHaveLength(3);
  });

  it('watch: says once when a stage is starved, and when it has a consumer again', () => {
    const w = new QueueWarnings();
    expect(w.update([depth('evaluate', 3, 1)])).toEqual([]);
    expect(w.update([depth('evaluate', 3, 0)])).toEqual([expect.stringMatching(/^WARNING: evaluate has 3 queued/)]);
    expect(w.update([depth('evaluate', 4, 0)])).toEqual([]);
    expect(w.update([depth('evaluate', 4, 1)])).toEqual(['evaluate has 1 consumer(s) again']);
    expect(w.update([depth('evaluate', 0, 1)])).toEqual([]);
  });
});

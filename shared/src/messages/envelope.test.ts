import { describe, expect, it } from 'vitest';
import { envelopeSchema, makeEnvelope } from './envelope.js';

describe('makeEnvelope', () => {
  it('gives every envelope its own trace and span ids, also across refills of the id pool', () => {
    // 1000 envelopes draw 24 random bytes each: the 4 KiB pool is refilled several times.
    const envs = Array.from({ length: 1000 }, (_, i) =>
      makeEnvelope({ type: 'echo.run', runId: 'r1', jobId: `j${i}`, kind: 'echo', stage: 'echo', payload: {} }),
    );
    for (const env of envs) expect(envelopeSchema.safeParse(env).success).toBe(true);
    const traces = envs.map((e) => e.traceId);
    const spans = envs.map((e) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(e.traceparent ?? '')?.[2]);
    expect(new Set(traces).size).toBe(envs.length);
    expect(spans.every((s) => s !== undefined)).toBe(true);
    expect(new Set(spans).size).toBe(envs.length);
    envs.forEach((e) => expect(e.traceparent?.slice(3, 35)).toBe(e.traceId));
  });

  it('keeps a given trace id', () => {
    const traceId = 'ab'.repeat(16);
    const env = makeEnvelope({ type: 't', runId: 'r', jobId: 'j', kind: 'echo', stage: 'echo', payload: 1, traceId });
    expect(env.traceId).toBe(traceId);
    expect(env.traceparent?.startsWith(`00-${traceId}-`)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentError } from '../errors/index.js';
import { decodeMessage, encodeMessage, makeEnvelope, type Envelope } from '../messages/index.js';
import { builtinKinds } from '../kinds/index.js';
import type { Bus } from '../service/bus.js';
import { defineKind, KindRegistry, RESULT, Router } from './index.js';

const step = {
  type: 'loop.step',
  stage: 'generate',
  schema: z.object({ turn: z.number().int(), maxTurns: z.number().int() }),
  timeoutMs: 1000,
  description: 'one turn',
};

const turnsLeft = (payload: unknown): boolean => {
  const { turn, maxTurns } = step.schema.parse(payload);
  return turn < maxTurns;
};

const loopKind = defineKind({
  name: 'loop',
  description: 'retries with a cap carried in the payload',
  spec: z.object({ maxTurns: z.number().int() }),
  messages: [step],
  pipeline: {
    produce: { ok: step.type },
    [step.type]: {
      fixed: RESULT,
      failed: { to: step.type, while: (p) => turnsLeft(p), otherwise: RESULT },
    },
  },
  expand: () => Promise.resolve({ jobs: [], meta: {} }),
  result: z.object({ turns: z.number().int().nonnegative() }),
  deadLettered: () => ({ turns: 0 }),
  report: () => Promise.resolve({}),
});

function recordingBus(): Bus & { sent: Envelope[] } {
  const sent: Envelope[] = [];
  return {
    sent,
    publish: (e) => {
      sent.push(e);
      return Promise.resolve();
    },
    publishEvent: () => Promise.resolve(),
  };
}

describe('KindRegistry', () => {
  const registry = new KindRegistry([...builtinKinds, loopKind]);

  it('derives stages, hosted stages and the run.requested union from the kinds', () => {
    expect(registry.stages()).toEqual(['aggregate', 'evaluate', 'generate', 'mutate', 'produce']);
    expect(registry.stagesFor(['sandbox'])).toEqual(['evaluate']);
    expect(registry.stagesFor(['models', 'general'])).toEqual(['generate']);
    expect(registry.stagesFor(['mutation'])).toEqual(['mutate']);
    const schema = registry.runRequestedSchema();
    expect(schema.safeParse({ kind: 'echo', spec: { count: 3 } }).success).toBe(true);
    expect(schema.safeParse({ kind: 'echo', spec: { count: 0 } }).success).toBe(false);
    expect(schema.safeParse({ kind: 'nope', spec: {} }).success).toBe(false);
  });

  it('follows a loop edge while the payload allows, then ends the job', () => {
    expect(registry.resolve('loop', step.type, 'failed', { turn: 1, maxTurns: 3 })).toMatchObject({
      kind: 'message',
      entry: { type: 'loop.step', stage: 'generate' },
    });
    expect(registry.resolve('loop', step.type, 'failed', { turn: 3, maxTurns: 3 })).toEqual({ kind: 'result' });
    expect(() => registry.resolve('loop', step.type, 'surprised', {})).toThrow(PermanentError);
    expect(() => registry.resolve('nope', 'produce', 'ok', {})).toThrow(/no kind nope/);
  });

  it('rejects a pipeline that goes nowhere, a foreign message type, an undeclared stage', () => {
    const base = {
      name: 'bad',
      description: '',
      spec: z.object({}),
      expand: () => Promise.resolve({ jobs: [], meta: {} }),
      result: z.object({}),
      deadLettered: () => ({}),
      report: () => Promise.resolve({}),
    };
    expect(() => defineKind({ ...base, messages: [], pipeline: { produce: { ok: 'bad.missing' } } })).toThrow(
      /unknown bad.missing/,
    );
    expect(() => defineKind({ ...base, messages: [{ ...step }], pipeline: { produce: { ok: RESULT } } })).toThrow(
      /must start with bad\./,
    );
    const lost = defineKind({
      ...base,
      messages: [{ ...step, type: 'bad.step', stage: 'nowhere' }],
      pipeline: { produce: { ok: 'bad.step' }, 'bad.step': { ok: RESULT } },
    });
    expect(() => new KindRegistry([lost])).toThrow(/undeclared stage nowhere/);
  });

  it('validates job.result against the kind’s result schema when decoding', () => {
    const env = (result: unknown) =>
      encodeMessage(
        makeEnvelope({
          type: 'job.result',
          runId: 'r',
          jobId: 'j',
          kind: 'loop',
          stage: 'aggregate',
          payload: { kind: 'loop', outcome: 'fixed', result },
        }),
      );
    expect(decodeMessage(env({ turns: 2 }), registry.catalog).payload).toMatchObject({ result: { turns: 2 } });
    expect(() => decodeMessage(env({ turns: -1 }), registry.catalog)).toThrow(/result.turns/);
    const unknownKind = encodeMessage(
      makeEnvelope({ type: 'job.result', runId: 'r', jobId: 'j', kind: 'ghost', stage: 'aggregate', payload: {} }),
    );
    expect(() => decodeMessage(unknownKind, registry.catalog)).toThrow(/unknown kind ghost/);
  });
});

describe('Router', () => {
  const registry = new KindRegistry([...builtinKinds, loopKind]);
  const origin = { runId: 'r1', jobId: 'j1', kind: 'loop', traceId: 'a'.repeat(32) };

  it('publishes the next message of the job, validated, on its stage', async () => {
    const bus = recordingBus();
    const routed = await new Router(registry, bus).emit({ ...origin, step: 'produce' }, 'ok', { turn: 1, maxTurns: 2 });
    expect(routed).toEqual({ type: 'loop.step', stage: 'generate', jobId: 'j1' });
    expect(bus.sent[0]).toMatchObject({ type: 'loop.step', stage: 'generate', kind: 'loop', runId: 'r1', attempt: 1 });
    await expect(new Router(registry, bus).emit({ ...origin, step: 'produce' }, 'ok', { turn: 'one' })).rejects.toThrow(
      /invalid loop.step payload/,
    );
    expect(bus.sent).toHaveLength(1);
  });

  it('turns a terminal outcome into job.result with the kind’s validated result', async () => {
    const bus = recordingBus();
    const router = new Router(registry, bus);
    await router.emit({ ...origin, step: step.type }, 'fixed', { turns: 2 });
    expect(bus.sent[0]).toMatchObject({
      type: 'job.result',
      stage: 'aggregate',
      payload: { kind: 'loop', outcome: 'fixed', result: { turns: 2 }, artifacts: {} },
    });
    await expect(router.emit({ ...origin, step: step.type }, 'fixed', { turns: 'two' })).rejects.toThrow(
      PermanentError,
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  appendHistory,
  carriedHeaders,
  chooseDelayTier,
  deadLetteredAt,
  deadLetterHeaders,
  deadLetterReason,
  FailureHeaders,
  originalRoutingKey,
  readHistory,
  requeueHeaders,
  retryHeaders,
} from './headers.js';

const t1 = new Date('2031-01-01T00:00:00.000Z');
const t2 = new Date('2031-01-01T00:05:00.000Z');
const t3 = new Date('2031-01-01T00:09:00.000Z');

describe('failure headers', () => {
  it('chooses the smallest tier at least as long as wanted, else the longest', () => {
    expect(chooseDelayTier([1_000, 5_000, 30_000], 1)).toBe(1_000);
    expect(chooseDelayTier([30_000, 1_000, 5_000], 5_000)).toBe(5_000);
    expect(chooseDelayTier([1_000, 5_000], 6_000)).toBe(5_000);
  });

  it('keeps first-failure-at across retries and into the dead letter, with a growing history', () => {
    const first = retryHeaders(
      { app: 'kept', 'x-death': [{}], 'x-delivery-count': 2 },
      {
        failure: { code: 'upstream_5xx', message: 'bad gateway' },
        stage: 'generate',
        attempt: 1,
        tierMs: 1_000,
        now: t1,
      },
    );
    expect(first).toMatchObject({
      app: 'kept',
      [FailureHeaders.attempt]: 2,
      [FailureHeaders.firstFailureAt]: t1.toISOString(),
      [FailureHeaders.lastErrorCode]: 'upstream_5xx',
      'evalfleet-delay-tier': '1000',
    });
    expect(first).not.toHaveProperty('x-death');
    expect(first).not.toHaveProperty('x-delivery-count');

    const second = retryHeaders(first, {
      failure: { code: 'timeout', message: 'slow' },
      stage: 'generate',
      attempt: 2,
      tierMs: 5_000,
      now: t2,
    });
    expect(second[FailureHeaders.firstFailureAt]).toBe(t1.toISOString());
    expect(second[FailureHeaders.lastFailureAt]).toBe(t2.toISOString());

    const dead = deadLetterHeaders(
      { ...second, 'evalfleet-delay-tier': '5000' },
      {
        failure: { code: 'attempts_exhausted', message: 'gave up' },
        stage: 'generate',
        attempts: 3,
        routingKey: 'stage.generate',
        now: t3,
      },
    );
    expect(dead).toMatchObject({
      [FailureHeaders.errorCode]: 'attempts_exhausted',
      [FailureHeaders.stage]: 'generate',
      [FailureHeaders.attempts]: 3,
      [FailureHeaders.firstFailureAt]: t1.toISOString(),
      [FailureHeaders.lastFailureAt]: t3.toISOString(),
      [FailureHeaders.originalRoutingKey]: 'stage.generate',
    });
    expect(dead).not.toHaveProperty('evalfleet-delay-tier');
    expect(readHistory(dead).map((h) => [h.action, h.code, h.attempt])).toEqual([
      ['retry', 'upstream_5xx', 1],
      ['retry', 'timeout', 2],
      ['dead_letter', 'attempts_exhausted', 3],
    ]);
  });

  it('truncates long error messages and bounds the history', () => {
    const long = 'e'.repeat(5_000);
    let headers: Record<string, unknown> = {};
    for (let i = 1; i <= 60; i++) {
      headers = retryHeaders(headers, {
        failure: { code: `c${i}`, message: long },
        stage: 'evaluate',
        attempt: i,
        tierMs: 1,
        now: t1,
      });
    }
    expect(String(headers[FailureHeaders.lastErrorMessage]).length).toBeLessThanOrEqual(500);
    const history = readHistory(headers);
    expect(history.length).toBeLessThanOrEqual(20);
    expect(history.at(-1)?.code).toBe('c60');
    expect(Buffer.byteLength(String(headers[FailureHeaders.history]))).toBeLessThanOrEqual(8_192);
  });

  it('survives a garbage history header', () => {
    expect(readHistory({ [FailureHeaders.history]: 'not json' })).toEqual([]);
    expect(
      JSON.parse(appendHistory({ [FailureHeaders.history]: '{"a":1}' }, { at: 'x', action: 'requeue', code: 'c' })),
    ).toHaveLength(1);
  });

  it('turns the dead-letter reason into history on requeue and restarts the attempt', () => {
    const dead = deadLetterHeaders(
      {},
      {
        failure: { code: 'over_limit', message: 'too big' },
        stage: 'evaluate',
        attempts: 1,
        routingKey: 'stage.evaluate',
        now: t1,
      },
    );
    const requeued = requeueHeaders(dead, deadLetterReason(dead), t2);
    expect(requeued[FailureHeaders.attempt]).toBe(1);
    expect(requeued[FailureHeaders.requeuedCount]).toBe(1);
    expect(requeued).not.toHaveProperty(FailureHeaders.errorCode);
    expect(requeued[FailureHeaders.firstFailureAt]).toBe(t1.toISOString());
    expect(readHistory(requeued).map((h) => h.action)).toEqual(['dead_letter', 'requeue']);
    expect(requeueHeaders(requeued, { code: 'x', message: '' }, t3)[FailureHeaders.requeuedCount]).toBe(2);
  });

  it('reads the reason of a message the broker dead-lettered itself from x-death', () => {
    const headers = {
      'x-death': [
        {
          count: 1,
          reason: 'delivery_limit',
          queue: 'ns.generate',
          time: { '!': 'timestamp', value: 1_900_000_000 },
          'routing-keys': ['stage.generate'],
        },
        { count: 1, reason: 'expired', queue: 'ns.delay.200', 'routing-keys': ['stage.generate'] },
      ],
      'x-first-death-reason': 'expired',
    };
    expect(deadLetterReason(headers).code).toBe('delivery_limit');
    expect(deadLetteredAt(headers)?.getTime()).toBe(1_900_000_000_000);
    expect(originalRoutingKey(headers, 'fallback')).toBe('stage.generate');
    expect(carriedHeaders(headers)).toEqual({});
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../errors/index.js';
import type { Envelope } from '../messages/index.js';
import { createMetrics } from '../metrics/index.js';
import { BrokerScope, queueDepth, testJob, testTypes, waitFor, withRawChannel } from '../../../test/support/rabbit.js';
import { dlqInspect, FailureHeaders, type HandlerContext } from './index.js';

type Seen = { env: Envelope; ctx: HandlerContext; at: number };

const scope = new BrokerScope();
afterEach(() => scope.cleanup());
const setup = (label: string, overrides = {}) => scope.setup(label, overrides);
const job = testJob;

describe('publish and consume', () => {
  it('delivers confirmed messages with their properties and acks them', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    const { ns, conn } = await setup('roundtrip', { metrics });
    const seen: Seen[] = [];
    await conn.consume({
      stage: 'generate',
      concurrency: 4,
      handler: (env, ctx) => {
        seen.push({ env, ctx, at: Date.now() });
        return Promise.resolve();
      },
    });
    for (let i = 0; i < 20; i++) await conn.publisher.send(job(i));
    await waitFor('20 deliveries', () => seen.length >= 20);
    expect(new Set(seen.map((s) => s.env.jobId)).size).toBe(20);
    expect(seen[0]?.env.payload).toEqual({ n: 0, mode: 'ok' });
    expect(seen[0]?.ctx.deliveryCount).toBe(0);
    expect(seen[0]?.ctx.redelivered).toBe(false);
    await waitFor(
      'acks (queue empty, nothing in flight)',
      async () => conn.inFlight() === 0 && (await queueDepth(`${ns}.generate`)) === 0,
    );
    const jobs = await metrics.registry.getSingleMetricAsString('evalfleet_jobs_total');
    expect(jobs).toContain('outcome="ack"');
    expect(jobs).toMatch(/stage="generate",kind="echo",type="test.broker.work",outcome="ack"[^}]*} 20/);
    expect(await metrics.registry.getSingleMetricAsString('evalfleet_published_total')).toMatch(
      /role="work",outcome="confirmed"[^}]*} 20/,
    );

    // AMQP properties the rest of the fleet relies on (idempotency key, type, persistence).
    await conn.stopConsuming();
    await conn.publisher.send(job(99));
    const props = await withRawChannel(async (ch) => {
      const m = await ch.get(`${ns}.generate`, { noAck: true });
      return m ? m.properties : undefined;
    });
    expect(props).toMatchObject({
      messageId: 'job-99:generate:1',
      type: testTypes.work.type,
      contentType: 'application/json',
      deliveryMode: 2,
    });
  });

  it('retries a retryable failure through a delay queue and back with the attempt count', async () => {
    const { conn } = await setup('retry');
    const seen: Seen[] = [];
    await conn.consume({
      stage: 'generate',
      concurrency: 2,
      handler: (env, ctx) => {
        seen.push({ env, ctx, at: Date.now() });
        if (env.attempt < 3)
          return Promise.reject(new RetryableError('upstream_5xx', `bad gateway on attempt ${env.attempt}`));
        return Promise.resolve();
      },
    });
    await conn.publisher.send(job(1));
    await waitFor('third attempt', () => seen.length >= 3);
    expect(seen.map((s) => s.env.attempt)).toEqual([1, 2, 3]);
    // Tiers [200, 400]; the policy's [200, 400] delays map onto them.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(180);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(380);
    const last = seen[2]!.ctx.headers;
    expect(last[FailureHeaders.attempt]).toBe(3);
    expect(last[FailureHeaders.lastErrorCode]).toBe('upstream_5xx');
    expect(last[FailureHeaders.firstFailureAt]).toBeTypeOf('string');
    expect(JSON.parse(String(last[FailureHeaders.history]))).toHaveLength(2);
    expect(seen.every((s) => s.env.jobId === 'job-1')).toBe(true);
  });

  it('dead-letters after the last attempt as attempts_exhausted with the last error', async () => {
    const { ns, conn } = await setup('exhaust');
    let calls = 0;
    await conn.consume({
      stage: 'generate',
      handler: () => {
        calls++;
        return Promise.reject(new Error('worker bug'));
      },
    });
    await conn.publisher.send(job(7));
    await waitFor('dead letter', async () => (await queueDepth(`${ns}.generate.dlq`)) === 1);
    expect(calls).toBe(testTypes.work.retry.maxAttempts);
    const [dead] = await dlqInspect(conn, ns, 'generate');
    expect(dead).toMatchObject({
      code: 'attempts_exhausted',
      attempts: 3,
      jobId: 'job-7',
      routingKey: 'stage.generate',
      stage: 'generate',
    });
    expect(dead?.message).toContain('handler_crashed: worker bug');
    expect(dead?.headers).toMatchObject({
      [FailureHeaders.lastErrorCode]: 'handler_crashed',
      [FailureHeaders.lastErrorMessage]: 'worker bug',
    });
    expect(dead?.history.map((h) => h.action)).toEqual(['retry', 'retry', 'dead_letter']);
    expect(dead!.firstFailureAt! < dead!.lastFailureAt!).toBe(true);
  });

  it('dead-letters permanent errors, invalid JSON and schema violations at once, with reason headers', async () => {
    const { ns, conn } = await setup('permanent');
    let calls = 0;
    await conn.consume({
      stage: 'generate',
      concurrency: 3,
      handler: (env) => {
        calls++;
        if ((env.payload as { mode: string }).mode === 'permanent')
          return Promise.reject(new PermanentError('over_limit', 'input too large'));
        return Promise.resolve();
      },
    });
    await conn.publisher.send(job(1, 'permanent'));
    const garbage = Buffer.from('{"v":1, not json');
    await withRawChannel(async (ch) => {
      ch.publish(`${ns}.work`, 'stage.generate', garbage, { messageId: 'garbage-1', persistent: true });
      // A valid envelope whose payload breaks the type's schema.
      const bad = { ...job(2), payload: { n: 'two' } };
      ch.publish(`${ns}.work`, 'stage.generate', Buffer.from(JSON.stringify(bad)), { messageId: 'bad-1' });
      await ch.close();
    });
    await waitFor('three dead letters', async () => (await queueDepth(`${ns}.generate.dlq`)) === 3);
    expect(calls).toBe(1);
    const dead = await dlqInspect(conn, ns, 'generate', { limit: 10 });
    const byCode = Object.fromEntries(dead.map((d) => [d.code, d]));
    expect(Object.keys(byCode).sort()).toEqual(['invalid_json', 'over_limit', 'schema_violation']);
    expect(byCode.over_limit).toMatchObject({ jobId: 'job-1', attempts: 1, message: 'input too large' });
    expect(byCode.invalid_json).toMatchObject({ messageId: 'garbage-1', sizeBytes: garbage.length, jobId: undefined });
    expect(byCode.schema_violation?.message).toContain('payload');
    for (const d of dead) {
      for (const h of [
        FailureHeaders.errorCode,
        FailureHeaders.errorMessage,
        FailureHeaders.stage,
        FailureHeaders.attempts,
        FailureHeaders.firstFailureAt,
        FailureHeaders.lastFailureAt,
        FailureHeaders.originalRoutingKey,
        FailureHeaders.history,
      ]) {
        expect(d.headers, `${d.code} has ${h}`).toHaveProperty(h);
      }
    }
    // The unparseable body is dead-lettered byte for byte.
    const raw = await withRawChannel(async (ch) => {
      const out: Buffer[] = [];
      for (let m = await ch.get(`${ns}.generate.dlq`); m; m = await ch.get(`${ns}.generate.dlq`)) out.push(m.content);
      return out;
    });
    expect(raw.some((b) => b.equals(garbage))).toBe(true);
  });

  it('aborts a handler past its timeout and retries it as handler_timeout', async () => {
    const { conn } = await setup('timeout');
    const seen: Seen[] = [];
    let aborted = 0;
    await conn.consume({
      stage: 'generate',
      handler: async (env, ctx) => {
        seen.push({ env, ctx, at: Date.now() });
        if (env.attempt === 1) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          aborted++;
        }
      },
    });
    await conn.publisher.send(job(3, 'ok', testTypes.short.type));
    await waitFor('retried attempt', () => seen.length >= 2);
    expect(aborted).toBe(1);
    expect(seen[1]?.env.attempt).toBe(2);
    expect(seen[1]?.ctx.headers[FailureHeaders.lastErrorCode]).toBe('handler_timeout');
  });

  it('survives handlers that throw synchronously or reject with non-errors', async () => {
    const { ns, conn } = await setup('crashy');
    let calls = 0;
    await conn.consume({
      stage: 'generate',
      concurrency: 2,
      handler: (env) => {
        calls++;
        if (env.attempt === 1) throw new TypeError('sync throw');
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        if (env.attempt === 2) return Promise.reject('a string');
        return Promise.resolve();
      },
    });
    await conn.publisher.send(job(5));
    await waitFor('third call succeeds', () => calls >= 3);
    await waitFor('queue settled', async () => conn.inFlight() === 0 && (await queueDepth(`${ns}.generate`)) === 0);
    expect(await queueDepth(`${ns}.generate.dlq`)).toBe(0);
  });
});

// Several real processes share one scope against the fake provider (itself a process enforcing the
// same limits over a sliding window): the provider's own log of arrivals is the judge.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startFakeProviderProcess,
  startWorker,
  type FakeProviderProcess,
  type WorkerProcess,
} from '../../../bench/ratelimit/processes.js';
import { peakWindowUsage } from './window-usage.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function provider(args: Record<string, string | number>): Promise<FakeProviderProcess> {
  const started = await startFakeProviderProcess({ ...args, 'token-cost': 'actual' });
  cleanups.push(() => started.stop());
  return started;
}

function workers(count: number, args: Record<string, string | number>): WorkerProcess[] {
  const started = Array.from({ length: count }, (_, index) => startWorker({ ...args, index, processes: count }));
  cleanups.push(async () => {
    await Promise.all(started.map((w) => w.stop()));
  });
  return started;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server of our own (never the shared one), without persistence: a restart loses everything. */
async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined); // refused until the server listens: that is what we poll for
  try {
    await expect
      .poll(
        async () => {
          try {
            if (probe.status !== 'ready') await probe.connect();
            return await probe.ping();
          } catch {
            probe.disconnect();
            return 'down';
          }
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe('PONG');
  } finally {
    probe.disconnect();
  }
  return child;
}

async function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Checks every sliding window of the provider's log against the limits; returns the busiest one. */
async function judge(fake: FakeProviderProcess, windowMs: number, limits: { rpm: number; tpm: number }) {
  const log = await fake.log();
  expect(log.filter((a) => a.status !== 200)).toEqual([]);
  const peak = peakWindowUsage(
    log.map((a) => ({ timeMs: a.timeMs, tokens: a.tokens ?? 0 })),
    windowMs,
  );
  expect(peak.requests).toBeLessThanOrEqual(limits.rpm);
  expect(peak.tokens).toBeLessThanOrEqual(limits.tpm);
  return { log, peak };
}

describe('fleet limiter across processes', () => {
  it('keeps three processes within the RPM and TPM of every window, with no 429s, while using most of it', async () => {
    const prefix = `evalfleet-test:${randomUUID()}:`;
    cleanups.push(async () => {
      const raw = new Redis(redisUrl);
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    });
    const limits = { rpm: 30, tpm: 4500 };
    // Windows long enough that the margin (admission-to-arrival delay a loaded machine may add)
    // is a small part of each: the busiest window can still come close to the limit.
    const windowMs = 4000;
    const fake = await provider({ ...limits, 'window-ms': windowMs });
    const fleet = workers(3, {
      mode: 'fleet',
      'provider-url': fake.url,
      'redis-url': redisUrl,
      prefix,
      ...limits,
      'period-ms': windowMs,
      'margin-ms': 500,
      'heartbeat-ms': 200,
      'warmup-ms': 1000,
      concurrency: 3,
      requests: 30,
      'latency-ms': 30,
    });
    const reports = await Promise.all(fleet.map((w) => w.done));
    expect(reports.reduce((sum, r) => sum + r.ok, 0)).toBe(90);
    expect(reports.reduce((sum, r) => sum + r.rateLimited + r.errors, 0)).toBe(0);
    const { log, peak } = await judge(fake, windowMs, limits);
    expect(log).toHaveLength(90);
    // Not merely safe: the busiest window came close to the binding limit.
    expect(Math.max(peak.requests / limits.rpm, peak.tokens / limits.tpm)).toBeGreaterThan(0.8);
  });

  it('fails closed while its Redis is down and does not burst when Redis comes back empty', async () => {
    const port = await freePort();
    let redis = await startRedisServer(port);
    cleanups.push(() => stopRedisServer(redis));
    const limits = { rpm: 40, tpm: 6000 };
    const windowMs = 4000;
    const fake = await provider({ ...limits, 'window-ms': windowMs });
    const fleet = workers(3, {
      mode: 'fleet',
      'provider-url': fake.url,
      'redis-url': `redis://127.0.0.1:${port}`,
      prefix: 'evalfleet-test:',
      ...limits,
      'period-ms': windowMs,
      // The admission-to-arrival delay a loaded machine adds, as in the test above (200 ms let two calls
      // through as 429s in a CI run with two test files and their containers on 2 CPUs).
      'margin-ms': 500,
      'heartbeat-ms': 200,
      'warmup-ms': 2000,
      'max-wait-ms': 3000,
      concurrency: 3,
      requests: 45,
      'latency-ms': 30,
    });

    // Outage once the fleet has filled more than a window, so the window is full when Redis forgets it.
    await expect.poll(async () => (await fake.log()).length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(50);
    await stopRedisServer(redis);
    const killedAt = Date.now();
    // The outage itself must last a while (the thing under test), so this is a fixed duration, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const restartedAt = Date.now();
    redis = await startRedisServer(port);

    const reports = await Promise.all(fleet.map((w) => w.done));
    expect(reports.reduce((sum, r) => sum + r.ok, 0)).toBe(135);
    expect(reports.reduce((sum, r) => sum + r.rateLimited + r.errors, 0)).toBe(0);
    const { log } = await judge(fake, windowMs, limits);
    // Nothing was admitted while Redis was down (calls already in flight land within their latency).
    expect(log.filter((a) => a.timeMs > killedAt + 200 && a.timeMs < restartedAt)).toEqual([]);
  });
});

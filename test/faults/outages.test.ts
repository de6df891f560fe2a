// Outages of Redis and of the store, and Redis restarted empty. Each scenario has a fleet and a server
// of its own (a redis-server, an s3rver; never the machine's), so the three run at once: the 30 s
// outages are mostly waiting, and CI pays for them once. Each compares its run with a fault-free run
// of the same inputs on the same fleet.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/rabbit.js';
import { FaultFleet, writeSamplesFile, type FaultFleetOptions } from './support/fleet.js';
import { startOwnRedis, startOwnS3rver, type OwnServer } from './support/servers.js';

const jobs = 12;
// The outage's length is the scenario itself, not a wait for something to happen.
const outageMs = 30_000;

/**
 * `server` stopped (SIGTERM) and started again outageMs after the stop began: a drain is part of the
 * outage, so the outage lasts what the retries are planned for, not more.
 */
async function outage(server: OwnServer, whileDown?: () => void): Promise<void> {
  const stopping = Date.now();
  await server.stop('SIGTERM');
  whileDown?.();
  await new Promise((r) => setTimeout(r, Math.max(0, outageMs - (Date.now() - stopping))));
  await server.start();
}

/**
 * A fleet on `opts`, its fault-free run done; `fault` then runs beside a second run; the ledger after.
 * The fault starts once two of the run's results are counted; with `holdResults`, once every job was
 * evaluated while the aggregator was held (SIGSTOP), so that the fault meets every result still to be
 * recorded however fast this machine runs the rest; `fault` lets the aggregator go on with `release`.
 */
async function scenario(
  opts: FaultFleetOptions,
  fault: (f: FaultFleet, release: () => void) => Promise<void>,
  evidence?: (f: FaultFleet) => Promise<void>,
  { holdResults = false } = {},
) {
  // Retries after 1 s, 5 s, 15 s and 20 s: a job's fifth and last attempt comes 41 s after its first
  // failure, so after a 30 s outage whenever it started (with room for a loaded machine's slow restart
  // of the server), and the run ends up to 20 s after the outage (the catalog's own 30 s tier would
  // double that wait).
  const f = await FaultFleet.start({
    ...opts,
    env: { LOG_LEVEL: 'warn', BROKER_DELAY_TIERS_MS: '1000,5000,15000,20000', ...opts.env },
  });
  try {
    const samples = path.join(f.dir, 'samples.jsonl');
    await writeSamplesFile(samples, jobs);
    await f.ensure('producer', 'evaluator', 'aggregator');
    await f.submitSamples('baseline', samples);
    await f.waitCompleted('baseline');
    const held = holdResults ? f.running('aggregator') : [];
    for (const p of held) p.child.kill('SIGSTOP');
    const release = () => held.forEach((p) => p.child.kill('SIGCONT'));
    try {
      await f.submitSamples('faulty', samples);
      if (holdResults) await waitFor('every job evaluated', async () => (await evaluated(f, 'faulty')) >= jobs, 60_000);
      else await waitFor('some results counted', async () => (await f.done('faulty')) >= 2, 60_000, 10);
      await fault(f, release);
    } finally {
      release();
    }
    await f.waitCompleted('faulty', 150_000);
    const report = await f.ledger('faulty', 'baseline');
    expect(report.ok, `${report.diff}\n${report.ok ? '' : await f.logTail()}`).toBe(true);
    await evidence?.(f);
  } finally {
    await f.stop();
  }
}

/** Jobs of `runId` the evaluate stage has finished (its progress counts, flushed every 250 ms). */
async function evaluated(f: FaultFleet, runId: string): Promise<number> {
  const stages = await f.redis.hgetall(`run:${runId}:stages`);
  return Object.entries(stages)
    .filter(([field]) => field.startsWith('evaluate:'))
    .reduce((sum, [, n]) => sum + Number(n), 0);
}

describe.concurrent('outages', () => {
  it(
    'Redis restarted empty mid-run: counters rebuilt from the store, nothing counted twice',
    { timeout: 180_000 },
    async () => {
      const redis = await startOwnRedis();
      try {
        // The results are held until Redis is back empty, so the restart meets every one of them still to be
        // counted however fast this machine evaluates (without the hold, a fast run could complete before
        // the wipe, which then only erases a finished run's counters). A rebuild that finds some results
        // already stored is covered by handle-result.test.ts.
        await scenario(
          { label: 'redis-empty', redisUrl: redis.url },
          async (f, release) => {
            await f.redis.set('fault-marker', '1');
            await redis.stop('SIGKILL');
            await redis.wipe();
            await redis.start();
            // Empty indeed (the services rebuild the run's keys at once: look at a key only this test writes).
            await waitFor('reconnected', async () => (await f.redis.ping().catch(() => '')) === 'PONG', 20_000, 50);
            expect(await f.redis.exists('fault-marker')).toBe(0);
            release();
          },
          undefined,
          { holdResults: true },
        );
      } finally {
        await redis.dispose();
      }
    },
  );

  it('Redis unreachable for 30 s mid-run', { timeout: 240_000 }, async () => {
    const redis = await startOwnRedis();
    try {
      await scenario(
        { label: 'redis-down', redisUrl: redis.url },
        () => outage(redis),
        async (f) => expect(await f.logText()).toMatch(/redis|ECONNREFUSED/i),
      );
    } finally {
      await redis.dispose();
    }
  });

  it('the store unreachable for 30 s mid-run', { timeout: 240_000 }, async () => {
    const s3 = await startOwnS3rver();
    try {
      await scenario(
        {
          label: 's3-down',
          store: { kind: 's3', endpoint: s3.endpoint, bucket: `faults-${randomBytes(4).toString('hex')}` },
        },
        (_f, release) => outage(s3, release),
        async (f) => expect(await f.logText()).toContain('storage_unavailable'),
        { holdResults: true },
      );
    } finally {
      await s3.dispose();
    }
  });
});

// Artifact store faults. S3: an s3rver of this file's own (a child process, stopped by its pid) behind
// a slow proxy: slow for a whole run, and the aggregator SIGKILLed or drained while it writes the
// reports (the slow store makes that phase last). Filesystem: the store's disk full mid-run, on a small
// tmpfs this file mounts and unmounts. The store unreachable for 30 s is in outages.test.ts.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runKeys } from '../../shared/src/runs/index.js';
import { queuedJobs, waitFor } from '../support/rabbit.js';
import { FaultFleet, writeSamplesFile } from './support/fleet.js';
import { startSlowProxy, type SlowProxy } from './support/proxy.js';
import { startOwnS3rver, type OwnServer } from './support/servers.js';

const run = promisify(execFile);
const jobs = 12;
let s3: (OwnServer & { endpoint: string }) | undefined;
let proxy: SlowProxy | undefined;
let fleet: FaultFleet | undefined;
let samples = '';

beforeAll(async () => {
  s3 = await startOwnS3rver();
  proxy = await startSlowProxy(s3.port);
  fleet = await FaultFleet.start({
    label: 'store',
    store: { kind: 's3', endpoint: proxy.url, direct: s3.endpoint, bucket: `faults-${randomBytes(4).toString('hex')}` },
    env: { LOG_LEVEL: 'warn' },
  });
  samples = path.join(fleet.dir, 'samples.jsonl');
  await writeSamplesFile(samples, jobs);
  await fleet.ensure('producer', 'evaluator', 'aggregator');
  await fleet.submitSamples('baseline', samples);
  await fleet.waitCompleted('baseline');
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await proxy?.close();
  await s3?.dispose();
}, 120_000);

beforeEach(async () => {
  proxy!.setDelay(0);
  if (s3!.pid() === undefined) await s3!.start();
  await fleet!.ensure('producer', 'evaluator', 'aggregator');
}, 120_000);

async function expectWhole(f: FaultFleet, runId: string) {
  const report = await f.ledger(runId, 'baseline', { baselineStore: fleet!.store });
  expect(report.ok, `${report.diff}\n${report.ok ? '' : await f.logTail()}`).toBe(true);
}

/** Poll until every job of `runId` is counted but its reports are not written yet: finalize is running. */
async function midReport(runId: string) {
  const f = fleet!;
  await waitFor(
    'the reports being written',
    async () => (await f.done(runId)) >= jobs && !(await f.store.exists(runKeys.completed(runId))),
    90_000,
    10,
  );
}

describe('store faults', () => {
  it('the fault-free run is whole (the reference)', async () => {
    await expectWhole(fleet!, 'baseline');
  });

  it('a slow store (every chunk 50 ms late) for a whole run', { timeout: 180_000 }, async () => {
    const f = fleet!;
    proxy!.setDelay(50);
    await f.submitSamples('s3-slow', samples);
    await f.waitCompleted('s3-slow', 150_000);
    await expectWhole(f, 's3-slow');
  });

  it('the aggregator SIGKILLed mid-report, a replacement writes the reports', { timeout: 180_000 }, async () => {
    const f = fleet!;
    await f.submitSamples('report-kill', samples);
    await waitFor('most results', async () => (await f.done('report-kill')) >= jobs - 2, 90_000, 10);
    // Slow from here on, so that writing the reports takes seconds.
    proxy!.setDelay(80);
    await midReport('report-kill');
    const [aggregator] = f.running('aggregator');
    await f.signal(aggregator!, 'SIGKILL');
    expect(await f.store.exists(runKeys.completed('report-kill'))).toBe(false);
    await f.startService('aggregator');
    await f.waitCompleted('report-kill', 150_000);
    await expectWhole(f, 'report-kill');
  });

  it(
    'the aggregator drained by SIGTERM mid-report: it finishes the reports, exits 143',
    { timeout: 180_000 },
    async () => {
      const f = fleet!;
      await f.submitSamples('report-term', samples);
      await waitFor('most results', async () => (await f.done('report-term')) >= jobs - 2, 90_000, 10);
      proxy!.setDelay(80);
      await midReport('report-term');
      const [aggregator] = f.running('aggregator');
      const [code] = await f.signal(aggregator!, 'SIGTERM');
      expect(code).toBe(143);
      expect(await f.store.exists(runKeys.completed('report-term'))).toBe(true);
      await expectWhole(f, 'report-term');
    },
  );

  it('the filesystem store’s disk full mid-run (a small tmpfs), then space freed', { timeout: 180_000 }, async () => {
    const mount = await mkdtemp(path.join(tmpdir(), 'evalfleet-faults-tmpfs-'));
    let mounted = false;
    let disk: FaultFleet | undefined;
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
      mounted = true;
      await mkdir(path.join(mount, 'artifacts'));
      disk = await FaultFleet.start({
        label: 'diskfull',
        store: { kind: 'fs', dir: path.join(mount, 'artifacts') },
        env: { LOG_LEVEL: 'warn' },
      });
      // The run's results wait for an aggregator, so the disk fills while every one of them is still to be
      // written, however fast this machine evaluates (a fill timed against running writes raced them).
      await disk.ensure('producer', 'evaluator');
      await disk.submitSamples('disk-full', samples);
      const results = `${disk.ns}.aggregate`; // the jobs' results and the producer's run.finalize
      await waitFor(
        'every result queued for the aggregator',
        async () => (await queuedJobs(results)) >= jobs + 1,
        90_000,
      );
      await fillDisk(path.join(mount, 'filler'), mount);
      await disk.ensure('aggregator');
      await waitFor(
        'a write refused for want of space',
        async () => (await disk!.logText()).includes('ENOSPC'),
        60_000,
      );
      expect(await disk.done('disk-full')).toBeLessThan(jobs);
      await rm(path.join(mount, 'filler'), { recursive: true });
      await disk.waitCompleted('disk-full', 150_000);
      await expectWhole(disk, 'disk-full');
    } finally {
      await disk?.stop();
      if (mounted) await run('umount', [mount]).catch(() => run('umount', ['-l', mount]));
      await rm(mount, { recursive: true, force: true });
    }
  });
});

/** Fill the filesystem at `mount` (files under the folder `dir`) until it has no byte left. */
async function fillDisk(dir: string, mount: string): Promise<void> {
  await mkdir(dir);
  for (let i = 0; ; i++) {
    const { bavail, bsize } = await statfs(mount);
    if (bavail === 0) return;
    expect(i, 'the disk would not stay full').toBeLessThan(10);
    await writeFile(path.join(dir, String(i)), Buffer.alloc(bavail * bsize)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOSPC') throw err;
    });
  }
}

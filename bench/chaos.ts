/**
 * Chaos: a ~2,000-job samples run (HumanEval-format bundled problems, replicated; no model called; the
 * Docker sandbox) while a random fault from the fault-test list hits the fleet every few seconds, until
 * the run completes. Then the ledger (test/faults/support/ledger.ts) compares it with a fault-free run of
 * the same inputs on the same fleet: lost jobs, jobs counted twice, verdicts that differ.
 *
 *   npm run chaos -- [--jobs 2000] [--every-ms 4000] [--outage-ms 8000] [--seed 1] [--stall-s 300] [--exclude TYPES] [--json]
 *
 * Every server a fault stops is this benchmark's own: a RabbitMQ node, a redis-server, an s3rver (behind a
 * proxy that can slow it) and a Docker engine (the sandbox image is copied into it), each on its own port
 * or socket, stopped by pid; the machine's shared ones are never touched. Services are child processes
 * (producer, two evaluators, aggregator). Faults run one at a time (an outage ends before the next fault),
 * `--every-ms` apart on average. Outages last `--outage-ms` (the catalog's delay tiers, 1 s, 5 s, 30 s,
 * let a job outlive about 35 s of them). Progress goes to stderr; the last stdout line is JSON:
 * { jobs, lost, duplicated, mismatched_verdicts, faults_injected: { type: n }, completed, duration_s,
 *   fault_free_duration_s, ... }.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connect } from 'amqplib';
import { topologyNames } from '../shared/src/broker/index.js';
import { makeEnvelope } from '../shared/src/messages/index.js';
import { loadResults, runKeys } from '../shared/src/runs/index.js';
import { cli } from '../test/support/cli.js';
import { FaultFleet, writeSamplesFile, type ServiceName } from '../test/faults/support/fleet.js';
import { startSlowProxy } from '../test/faults/support/proxy.js';
import { startOwnDockerd, startOwnRabbit, startOwnRedis, startOwnS3rver } from '../test/faults/support/servers.js';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    'every-ms': { type: 'string', default: '4000' },
    'outage-ms': { type: 'string', default: '8000' },
    seed: { type: 'string', default: '1' },
    /** Fault types to leave out, comma-separated (e.g. work_queue_deleted, whose resume would mask a loss). */
    exclude: { type: 'string', default: '' },
    /** Give up on the chaos run after this long without a job done (a stalled run is a finding). */
    'stall-s': { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
  },
});
const jobs = Number(args.jobs);
const everyMs = Number(args['every-ms']);
const outageMs = Number(args['outage-ms']);

// A small seeded generator (mulberry32), so a chaos run can be repeated fault for fault.
let seed = Number(args.seed) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[chaos] ${msg}\n`);

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b'], { stdio: 'inherit' });
const image =
  process.env.EVALFLEET_SANDBOX_IMAGE ??
  execFileSync('scripts/sandbox-image', { encoding: 'utf8' }).trim().split('\n').pop()!;

const load1 = () => Math.round((loadavg()[0] ?? 0) * 10) / 10;
const load = { start: load1() };
log(`starting own RabbitMQ, Redis, s3rver and Docker engine (load ${load.start})`);
const [rabbit, redis, s3, dockerd] = await Promise.all([
  startOwnRabbit('chaos'),
  startOwnRedis(),
  startOwnS3rver(),
  startOwnDockerd(),
]);
const proxy = await startSlowProxy(s3.port);
let fleet: FaultFleet | undefined;
let exitCode = 0;
try {
  log(`loading ${image} into the own engine`);
  await dockerd.loadImage(image);
  fleet = await FaultFleet.start({
    label: 'chaos',
    rabbitUrl: rabbit.url,
    redisUrl: redis.url,
    store: { kind: 's3', endpoint: proxy.url, direct: s3.endpoint, bucket: `chaos-${randomBytes(4).toString('hex')}` },
    env: {
      SANDBOX: 'docker',
      EVALFLEET_SANDBOX_IMAGE: image,
      DOCKER_SOCKET: dockerd.socket,
      LOG_LEVEL: 'warn',
    },
  });
  const f = fleet;
  const services: ServiceName[] = ['producer', 'evaluator', 'evaluator', 'aggregator'];
  for (const name of services) await f.startService(name);
  const samples = path.join(f.dir, 'samples.jsonl');
  await writeSamplesFile(samples, jobs);

  log(`fault-free run of ${jobs} jobs`);
  let started = performance.now();
  await f.submitSamples('fault-free', samples);
  await f.waitCompleted('fault-free', 3_600_000);
  const faultFreeS = (performance.now() - started) / 1000;
  log(`fault-free run took ${faultFreeS.toFixed(1)} s`);

  /** Keep the fleet whole: one producer, two evaluators, one aggregator. */
  const topUp = async () => {
    for (const name of ['producer', 'aggregator', 'evaluator'] as const) {
      const want = name === 'evaluator' ? 2 : 1;
      while (f.running(name).length < want) await f.startService(name);
    }
  };
  const names = topologyNames(f.ns);
  const withChannel = async (fn: (ch: import('amqplib').ConfirmChannel) => Promise<void>) => {
    const conn = await connect(rabbit.url);
    conn.on('error', () => undefined);
    try {
      const ch = await conn.createConfirmChannel();
      await fn(ch);
      await ch.waitForConfirms();
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
  const kill = (signal: NodeJS.Signals, name: ServiceName) => async () => {
    const victim = pick(f.running(name));
    await f.signal(victim, signal);
    await topUp();
  };
  const faults: Record<string, () => Promise<void>> = {
    sigkill_producer: kill('SIGKILL', 'producer'),
    sigkill_evaluator: kill('SIGKILL', 'evaluator'),
    sigkill_aggregator: kill('SIGKILL', 'aggregator'),
    sigterm_producer: kill('SIGTERM', 'producer'),
    sigterm_evaluator: kill('SIGTERM', 'evaluator'),
    sigterm_aggregator: kill('SIGTERM', 'aggregator'),
    broker_connections_closed: async () => {
      await rabbit.rabbitmqctl('close_all_connections', 'chaos');
    },
    broker_restart: async () => {
      await rabbit.stop('SIGTERM');
      await rabbit.start();
    },
    redis_restart_empty: async () => {
      await redis.stop('SIGKILL');
      await redis.wipe();
      await redis.start();
    },
    redis_unreachable: async () => {
      await redis.stop('SIGTERM');
      await sleep(outageMs); // the outage itself
      await redis.start();
    },
    store_unreachable: async () => {
      await s3.stop('SIGTERM');
      await sleep(outageMs); // the outage itself
      await s3.start();
    },
    store_slow: async () => {
      proxy.setDelay(100);
      await sleep(outageMs); // the slow spell itself
      proxy.setDelay(0);
    },
    duplicate_delivery: async () => {
      // Up to 10 queued job messages delivered twice, and copies of 10 recorded results.
      await withChannel(async (ch) => {
        for (let i = 0; i < 10; i++) {
          const msg = await ch.get(names.queue('evaluate'), { noAck: false });
          if (!msg) break;
          for (let copy = 0; copy < 2; copy++)
            ch.publish(names.exchanges.work, 'stage.evaluate', msg.content, msg.properties);
          await ch.waitForConfirms();
          ch.ack(msg);
        }
        const results = (await loadResults('chaos', f.store)).slice(-10);
        for (const r of results) {
          const env = makeEnvelope({
            type: 'job.result',
            runId: r.runId,
            jobId: r.jobId,
            kind: r.kind,
            stage: 'aggregate',
            payload: { kind: r.kind, outcome: r.outcome, result: r.result, artifacts: r.artifacts },
          });
          ch.publish(names.exchanges.work, 'stage.aggregate', Buffer.from(JSON.stringify(env)), { persistent: true });
        }
      });
    },
    poison_message: async () => {
      await withChannel((ch) => {
        ch.publish(names.exchanges.work, 'stage.evaluate', Buffer.from('\u0000 chaos poison'), { persistent: true });
        return Promise.resolve();
      });
    },
    dlq_requeue: async () => {
      for (const stage of ['evaluate', 'aggregate']) await cli(f.cliEnv, 'dlq', 'requeue', stage, '--json');
    },
    work_queue_deleted: async () => {
      await rabbit.rabbitmqctl('delete_queue', names.queue('evaluate'));
      // What the queue held is gone from the broker, not from the store: the operator's resume.
      const r = await cli(f.cliEnv, 'resume', 'chaos');
      if (r.code !== 0) throw new Error(`resume failed: ${r.err}`);
    },
    sandbox_container_killed: async () => {
      const evaluator = pick(f.running('evaluator'));
      const ids = (await dockerd.docker('ps', '-q', '--filter', `label=org.evalfleet.sandbox.owner`))
        .split('\n')
        .filter(Boolean);
      const own = [];
      for (const id of ids) {
        const owner = (
          await dockerd.docker('inspect', '-f', '{{index .Config.Labels "org.evalfleet.sandbox.owner"}}', id)
        ).trim();
        if (owner.endsWith(`:${evaluator.pid}`)) own.push(id);
      }
      if (own.length > 0) await dockerd.docker('kill', pick(own));
    },
    docker_restart: async () => {
      await dockerd.stop('SIGTERM');
      await dockerd.start();
    },
  };

  const excluded = new Set(args.exclude.split(',').filter(Boolean));
  for (const type of excluded) if (!(type in faults)) throw new Error(`unknown fault type ${type}`);
  const types = Object.keys(faults).filter((t) => !excluded.has(t));
  log(`chaos run of ${jobs} jobs, a fault every ~${everyMs} ms`);
  const injected: Record<string, number> = {};
  started = performance.now();
  await f.submitSamples('chaos', samples);
  const completed = () => f.store.exists(runKeys.completed('chaos')).catch(() => false);
  const deadline = Date.now() + 60 * 60_000;
  const stallMs = Number(args['stall-s']) * 1000;
  let lastDone = -1;
  let lastProgressAt = Date.now();
  let stalled = false;
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: no more faults; the ledger follows');
  });
  while (!(await completed()) && Date.now() < deadline && !interrupted) {
    if (Date.now() - lastProgressAt > stallMs) {
      stalled = true;
      log(`no job done for ${args['stall-s']} s: the run has stalled; the ledger follows`);
      break;
    }
    await sleep(everyMs / 2 + random() * everyMs);
    if (await completed()) break;
    const type = pick(types);
    const done = await f.done('chaos').catch(() => -1);
    log(`${((performance.now() - started) / 1000).toFixed(0)} s, ${done}/${jobs} done: ${type}`);
    if (done === lastDone) {
      // No progress since the last fault: say where the run's messages are (ready, unacked).
      const queues = await rabbit
        .rabbitmqctl('list_queues', '-q', 'name', 'messages_ready', 'messages_unacknowledged')
        .catch((err: unknown) => String(err));
      log(
        `  stalled; queues: ${queues
          .split('\n')
          .filter((l) => /\t[1-9]/.test(l))
          .join(' | ')}`,
      );
    }
    if (done !== lastDone) lastProgressAt = Date.now();
    lastDone = done;
    try {
      await faults[type]!();
      injected[type] = (injected[type] ?? 0) + 1;
    } catch (err) {
      log(`  fault ${type} failed to inject: ${(err as Error).message.slice(0, 300)}`);
      await topUp().catch(() => undefined);
    }
  }
  const isDone = await completed();
  if (!isDone && !stalled && !interrupted) await f.waitCompleted('chaos', 30 * 60_000).catch(() => undefined);
  const durationS = (performance.now() - started) / 1000;
  const report = await f.ledger('chaos', 'fault-free', {
    settleMs: 120_000,
    explainDeadLetter: (l) =>
      l.jobId === undefined && l.code === 'invalid_json' ? 'a poison message the chaos published' : undefined,
  });
  log(report.diff.split('\n').slice(0, 40).join('\n'));
  const summary = {
    jobs,
    lost: report.lost.length,
    duplicated: report.duplicated.length,
    mismatched_verdicts: report.mismatched.length,
    faults_injected: injected,
    completed: await completed(),
    stalled,
    duration_s: Math.round(durationS * 10) / 10,
    fault_free_duration_s: Math.round(faultFreeS * 10) / 10,
    ledger_ok: report.ok,
    other_problems: report.problems.length,
    load_average: { start: load.start, end: load1() },
    seed: Number(args.seed),
  };
  if (!report.ok || stalled) exitCode = 1;
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  await fleet?.stop().catch(() => undefined);
  await proxy.close();
  await Promise.allSettled([rabbit.dispose(), redis.dispose(), s3.dispose(), dockerd.dispose()]);
}
process.exit(exitCode);

// A fleet of real service PROCESSES for fault tests (a fault is a signal to a process, so services run
// as children, not in-process): own namespace, Redis prefix and store; the broker, Redis and store
// may be the test's own servers. Every child's log goes to one file, printed when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { createRedis } from '../../../shared/src/redis/index.js';
import { runKeys } from '../../../shared/src/runs/index.js';
import { createArtifactStore, type ArtifactStore } from '../../../shared/src/storage/index.js';
import { startFakeProvider, type FakeProvider } from '../../../services/fake-provider/src/index.js';
import { cli } from '../../support/cli.js';
import { deleteRedisPrefix, redisUrl as sharedRedisUrl } from '../../support/fleet.js';
import { rabbitUrl as sharedRabbitUrl, uniqueNamespace, waitFor } from '../../support/rabbit.js';
import { testRegistryYaml } from '../../support/solve-fleet.js';
import { delayTiersMs } from '../../../shared/src/messages/index.js';
import { deleteNamespace } from '../../support/rabbit.js';
import { checkLedger, type LedgerOptions, type LedgerReport } from './ledger.js';
import { freePort, stopChild } from './servers.js';

export type ServiceName = 'producer' | 'generator' | 'evaluator' | 'aggregator';

export type ServiceProcess = {
  name: ServiceName;
  child: ChildProcess;
  pid: number;
  opsUrl: string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
};

export type StoreChoice =
  | { kind: 'fs'; dir?: string }
  /** `endpoint` is what the services use (maybe a proxy); the test reads and checks through `direct`. */
  | { kind: 's3'; endpoint: string; direct?: string; bucket: string };

export type FaultFleetOptions = {
  label: string;
  rabbitUrl?: string;
  redisUrl?: string;
  store?: StoreChoice;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Start the fake provider (a models run) with these extra test models (name → fake id). */
  provider?: { models?: Record<string, string> };
  dataset?: string;
};

export const sandboxImage = process.env.EVALFLEET_SANDBOX_IMAGE;
export const humanEvalMini = 'datasets/humaneval-mini.jsonl';

type Problem = { task_id: string; prompt: string; canonical_solution: string; entry_point: string };

/**
 * A samples file of `count` lines over the bundled HumanEval-format problems, cycling through a
 * right answer (passed), a wrong one (failed) and one that does not parse (error), so a report has
 * every common verdict and a swapped verdict shows.
 */
export async function writeSamplesFile(
  file: string,
  count: number,
  opts: { dataset?: string; sleepSeconds?: number } = {},
): Promise<void> {
  const dataset = opts.dataset ?? humanEvalMini;
  // A right answer that first sleeps keeps a sandbox busy long enough for a fault to land mid-job.
  const pause = opts.sleepSeconds ? `    __import__('time').sleep(${opts.sleepSeconds})\n` : '';
  const problems = (await readFile(dataset, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Problem);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = problems[i % problems.length]!;
    const variant = Math.floor(i / problems.length) % 3;
    const completion =
      variant === 0 ? pause + p.canonical_solution : variant === 1 ? '    return None\n' : '    return (\n';
    lines.push(JSON.stringify({ task_id: p.task_id, completion }));
  }
  await writeFile(file, lines.join('\n') + '\n');
}

export class FaultFleet {
  readonly ns: string;
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly store: ArtifactStore;
  /** A client on the fleet's Redis with the fleet's key prefix (what the ledger reads). */
  readonly redis: Redis;
  readonly provider: FakeProvider | undefined;
  private readonly procs: ServiceProcess[] = [];
  private readonly log: WriteStream;
  private readonly logFile: string;

  private constructor(opts: {
    ns: string;
    dir: string;
    env: Record<string, string>;
    store: ArtifactStore;
    redis: Redis;
    provider: FakeProvider | undefined;
  }) {
    this.ns = opts.ns;
    this.dir = opts.dir;
    this.env = opts.env;
    this.store = opts.store;
    this.redis = opts.redis;
    this.provider = opts.provider;
    this.logFile = path.join(opts.dir, 'services.log');
    this.log = createWriteStream(this.logFile, { flags: 'a' });
  }

  static async start(opts: FaultFleetOptions): Promise<FaultFleet> {
    const ns = uniqueNamespace(`f-${opts.label}`);
    const dir = await mkdtemp(path.join(tmpdir(), `evalfleet-faults-${opts.label}-`));
    const storeChoice = opts.store ?? { kind: 'fs' };
    const storeEnv: Record<string, string> =
      storeChoice.kind === 'fs'
        ? { ARTIFACT_DIR: storeChoice.dir ?? path.join(dir, 'artifacts') }
        : {
            S3_ENDPOINT: storeChoice.endpoint,
            S3_BUCKET: storeChoice.bucket,
            S3_ACCESS_KEY_ID: 'S3RVER',
            S3_SECRET_ACCESS_KEY: 'S3RVER',
            S3_FORCE_PATH_STYLE: 'true',
          };
    let provider: FakeProvider | undefined;
    const providerEnv: Record<string, string> = {};
    if (opts.provider) {
      const datasetText = await readFile(opts.dataset ?? 'datasets/solve-example.jsonl', 'utf8');
      provider = await startFakeProvider({ port: 0, host: '127.0.0.1', datasetText, retryAfterMs: 200 });
      const registryFile = path.join(dir, 'models.test.yaml');
      await writeFile(registryFile, testRegistryYaml(provider.url, opts.provider.models));
      providerEnv.EVALFLEET_MODELS = registryFile;
    }
    const redisUrl = opts.redisUrl ?? sharedRedisUrl;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      RABBITMQ_URL: opts.rabbitUrl ?? sharedRabbitUrl,
      REDIS_URL: redisUrl,
      EVALFLEET_NAMESPACE: ns,
      METRICS_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      SHUTDOWN_TIMEOUT_MS: '30000',
      QUEUE_DEPTH_INTERVAL_MS: '0',
      SANDBOX: sandboxImage ? 'docker' : 'process',
      ...(sandboxImage ? { EVALFLEET_SANDBOX_IMAGE: sandboxImage } : {}),
      EVALUATOR_CONCURRENCY: '2',
      ...storeEnv,
      ...providerEnv,
      ...opts.env,
    };
    const store = createArtifactStore(
      storeChoice.kind === 'fs'
        ? { kind: 'fs', root: env.ARTIFACT_DIR! }
        : {
            kind: 's3',
            endpoint: storeChoice.direct ?? storeChoice.endpoint,
            bucket: storeChoice.bucket,
            region: 'us-east-1',
            accessKeyId: 'S3RVER',
            secretAccessKey: 'S3RVER',
            forcePathStyle: true,
          },
    );
    await store.ensureReady();
    const redis = createRedis({ url: redisUrl, keyPrefix: `${ns}:`, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined); // our own Redis may be down on purpose
    return new FaultFleet({ ns, dir, env, store, redis, provider });
  }

  /** Start one more instance of `name` as a child process and wait until it is ready (/readyz). */
  async startService(name: ServiceName, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [path.resolve(`services/${name}/dist/bin.js`)], {
      env: { ...this.env, ...extraEnv, METRICS_PORT: String(port), EVALFLEET_INSTANCE: `${name}-${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const proc: ServiceProcess = { name, child, pid: child.pid!, opsUrl: `http://127.0.0.1:${port}`, exited };
    this.procs.push(proc);
    let gone = false;
    void exited.then(() => (gone = true));
    await waitFor(
      `${name} ready`,
      async () => {
        if (gone) throw new Error(`${name} exited during start-up:\n${await this.logTail()}`);
        return fetch(`${proc.opsUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      60_000,
      100,
    );
    return proc;
  }

  running(name?: ServiceName): ServiceProcess[] {
    return this.procs.filter(
      (p) => (name === undefined || p.name === name) && p.child.exitCode === null && p.child.signalCode === null,
    );
  }

  /** Start `name` unless an instance runs (a scenario that failed half-way may have left it stopped). */
  async ensure(...names: ServiceName[]): Promise<void> {
    // In parallel: a service's start-up is mostly waiting (broker, Docker), and tests pay for each.
    await Promise.all(names.filter((n) => this.running(n).length === 0).map((n) => this.startService(n)));
  }

  /** Stop every running instance of `name` with `signal`. */
  async stopAll(name: ServiceName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.running(name).map((p) => this.signal(p, signal)));
  }

  /** Send a signal to one of our service processes and wait until it has exited. */
  async signal(proc: ServiceProcess, signal: NodeJS.Signals): Promise<[number | null, NodeJS.Signals | null]> {
    proc.child.kill(signal);
    return proc.exited;
  }

  /** Submit a samples run (no model called) and return at once. */
  async submitSamples(runId: string, samplesFile: string, extra: string[] = []): Promise<void> {
    const r = await cli(
      this.cliEnv,
      'submit',
      'solve',
      '--dataset',
      humanEvalMini,
      '--samples',
      samplesFile,
      '--timeout-ms',
      '10000',
      '--run-id',
      runId,
      '--json',
      ...extra,
    );
    if (r.code !== 0) throw new Error(`submit failed: ${r.err}`);
  }

  /** Submit a models run against the fake provider (no response cache, so every job calls it). */
  async submitModels(runId: string, models: string[], extra: string[] = []): Promise<void> {
    const r = await cli(
      this.cliEnv,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      models.join(','),
      '--timeout-ms',
      '10000',
      '--no-cache',
      '--run-id',
      runId,
      '--json',
      ...extra,
    );
    if (r.code !== 0) throw new Error(`submit failed: ${r.err}`);
  }

  async waitCompleted(runId: string, timeoutMs = 120_000): Promise<void> {
    try {
      await waitFor(
        `run ${runId} completed`,
        () => this.store.exists(runKeys.completed(runId)).catch(() => false),
        timeoutMs,
        100,
      );
    } catch (err) {
      const progress = await this.redis.hgetall(`run:${runId}:stages`).catch(() => ({}));
      throw new Error(`${(err as Error).message}; stages ${JSON.stringify(progress)}\n${await this.logTail()}`, {
        cause: err,
      });
    }
  }

  /** The CLI runs in the test's process: its logs would go to the test's output, so only warnings. */
  get cliEnv(): Record<string, string> {
    return { ...this.env, LOG_LEVEL: 'warn' };
  }

  /** The namespace's delay tiers (BROKER_DELAY_TIERS_MS, else the catalog's). */
  get delayTiers(): number[] {
    const tiers = this.env.BROKER_DELAY_TIERS_MS;
    return tiers ? tiers.split(',').map(Number) : [...delayTiersMs];
  }

  /** The ledger of `runId` against `baselineRunId` on this fleet's store, Redis and namespace. */
  ledger(runId: string, baselineRunId: string, extra: Partial<LedgerOptions> = {}): Promise<LedgerReport> {
    return checkLedger({
      store: this.store,
      redis: this.redis,
      rabbitUrl: this.env.RABBITMQ_URL!,
      ns: this.ns,
      runId,
      baselineRunId,
      delayTiersMs: this.delayTiers,
      ...extra,
    });
  }

  /** Jobs of `runId` with a counted result (Redis). */
  async done(runId: string): Promise<number> {
    return this.redis.scard(`run:${runId}:done`);
  }

  /** Everything the services logged so far (evidence that a fault really hit them). */
  async logText(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  async logTail(lines = 60): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }

  /** Stop every service (SIGTERM, then SIGKILL), the provider, and remove the fleet's data. */
  async stop(opts: { keepData?: boolean } = {}): Promise<void> {
    await Promise.all(this.procs.map((p) => stopChild(p.child, 'SIGTERM', 20_000)));
    await this.provider?.close();
    this.redis.disconnect();
    this.log.end();
    if (!opts.keepData) {
      // On the machine's shared broker the namespace's queues must go; a test's own broker is disposed whole.
      if (this.env.RABBITMQ_URL === sharedRabbitUrl)
        await deleteNamespace(this.ns, this.delayTiers).catch(() => undefined);
      await deleteRedisPrefix(`${this.ns}:`).catch(() => undefined);
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

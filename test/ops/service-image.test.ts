// The service image under load: three evaluator containers (deploy/service/Dockerfile, built by
// scripts/service-image) consume the evaluate queue of the local broker, each with the Docker sandbox
// through the engine's socket; 300 jobs run, one container is stopped (SIGTERM, graceful drain) mid-run,
// and every job is still counted exactly once. Producer and aggregator run in this process; artifacts go
// to an S3 server on loopback (s3rver) that the containers, on the host's network, reach too.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAggregator } from '../../services/aggregator/src/main.js';
import { dockerForTests } from '../../services/evaluator/src/sandbox/docker-available.test-support.js';
import { ensureSandboxImage } from '../../services/evaluator/src/sandbox/sandbox-image.js';
import { startProducer } from '../../services/producer/src/main.js';
import { createRedis } from '../../shared/src/redis/index.js';
import { RunCounters } from '../../shared/src/runs/index.js';
import { artifactStoreConfigFromEnv, createArtifactStore, type ArtifactStore } from '../../shared/src/storage/index.js';
import { cli } from '../support/cli.js';
import { testFleetEnv, type TestFleetEnv } from '../support/fleet.js';
import { waitFor } from '../support/rabbit.js';
import { startS3rver, type S3TestEndpoint } from '../support/s3rver.js';

// The Ryuk reaper's image cannot be pulled here; the test removes its own containers. The containers use
// the host's network, so the host is loopback (testcontainers would otherwise look for a bridge network,
// which an engine started with --bridge=none does not have).
process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';

const { docker, dockerUp } = await dockerForTests('service image tests');
const total = 300;
const runId = 'image-run';
const dockerSocket = '/var/run/docker.sock';

/** Build (or find) the service image; scripts/service-image prints progress on stderr and the tag last. */
function serviceImage(service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('scripts/service-image', [service], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      for (const line of c.split('\n')) if (line.startsWith('service-image:')) console.log(line);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const tag = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && tag) resolve(tag);
      else reject(new Error(`scripts/service-image ${service} exited ${String(code)}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The evaluate jobs a container's /metrics says it handled. */
async function evaluatedBy(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('evalfleet_jobs_total{') && l.includes('stage="evaluate"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

type Problem = { task_id: string; canonical_solution: string };

describe.skipIf(!dockerUp)('service image: three evaluator containers', () => {
  let s3: S3TestEndpoint | undefined;
  let fleetEnv: TestFleetEnv | undefined;
  let store: ArtifactStore | undefined;
  const stops: (() => Promise<void>)[] = [];
  const containers: StartedTestContainer[] = [];
  let image = '';
  let sandboxImage = '';

  beforeAll(async () => {
    image = await serviceImage('evaluator');
    sandboxImage =
      process.env.EVALFLEET_SANDBOX_IMAGE ?? (await ensureSandboxImage({ onProgress: (l) => console.log(l) }));
    s3 = await startS3rver();
    fleetEnv = await testFleetEnv('svcimg', {
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    });
    fleetEnv.env['S3_BUCKET'] = `evalfleet-${fleetEnv.ns.toLowerCase()}`.slice(0, 63);
    store = createArtifactStore(artifactStoreConfigFromEnv(fleetEnv.env));
    await store.ensureReady();
    for (const start of [startProducer, startAggregator]) {
      const s = await start({ env: { ...fleetEnv.env }, installSignals: false, cwd: fleetEnv.artifactDir });
      stops.push(() => s.shutdown());
    }
  }, 20 * 60_000);

  afterAll(async () => {
    for (const c of containers.splice(0)) await c.stop({ timeout: 30_000 }).catch(() => undefined);
    for (const stop of stops.splice(0).reverse()) await stop();
    await store?.close();
    await fleetEnv?.cleanup();
    await s3?.stop();
  }, 120_000);

  it('300 jobs, one container stopped mid-run, each job counted once', { timeout: 300_000 }, async () => {
    const env = fleetEnv!.env;
    // 300 samples over the bundled HumanEval problems: canonical solutions that pass, each pausing 0.1 s at
    // import so the run lasts long enough to stop a container in the middle of it.
    const problems = (await readFile('datasets/humaneval-mini.jsonl', 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Problem);
    const samples = Array.from({ length: total }, (_, i) => {
      const p = problems[i % problems.length]!;
      return { task_id: p.task_id, completion: `${p.canonical_solution}\nimport time\ntime.sleep(0.1)\n` };
    });
    const samplesFile = path.join(fleetEnv!.artifactDir, 'samples.jsonl');
    await writeFile(samplesFile, samples.map((s) => JSON.stringify(s)).join('\n') + '\n');

    const socketGid = statSync(dockerSocket).gid;
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const logs: string[] = [];
    const started = await Promise.all(
      ports.map((port, i) =>
        new GenericContainer(image)
          .withLogConsumer((stream) =>
            stream.on('data', (line: Buffer | string) => logs.push(`[${i}] ${String(line)}`)),
          )
          .withName(`${fleetEnv!.ns}-evaluator-${i}`)
          .withHostname(`${fleetEnv!.ns}-evaluator-${i}`)
          // The broker, Redis and S3 listen on loopback: the containers share the host's network.
          .withNetworkMode('host')
          .withUser(`1000:${socketGid}`)
          .withBindMounts([{ source: dockerSocket, target: dockerSocket }])
          .withEnvironment({
            ...env,
            METRICS_PORT: String(port),
            METRICS_HOST: '127.0.0.1',
            SANDBOX: 'docker',
            EVALFLEET_SANDBOX_IMAGE: sandboxImage,
            DOCKER_SOCKET: dockerSocket,
            EVALUATOR_CONCURRENCY: '2',
            EVALFLEET_INSTANCE: `evaluator-${i}`,
            LOG_LEVEL: 'info',
          })
          .withWaitStrategy(Wait.forLogMessage('service running'))
          .withStartupTimeout(120_000)
          .start(),
      ),
    ).catch(async (err: unknown) => {
      // A container that failed to start is not handed back; remove all three by name.
      await Promise.allSettled(
        ports.map((_, i) => docker.getContainer(`${fleetEnv!.ns}-evaluator-${i}`).remove({ force: true })),
      );
      throw new Error(`an evaluator container did not start: ${String(err)}\n${logs.slice(-40).join('')}`);
    });
    containers.push(...started);

    const { code, err } = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/humaneval-mini.jsonl',
      '--samples',
      samplesFile,
      '--run-id',
      runId,
      '--json',
    );
    expect(code, err).toBe(0);

    const redis = createRedis({ url: env['REDIS_URL']!, keyPrefix: `${fleetEnv!.ns}:` });
    try {
      const counters = new RunCounters(redis);
      await waitFor(
        'every container evaluating and 30 jobs done',
        async () =>
          (await counters.progress(runId)).done >= 30 &&
          (await Promise.all(ports.map(evaluatedBy))).every((n) => n > 0),
        120_000,
        50,
      );
      const [victim] = started as [StartedTestContainer];
      const stopped = await victim.stop({ timeout: 60_000, remove: false });
      const doneAtStop = (await counters.progress(runId)).done;
      expect(doneAtStop, 'the container was stopped before the run ended').toBeLessThan(total);
      // SIGTERM drained it: exit code 128 + 15, not a kill.
      const inspect = await docker.getContainer(stopped.getId()).inspect();
      expect(inspect.State.ExitCode).toBe(143);
      await docker.getContainer(stopped.getId()).remove();
      containers.splice(containers.indexOf(victim), 1);

      await waitFor('run completed', () => store!.getOptional(`runs/${runId}/completed.json`), 180_000, 100);
      const progress = await counters.progress(runId);
      expect(progress.done).toBe(total);
      expect(progress.outcomes['outcome:passed']).toBe(total);
      const rows = (await store!.get(`runs/${runId}/samples_results.jsonl`)).toString('utf8').trim().split('\n');
      expect(rows).toHaveLength(total);
      expect(rows.every((l) => (JSON.parse(l) as { passed: boolean }).passed)).toBe(true);
      // The two containers left finished the run.
      const after = await Promise.all(ports.slice(1).map(evaluatedBy));
      expect(after.every((n) => n > 0)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

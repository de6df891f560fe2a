// A whole solve fleet for tests, on the kind-agnostic harness in fleet.ts: the fake provider, a
// test model registry pointing at it, and producer, generator, evaluator and aggregator
// in-process (the evaluator can also be a child process). The sandbox is Docker when EVALFLEET_SANDBOX_IMAGE is set (scripts/test
// sets it), the process sandbox otherwise.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '../../services/fake-provider/src/index.js';
import { startFleet, type ServiceName, type TestFleetEnv } from './fleet.js';

export const sandboxImage = process.env.EVALFLEET_SANDBOX_IMAGE;

/** Registry of the test models: each a fixed fake behaviour (`extra`: more, name → fake model id). */
export function testRegistryYaml(providerUrl: string, extra: Record<string, string> = {}): string {
  const model = (id: string) =>
    `    provider: fake\n    model: ${id}\n    input_per_mtok: 1\n    output_per_mtok: 2\n    max_output_tokens: 1024\n`;
  return [
    'providers:',
    '  fake:',
    `    base_url: ${providerUrl}`,
    '    api_key_env: null',
    'models:',
    '  good:',
    model('fake/always-right'),
    '  mixed:',
    model('fake/right-fraction:0.6'),
    '  prose:',
    model('fake/prose'),
    '  broken:',
    model('fake/syntax-error'),
    '  malformed:',
    model('fake/malformed'),
    // Rate-limited: 8 requests and 12 000 tokens per period (the tests shorten the period).
    '  limited:',
    model('fake/always-right') + '    rpm: 8\n    tpm: 12000\n',
    ...Object.entries(extra).flatMap(([name, id]) => [`  ${name}:`, model(id)]),
  ].join('\n');
}

export type SolveFleet = {
  fleetEnv: TestFleetEnv;
  provider: FakeProvider;
  env: Record<string, string>;
  startService(name: ServiceName): Promise<string>;
  stop(): Promise<void>;
};

/** A solve fleet: the fake provider, a test model registry pointing at it, and the services asked for. */
export async function startSolveFleet(
  label: string,
  opts: {
    dataset?: string;
    services?: ServiceName[];
    extraEnv?: Record<string, string>;
    provider?: { rpm?: number; tpm?: number; windowMs?: number };
    kinds?: readonly string[];
    /** More test models, name → fake model id (e.g. `fake/always-right+flaky-500:0.4`). */
    models?: Record<string, string>;
    /** A repair dataset whose bugs carry their `fix`, for the fake provider's repair answers. */
    repairDataset?: string;
  } = {},
): Promise<SolveFleet> {
  const datasetText = await readFile(opts.dataset ?? 'datasets/solve-example.jsonl', 'utf8');
  const repairText = opts.repairDataset ? await readFile(opts.repairDataset, 'utf8') : undefined;
  const provider = await startFakeProvider({
    port: 0,
    host: '127.0.0.1',
    datasetText,
    ...(repairText ? { repairText } : {}),
    ...opts.provider,
  });
  const registryDir = await mkdtemp(path.join(tmpdir(), `evalfleet-${label}-models-`));
  const registryFile = path.join(registryDir, 'models.test.yaml');
  await writeFile(registryFile, testRegistryYaml(provider.url, opts.models));
  try {
    const fleet = await startFleet(label, {
      services: opts.services ?? ['producer', 'generator', 'evaluator', 'aggregator'],
      ...(opts.kinds ? { kinds: opts.kinds } : {}),
      env: {
        SANDBOX: sandboxImage ? 'docker' : 'process',
        ...(sandboxImage ? { EVALFLEET_SANDBOX_IMAGE: sandboxImage } : {}),
        EVALUATOR_CONCURRENCY: '2',
        EVALFLEET_MODELS: registryFile,
        ...opts.extraEnv,
      },
    });
    return {
      fleetEnv: fleet.fleetEnv,
      provider,
      env: fleet.env,
      startService: (name) => fleet.startService(name),
      async stop() {
        await fleet.stop();
        await provider.close();
        await rm(registryDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await provider.close();
    await rm(registryDir, { recursive: true, force: true });
    throw err;
  }
}

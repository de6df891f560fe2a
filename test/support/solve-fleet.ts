// A whole solve fleet for tests: the fake provider, a test model registry pointing at it,
// and producer, generator, evaluator and aggregator in-process (the evaluator can also be a
// child process). The sandbox is Docker when EVALFLEET_SANDBOX_IMAGE is set (scripts/test
// sets it), the process sandbox otherwise.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '../../services/fake-provider/src/index.js';
import { startAggregator } from '../../services/aggregator/src/main.js';
import { startEvaluator } from '../../services/evaluator/src/main.js';
import { startGenerator } from '../../services/generator/src/main.js';
import { startProducer } from '../../services/producer/src/main.js';
import { testFleetEnv, type TestFleetEnv } from './fleet.js';

export const sandboxImage = process.env.EVALFLEET_SANDBOX_IMAGE;

/** Registry of the test models: each a fixed fake behaviour. */
export function testRegistryYaml(providerUrl: string): string {
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
  ].join('\n');
}

export type SolveFleet = {
  fleetEnv: TestFleetEnv;
  provider: FakeProvider;
  env: Record<string, string>;
  startService(name: 'producer' | 'generator' | 'evaluator' | 'aggregator'): Promise<void>;
  stop(): Promise<void>;
};

export async function startSolveFleet(
  label: string,
  opts: {
    dataset?: string;
    services?: ('producer' | 'generator' | 'evaluator' | 'aggregator')[];
    extraEnv?: Record<string, string>;
    provider?: { rpm?: number; tpm?: number; windowMs?: number };
  } = {},
): Promise<SolveFleet> {
  const datasetText = await readFile(opts.dataset ?? 'datasets/solve-example.jsonl', 'utf8');
  const provider = await startFakeProvider({ port: 0, host: '127.0.0.1', datasetText, ...opts.provider });
  const fleetEnv = await testFleetEnv(label, {
    SANDBOX: sandboxImage ? 'docker' : 'process',
    ...(sandboxImage ? { EVALFLEET_SANDBOX_IMAGE: sandboxImage } : {}),
    EVALUATOR_CONCURRENCY: '2',
    ...opts.extraEnv,
  });
  const registryFile = path.join(fleetEnv.artifactDir, 'models.test.yaml');
  await writeFile(registryFile, testRegistryYaml(provider.url));
  fleetEnv.env['EVALFLEET_MODELS'] = registryFile;
  const env = fleetEnv.env;
  const stops: (() => Promise<void>)[] = [];
  const starters = {
    producer: startProducer,
    generator: startGenerator,
    evaluator: startEvaluator,
    aggregator: startAggregator,
  };
  const startService = async (name: keyof typeof starters) => {
    const s = await starters[name]({ env, installSignals: false, cwd: fleetEnv.artifactDir });
    stops.push(() => s.shutdown());
  };
  for (const name of opts.services ?? ['producer', 'generator', 'evaluator', 'aggregator']) await startService(name);
  return {
    fleetEnv,
    provider,
    env,
    startService,
    async stop() {
      for (const stop of stops.splice(0).reverse()) await stop();
      await provider.close();
      await fleetEnv.cleanup();
    },
  };
}

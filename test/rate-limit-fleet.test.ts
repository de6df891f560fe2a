// Fleet-wide rate limits through the real generators: two generator processes share the
// model's RPM/TPM scope in Redis, the fake provider enforces the same limits on its own
// clock, and it never has to refuse a request.
import { afterEach, describe, expect, it } from 'vitest';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';
import { cli } from './support/cli.js';

let fleet: SolveFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

// A period long enough, and a margin wide enough, that a scheduling stall of a few hundred ms
// between the limiter's admission and the provider's clock (a loaded 2-core CI machine) cannot
// squeeze two periods' worth of requests into one of the provider's windows.
const periodMs = 3_000;
const marginMs = 750;

describe('fleet rate limits', () => {
  it('two generators stay within the shared RPM without one 429', { timeout: 180_000 }, async () => {
    fleet = await startSolveFleet('ratelimit', {
      services: ['producer', 'generator', 'evaluator', 'aggregator'],
      extraEnv: {
        RATE_LIMIT_PERIOD_MS: String(periodMs),
        RATE_LIMIT_MARGIN_MS: String(marginMs),
        GENERATOR_CONCURRENCY: '8',
      },
      provider: { rpm: 8, tpm: 12_000, windowMs: periodMs },
    });
    await fleet.startService('generator');
    const { env } = fleet;
    const { code, out, err } = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'limited',
      '--limit',
      '12',
      '--samples-per-task',
      '2',
      '--max-tokens',
      '256',
      '--run-id',
      'rl-run',
      '--wait',
      '--json',
    );
    expect(code, err).toBe(0);
    const summary = JSON.parse(out) as { models: { model: string; verdicts: Record<string, number> }[] };
    expect(summary.models[0]!.verdicts.passed).toBe(24);

    const log = fleet.provider.log();
    expect(log.filter((a) => a.status === 429)).toHaveLength(0);
    const times = log.map((a) => a.timeMs).sort((a, b) => a - b);
    expect(times).toHaveLength(24);
    // No window of one period holds more than 8 arrivals.
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + periodMs).length;
      expect(inWindow).toBeLessThanOrEqual(8);
    }
    // ...and the limit is used, not idled away: 24 requests need at least two full periods.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2 * periodMs - 200);
  });
});

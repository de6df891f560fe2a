import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ATTACKS, CONTROL, POLY_CHECK, POLY_PROMPT, py, type Attack } from './attack-corpus.js';
import { dockerForTests } from './docker-available.test-support.js';
import { createDockerSandbox, ensureSandboxImage, type Sandbox, type SandboxJob } from './index.js';

// The attack corpus on the Docker sandbox: one container, so every attack and the jobs after it share it.
// Each attack must get its expected verdict (never `passed`), the correct control after it must pass, and
// the container must not have needed replacing: the per-job clean-up contained the attack.
const { docker, dockerUp } = await dockerForTests('Docker sandbox attack corpus');

let counter = 0;
function job(fields: Attack['job']): SandboxJob {
  return { jobId: `corpus-${++counter}`, timeoutMs: 5_000, ...fields };
}

describe.skipIf(!dockerUp)('attack corpus on the docker sandbox', () => {
  let sandbox: Sandbox;
  let poolId: string;

  async function containerIds(): Promise<string[]> {
    const list = await docker.listContainers({ filters: { label: [`org.evalfleet.sandbox.pool=${poolId}`] } });
    return list.map((c) => c.Id).sort();
  }

  beforeAll(async () => {
    const image = await ensureSandboxImage({ onProgress: (line) => console.log(line) });
    sandbox = await createDockerSandbox({ image, poolSize: 1, memoryMb: 256 });
    poolId = /pool (\w+)/.exec(sandbox.describe())![1]!;
  }, 15 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('has at least 40 attacks across every category', () => {
    expect(ATTACKS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ATTACKS.map((a) => a.category)).size).toBe(10);
    expect(new Set(ATTACKS.map((a) => a.name)).size).toBe(ATTACKS.length);
  });

  it.each(ATTACKS.map((attack) => [`${attack.category}: ${attack.name}`, attack] as const))(
    '%s',
    async (_name, attack) => {
      const before = await containerIds();
      const result = await sandbox.run(job(attack.job));
      const allowed = Array.isArray(attack.expect.verdict) ? attack.expect.verdict : [attack.expect.verdict];
      expect(allowed, 'an attack may never be expected to pass').not.toContain('passed');
      expect(allowed, `${result.verdict} ${result.reason ?? ''} ${result.message ?? ''}`).toContain(result.verdict);
      expect(result.passed).toBe(false);
      if (attack.expect.reason !== undefined) expect(result.reason).toBe(attack.expect.reason);
      if (attack.expect.integrity !== undefined) expect(result.integrity).toBe(attack.expect.integrity);
      expect(result.stdout.length + result.stderr.length).toBeLessThan(2 * 300 * 1024);
      for (const test of result.tests) expect(test.message?.length ?? 0).toBeLessThanOrEqual(4000);

      if (attack.probe) {
        const probe = await sandbox.run(job(attack.probe));
        expect(probe.tests.filter((t) => t.outcome !== 'passed')).toEqual([]);
        expect(probe.verdict).toBe('passed');
      }
      const control = await sandbox.run(job(CONTROL));
      expect(control).toMatchObject({ verdict: 'passed', integrity: 'checker' });
      // The per-job clean-up contained it: the container was not replaced.
      expect(await containerIds()).toEqual(before);
    },
    60_000,
  );

  it('passes a correct completion whose check uses the prompt, run by the checker itself', async () => {
    const bisect =
      '    lo, hi = -100.0, 100.0\n    for _ in range(200):\n        mid = (lo + hi) / 2\n' +
      '        if poly(xs, lo) * poly(xs, mid) <= 0:\n            hi = mid\n        else:\n            lo = mid\n    return lo\n';
    const result = await sandbox.run(
      job({
        runner: 'humaneval',
        trustedCode: POLY_PROMPT,
        code: POLY_PROMPT + bisect,
        tests: POLY_CHECK,
        entryPoint: 'find_zero',
      }),
    );
    expect(result).toMatchObject({ verdict: 'passed', integrity: 'checker' });
  });

  it('passes a correct solution whose check compares its own objects, and says the pass rests on them', async () => {
    const code = py(`
      class Point:
          def __init__(self, x, y):
              self.x, self.y = x, y
          def __eq__(self, other):
              return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)
      def make(x, y):
          return Point(x, y)
    `);
    const tests =
      'def check(candidate):\n    assert candidate(1, 2) == candidate(1, 2)\n    assert candidate(1, 2).x == 1\n';
    const result = await sandbox.run(job({ runner: 'humaneval', code, tests, entryPoint: 'make' }));
    expect(result).toMatchObject({ verdict: 'passed', integrity: 'handle' });
  });

  it('passes correct solutions that exercise the channel: big ints, nan, generators, exceptions, callbacks', async () => {
    const code = py(`
      def big(n):
          return 7 ** n
      def floats():
          return [float("nan"), float("inf"), -0.0, 1e308]
      def squares(n):
          for i in range(n):
              yield i * i
      def strict(x):
          if x < 0:
              raise ValueError("negative")
          return x
      def apply(fn, xs):
          return [fn(x) for x in xs]
      def append_sorted(items, x):
          items.append(x)
          items.sort()
    `);
    const tests = py(`
      import math
      def check(candidate):
          assert candidate(5000) == 7 ** 5000
          nan, inf, zero, huge = floats()
          assert math.isnan(nan) and inf == math.inf and math.copysign(1, zero) == -1 and huge == 1e308
          assert list(squares(4)) == [0, 1, 4, 9]
          generator = squares(3)
          assert (next(generator), next(generator)) == (0, 1)
          try:
              strict(-1)
              assert False, "strict(-1) must raise"
          except ValueError as exc:
              assert str(exc) == "negative"
          assert apply(lambda v: v * 10, [1, 2]) == [10, 20]
          items = [3, 1]
          assert append_sorted(items, 0) is None and items == [0, 1, 3]
    `);
    const result = await sandbox.run(job({ runner: 'humaneval', code, tests, entryPoint: 'big' }));
    expect(result.tests.filter((t) => t.outcome !== 'passed')).toEqual([]);
    expect(result).toMatchObject({ verdict: 'passed', integrity: 'checker' });
  });
});

/** Small generated evaluation tasks: a function, its asserts, and whether it is meant to pass. */
export type BenchTask = {
  id: string;
  format: 'mbpp' | 'humaneval';
  code: string;
  tests: string;
  entryPoint: string;
  expectPass: boolean;
};

type Family = {
  name: string;
  /** Correct body and a subtly wrong one, for a function `name(x)`. */
  body: string;
  buggy: string;
  cases: Array<[string, string]>;
};

const FAMILIES: Family[] = [
  {
    name: 'square_sum',
    body: 'return sum(i * i for i in range(x + 1))',
    buggy: 'return sum(i * i for i in range(x))',
    cases: [
      ['3', '14'],
      ['0', '0'],
      ['5', '55'],
    ],
  },
  {
    name: 'reverse_words',
    body: "return ' '.join(reversed(x.split()))",
    buggy: "return ' '.join(x.split())",
    cases: [
      ["'a b c'", "'c b a'"],
      ["'hi'", "'hi'"],
      ["'x y'", "'y x'"],
    ],
  },
  {
    name: 'count_vowels',
    body: "return sum(1 for c in x.lower() if c in 'aeiou')",
    buggy: "return sum(1 for c in x if c in 'aeio')",
    cases: [
      ["'Education'", '5'],
      ["'xyz'", '0'],
      ["'AEIOU'", '5'],
    ],
  },
  {
    name: 'fib',
    body: 'a, b = 0, 1\n    for _ in range(x):\n        a, b = b, a + b\n    return a',
    buggy: 'a, b = 1, 1\n    for _ in range(x):\n        a, b = b, a + b\n    return a',
    cases: [
      ['10', '55'],
      ['1', '1'],
      ['0', '0'],
    ],
  },
  {
    name: 'is_prime',
    body: 'return x > 1 and all(x % d for d in range(2, int(x ** 0.5) + 1))',
    buggy: 'return all(x % d for d in range(2, x))',
    cases: [
      ['97', 'True'],
      ['1', 'False'],
      ['91', 'False'],
    ],
  },
  {
    name: 'max_gap',
    body: 'return max(b - a for a, b in zip(x, x[1:]))',
    buggy: 'return max(abs(b - a) for a, b in zip(x, x[1:]))',
    cases: [
      ['[1, 4, 6, 11]', '5'],
      ['[3, 1, 2]', '1'],
      ['[0, 10]', '10'],
    ],
  },
  {
    name: 'dedupe',
    body: 'seen = set()\n    return [v for v in x if not (v in seen or seen.add(v))]',
    buggy: 'return sorted(set(x))',
    cases: [
      ['[3, 1, 3, 2, 1]', '[3, 1, 2]'],
      ['[]', '[]'],
      ['[5, 5]', '[5]'],
    ],
  },
  {
    name: 'digit_sum',
    body: 'return sum(int(c) for c in str(abs(x)))',
    buggy: 'return sum(int(c) for c in str(x) if c.isdigit()) + (1 if x < 0 else 0)',
    cases: [
      ['1234', '10'],
      ['-56', '11'],
      ['0', '0'],
    ],
  },
];

/** Deterministic: task i uses family i mod n; every `failEvery`-th task gets the buggy body. */
export function generateTasks(count: number, failEvery = 7): BenchTask[] {
  const tasks: BenchTask[] = [];
  for (let i = 0; i < count; i++) {
    const family = FAMILIES[i % FAMILIES.length]!;
    const expectPass = i % failEvery !== failEvery - 1;
    const name = `${family.name}_${i}`;
    const code = `def ${name}(x):\n    ${expectPass ? family.body : family.buggy}\n`;
    const format = i % 10 < 7 ? 'mbpp' : 'humaneval';
    const tests =
      format === 'mbpp'
        ? family.cases.map(([arg, want]) => `assert ${name}(${arg}) == ${want}`).join('\n')
        : `def check(candidate):\n${family.cases.map(([arg, want]) => `    assert candidate(${arg}) == ${want}\n`).join('')}`;
    tasks.push({ id: `bench-${i}`, format, code, tests, entryPoint: name, expectPass });
  }
  return tasks;
}

/** The same task as one plain Python program (what an unisolated harness would run). */
export function plainProgram(task: BenchTask): string {
  return task.format === 'mbpp'
    ? `${task.code}\n${task.tests}\n`
    : `${task.code}\n${task.tests}\ncheck(${task.entryPoint})\n`;
}

/** A HumanEval-format problem (as in HumanEval.jsonl) and the samples evaluated against it. */
export type HumanEvalRecord = {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
};
export type HumanEvalSample = { task_id: string; completion: string };

/**
 * `problems` HumanEval-format problems over the families, and `perTask` samples each: the canonical
 * solution first, then alternately the subtly wrong body and the canonical one again; with `hangEvery`,
 * every `hangEvery`-th sample never terminates (a `while True` loop), as some model samples do.
 */
export function humanEvalSet(
  problems: number,
  perTask: number,
  hangEvery = 0,
): { records: HumanEvalRecord[]; samples: HumanEvalSample[]; expected: boolean[] } {
  const records: HumanEvalRecord[] = [];
  const samples: HumanEvalSample[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < problems; i++) {
    const family = FAMILIES[i % FAMILIES.length]!;
    const name = `${family.name}_${i}`;
    const taskId = `Bench/${i}`;
    records.push({
      task_id: taskId,
      prompt: `def ${name}(x):\n    """${family.name.replace(/_/g, ' ')} of x"""\n`,
      canonical_solution: `    ${family.body}\n`,
      test: `def check(candidate):\n${family.cases.map(([arg, want]) => `    assert candidate(${arg}) == ${want}\n`).join('')}`,
      entry_point: name,
    });
    for (let s = 0; s < perTask; s++) {
      const index = samples.length;
      const hang = hangEvery > 0 && index % hangEvery === hangEvery - 1;
      const wrong = s % 2 === 1;
      samples.push({
        task_id: taskId,
        completion: hang ? '    while True:\n        pass\n' : `    ${wrong ? family.buggy : family.body}\n`,
      });
      expected.push(!hang && !wrong);
    }
  }
  return { records, samples, expected };
}

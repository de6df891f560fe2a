/**
 * A Python project for the mutation benchmark, generated deterministically: `modules` modules of
 * `functions` small functions each (branches, loops, arithmetic, strings, indexing, exception handlers,
 * default arguments), and a pytest file per module with one test per function. Some tests are loose on
 * purpose, so some mutants survive. No mutant of it loops forever (every loop is bounded).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Fn = { source: string; test: string };

function template(kind: number, name: string, a: number, b: number): Fn {
  switch (kind) {
    case 0:
      return {
        source: `def ${name}(x):\n    if x < ${a}:\n        return x * ${b}\n    return x + ${a}\n`,
        test: `    assert ${name}(${a - 1}) == ${(a - 1) * b}\n    assert ${name}(${a + 3}) == ${2 * a + 3}\n`,
      };
    case 1:
      return {
        source: `def ${name}(items):\n    acc = ${a}\n    for v in items:\n        if v % 2 == 0:\n            continue\n        acc += v\n    return acc\n`,
        test: `    assert ${name}([1, 2, 3, ${b}]) == ${a + 4 + (b % 2 === 1 ? b : 0)}\n`,
      };
    case 2:
      return {
        source: `def ${name}(n):\n    if n >= ${a} and n != ${b}:\n        return "big"\n    return "small"\n`,
        test: `    assert ${name}(${a + 10}) == "big"\n    assert ${name}(${a - 10}) == "small"\n`,
      };
    case 3:
      return {
        source: `def ${name}(xs, k):\n    if not xs:\n        return None\n    return xs[k % len(xs)]\n`,
        test: `    assert ${name}([${a}, ${b}, 7], 4) == ${b}\n    assert ${name}([], 1) is None\n`,
      };
    case 4:
      return {
        source: `def ${name}(n):\n    count = 0\n    for _ in range(100):\n        if n <= ${a}:\n            break\n        n -= ${b}\n        count += 1\n    return count\n`,
        test: `    assert ${name}(${a + 3 * b}) == 3\n`,
      };
    default:
      return {
        source: `def ${name}(text, default=${a}):\n    try:\n        return int(text) + ${b}\n    except ValueError:\n        return default\n`,
        test: `    assert ${name}("3") == ${3 + b}\n    assert ${name}("x") == ${a}\n`,
      };
  }
}

export type GeneratedProject = { dir: string; source: string[]; tests: string[] };

/** Writes the project into `dir`; returns its source and test files (relative paths). */
export function writeMutationProject(dir: string, modules = 5, functions = 8): GeneratedProject {
  mkdirSync(join(dir, 'bench_pkg'), { recursive: true });
  mkdirSync(join(dir, 'tests'), { recursive: true });
  writeFileSync(join(dir, 'bench_pkg', '__init__.py'), '');
  const source: string[] = [];
  const tests: string[] = [];
  for (let m = 0; m < modules; m++) {
    const fns: Fn[] = [];
    const names: string[] = [];
    for (let f = 0; f < functions; f++) {
      const i = m * functions + f;
      const name = `f${i}`;
      names.push(name);
      fns.push(template(i % 6, name, 10 + ((i * 7) % 23), 2 + ((i * 5) % 9)));
    }
    const module = `mod${m}`;
    writeFileSync(join(dir, 'bench_pkg', `${module}.py`), fns.map((f) => f.source).join('\n\n'));
    const testText =
      `from bench_pkg.${module} import ${names.join(', ')}\n\n\n` +
      fns.map((f, k) => `def test_${names[k]}():\n${f.test}`).join('\n\n');
    writeFileSync(join(dir, 'tests', `test_${module}.py`), testText);
    source.push(`bench_pkg/${module}.py`);
    tests.push(`tests/test_${module}.py`);
  }
  return { dir, source, tests };
}

import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { createExtractor, extractCode, type Extractor } from './index.js';

let extractor: Extractor;
beforeAll(async () => {
  extractor = await createExtractor();
});

const fence = '```';
const addPrompt = 'def add(a: int, b: int) -> int:\n    """Return a + b.\n    >>> add(1, 2)\n    3\n    """\n';

describe('extractCode: fenced answers', () => {
  it('takes the python block from prose + code', () => {
    const answer = `Sure! Here's a function that adds two numbers:\n\n${fence}python\ndef add(a, b):\n    return a + b\n${fence}\n\nThis runs in O(1) time.`;
    expect(extractor.extract(answer, { entryPoint: 'add' })).toEqual({
      outcome: 'ok',
      code: 'def add(a, b):\n    return a + b\n',
      mode: 'full',
      method: 'fenced_python',
    });
  });

  it('prefers the block that defines the entry point over a longer usage block', () => {
    const usage = `${fence}python\nif True:\n${'    print(add(1, 2))\n'.repeat(10)}${fence}`;
    const answer = `${fence}py\ndef add(a, b):\n    return a + b\n${fence}\n\nUsage:\n\n${usage}`;
    const result = extractor.extract(answer, { entryPoint: 'add' });
    expect(result.outcome).toBe('ok');
    expect(result.code).toBe('def add(a, b):\n    return a + b\n');
  });

  it('takes the last block when several define the entry point (a corrected version)', () => {
    const answer = [
      'First attempt:',
      `${fence}python`,
      'def add(a, b):',
      '    return a - b',
      fence,
      'Oops, that subtracts. Corrected version:',
      `${fence}python`,
      'def add(a, b):',
      '    return a + b',
      fence,
    ].join('\n');
    expect(extractor.extract(answer, { entryPoint: 'add' }).code).toBe('def add(a, b):\n    return a + b\n');
  });

  it('skips a broken (truncated) last version for an earlier one that parses', () => {
    const answer = [
      `${fence}python`,
      'def add(a, b):',
      '    return a + b',
      fence,
      'A variant with type checks:',
      `${fence}python`,
      'def add(a, b):',
      '    if not isinstance(a, int',
      fence,
    ].join('\n');
    expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({
      outcome: 'ok',
      code: 'def add(a, b):\n    return a + b\n',
    });
  });

  it('keeps helpers and imports that are in the chosen block', () => {
    const code =
      'import math\n\n\ndef _norm(v):\n    return math.sqrt(sum(x * x for x in v))\n\n\ndef unit(v):\n    n = _norm(v)\n    return [x / n for x in v]\n';
    const result = extractor.extract(`${fence}python\n${code}${fence}`, { entryPoint: 'unit' });
    expect(result).toMatchObject({ outcome: 'ok', code, method: 'fenced_python' });
  });

  it('falls back to an unlabeled block', () => {
    const answer = `Here you go:\n${fence}\ndef add(a, b):\n    return a + b\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({ outcome: 'ok', method: 'fenced_any' });
  });

  it('reads tilde fences, indented fences in list items and info strings', () => {
    const tilde = `~~~python\ndef add(a, b):\n    return a + b\n~~~`;
    expect(extractor.extract(tilde, { entryPoint: 'add' })).toMatchObject({ outcome: 'ok', method: 'fenced_python' });
    const listed = `1. Define the function:\n\n   ${fence}python\n   def add(a, b):\n       return a + b\n   ${fence}\n2. Call it.`;
    expect(extractor.extract(listed, { entryPoint: 'add' })).toMatchObject({
      outcome: 'ok',
      code: 'def add(a, b):\n    return a + b\n',
    });
    const info = `${fence}Python3 title="add.py"\ndef add(a, b):\n    return a + b\n${fence}`;
    expect(extractor.extract(info, { entryPoint: 'add' })).toMatchObject({ outcome: 'ok', method: 'fenced_python' });
  });

  it('does not end a block at a shorter inner fence', () => {
    const answer = `${'````'}python\ndef doc():\n    return """\n${fence}\nnot a fence end\n"""\n${'````'}`;
    const result = extractor.extract(answer, { entryPoint: 'doc' });
    expect(result.outcome).toBe('ok');
    expect(result.code).toContain('not a fence end');
  });

  it('ignores shell blocks and uses the python one', () => {
    const answer = `Install nothing:\n${fence}bash\npip install numpy\n${fence}\n${fence}python\ndef add(a, b):\n    return a + b\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({ outcome: 'ok', method: 'fenced_python' });
  });

  it('ignores draft code inside <think> sections', () => {
    const answer = `<think>\nMaybe:\n${fence}python\ndef add(a, b):\n    return a * b\n${fence}\nNo wait.\n</think>\nFinal answer: add them.`;
    expect(extractor.extract(answer, { entryPoint: 'add' }).outcome).toBe('no_code');
  });

  it('removes a main guard so the sandbox script does not run demo code', () => {
    const answer = `${fence}python\ndef add(a, b):\n    return a + b\n\n\nif __name__ == "__main__":\n    print(add(int(input()), 2))\n${fence}`;
    const result = extractor.extract(answer, { entryPoint: 'add' });
    expect(result).toMatchObject({ outcome: 'ok', code: 'def add(a, b):\n    return a + b\n' });
    expect(result.message).toContain('__main__');
  });

  it('accepts a class entry point and a decorated function', () => {
    const cls = `${fence}python\nclass Stack:\n    def __init__(self):\n        self.items = []\n${fence}`;
    expect(extractor.extract(cls, { entryPoint: 'Stack' }).outcome).toBe('ok');
    const decorated = `${fence}python\nfrom functools import lru_cache\n\n@lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n${fence}`;
    expect(extractor.extract(decorated, { entryPoint: 'fib' }).outcome).toBe('ok');
  });

  it('normalizes CRLF answers', () => {
    const answer = `${fence}python\r\ndef add(a, b):\r\n    return a + b\r\n${fence}\r\n`;
    expect(extractor.extract(answer, { entryPoint: 'add' }).code).toBe('def add(a, b):\n    return a + b\n');
  });
});

describe('extractCode: unfenced answers', () => {
  it('finds code written straight into prose', () => {
    const answer =
      'You can do it like this:\n\ndef add(a, b):\n    # plain sum\n    return a + b\n\nprint(add(2, 3))\n\nThis prints 5.';
    expect(extractor.extract(answer, { entryPoint: 'add' })).toEqual({
      outcome: 'ok',
      code: 'def add(a, b):\n    # plain sum\n    return a + b\n\nprint(add(2, 3))\n',
      mode: 'full',
      method: 'unfenced',
    });
  });

  it('starts at imports and keeps code indented as a Markdown code block', () => {
    const answer = 'Solution:\n\n    import re\n\n    def words(s):\n        return re.findall(r"\\w+", s)\n\nDone.';
    expect(extractor.extract(answer, { entryPoint: 'words' })).toMatchObject({
      outcome: 'ok',
      code: 'import re\n\ndef words(s):\n    return re.findall(r"\\w+", s)\n',
      method: 'unfenced',
    });
  });

  it('uses unfenced code that defines the entry point when the fenced block is only a usage example', () => {
    const answer = `def add(a, b):\n    return a + b\n\nExample:\n${fence}python\nprint(add(1, 2))\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({ outcome: 'ok', method: 'unfenced' });
  });

  it('reports prose-only answers as no_code', () => {
    for (const answer of [
      '',
      '   \n',
      'I am sorry, but I cannot help with that request.',
      'Use a dictionary to count; for each word, increment its count.\nThen return the most common one.',
    ]) {
      expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({ outcome: 'no_code', mode: 'full' });
    }
  });

  it('does not mistake prose that starts with "from" or "import" for code', () => {
    const answer = 'from the description, the answer is to import nothing and return the sum.';
    expect(extractor.extract(answer, { entryPoint: 'add' }).outcome).toBe('no_code');
  });
});

describe('extractCode: broken answers', () => {
  it('reports a syntax error with its position', () => {
    const answer = `${fence}python\ndef add(a, b):\n    return (a +\n${fence}`;
    const result = extractor.extract(answer, { entryPoint: 'add' });
    expect(result.outcome).toBe('syntax_error');
    expect(result.code).toBe('def add(a, b):\n    return (a +\n');
    expect(result.line).toBe(2);
    expect(result.message).toMatch(/^line 2, column \d+: /);
  });

  it('reports a missing colon, Python 2 print and bad indentation', () => {
    const cases: [string, number][] = [
      ['def add(a, b)\n    return a + b\n', 1],
      ['def add(a, b):\n    print "adding"\n    return a + b\n', 2],
      ['def add(a, b):\n    x = a\n      return x + b\n', 3],
      ['def add(a, b):\nreturn a + b\n', 2],
    ];
    for (const [code, line] of cases) {
      const result = extractor.extract(`${fence}python\n${code}${fence}`, { entryPoint: 'add' });
      expect(result.outcome, code).toBe('syntax_error');
      expect(result.line, code).toBe(line);
    }
  });

  it('treats a truncated answer (unterminated fence) as broken code, not a crash', () => {
    const answer = `Here is the code:\n${fence}python\ndef add(a, b):\n    return add_helper(a,`;
    expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({
      outcome: 'syntax_error',
      method: 'fenced_python',
    });
  });

  it('reports code that never defines the entry point', () => {
    const answer = `${fence}python\ndef plus(a, b):\n    return a + b\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({
      outcome: 'missing_entry_point',
      code: 'def plus(a, b):\n    return a + b\n',
      message: "the code does not define 'add'",
    });
  });

  it('says when the entry point is only a method (LeetCode style)', () => {
    const answer = `${fence}python\nclass Solution:\n    def add(self, a, b):\n        return a + b\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add' })).toMatchObject({
      outcome: 'missing_entry_point',
      message: "'add' is defined only as a method of class 'Solution'",
    });
  });

  it('never throws on odd input', () => {
    const odd = [
      '```',
      '```python',
      '```python\n```',
      '\u0000\u0001',
      'def',
      '`'.repeat(500),
      'def add(\n'.repeat(200),
      '🙂 def add(a, b): return a + b',
    ];
    for (const answer of odd) {
      expect(() => extractor.extract(answer, { entryPoint: 'add' })).not.toThrow();
      expect(() => extractor.extract(answer, { entryPoint: 'add', prompt: addPrompt })).not.toThrow();
    }
  });
});

describe('extractCode: completions of a HumanEval prompt', () => {
  it('accepts an indented body as a completion', () => {
    const result = extractor.extract('    return a + b\n', { entryPoint: 'add', prompt: addPrompt });
    expect(result).toEqual({ outcome: 'ok', code: '    return a + b\n', mode: 'completion', method: 'unfenced' });
  });

  it('accepts a fenced body and keeps helper functions after it', () => {
    const answer = `${fence}python\n    return _plus(a, b)\n\n\ndef _plus(x, y):\n    return x + y\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add', prompt: addPrompt })).toMatchObject({
      outcome: 'ok',
      mode: 'completion',
      method: 'fenced_python',
      code: '    return _plus(a, b)\n\n\ndef _plus(x, y):\n    return x + y\n',
    });
  });

  it('cuts a base model completion at the prose that follows it', () => {
    const answer = '    total = a\n    total += b\n    return total\n\nThis adds the numbers.';
    expect(extractor.extract(answer, { entryPoint: 'add', prompt: addPrompt }).code).toBe(
      '    total = a\n    total += b\n    return total\n',
    );
  });

  it('re-indents a body the model wrote without indentation', () => {
    const answer = `${fence}python\nresult = a\nif b:\n    result += b\nreturn result\n${fence}`;
    const result = extractor.extract(answer, { entryPoint: 'add', prompt: addPrompt });
    expect(result).toMatchObject({
      outcome: 'ok',
      mode: 'completion',
      code: '    result = a\n    if b:\n        result += b\n    return result\n',
    });
    expect(result.message).toContain('re-indented');
  });

  it('uses the full function when the model rewrites it', () => {
    const answer = `${fence}python\ndef add(a: int, b: int) -> int:\n    return a + b\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add', prompt: addPrompt })).toMatchObject({
      outcome: 'ok',
      mode: 'full',
    });
  });

  it('reports a broken body with a line relative to the completion', () => {
    const result = extractor.extract('    x = [a, b\n    return sum(x)\n', { entryPoint: 'add', prompt: addPrompt });
    expect(result).toMatchObject({ outcome: 'syntax_error', mode: 'completion' });
    expect(result.line).toBeGreaterThanOrEqual(1);
    expect(result.line).toBeLessThanOrEqual(2);
  });

  it('does not treat a usage example as a body', () => {
    const answer = `${fence}python\nprint(add(1, 2))\n${fence}`;
    expect(extractor.extract(answer, { entryPoint: 'add', prompt: addPrompt }).outcome).toBe('missing_entry_point');
  });

  it('adds the newline a prompt without one needs', () => {
    const prompt = addPrompt.trimEnd();
    expect(extractor.extract('    return a + b', { entryPoint: 'add', prompt })).toMatchObject({
      outcome: 'ok',
      code: '\n    return a + b\n',
    });
  });
});

describe('extractCode (shared extractor)', () => {
  it('works without holding an extractor', async () => {
    await expect(extractCode('def add(a, b):\n    return a + b', { entryPoint: 'add' })).resolves.toMatchObject({
      outcome: 'ok',
      method: 'unfenced',
    });
  });
});

describe('syntax verdicts agree with CPython', () => {
  it('accepts what python3 compiles and rejects what it does not', () => {
    const programs = [
      'def f(x):\n    return x\n',
      'def f(x):\n    return (x +\n',
      'def f(x)\n    return x\n',
      'def f(x):\n    return x\n  y = 1\n',
      'def f(x):\nreturn x\n',
      'print "a"\n',
      'x = = 1\n',
      'return 5\n',
      'class A:\n    def f(self):\n        return 1\n',
      'async def f():\n    async with g() as h:\n        await h\n',
      'def f(x):\n    match x:\n        case [a, *rest]:\n            return a\n        case _:\n            return None\n',
      'def f():\n    # comment only\n',
      's = """\nunterminated\n',
      'x = [\n    1,\n  2,\n]\n',
      'if x: pass\n    y = 1\n',
      'def f(x):\n    """doc"""\n',
      '@decorator\nclass A:\n    x: int = 1\n',
    ];
    const script = 'import json,sys\nprint(json.dumps([_ok(s) for s in json.load(sys.stdin)]))';
    const helper =
      'def _ok(s):\n    try:\n        compile(s, "<answer>", "exec")\n        return True\n    except SyntaxError:\n        return False\n';
    const python = JSON.parse(
      execFileSync('python3', ['-c', helper + script], { input: JSON.stringify(programs) }).toString(),
    ) as boolean[];
    const ours = programs.map(
      (code) => extractor.extract(`${fence}python\n${code}${fence}`, { entryPoint: 'zzz' }).outcome !== 'syntax_error',
    );
    expect(ours).toEqual(python);
  });
});

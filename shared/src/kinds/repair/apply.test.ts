import { beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../extraction/index.js';
import { extractPatch, type AnswerPatch } from './answer.js';
import { applyPatch } from './apply.js';
import { parseFrames, projectFile } from './traceback.js';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});

const module = [
  'import math',
  '',
  '',
  '@decorated',
  'def area(r):',
  '    return math.pi * r',
  '',
  '',
  'class Shape:',
  '    def __init__(self, n):',
  '        self.n = n',
  '',
  '    def sides(self):',
  '        return self.n - 1',
  '',
  '',
  'def helper():',
  '    return 1',
  '',
].join('\n');

function patch(answer: string): AnswerPatch {
  const p = extractPatch(parser, answer);
  if ('reason' in p) throw new Error(p.message);
  return p;
}

describe('extractPatch', () => {
  it('takes every def and class of every python block, ignoring other statements', () => {
    const p = patch(
      'Fix:\n```python\nimport os\n\ndef a():\n    return 1\n\nprint(a())\n```\nand\n```py\nclass B:\n    pass\n```',
    );
    expect(p.definitions.map((d) => [d.name, d.kind])).toEqual([
      ['a', 'function'],
      ['B', 'class'],
    ]);
    expect(p.imports).toEqual(['import os']);
  });

  it('dedents a method given on its own, and reads a bare answer that is code', () => {
    expect(patch('```python\n    def sides(self):\n        return self.n\n```').definitions[0]?.text).toBe(
      'def sides(self):\n    return self.n',
    );
    expect(patch('def helper():\n    return 2\n').definitions[0]?.name).toBe('helper');
  });

  it('says why when nothing can be applied', () => {
    expect(extractPatch(parser, 'I think the bug is in the loop.')).toMatchObject({ reason: 'no_code' });
    expect(extractPatch(parser, '```python\ndef f(:\n```')).toMatchObject({ reason: 'syntax_error' });
    expect(extractPatch(parser, '```python\nx = 1\n```')).toMatchObject({ reason: 'no_definitions' });
  });
});

describe('applyPatch', () => {
  it('replaces a top-level function in place, decorators and all, and leaves the rest byte for byte', () => {
    const r = applyPatch(
      parser,
      { 'geo.py': module },
      ['geo.py'],
      patch('```python\ndef area(r):\n    return math.pi * r * r\n```'),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const out = r.files['geo.py']!;
    expect(out).toContain('def area(r):\n    return math.pi * r * r\n');
    expect(out).not.toContain('@decorated');
    expect(out.replace(/def area[\s\S]*?r \* r\n/, '')).toBe(module.replace(/@decorated\ndef area[\s\S]*?\* r\n/, ''));
    expect(r.replaced).toEqual(['geo.py:area']);
    expect(r.diff).toContain('-    return math.pi * r\n+    return math.pi * r * r');
  });

  it('replaces a method given alone, indented as a method', () => {
    const r = applyPatch(
      parser,
      { 'geo.py': module },
      ['geo.py'],
      patch('```python\ndef sides(self):\n    return self.n\n```'),
    );
    expect(r.ok && r.files['geo.py']).toContain('    def sides(self):\n        return self.n\n');
    expect(r.ok && r.replaced).toEqual(['geo.py:Shape.sides']);
  });

  it('appends new helpers next to the fix and merges the imports it brings', () => {
    const r = applyPatch(
      parser,
      { 'geo.py': module },
      ['geo.py'],
      patch('```python\nimport functools\n\ndef helper():\n    return _two()\n\ndef _two():\n    return 2\n```'),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.files['geo.py']).toMatch(/^import math\nimport functools\n/);
    expect(r.files['geo.py']).toMatch(/def _two\(\):\n {4}return 2\n$/);
    expect(r.appended).toEqual(['geo.py:_two']);
  });

  it('finds the function in the right module of a package', () => {
    const files = { 'pkg/a.py': 'def f():\n    return 1\n', 'pkg/b.py': 'def g():\n    return 1\n' };
    const r = applyPatch(parser, files, ['pkg/a.py', 'pkg/b.py'], patch('```python\ndef g():\n    return 2\n```'));
    expect(r.ok && r.changed).toEqual(['pkg/b.py']);
    expect(r.ok && r.files['pkg/a.py']).toBe(files['pkg/a.py']);
  });

  it('refuses an answer that names nothing the project has', () => {
    const r = applyPatch(
      parser,
      { 'geo.py': module },
      ['geo.py'],
      patch('```python\ndef perimeter(r):\n    return 2\n```'),
    );
    expect(r).toMatchObject({ ok: false, reason: 'unknown_function' });
    expect(!r.ok && r.message).toContain('perimeter');
  });
});

describe('tracebacks', () => {
  it('reads frames from CPython and pytest tracebacks and maps them to project files', () => {
    const tb = [
      'Traceback (most recent call last):',
      '  File "/work/j1/tests/test_x.py", line 3, in test_a',
      '  File "/work/j1/pkg/mod.py", line 9, in compute',
      'ValueError: bad',
      'pkg/mod.py:12: in other',
    ].join('\n');
    const frames = parseFrames(tb);
    expect(frames.map((f) => f.func)).toEqual(['test_a', 'compute', 'other']);
    expect(projectFile(frames[1]!.file, ['pkg/mod.py', 'mod.py'])).toBe('pkg/mod.py');
    expect(projectFile('/usr/lib/python3/json.py', ['pkg/mod.py'])).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dockerForTests } from './docker-available.test-support.js';
import { createDockerSandbox, ensureSandboxImage, type Sandbox, type SandboxProjectJob } from './index.js';

// Multi-file projects (runner 'project') in the real Docker sandbox.
const { dockerUp } = await dockerForTests('Docker project tests');

let counter = 0;
function project(
  fields: Omit<SandboxProjectJob, 'jobId' | 'timeoutMs' | 'runner'> & { timeoutMs?: number },
): SandboxProjectJob {
  return { jobId: `project-${++counter}`, runner: 'project', timeoutMs: 20_000, ...fields };
}

const WORDS_PACKAGE = {
  'pkg/__init__.py': '',
  'pkg/words.py': [
    'import os',
    '',
    'HERE = os.path.dirname(__file__)',
    '',
    'def words():',
    "    with open(os.path.join(HERE, 'data', 'words.txt')) as handle:",
    '        return handle.read().split()',
    '',
  ].join('\n'),
  'pkg/data/words.txt': 'alpha beta gamma\n',
};

describe.skipIf(!dockerUp)('docker sandbox: projects', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    const image = await ensureSandboxImage({ onProgress: (line) => console.log(line) });
    sandbox = await createDockerSandbox({ image, poolSize: 2, backstopGraceMs: 5_000 });
  }, 15 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('runs a package whose module reads a data file by a relative path, and a pytest class', async () => {
    const result = await sandbox.run(
      project({
        files: {
          ...WORDS_PACKAGE,
          'tests/test_words.py': [
            'from pkg.words import words',
            '',
            'class TestWords:',
            '    def test_count(self):',
            '        assert len(words()) == 3',
            '',
            '    def test_first(self):',
            "        assert words()[0] == 'alpha'",
            '',
            'def test_from_the_root():',
            "    assert open('pkg/data/words.txt').read().startswith('alpha')",
            '',
          ].join('\n'),
        },
      }),
    );
    expect(result).toMatchObject({ verdict: 'passed', passed: true, integrity: 'in-process', sandbox: 'docker' });
    expect(result.tests.map((t) => [t.name, t.outcome])).toEqual([
      ['tests/test_words.py::TestWords::test_count', 'passed'],
      ['tests/test_words.py::TestWords::test_first', 'passed'],
      ['tests/test_words.py::test_from_the_root', 'passed'],
    ]);
  });

  it("fails a failing test with the assertion in that test's message", async () => {
    const result = await sandbox.run(
      project({
        files: {
          ...WORDS_PACKAGE,
          'test_words.py': [
            'from pkg.words import words',
            '',
            'def test_last():',
            "    assert words()[-1] == 'delta'",
            '',
            'def test_first():',
            "    assert words()[0] == 'alpha'",
            '',
          ].join('\n'),
        },
      }),
    );
    expect(result).toMatchObject({ verdict: 'failed', passed: false, integrity: 'in-process' });
    const failing = result.tests.find((t) => t.name === 'test_words.py::test_last');
    expect(failing).toMatchObject({ outcome: 'failed' });
    expect(failing?.message).toContain("assert words()[-1] == 'delta'");
    expect(failing?.message).toContain('AssertionError');
    expect(result.tests.find((t) => t.name === 'test_words.py::test_first')).toMatchObject({ outcome: 'passed' });
  });

  it('runs only the selected node ids', async () => {
    const result = await sandbox.run(
      project({
        files: {
          'calc.py': 'def double(x):\n    return 2 * x\n',
          'tests/test_calc.py': [
            'from calc import double',
            '',
            'class TestDouble:',
            '    def test_two(self):',
            '        assert double(2) == 4',
            '',
            '    def test_wrong(self):',
            '        assert double(2) == 5',
            '',
            'def test_zero():',
            '    assert double(0) == 0',
            '',
          ].join('\n'),
        },
        testFiles: ['tests/test_calc.py'],
        select: ['tests/test_calc.py::TestDouble::test_two', 'tests/test_calc.py::test_zero'],
      }),
    );
    expect(result).toMatchObject({ verdict: 'passed' });
    expect(result.tests.map((t) => t.name)).toEqual([
      'tests/test_calc.py::TestDouble::test_two',
      'tests/test_calc.py::test_zero',
    ]);
  });

  it('reports a collection error as error, the broken file listed as a test in error', async () => {
    const result = await sandbox.run(
      project({
        files: {
          'calc.py': 'def double(x:\n    return 2 * x\n',
          'tests/test_calc.py': 'from calc import double\n\ndef test_two():\n    assert double(2) == 4\n',
          'tests/test_other.py': 'def test_fine():\n    assert True\n',
        },
      }),
    );
    expect(result).toMatchObject({ verdict: 'error', passed: false, reason: 'collection_error' });
    expect(result.tests).toContainEqual(
      expect.objectContaining({
        name: 'tests/test_calc.py',
        outcome: 'error',
        message: expect.stringContaining('SyntaxError'),
      }),
    );
    expect(result.tests).toContainEqual(
      expect.objectContaining({ name: 'tests/test_other.py::test_fine', outcome: 'passed' }),
    );
  });

  it('runs unittest: ids are module.Class.test, discovery and test files alike', async () => {
    const files = {
      ...WORDS_PACKAGE,
      'tests/__init__.py': '',
      'tests/test_words.py': [
        'import unittest',
        'from pkg.words import words',
        '',
        'class TestWords(unittest.TestCase):',
        '    def test_count(self):',
        '        self.assertEqual(len(words()), 3)',
        '',
        '    def test_wrong(self):',
        "        self.assertEqual(words()[0], 'omega')",
        '',
      ].join('\n'),
    };
    const discovered = await sandbox.run(project({ files, testFramework: 'unittest' }));
    expect(discovered).toMatchObject({ verdict: 'failed', integrity: 'in-process' });
    expect(discovered.tests.map((t) => [t.name, t.outcome])).toEqual([
      ['tests.test_words.TestWords.test_count', 'passed'],
      ['tests.test_words.TestWords.test_wrong', 'failed'],
    ]);
    expect(discovered.tests[1]?.message).toContain("AssertionError: 'alpha' != 'omega'");

    const selected = await sandbox.run(
      project({ files, testFramework: 'unittest', select: ['tests.test_words.TestWords.test_count'] }),
    );
    expect(selected).toMatchObject({ verdict: 'passed' });
    expect(selected.tests.map((t) => t.name)).toEqual(['tests.test_words.TestWords.test_count']);

    const byFile = await sandbox.run(project({ files, testFramework: 'unittest', testFiles: ['tests/test_words.py'] }));
    expect(byFile.tests).toHaveLength(2);
  });

  it('refuses a project with a path out of its directory without running it', async () => {
    for (const path of ['../escape.py', '/work/escape.py', 'a/../../escape.py']) {
      const result = await sandbox.run(project({ files: { [path]: '', 'test_a.py': 'def test_a():\n    pass\n' } }));
      expect(result).toMatchObject({ verdict: 'failed', passed: false, reason: 'invalid_project' });
    }
  });

  it('fails a project that writes outside its directory, and leaves nothing for the next job', async () => {
    const writer = await sandbox.run(
      project({
        files: {
          'escape.py': [
            'import os',
            '',
            'def escape():',
            '    print("cwd", os.getcwd(), "uid", os.getuid())',
            "    open('kept.txt', 'w').write('mine')",
            "    for path in ('../escape.txt', '/work/escape.txt', '/tmp/escape.txt', '/escape.txt'):",
            '        try:',
            "            open(path, 'w').write('x')",
            '        except OSError:',
            '            continue',
            "        raise AssertionError('wrote ' + path)",
            "    open('../escape.txt', 'w')",
            '',
          ].join('\n'),
          'test_escape.py': 'from escape import escape\n\ndef test_escape():\n    escape()\n',
        },
      }),
    );
    expect(writer).toMatchObject({ verdict: 'failed', passed: false });
    expect(writer.tests[0]?.message).toMatch(/PermissionError|Read-only file system/);
    const [, cwd, uid] = /cwd (\S+) uid (\d+)/.exec(writer.stdout) ?? [];
    expect(cwd).toMatch(/^\/work\/j[0-9a-f]+$/);
    expect(Number(uid)).toBeGreaterThanOrEqual(100_000);

    const reader = await sandbox.run(
      project({
        files: {
          'test_after.py': [
            'import os',
            '',
            'def test_nothing_left():',
            `    assert os.getuid() != ${uid}`,
            `    assert os.getcwd() != ${JSON.stringify(cwd)}`,
            `    assert not os.path.exists(${JSON.stringify(cwd)})`,
            `    assert not os.path.exists(${JSON.stringify(`${cwd}/kept.txt`)})`,
            "    assert not os.path.exists('/work/escape.txt')",
            '',
          ].join('\n'),
        },
      }),
    );
    // Pool of 2: the reader may land in the other container; either way nothing of the writer is visible.
    expect(reader, reader.tests[0]?.message).toMatchObject({ verdict: 'passed' });
  });

  it('times out a hanging project, keeping the tests that finished', async () => {
    const result = await sandbox.run(
      project({
        files: {
          'test_slow.py': 'def test_quick():\n    pass\n\ndef test_hang():\n    while True:\n        pass\n',
        },
        timeoutMs: 2_000,
      }),
    );
    expect(result).toMatchObject({ verdict: 'timeout', passed: false });
    expect(result.tests).toContainEqual(
      expect.objectContaining({ name: 'test_slow.py::test_quick', outcome: 'passed' }),
    );
  });
});

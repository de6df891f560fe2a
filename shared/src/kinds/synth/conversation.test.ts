import { applyPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { synthTemplates } from '../../../../services/fake-provider/src/synth-templates.js';
import { applyBug } from '../../../../services/fake-provider/src/synth-templates.js';
import { bundleFiles, tarGz, untarGz } from './bundle.js';
import { buildConversation, changedLines, enclosingFunction, fixPatch } from './conversation.js';
import { bounded, failingOutput } from './project.js';

const t = synthTemplates.find((x) => x.id === 'projectile')!;
const valid = t.bugs.find((b) => b.effect === 'valid')!;
const buggy = applyBug(t, valid);

describe('the fix and the conversation', () => {
  it('the patch turns the buggy module into the clean one and names the file git-style', () => {
    const patch = fixPatch('projectile.py', buggy, t.module);
    expect(patch.split('\n').slice(0, 3)).toEqual([
      'diff --git a/projectile.py b/projectile.py',
      '--- a/projectile.py',
      '+++ b/projectile.py',
    ]);
    expect(applyPatch(buggy, patch)).toBe(t.module);
  });

  it('finds the function around a change, a method inside its class, nothing at module level', () => {
    const lines = changedLines(buggy, t.module);
    expect(lines).toHaveLength(1);
    const f = enclosingFunction(t.module, lines[0]!);
    expect(f?.name).toBe('max_height');
    expect(f?.text.split('\n')[0]).toBe('def max_height(speed, angle_deg, height=0.0):');
    expect(f?.text.endsWith('return height + vy * vy / (2 * G)')).toBe(true);
    const src =
      'X = 1\n\nclass A:\n    def m(self):\n        def inner():\n            return 1\n        return inner() + 2\n';
    expect(enclosingFunction(src, 7)?.name).toBe('m');
    expect(enclosingFunction(src, 1)).toBeUndefined();
  });

  const input = {
    problemStatement: 'Projectiles.',
    modulePath: 'projectile.py',
    testPath: 'test_projectile.py',
    buggyCode: buggy,
    cleanCode: t.module,
    failingOutput: 'FAILED test_projectile.py::test_max_height_adds_the_launch_height',
    failToPass: ['test_projectile.py::test_max_height_adds_the_launch_height'],
    passToPass: ['a', 'b'],
    candidate: { strategy: 'llm' as const, operator: 'variant-1', description: valid.description, code: buggy },
    patch: fixPatch('projectile.py', buggy, t.module),
  };

  it('inline: the user pastes the code and the output; the assistant names the function and gives the fix', () => {
    const [user, assistant] = buildConversation({ ...input, fileEdit: false, suppressBuggyCode: false });
    expect(user!.content).toContain(buggy.trimEnd());
    expect(user!.content).toContain(input.failingOutput);
    expect(assistant!.content).toContain('The problem is in `max_height`: max_height drops the launch height');
    expect(assistant!.content).toContain('```python\ndef max_height(');
    expect(assistant!.content).toContain(input.patch.trimEnd());
  });

  it('file-edit with the code suppressed: the conversation points at the file', () => {
    const [user] = buildConversation({ ...input, fileEdit: true, suppressBuggyCode: true });
    expect(user!.content).not.toContain('def max_height');
    expect(user!.content).toContain('`python run_tests.py` fails');
    expect(user!.content).toContain('fix the file in place');
  });

  it('a mutant is diagnosed by its edit', () => {
    const [, assistant] = buildConversation({
      ...input,
      fileEdit: false,
      suppressBuggyCode: false,
      candidate: {
        strategy: 'ast',
        operator: 'comparison',
        description: 'ComparisonOperator',
        line: 9,
        original: '<=',
        replacement: '<',
        code: buggy,
      },
    });
    expect(assistant!.content).toContain(
      'line 9: it uses `<` where the computation needs `<=` (a changed comparison operator)',
    );
  });
});

describe('the file-edit bundle', () => {
  it('holds the buggy module, the tests, run_tests.py and a README; the same bytes every time', async () => {
    const files = bundleFiles({
      instanceId: 'task-1',
      modulePath: 'projectile.py',
      buggyCode: buggy,
      testPath: 'test_projectile.py',
      testCode: t.tests,
      testFramework: 'pytest',
      problemStatement: 'Projectiles.',
      failingOutput: 'FAILED x',
    });
    const body = await tarGz(files);
    expect((await tarGz(files)).equals(body)).toBe(true);
    const back = await untarGz(body);
    expect(Object.keys(back).sort()).toEqual([
      'task-1/README.md',
      'task-1/projectile.py',
      'task-1/run_tests.py',
      'task-1/test_projectile.py',
    ]);
    expect(back['task-1/projectile.py']).toBe(buggy);
    expect(back['task-1/run_tests.py']).toContain('sys.exit(pytest.main(["-q", "test_projectile.py"]))');
  });
});

describe('failing output', () => {
  const result = {
    verdict: 'failed' as const,
    passed: false,
    truncated: false,
    durationMs: 1,
    exitCode: 1,
    signal: null,
    sandbox: 'docker' as const,
    integrity: 'in-process' as const,
  };

  it("keeps pytest's own report, and lays unittest tracebacks out as unittest does", () => {
    const pytestOut = '..F\n=================================== FAILURES ===================================\nboom\n';
    expect(failingOutput({ ...result, stdout: pytestOut, stderr: '', tests: [] })).toBe(pytestOut.trimEnd());
    const out = failingOutput({
      ...result,
      stdout: '',
      stderr: 'Ran 2 tests',
      tests: [
        { name: 'test_o.T.test_a', outcome: 'passed' },
        { name: 'test_o.T.test_b', outcome: 'failed', message: 'Traceback ...\nAssertionError: 1 != 2' },
      ],
    });
    expect(out).toContain('FAIL: test_o.T.test_b\n' + '-'.repeat(70) + '\nTraceback ...\nAssertionError: 1 != 2');
    expect(out.endsWith('Ran 2 tests\n\nFAILED (failures=1)')).toBe(true);
  });

  it('is bounded: head and tail kept, the cut counted', () => {
    const text = 'a'.repeat(50) + 'b'.repeat(100);
    const cut = bounded(text, 40);
    expect(cut).toBe(`${'a'.repeat(10)}\n... [110 characters cut] ...\n${'b'.repeat(30)}`);
  });
});

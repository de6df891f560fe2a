import { describe, expect, it } from 'vitest';
import { parseBehaviour } from '../../../../services/fake-provider/src/behaviour.js';
import { synthAnswer, synthMarker } from '../../../../services/fake-provider/src/synth.js';
import { synthTemplates } from '../../../../services/fake-provider/src/synth-templates.js';
import { parseSynthAnswer } from './answer.js';
import { openingMessages } from './prompt.js';

const scenario = (subtopic: string) => ({ id: 'x', domain: 'Physics', topic: 'Optics and waves', subtopic });

describe('parseSynthAnswer', () => {
  it("reads the fake provider's YAML and JSON answers back to the templates' code", () => {
    const good = parseBehaviour('fake/always-right');
    const mixed = parseBehaviour('fake/right-fraction:0.6');
    const prompt = openingMessages(scenario('Thin lens imaging'), ['llm']);
    expect(prompt[0]!.content).toContain(synthMarker);
    const parsed = parseSynthAnswer(synthAnswer(good, prompt)!);
    if (!parsed.ok) throw new Error(parsed.error);
    const t = synthTemplates.find((x) => x.moduleName === parsed.answer.moduleName)!;
    expect(parsed.answer).toMatchObject({ moduleCode: t.module, testCode: t.tests, testFramework: t.framework });
    expect(parsed.answer.solutionOutline).toMatch(/^1\. .+\n2\. /);
    expect(parsed.answer.bugs).toHaveLength(1);
    // 'Standing waves on strings' is answered as JSON by the mixed model.
    const json = synthAnswer(mixed, openingMessages(scenario('Standing waves on strings'), ['llm']))!;
    expect(json).toContain('```json');
    const fromJson = parseSynthAnswer(json);
    expect(fromJson.ok && fromJson.answer.bugs.length).toBe(3);
  });

  it('names the parse error of a truncated answer', () => {
    const cut = synthAnswer(
      parseBehaviour('fake/right-fraction:0.6'),
      openingMessages(
        { id: 'x', domain: 'Statistics and data science', topic: 'Inference', subtopic: 'Chi-square goodness of fit' },
        ['llm'],
      ),
    )!;
    const parsed = parseSynthAnswer(cut);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(/^the answer is not valid YAML or JSON: /);
  });

  it('takes what models write: other key spellings, fences inside fields, an outline as text, no framework', () => {
    const answer = [
      'Sure! Here it is:',
      '```yaml',
      'Problem Statement: Convert between scales.',
      'outline: First validate, then convert.',
      'module_name: scales.py',
      'module: |',
      '  ```python',
      '  def kelvin(c):',
      '      if c < -273.15:',
      '          raise ValueError("below absolute zero")',
      '      return c + 273.15',
      '  ```',
      'tests: |',
      '  import unittest',
      '  from scales import kelvin',
      '  class T(unittest.TestCase):',
      '      def test_zero(self):',
      '          self.assertEqual(kelvin(0), 273.15)',
      'buggy_variants:',
      '  - bug: returns Celsius',
      '    buggy_code: |',
      '      def kelvin(c):',
      '          return c',
      '```',
    ].join('\n');
    const parsed = parseSynthAnswer(answer);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.answer).toEqual({
      problemStatement: 'Convert between scales.',
      solutionOutline: 'First validate, then convert.',
      moduleName: 'scales',
      testFramework: 'unittest',
      moduleCode:
        'def kelvin(c):\n    if c < -273.15:\n        raise ValueError("below absolute zero")\n    return c + 273.15\n',
      testCode:
        'import unittest\nfrom scales import kelvin\nclass T(unittest.TestCase):\n    def test_zero(self):\n        self.assertEqual(kelvin(0), 273.15)\n',
      bugs: [{ description: 'returns Celsius', code: 'def kelvin(c):\n    return c\n' }],
    });
  });

  it('unwraps an answer nested under one key and reads the framework in any case; applies find/replace edits', () => {
    const module = 'def area(r):\n    if r < 0:\n        raise ValueError("r")\n    return 3.14159 * r * r\n';
    const parsed = parseSynthAnswer(
      JSON.stringify({
        task: {
          problem_statement: 'Circle areas.',
          solution_outline: ['Validate.', 'Square.'],
          module_name: 'circles',
          test_framework: ' PyTest ',
          module_code: module,
          test_code: 'from circles import area\n\ndef test_unit():\n    assert area(1) > 3\n',
          bugs: [
            { description: 'squares the radius once', find: '3.14159 * r * r', replace: '3.14159 * r' },
            { description: 'nowhere', find: 'not in the module', replace: 'x' },
            { description: 'twice', find: 'r', replace: 'q' },
          ],
        },
      }),
    );
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.answer.testFramework).toBe('pytest');
    expect(parsed.answer.solutionOutline).toBe('1. Validate.\n2. Square.');
    expect(parsed.answer.bugs).toEqual([
      { description: 'squares the radius once', code: module.replace('3.14159 * r * r', '3.14159 * r') },
      { description: 'nowhere', error: 'the text to find does not occur in module_code' },
      { description: 'twice', error: 'the text to find occurs more than once in module_code' },
    ]);
  });

  it('turns down what cannot become a task, saying which field', () => {
    const base = {
      problem_statement: 'p',
      solution_outline: ['a'],
      module_code: 'x = 1',
      test_code: 'def test_x(): pass',
    };
    const missing = parseSynthAnswer(JSON.stringify(base));
    expect(!missing.ok && missing.error).toMatch(/module_name/);
    for (const name of ['math', 'test_things', 'My-Module'])
      expect(parseSynthAnswer(JSON.stringify({ ...base, module_name: name })).ok, name).toBe(false);
    expect(parseSynthAnswer('- just\n- a list').ok).toBe(false);
    expect(parseSynthAnswer('I cannot help with that.').ok).toBe(false);
  });
});

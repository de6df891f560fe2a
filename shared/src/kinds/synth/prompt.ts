import type { ChatMessage } from '../../workflow/index.js';
import type { Scenario, Strategy } from './messages.js';

// The prompt is built from the scenario; the fake provider (services/fake-provider/src/synth.ts)
// recognises it by the system message's phrase and reads the Domain/Topic/Subtopic lines.

const system =
  'You write one verified synthetic debugging task at a time: a realistic, self-contained Python module ' +
  'with a test suite that passes, plus buggy versions of the module that make some of its tests fail. ' +
  'Your answer is checked by running the tests; answer with the YAML document only.';

const format = `Answer format: one YAML document (JSON is accepted too) with exactly these keys:

problem_statement: |
  What the module is for and what it must do, for a developer who has not seen it.
solution_outline:
  - "Step 1 of the approach"
  - "Step 2 ..."
module_name: snake_case_name        # the module is saved as <module_name>.py
test_framework: pytest              # or unittest
module_code: |
  <the complete module>
test_code: |
  <the complete test file, saved as test_<module_name>.py, importing the module by name>
bugs:
  - description: "What is wrong in this version and which behaviour it breaks"
    find: |
      <lines copied exactly from module_code>
    replace: |
      <the same lines with the bug>`;

/** The conversation that opens a generation. `feedback`: why the previous one was turned down. */
export function openingMessages(s: Scenario, strategies: readonly Strategy[], feedback?: string): ChatMessage[] {
  const bugs = strategies.includes('llm')
    ? '- 2 or 3 bugs, each one edit of the module (find: lines copied exactly from module_code, occurring once; ' +
      'replace: those lines with one subtle, realistic logic bug such as a wrong formula, an off-by-one bound, a ' +
      'swapped argument or a missed unit conversion) that makes at least one test fail while other tests still pass; ' +
      'no syntax errors, no crashes on import.'
    : '- an empty list of bugs (the bugs are injected automatically).';
  const user = [
    'Write a synthetic debugging task for this scenario.',
    '',
    `Domain: ${s.domain}`,
    `Topic: ${s.topic}`,
    `Subtopic: ${s.subtopic}`,
    '',
    'Requirements:',
    '- A realistic, STEM-grounded problem statement and a step-by-step solution outline.',
    '- A module of 4 to 8 cooperating functions with real logic (calculations that build on one another) and input',
    '  validation that raises ValueError for impossible values. Standard library only; deterministic: no',
    '  randomness, clock, network or files.',
    '- A test suite (pytest or unittest) of 6 to 12 independent tests covering the computations and the',
    '  validation, with exact expected values or tolerances that hold every time. Every test passes on the module.',
    bugs,
    '',
    format,
    ...(feedback
      ? [
          '',
          `An earlier answer for this scenario was rejected: ${feedback}`,
          'Write a new task for the same scenario that does not have this problem.',
        ]
      : []),
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** What the model hears after an answer that could not be used. */
export function retryMessage(error: string): string {
  return `Your answer could not be used: ${error}\nAnswer again with the complete YAML document only, with every key of the format.`;
}

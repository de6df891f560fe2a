// Answers to the synth kind's prompts (shared/src/kinds/synth/prompt.ts): a debugging task as YAML
// (or JSON), built from the templates in synth-templates.ts and deterministic per prompt. A model
// that is right on every task (`fake/always-right`, the registry's fake-good) answers valid tasks;
// any other (fake-mixed) answers one of `mixedVariants` per scenario, so a run over a few scenarios
// meets every rejection path: a suite that fails on the clean module, a flaky suite, a suite no bug
// can fail, malformed YAML. A retry (after a parse error, or a new generation after a rejection)
// is always answered with a valid task.
import { createHash } from 'node:crypto';
import type { Behaviour } from './behaviour.js';
import { flakyTemplate, synthTemplates, weakTests, type SynthTemplate, type TemplateBug } from './synth-templates.js';

/** The phrase every synth prompt carries (its system message). */
export const synthMarker = 'verified synthetic debugging task';

export type SynthScenario = { domain: string; topic: string; subtopic: string };

export const mixedVariants = ['valid', 'clean-fails', 'flaky', 'weak', 'malformed', 'json'] as const;
export type MixedVariant = (typeof mixedVariants)[number];

type Message = { role: string; content: string };

const line = (text: string, label: string): string | undefined =>
  new RegExp(`^${label}: (.+)$`, 'm').exec(text)?.[1]?.trim();

/** The scenario of a synth conversation, or undefined when the conversation is not one. */
export function findSynthScenario(messages: readonly Message[]): SynthScenario | undefined {
  if (!messages.some((m) => m.content.includes(synthMarker))) return undefined;
  const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
  const domain = line(prompt, 'Domain');
  const topic = line(prompt, 'Topic');
  const subtopic = line(prompt, 'Subtopic');
  return domain && topic && subtopic ? { domain, topic, subtopic } : undefined;
}

function draw(s: SynthScenario, salt: string): number {
  const digest = createHash('sha256').update(`${salt}\u0000${s.domain}\u0000${s.topic}\u0000${s.subtopic}`).digest();
  return digest.readUInt32BE(0);
}

/** The template a scenario's valid answers use. */
export function templateFor(s: SynthScenario): SynthTemplate {
  return synthTemplates[draw(s, 'template') % synthTemplates.length]!;
}

/** What a mixed model answers first for a scenario. */
export function mixedVariant(s: SynthScenario): MixedVariant {
  return mixedVariants[draw(s, 'variant') % mixedVariants.length]!;
}

/** What a model answers for this conversation: a good model always a valid task. */
export function synthVariant(behaviour: Behaviour, messages: readonly Message[], s: SynthScenario): MixedVariant {
  const good = behaviour.rightFraction >= 1 && behaviour.proseFraction === 0;
  const retried = messages.some((m) => m.role === 'assistant');
  const regenerated = messages.some((m) => m.role === 'user' && m.content.includes('was rejected'));
  return good || retried || regenerated ? 'valid' : mixedVariant(s);
}

type Answer = {
  problem_statement: string;
  solution_outline: string[];
  module_name: string;
  test_framework: 'pytest' | 'unittest';
  module_code: string;
  test_code: string;
  bugs: { description: string; find: string; replace: string }[];
};

function answerFor(t: SynthTemplate, s: SynthScenario, bugs: readonly TemplateBug[], tests = t.tests): Answer {
  return {
    problem_statement:
      `Scenario: ${s.subtopic} (${s.topic}, ${s.domain}).\n` +
      `Write a Python module \`${t.moduleName}\` for ${t.summary}. Its functions build on one another, ` +
      'validate their inputs and raise ValueError for impossible values.',
    solution_outline: t.outline,
    module_name: t.moduleName,
    test_framework: t.framework,
    module_code: t.module,
    test_code: tests,
    bugs: bugs.map((b) => ({ description: b.description, find: b.from, replace: b.to })),
  };
}

const block = (text: string, indent: string): string =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => (l === '' ? '' : `${indent}${l}`))
    .join('\n');

/** The answer as YAML, the way a model writes it: block scalars for code, quoted one-liners. */
export function toYaml(a: Answer): string {
  return [
    'problem_statement: |',
    block(a.problem_statement, '  '),
    'solution_outline:',
    ...a.solution_outline.map((step) => `  - ${JSON.stringify(step)}`),
    `module_name: ${a.module_name}`,
    `test_framework: ${a.test_framework}`,
    'module_code: |',
    block(a.module_code, '  '),
    'test_code: |',
    block(a.test_code, '  '),
    'bugs:',
    ...a.bugs.flatMap((b) => [
      `  - description: ${JSON.stringify(b.description)}`,
      `    find: ${JSON.stringify(b.find)}`,
      `    replace: ${JSON.stringify(b.replace)}`,
    ]),
    '',
  ].join('\n');
}

const fenced = (lang: string, body: string) => `Here is the task.\n\n\`\`\`${lang}\n${body.trimEnd()}\n\`\`\`\n`;

/** The answer to a synth conversation, or undefined when the conversation is not one. */
export function synthAnswer(behaviour: Behaviour, messages: readonly Message[]): string | undefined {
  const s = findSynthScenario(messages);
  if (s === undefined) return undefined;
  if (behaviour.form === 'prose')
    return 'A good debugging task here would be a module with a few functions and tests; I would start with the physics.';
  const t = templateFor(s);
  const good = behaviour.rightFraction >= 1 && behaviour.proseFraction === 0;
  // A good model's only buggy variant is a valid one; a mixed one also offers a bug no test notices
  // and one that breaks every test.
  const bugs = good
    ? t.bugs.filter((b) => b.effect === 'valid')
    : ['passes', 'breaks', 'valid'].flatMap((e) => t.bugs.filter((b) => b.effect === e));
  const variant = synthVariant(behaviour, messages, s);
  switch (variant) {
    case 'valid':
      return fenced('yaml', toYaml(answerFor(t, s, bugs)));
    case 'json':
      return fenced('json', JSON.stringify(answerFor(t, s, bugs), null, 2));
    case 'clean-fails':
      return fenced(
        'yaml',
        toYaml(answerFor(t, s, bugs, t.tests.replace(t.wrongExpectation.from, t.wrongExpectation.to))),
      );
    case 'flaky':
      return fenced('yaml', toYaml(answerFor(flakyTemplate, s, flakyTemplate.bugs)));
    case 'weak':
      return fenced(
        'yaml',
        toYaml(
          answerFor(
            t,
            s,
            bugs.filter((b) => b.effect === 'valid'),
            weakTests(t),
          ),
        ),
      );
    case 'malformed': {
      // Cut off inside a flow sequence, as an answer that hit the token limit.
      const text = toYaml({ ...answerFor(t, s, []), bugs: [] }).replace(/bugs:\n$/, '');
      return `Here is the task.\n\n\`\`\`yaml\n${text}bugs: [{description: "${bugs[0]?.description ?? 'a bug'}", code: "def `;
    }
  }
}

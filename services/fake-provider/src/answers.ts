import { escapeRegExp, type Problem } from './problems.js';

const fence = (code: string): string => `\`\`\`python\n${code.trimEnd()}\n\`\`\``;

/** The reference solution, fenced, with a sentence of prose as a model would write. */
export function rightAnswer(problem: Problem): string {
  return `Here is a solution for \`${problem.entryPoint}\` that handles the cases in the description.\n\n${fence(problem.solution)}\n`;
}

/**
 * Code that defines the entry point and looks finished but is off by one on
 * every result: the reference runs as a draft and its result is nudged.
 */
export function wrongAnswer(problem: Problem): string {
  const name = problem.entryPoint;
  const draft = `_draft_${name}`;
  const renamed = problem.solution.replace(new RegExp(`(?<![\\w])${escapeRegExp(name)}(?![\\w])`, 'g'), draft);
  const wrapper = [
    `def ${name}(*args, **kwargs):`,
    `    result = ${draft}(*args, **kwargs)`,
    '    if isinstance(result, bool):',
    '        return not result',
    '    if isinstance(result, (int, float)):',
    '        return result + 1',
    '    if isinstance(result, str):',
    "        return result + ' '",
    '    if isinstance(result, list):',
    '        return result + [None]',
    '    if isinstance(result, tuple):',
    '        return result + (None,)',
    '    if result is None:',
    '        return 0',
    '    return None',
  ].join('\n');
  return `This should work for \`${name}\`; I adjusted the result for the boundary case.\n\n${fence(`${renamed.trimEnd()}\n\n\n${wrapper}`)}\n`;
}

/** An explanation with no code at all, as models sometimes answer. */
export function proseAnswer(problem: Problem | undefined): string {
  const subject = problem === undefined ? 'this task' : `\`${problem.entryPoint}\``;
  return (
    `To solve ${subject}, walk through the input once, keep the running state you need, ` +
    'and return it at the end. Handle the empty input first, then the general case; ' +
    'that keeps the logic simple and linear in the size of the input.\n'
  );
}

/** The reference solution with its signature broken, fenced, so extraction works but Python cannot parse it. */
export function syntaxErrorAnswer(problem: Problem): string {
  const signature = new RegExp(
    `^(\\s*def\\s+${escapeRegExp(problem.entryPoint)}\\s*\\(.*\\)\\s*(?:->[^:\\n]*)?):[ \\t]*$`,
    'm',
  );
  const broken = signature.test(problem.solution)
    ? problem.solution.replace(signature, '$1')
    : `${problem.solution.trimEnd()}\n    return (\n`;
  return `Here is my implementation of \`${problem.entryPoint}\`.\n\n${fence(broken)}\n`;
}

/** A 200 body that is not JSON, like a proxy's error page. */
export const malformedBody = '<html><body>upstream returned an unexpected page</body></html>{"choices": [';

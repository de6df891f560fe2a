import type { Problem } from '../../datasets/index.js';
import type { ChatMessage } from '../../workflow/index.js';

const system =
  'You are an expert Python programmer. Answer with one complete, self-contained Python solution ' +
  'in a single ```python fenced code block. Do not include tests or example usage.';

/** The chat messages for one problem. The task id line lets a fake provider recognise the task. */
export function solvePrompt(problem: Problem): ChatMessage[] {
  const parts = [`Task: ${problem.taskId}`, ''];
  parts.push(problem.prompt.trim(), '');
  if (problem.starterCode && problem.starterCode.trim() !== problem.prompt.trim()) {
    parts.push('Start from this code:', '```python', problem.starterCode.trimEnd(), '```', '');
  }
  parts.push(`Write the function \`${problem.entryPoint}\` in Python.`);
  return [
    { role: 'system', content: system },
    { role: 'user', content: parts.join('\n') },
  ];
}

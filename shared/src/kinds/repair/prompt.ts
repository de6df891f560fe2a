import type { Parser } from 'web-tree-sitter';
import type { ChatMessage, SandboxResult } from '../../workflow/index.js';
import { sourceModules, type Bug } from './dataset.js';
import { definitionsOf } from './source.js';
import { parseFrames, projectFile } from './traceback.js';

export const repairSystemPrompt = [
  'You fix bugs in Python projects.',
  'Answer only with complete, corrected function definitions, each inside its own ```python fenced block.',
  'Give whole functions (or whole classes), not diffs or fragments; change only what the fix needs.',
  'Do not change or add tests. Do not add new imports.',
].join(' ');

const maxCodeChars = 24_000;
const maxFeedbackChars = 6_000;

/** Bounded text: the head and the tail, which is where a traceback's news usually is. */
export function bounded(text: string, max = maxFeedbackChars): string {
  if (text.length <= max) return text;
  const half = Math.floor((max - 40) / 2);
  return `${text.slice(0, half)}\n… (${text.length - 2 * half} characters cut) …\n${text.slice(-half)}`;
}

/**
 * The code a model sees: the project's functions in the traceback's frames (each once, with its
 * file), else every module of the project.
 */
export function codeContext(parser: Parser, bug: Bug, traceback: string): string {
  const modules = sourceModules(bug);
  const wanted = new Map<string, Set<string>>();
  for (const frame of parseFrames(traceback)) {
    const file = projectFile(frame.file, modules);
    if (file) wanted.set(file, (wanted.get(file) ?? new Set()).add(frame.func));
  }
  const parts: string[] = [];
  for (const [file, funcs] of wanted) {
    const { topLevel, methods } = definitionsOf(parser, bug.files[file] ?? '');
    for (const d of [...topLevel, ...methods]) {
      if (funcs.has(d.name)) parts.push(`# ${file}${d.owner ? ` (class ${d.owner})` : ''}\n${d.text}`);
    }
  }
  const code =
    parts.length > 0
      ? parts.join('\n\n')
      : modules.map((m) => `# ${m}\n${(bug.files[m] ?? '').trimEnd()}`).join('\n\n');
  return bounded(code, maxCodeChars);
}

/** The first turn's conversation: the rules, the traceback, the code. */
export function openingMessages(parser: Parser, bug: Bug, traceback: string): ChatMessage[] {
  return [
    { role: 'system', content: repairSystemPrompt },
    { role: 'user', content: `Traceback:\n${bounded(traceback)}` },
    // The bug id line lets a fake provider recognise the bug; a model reads it as a label.
    { role: 'user', content: `Code (bug ${bug.bugId}):\n${codeContext(parser, bug, traceback)}` },
  ];
}

/** What failed, as a model should read it: each failing test with its message, then the output's tail. */
export function failureOutput(result: SandboxResult): string {
  const failing = result.tests.filter((t) => t.outcome === 'failed' || t.outcome === 'error');
  const lines = failing.map((t) => `${t.outcome.toUpperCase()} ${t.name}${t.message ? `\n${t.message}` : ''}`);
  if (result.message) lines.push(result.message);
  const output = `${result.stdout}\n${result.stderr}`.trim();
  if (output) lines.push(output.slice(-3000));
  if (lines.length === 0) lines.push(`the tests ended ${result.verdict}${result.reason ? ` (${result.reason})` : ''}`);
  return bounded(lines.join('\n\n'));
}

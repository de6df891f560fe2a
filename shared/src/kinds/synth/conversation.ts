import { createTwoFilesPatch, FILE_HEADERS_ONLY, structuredPatch } from 'diff';
import type { ChatMessage } from '../../workflow/index.js';
import type { Candidate } from './state.js';

/** A unified diff from the buggy module to the clean one, as `git apply` and SWE-smith's `patch` take it. */
export function fixPatch(path: string, buggy: string, clean: string): string {
  const body = createTwoFilesPatch(`a/${path}`, `b/${path}`, buggy, clean, undefined, undefined, {
    context: 3,
    headerOptions: FILE_HEADERS_ONLY,
  });
  return `diff --git a/${path} b/${path}\n${body}`;
}

/** Lines (1-based, in the clean module) that the fix touches. */
export function changedLines(buggy: string, clean: string): number[] {
  const patch = structuredPatch('buggy', 'clean', buggy, clean, undefined, undefined, { context: 0 });
  const out: number[] = [];
  for (const h of patch.hunks) {
    let line = h.newStart;
    for (const l of h.lines) {
      if (l.startsWith('+')) out.push(line);
      if (!l.startsWith('-') && !l.startsWith('\\')) line += 1;
    }
    // A pure deletion points at the line after it.
    if (!h.lines.some((l) => l.startsWith('+'))) out.push(Math.max(1, h.newStart));
  }
  return out;
}

const defPattern = /^(\s*)(?:async\s+)?def\s+(\w+)/;

/** The function (top-level or method) around a line: its name and its text; undefined at module level. */
export function enclosingFunction(source: string, line: number): { name: string; text: string } | undefined {
  const lines = source.split('\n');
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const target = lines[line - 1] ?? '';
  for (let i = line - 1; i >= 0; i--) {
    const m = defPattern.exec(lines[i]!);
    if (!m) continue;
    const indent = m[1]!.length;
    // A def the line is not inside (a sibling, or a nested one above it): keep looking outwards.
    if (i !== line - 1 && target.trim() !== '' && indentOf(target) <= indent) continue;
    let end = i + 1;
    while (end < lines.length && (lines[end]!.trim() === '' || indentOf(lines[end]!) > indent)) end++;
    while (end > i + 1 && lines[end - 1]!.trim() === '') end--;
    return { name: m[2]!, text: lines.slice(i, end).join('\n') };
  }
  return undefined;
}

export type ConversationInput = {
  problemStatement: string;
  modulePath: string;
  testPath: string;
  buggyCode: string;
  cleanCode: string;
  failingOutput: string;
  failToPass: readonly string[];
  passToPass: readonly string[];
  candidate: Candidate;
  patch: string;
  fileEdit: boolean;
  suppressBuggyCode: boolean;
};

const fence = (lang: string, text: string) => `\`\`\`${lang}\n${text.trimEnd()}\n\`\`\``;
const listed = (ids: readonly string[]) =>
  ids
    .slice(0, 5)
    .map((t) => `\`${t}\``)
    .join(', ') + (ids.length > 5 ? ` and ${ids.length - 5} more` : '');

/** What went wrong, in the assistant's words: the model's own description, or the operator's edit. */
function diagnosis(c: Candidate, where: string): string {
  if (c.strategy === 'llm') return `The problem is in ${where}: ${c.description.trim().replace(/\.?$/, '.')}`;
  const was = (c.replacement ?? '').trim();
  const should = (c.original ?? '').trim();
  return (
    `The problem is in ${where}, line ${c.line ?? '?'}: it uses \`${was}\` where the computation needs \`${should}\` ` +
    `(${c.strategy === 'numeric' ? 'a perturbed constant' : `a changed ${c.description.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}`}).`
  );
}

/**
 * The debugging conversation: the user reports the failing output (with the buggy module inline, or
 * pointing at the file of the bundle for file-edit tasks); the assistant diagnoses and gives the fix.
 */
export function buildConversation(t: ConversationInput): ChatMessage[] {
  const functions = [
    ...new Map(
      changedLines(t.buggyCode, t.cleanCode)
        .map((l) => enclosingFunction(t.cleanCode, l))
        .filter((f): f is { name: string; text: string } => f !== undefined)
        .map((f) => [f.name, f]),
    ).values(),
  ];
  const where = functions.length ? functions.map((f) => `\`${f.name}\``).join(' and ') : `\`${t.modulePath}\``;
  const inline = !t.suppressBuggyCode;
  const user = t.fileEdit
    ? [
        `I have a task bundle with \`${t.modulePath}\`, its tests in \`${t.testPath}\` and \`run_tests.py\`.`,
        '',
        t.problemStatement.trim(),
        '',
        '`python run_tests.py` fails:',
        '',
        fence('', t.failingOutput),
        ...(inline ? ['', `This is \`${t.modulePath}\` as it is now:`, '', fence('python', t.buggyCode)] : []),
        '',
        `Please find the bug in \`${t.modulePath}\` and fix the file in place so that every test passes.`,
      ]
    : [
        t.problemStatement.trim(),
        '',
        `My implementation, \`${t.modulePath}\`:`,
        '',
        fence('python', t.buggyCode),
        '',
        `The tests in \`${t.testPath}\` fail:`,
        '',
        fence('', t.failingOutput),
        '',
        'What is wrong, and how do I fix it?',
      ];
  const fixed = functions.length ? functions.map((f) => f.text).join('\n\n\n') : t.cleanCode;
  const assistant = [
    `The failing ${t.failToPass.length === 1 ? 'test is' : 'tests are'} ${listed(t.failToPass)}; ` +
      `the other ${t.passToPass.length} still pass, so the fault is narrow. ${diagnosis(t.candidate, where)}`,
    '',
    t.fileEdit ? `Edit \`${t.modulePath}\` so that it reads:` : 'The corrected code:',
    '',
    fence('python', fixed),
    '',
    'As a patch:',
    '',
    fence('diff', t.patch),
    '',
    `With this change all ${t.failToPass.length + t.passToPass.length} tests pass.`,
  ];
  return [
    { role: 'user', content: user.join('\n') },
    { role: 'assistant', content: assistant.join('\n') },
  ];
}

// Answers for repair prompts (the repair kind's "Code (bug <id>):" message) about bugs the provider
// was given with their fixes (datasets/repair-example.jsonl carries a `fix` per bug).
import type { Behaviour } from './behaviour.js';

export type RepairBug = {
  bugId: string;
  /** The buggy modules (and other project files). */
  files: Record<string, string>;
  /** Per module: the corrected definitions, as a model would answer them. */
  fix: Record<string, string>;
};

/** Bugs of a repair dataset that carry a `fix` (lines without one are skipped). */
export function parseRepairBugs(text: string): RepairBug[] {
  const out: RepairBug[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof r !== 'object' || r === null) continue;
    const { bug_id: bugId, files, fix } = r as { bug_id?: unknown; files?: unknown; fix?: unknown };
    if (typeof bugId !== 'string' || !isTextMap(files) || !isTextMap(fix)) continue;
    out.push({ bugId, files, fix });
  }
  return out;
}

function isTextMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
}

/** The bug a repair conversation is about, by its code message's label. */
export function findBug(bugs: readonly RepairBug[], prompt: string): RepairBug | undefined {
  const id = /Code \(bug ([^)\s]+)\):/.exec(prompt)?.[1];
  return id === undefined ? undefined : bugs.find((b) => b.bugId === id);
}

const fence = (code: string) => `\`\`\`python\n${code.replace(/\s+$/, '')}\n\`\`\``;

/** Names of the definitions in a fix (`def name` / `class name` at its top level). */
function definedNames(code: string): string[] {
  return [...code.matchAll(/^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!);
}

/** A definition's lines as the module has them (top level or a method), dedented. */
function originalDefinition(source: string, name: string): string | undefined {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\s*(?:async\\s+)?(?:def|class)\\s+${name}\\b`).test(l));
  if (start < 0) return undefined;
  const indent = (lines[start] ?? '').length - (lines[start] ?? '').trimStart().length;
  let end = start + 1;
  while (end < lines.length) {
    const line = lines[end] ?? '';
    if (line.trim() !== '' && line.length - line.trimStart().length <= indent) break;
    end++;
  }
  return lines
    .slice(start, end)
    .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
    .join('\n')
    .replace(/\s+$/, '');
}

/** What a fake model answers to a repair conversation. */
export function repairAnswer(behaviour: Behaviour, bug: RepairBug, conversation: string): string {
  const fixed = Object.values(bug.fix).map(fence);
  const buggy = Object.entries(bug.fix).flatMap(([module, code]) =>
    definedNames(code).flatMap((name) => {
      const original = originalDefinition(bug.files[module] ?? '', name);
      return original ? [fence(original)] : [];
    }),
  );
  const feedback = conversation.includes('New error:');
  switch (behaviour.repair) {
    case 'never':
      return `Here is the corrected code:\n\n${buggy.join('\n\n')}`;
    case 'after-feedback':
      return feedback
        ? `Sorry, here is the real fix:\n\n${fixed.join('\n\n')}`
        : `Here is the corrected code:\n\n${buggy.join('\n\n')}`;
    case 'breaks': {
      const broken = Object.entries(bug.fix).flatMap(([module, code]) => {
        const fixedNames = new Set(definedNames(code));
        const other = definedNames(bug.files[module] ?? '').find((n) => !fixedNames.has(n) && !n.startsWith('_'));
        return other ? [fence(`def ${other}(*args, **kwargs):\n    raise RuntimeError("broken by the fake")`)] : [];
      });
      return `Fixed, and simplified a helper:\n\n${[...fixed, ...broken].join('\n\n')}`;
    }
    case 'first':
      return `The bug is fixed here:\n\n${fixed.join('\n\n')}`;
  }
}

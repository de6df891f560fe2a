/** A fenced code block found in a Markdown answer. */
export interface FencedBlock {
  /** Lower-cased first word of the info string ('' when none). */
  lang: string;
  code: string;
  /** 0-based lines of the opening and closing fences (closing is the last line when unterminated). */
  startLine: number;
  endLine: number;
  /** False when the answer ended inside the block (usually a truncated response). */
  closed: boolean;
}

const pythonLangs = new Set(['python', 'py', 'python3', 'py3', 'ipython', 'sage']);

// Languages that are certainly not a Python solution: such blocks are used only
// when they happen to define the entry point.
const otherLangs = new Set([
  'bash',
  'sh',
  'shell',
  'zsh',
  'console',
  'powershell',
  'ps1',
  'bat',
  'cmd',
  'text',
  'txt',
  'plaintext',
  'plain',
  'output',
  'json',
  'jsonl',
  'yaml',
  'yml',
  'toml',
  'ini',
  'xml',
  'html',
  'css',
  'javascript',
  'js',
  'typescript',
  'ts',
  'java',
  'c',
  'cpp',
  'c++',
  'cs',
  'csharp',
  'go',
  'rust',
  'ruby',
  'php',
  'sql',
  'diff',
  'patch',
  'markdown',
  'md',
  'csv',
  'pycon',
  'pytb',
  'log',
  'dockerfile',
]);

export function isPythonBlock(block: FencedBlock): boolean {
  return pythonLangs.has(block.lang);
}

export function isOtherLanguageBlock(block: FencedBlock): boolean {
  return otherLangs.has(block.lang);
}

const openingFence = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;

/**
 * Find fenced blocks (``` or ~~~, any indentation, closing fence of the same
 * character at least as long). Models often indent blocks inside list items,
 * so block content is dedented by the fence's indentation.
 */
export function findFencedBlocks(text: string): FencedBlock[] {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = openingFence.exec(lines[i] ?? '');
    if (open === null) {
      i++;
      continue;
    }
    const indent = open[1]?.length ?? 0;
    const fence = open[2] ?? '```';
    const lang = normalizeLang(open[3] ?? '');
    const body: string[] = [];
    let j = i + 1;
    let closed = false;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const trimmed = line.trim();
      if (/^(`{3,}|~{3,})$/.test(trimmed) && trimmed[0] === fence[0] && trimmed.length >= fence.length) {
        closed = true;
        break;
      }
      body.push(dedent(line, indent));
    }
    blocks.push({ lang, code: joinCode(body), startLine: i, endLine: Math.min(j, lines.length - 1), closed });
    i = j + 1;
  }
  return blocks;
}

/** The answer with every fenced block (fences included) replaced by blank lines, keeping line numbers. */
export function textOutsideFences(text: string, blocks: readonly FencedBlock[]): string {
  const lines = text.split('\n');
  for (const block of blocks) {
    for (let k = block.startLine; k <= block.endLine; k++) lines[k] = '';
  }
  return lines.join('\n');
}

function normalizeLang(info: string): string {
  // "{.python}", "python:solution.py", "Python3" all name Python.
  return info
    .replace(/^\{\.?/, '')
    .replace(/[}:].*$/, '')
    .toLowerCase();
}

function dedent(line: string, indent: number): string {
  let k = 0;
  while (k < indent && k < line.length && (line[k] === ' ' || line[k] === '\t')) k++;
  return line.slice(k);
}

function joinCode(lines: readonly string[]): string {
  const code = lines
    .join('\n')
    .replace(/^(?:[ \t]*\n)+/, '')
    .replace(/\s+$/, '');
  return code === '' ? '' : `${code}\n`;
}

// `--project DIR`: a directory read into a project (its files, which are source, which are tests).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_LIMITS } from '../../workflow/index.js';
import type { Project } from './messages.js';

/** Directories that are never part of a project's sources. */
const ignoredDirs = new Set(['__pycache__', 'node_modules', 'venv', 'env', 'build', 'dist', 'site-packages']);
/** Files a project's tests may read besides Python (data, configuration). */
const textFile = /\.(py|pyi|txt|json|jsonl|csv|tsv|ini|cfg|toml|yaml|yml|md|rst|xml|html|sql)$/i;

export const defaultTestGlobs = ['**/test_*.py', '**/*_test.py'];

/** A glob as a regular expression over `/`-separated relative paths: `**`, `*`, `?` and `{a,b}`. */
export function globRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches any number of directories, including none.
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end === -1) out += '\\{';
      else {
        out += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map((alt) => alt.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
          .join('|')})`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function matchesAny(file: string, globs: readonly string[]): boolean {
  return globs.some((g) => globRegExp(g).test(file));
}

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!ignoredDirs.has(entry.name) && !entry.name.endsWith('.egg-info')) walk(root, rel, out);
    } else if (entry.isFile() && textFile.test(entry.name)) out.push(rel);
  }
}

/** The project in `dir`: its text files, the tests the globs name, and the Python files to mutate. */
export function readProjectDir(
  dir: string,
  opts: { source?: string[]; tests?: string[]; id?: string } = {},
): { project: Project; skipped: string[] } {
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  const paths: string[] = [];
  walk(dir, '', paths);
  paths.sort();
  const files: Record<string, string> = {};
  const skipped: string[] = [];
  let total = 0;
  for (const rel of paths) {
    const bytes = readFileSync(path.join(dir, rel));
    const text = bytes.toString('utf8');
    // Binary or oversized files cannot travel as text: left out, and said so.
    if (
      bytes.length > PROJECT_LIMITS.fileBytes ||
      Buffer.byteLength(text) !== bytes.length ||
      text.includes('\u0000')
    ) {
      skipped.push(rel);
      continue;
    }
    total += bytes.length;
    files[rel] = text;
  }
  if (total > PROJECT_LIMITS.totalBytes)
    throw new Error(`${dir} holds more than ${PROJECT_LIMITS.totalBytes} bytes of text`);
  const py = Object.keys(files).filter((f) => f.endsWith('.py'));
  const tests = py.filter((f) => matchesAny(f, opts.tests ?? defaultTestGlobs));
  const isTest = new Set(tests);
  const source = py.filter((f) =>
    opts.source
      ? matchesAny(f, opts.source) && !isTest.has(f)
      : !isTest.has(f) && !/(^|\/)(conftest|setup|noxfile|__main__)\.py$/.test(f) && !/(^|\/)tests?\//.test(f),
  );
  const id =
    (opts.id ?? path.basename(path.resolve(dir))).replace(/[^A-Za-z0-9._:@+-]/g, '-').slice(0, 120) || 'project';
  return { project: { id, files, source, tests }, skipped };
}

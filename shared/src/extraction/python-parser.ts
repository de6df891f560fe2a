import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';

let language: Promise<Language> | undefined;

/** Where the Python grammar shipped by the `tree-sitter-python` package lives. */
export function pythonGrammarPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('tree-sitter-python/package.json')), 'tree-sitter-python.wasm');
}

/**
 * A tree-sitter parser for Python. The WASM runtime and grammar load once per
 * process (the promise is shared), each caller gets its own Parser.
 */
export async function createPythonParser(grammarPath?: string): Promise<Parser> {
  if (grammarPath !== undefined) {
    await Parser.init();
    const parser = new Parser();
    parser.setLanguage(await Language.load(grammarPath));
    return parser;
  }
  language ??= Parser.init().then(() => Language.load(pythonGrammarPath()));
  try {
    const loaded = await language;
    const parser = new Parser();
    parser.setLanguage(loaded);
    return parser;
  } catch (err) {
    // Let a later call try again instead of caching the failure forever.
    language = undefined;
    throw err;
  }
}

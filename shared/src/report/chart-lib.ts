import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

let source: Promise<string> | undefined;

/**
 * Chart.js's UMD build (it defines `window.Chart`), read once from the installed package and
 * inlined into every page: the report must work offline and over file://, so nothing is fetched.
 */
export function chartLibrarySource(): Promise<string> {
  // The package exports no path to its UMD file; it sits beside the entry point in dist/.
  source ??= readFile(
    path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'),
    'utf8',
  ).catch((err: unknown) => {
    source = undefined;
    throw err;
  });
  return source;
}

// mutation-report.json in Stryker's mutation-testing-report-schema, checked against the schema package
// itself; mutation-report.html renders it with mutation-testing-elements, inlined so it opens offline.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { schema } from 'mutation-testing-report-schema';
import type {
  MutantResult,
  MutantStatus as StrykerStatus,
  MutationTestResult,
} from 'mutation-testing-report-schema/api';
import { escapeHtml, inlineScript, jsonForScript } from '../../report/escape.js';
import type { ProjectReport } from './collect.js';
import type { MutantOutcome } from './result.js';

const compileError = /^(SyntaxError|IndentationError|TabError)\b/;

/** Our status in Stryker's words (incompetent: CompileError when it does not compile, else RuntimeError). */
export function strykerStatus(o: MutantOutcome): StrykerStatus {
  switch (o.status) {
    case 'killed':
      return 'Killed';
    case 'survived':
      return 'Survived';
    case 'timeout':
      return 'Timeout';
    case 'no_coverage':
      return 'NoCoverage';
    case 'incompetent':
      return compileError.test(o.reason ?? '') ? 'CompileError' : 'RuntimeError';
    case 'infra_error':
      return 'RuntimeError';
  }
}

function testParts(nodeid: string): { file: string; name: string } {
  const at = nodeid.indexOf('::');
  return at === -1 ? { file: nodeid, name: nodeid } : { file: nodeid.slice(0, at), name: nodeid.slice(at + 2) };
}

/** The report of the tested projects; paths carry the project id when there are several. */
export function strykerReport(projects: readonly ProjectReport[]): MutationTestResult {
  const tested = projects.filter((p) => p.status === 'tested');
  const prefix = (p: ProjectReport, path: string) => (tested.length > 1 ? `${p.id}/${path}` : path);
  const testFiles: NonNullable<MutationTestResult['testFiles']> = {};
  const report: MutationTestResult = {
    schemaVersion: '2',
    thresholds: { high: 80, low: 60 },
    framework: { name: 'evalfleet' },
    files: {},
    testFiles,
  };
  for (const p of tested) {
    const tests = p.plan?.tests ?? [];
    const testId = (name: string) => prefix(p, name);
    for (const path of p.project?.source ?? []) {
      const mutants: MutantResult[] = p.rows
        .filter((r) => r.mutant.file === path)
        .map(({ mutant: m, outcome: o }) => {
          const covered = p.plan?.covered[m.id]?.map((i) => tests[i]).filter((t): t is string => t !== undefined);
          return {
            id: tested.length > 1 ? `${p.id}:${m.id}` : m.id,
            mutatorName: m.mutatorName,
            replacement: m.replacement,
            description: `${m.operator}: ${m.original.slice(0, 200)} → ${m.replacement.slice(0, 200)}`,
            location: m.location,
            status: strykerStatus(o),
            ...(o.reason ? { statusReason: o.reason } : {}),
            ...(covered ? { coveredBy: covered.map(testId) } : {}),
            ...(o.killedBy ? { killedBy: o.killedBy.map(testId) } : {}),
            ...(o.testsRun !== undefined ? { testsCompleted: o.testsRun } : {}),
            ...(o.durationMs !== undefined ? { duration: Math.round(o.durationMs) } : {}),
          };
        });
      report.files[prefix(p, path)] = { language: 'python', source: p.project?.files[path] ?? '', mutants };
    }
    for (const name of tests) {
      const { file } = testParts(name);
      const key = prefix(p, file);
      const entry = (testFiles[key] ??= {
        tests: [],
        ...(p.project?.files[file] !== undefined ? { source: p.project.files[file] } : {}),
      });
      entry.tests.push({ id: testId(name), name: testParts(name).name });
    }
  }
  return report;
}

let validator: ReturnType<Ajv['compile']> | undefined;

/** Problems of a report against the schema (none: []). */
export function strykerProblems(report: unknown): string[] {
  validator ??= new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
  if (validator(report)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

let bundle: Promise<string> | undefined;

/** mutation-testing-elements' browser bundle (an IIFE), read once. */
function elementsBundle(): Promise<string> {
  const require = createRequire(import.meta.url);
  bundle ??= readFile(require.resolve('mutation-testing-elements/dist/mutation-test-elements.js'), 'utf8');
  return bundle;
}

/** One self-contained page: the elements bundle and the report inline, nothing fetched. */
export async function strykerHtml(report: MutationTestResult, title: string): Promise<string> {
  const js = inlineScript(await elementsBundle());
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<script>${js}</script>`,
    '</head>',
    '<body>',
    '<mutation-test-report-app title-postfix="evalfleet"></mutation-test-report-app>',
    // The report as a JavaScript literal: JSON whose <, > and & are escapes, so no text of it ends the element.
    `<script>document.querySelector('mutation-test-report-app').report = ${jsonForScript(report)};</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

import { gunzipSync, gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';

/** The file-edit bundle of a task: only the buggy module, its tests, a runner and a README. */
export type BundleInput = {
  instanceId: string;
  modulePath: string;
  buggyCode: string;
  testPath: string;
  testCode: string;
  testFramework: 'pytest' | 'unittest';
  problemStatement: string;
  failingOutput: string;
};

/** run_tests.py: the suite from the bundle's directory, exit code 0 when every test passes. */
export function runTestsScript(testPath: string, framework: 'pytest' | 'unittest'): string {
  const common = [
    '"""Runs this task\'s tests from this directory; exit code 0 when they all pass."""',
    'import os',
    'import sys',
    '',
    'HERE = os.path.dirname(os.path.abspath(__file__))',
    'os.chdir(HERE)',
    'sys.path.insert(0, HERE)',
    '',
  ];
  const run =
    framework === 'pytest'
      ? ['import pytest', '', `sys.exit(pytest.main(["-q", ${JSON.stringify(testPath)}]))`]
      : [
          'import unittest',
          '',
          `suite = unittest.defaultTestLoader.loadTestsFromName(${JSON.stringify(testPath.replace(/\.py$/, '').replace(/\//g, '.'))})`,
          'result = unittest.TextTestRunner(verbosity=2).run(suite)',
          'sys.exit(0 if result.wasSuccessful() else 1)',
        ];
  return [...common, ...run, ''].join('\n');
}

function readme(b: BundleInput): string {
  return [
    `# ${b.instanceId}`,
    '',
    b.problemStatement.trim(),
    '',
    `\`${b.modulePath}\` has a bug: \`python run_tests.py\` fails. Fix the module in place until every test in`,
    `\`${b.testPath}\` passes (do not change the tests).`,
    '',
    '## Failing output',
    '',
    '```',
    b.failingOutput.trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** The bundle's files under one directory named after the task. */
export function bundleFiles(b: BundleInput): Record<string, string> {
  return {
    [`${b.instanceId}/${b.modulePath}`]: b.buggyCode,
    [`${b.instanceId}/${b.testPath}`]: b.testCode,
    [`${b.instanceId}/run_tests.py`]: runTestsScript(b.testPath, b.testFramework),
    [`${b.instanceId}/README.md`]: readme(b),
  };
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) {
    if (!(c instanceof Uint8Array)) throw new TypeError('the tar stream gave a chunk that is not bytes');
    chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

/** A tar.gz of the files; byte-for-byte the same for the same files (fixed times and owners). */
export async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)))
    p.entry({ name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, content);
  p.finalize();
  return gzipSync(await collect(p));
}

/** Reads a tar.gz back into path → text (for tests and tools). */
export async function untarGz(body: Buffer): Promise<Record<string, string>> {
  const x = extract();
  const out: Record<string, string> = {};
  const done = (async () => {
    for await (const entry of x) {
      out[entry.header.name] = (await collect(entry)).toString('utf8');
    }
  })();
  x.end(gunzipSync(body));
  await done;
  return out;
}

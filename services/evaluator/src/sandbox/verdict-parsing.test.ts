import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { RUNTIME_DIR } from './runtime-files.js';
import { SupervisorClient } from './supervisor-client.js';

const PYTHON = '/usr/bin/python3';

/** Runs supervisor_verdict.decide on result-pipe bytes built by `records` (Python expression). */
function decide(records: string, expected = 'None'): Record<string, unknown> {
  const script = [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(RUNTIME_DIR)})`,
    'import supervisor_verdict as v',
    `data = ${records}`,
    'facts = {"timed_out": False, "oom_kills": 0, "memory_limit": 1 << 28, "candidate_peak": 0,',
    '         "candidate_exit": None, "cpu_limit": 2}',
    `print(json.dumps(v.decide(v.parse_records(data), ${expected}, facts), allow_nan=False))`,
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Record<
    string,
    unknown
  >;
}

describe.skipIf(!existsSync(PYTHON))('supervisor verdict parsing', () => {
  it('turns deeply nested JSON, huge numbers and junk into the job failing, never an exception', () => {
    const hostile = [
      'b"[" * 100000 + b"]" * 100000 + b"\\n"',
      'b\'{"t": "final", "verdict": "failed", "tests": [{"name": "x", "outcome": "failed", "ms": 1\' + b"0" * 400 + b"}]}\\n"',
      'b\'{"t": "test", "name": "x", "outcome": "failed", "ms": NaN}\\n\'',
      'b"\\xff\\xfe garbage\\n" * 1000',
    ];
    for (const data of hostile) {
      const result = decide(data);
      expect(result.verdict).not.toBe('passed');
      expect(result.verdict).not.toBe('infra_error');
    }
  });

  it('keeps a reply small however many tests and messages the record has', () => {
    const record =
      '(json.dumps({"t": "final", "verdict": "failed", "tests": [{"name": "t" * 600, "outcome": "failed", "ms": 1e300, "message": "m" * 900}] * 2500}) + "\\n").encode()';
    const result = decide(record);
    const tests = result.tests as Array<{ name: string; message?: string; durationMs?: number }>;
    expect(tests.length).toBeLessThanOrEqual(2000);
    expect(tests.every((t) => t.name.length <= 500 && (t.message?.length ?? 0) <= 4000)).toBe(true);
    expect(tests.every((t) => t.durationMs === undefined)).toBe(true);
    expect(JSON.stringify(result).length).toBeLessThan(2 * 1024 * 1024);
  });

  it('accepts a pass only when it is consistent', () => {
    const pass = (tests: string) =>
      `(json.dumps({"t": "final", "verdict": "passed", "integrity": "checker", "tests": ${tests}}) + "\\n").encode()`;
    expect(decide(pass('[{"name": "a", "outcome": "passed"}]'), '1')).toMatchObject({ verdict: 'passed' });
    expect(decide(pass('[{"name": "a", "outcome": "failed"}]'), '1')).toMatchObject({
      verdict: 'failed',
      reason: 'inconsistent_report',
    });
    expect(decide(pass('[{"name": "a", "outcome": "passed"}]'), '2')).toMatchObject({
      verdict: 'failed',
      reason: 'test_count_mismatch',
    });
    expect(decide(pass('[]'))).toMatchObject({ verdict: 'failed' });
  });
});

describe('supervisor client', () => {
  it('reads a reply split into many chunks, and fails a line over its cap', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const client = new SupervisorClient(input, output);
    output.write('{"op": "ready", "protocol": 1}\n');
    await client.ready(1_000);
    const reply = client.run(
      { op: 'run', id: 'j1', job: { runner: 'mbpp', code: '', tests: '' }, limits: {} as never },
      10_000,
    );
    const line = `${JSON.stringify({ op: 'result', id: 'j1', verdict: 'failed', tests: [], stdout: 'x'.repeat(4_000_000) })}\n`;
    for (let i = 0; i < line.length; i += 4096) output.write(line.slice(i, i + 4096));
    expect(await reply).toMatchObject({ verdict: 'failed', integrity: 'checker' });

    const next = client.run(
      { op: 'run', id: 'j2', job: { runner: 'mbpp', code: '', tests: '' }, limits: {} as never },
      10_000,
    );
    const chunk = 'y'.repeat(1 << 20);
    for (let i = 0; i < 17; i++) output.write(chunk);
    await expect(next).rejects.toMatchObject({ code: 'desync' });
    expect(client.broken?.message).toMatch(/too long/);
  });
});

// The runtime directory is what the process sandbox runs.
it('ships the runtime files the supervisor needs', () => {
  for (const file of ['supervisor.py', 'zygote.py', 'efsbx_checker.py', 'efsbx_candidate.py', 'efsbx_codec.py'])
    expect(existsSync(join(RUNTIME_DIR, file)), file).toBe(true);
});

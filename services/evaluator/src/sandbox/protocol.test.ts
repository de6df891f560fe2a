import { describe, expect, it } from 'vitest';

import { hardenedContainerSpec } from './container-spec.js';
import { parseRunReply, runRequest, validateJob, validateProject } from './protocol.js';
import { EVALPLUS_LIMITS, type SandboxEvalPlusJob } from '@evalfleet/shared/workflow';
import type { SandboxCodeJob, SandboxProjectJob } from './types.js';

const base: SandboxCodeJob = {
  jobId: 'j',
  runner: 'humaneval',
  code: 'def f(): pass',
  tests: 'def check(c): pass',
  entryPoint: 'f',
  timeoutMs: 1000,
};
const limits = { memoryMb: 256, outputLimitBytes: 1024, fileSizeLimitBytes: 2048, openFiles: 64, processesPerJob: 32 };

describe('validateJob', () => {
  it('accepts a well-formed job', () => {
    expect(validateJob(base)).toBeUndefined();
  });

  it.each<[string, Partial<SandboxCodeJob>]>([
    ['unknown runner', { runner: 'jest' as SandboxCodeJob['runner'] }],
    ['missing entry point', { entryPoint: undefined }],
    ['entry point that is not an identifier', { entryPoint: 'f()' }],
    ['zero timeout', { timeoutMs: 0 }],
    ['module name with a path', { runner: 'pytest', moduleName: '../x' }],
    ['module name of the harness', { runner: 'pytest', moduleName: 'efsbx_report' }],
  ])('rejects %s', (_name, change) => {
    expect(validateJob({ ...base, ...change })).toEqual(expect.any(String));
  });
});

describe('validateProject', () => {
  const project: SandboxProjectJob = {
    jobId: 'p',
    runner: 'project',
    files: { 'pkg/__init__.py': '', 'pkg/data/words.txt': 'a b', 'tests/test_pkg.py': 'def test_a(): pass' },
    timeoutMs: 1000,
  };

  it('accepts a tree of packages, data files and tests, with test files and node ids', () => {
    expect(validateJob(project)).toBeUndefined();
    expect(
      validateProject({ ...project, testFiles: ['tests/test_pkg.py'], select: ['tests/test_pkg.py::test_a'] }),
    ).toBeUndefined();
  });

  it.each<[string, Partial<SandboxProjectJob>]>([
    ['no files', { files: {} }],
    ['an absolute path', { files: { '/etc/x.py': '' } }],
    ['a parent segment', { files: { 'a/../../x.py': '' } }],
    ['a dot segment', { files: { './x.py': '' } }],
    ['an empty segment', { files: { 'a//x.py': '' } }],
    ['a backslash', { files: { 'a\\..\\x.py': '' } }],
    ['a newline', { files: { 'a\nb.py': '' } }],
    ['a file that is also a directory', { files: { a: '', 'a/b.py': '' } }],
    ['a harness name', { files: { 'efsbx_report.py': '' } }],
    ['a file over the size cap', { files: { 'big.txt': 'x'.repeat(1024 * 1024 + 1) } }],
    [
      'too much in all',
      { files: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`f${i}`, 'x'.repeat(1 << 20)])) },
    ],
    ['a test file that is not in the project', { testFiles: ['tests/test_other.py'] }],
    [
      'a unittest file that is not a module path',
      { testFramework: 'unittest', files: { 'my-tests/test_a.py': '' }, testFiles: ['my-tests/test_a.py'] },
    ],
    ['an option smuggled in select', { select: ['-p', 'evil'] }],
    ['an unknown framework', { testFramework: 'nose' as 'pytest' }],
  ])('rejects %s', (_name, change) => {
    expect(validateProject({ ...project, ...change })).toEqual(expect.any(String));
  });

  it('sends the tree and options, and the job limit as the call limit', () => {
    const request = runRequest(
      'id-2',
      { ...project, callTimeoutMs: 10, select: ['tests/test_pkg.py::test_a'] },
      limits,
    );
    expect(request.job).toEqual({
      runner: 'project',
      files: project.files,
      testFramework: undefined,
      testFiles: undefined,
      select: ['tests/test_pkg.py::test_a'],
    });
    expect(request.limits.callTimeoutMs).toBe(1000);
  });
});

describe('runRequest', () => {
  it('caps a job memory request at the sandbox limit', () => {
    const request = runRequest('id-1', { ...base, memoryMb: 4096 }, limits);
    expect(request.limits).toEqual({
      timeoutMs: 1000,
      callTimeoutMs: 1000,
      memoryBytes: 256 * 1024 * 1024,
      outputBytes: 1024,
      fileBytes: 2048,
      openFiles: 64,
      processes: 32,
    });
    expect(request.job).toMatchObject({ runner: 'humaneval', entryPoint: 'f' });
  });
});

describe('parseRunReply', () => {
  it('keeps well-formed fields and drops malformed tests', () => {
    const reply = parseRunReply({
      op: 'result',
      id: 'x',
      verdict: 'failed',
      tests: [{ name: 'a', outcome: 'failed', durationMs: 1.5 }, { name: 'b', outcome: 'bogus' }, 'junk'],
      stdout: 'o',
      truncated: true,
      exitCode: 0,
      recycle: true,
      anomaly: 'left over',
    });
    expect(reply).toMatchObject({
      verdict: 'failed',
      tests: [{ name: 'a', outcome: 'failed', durationMs: 1.5 }],
      stdout: 'o',
      stderr: '',
      truncated: true,
      recycle: true,
      anomaly: 'left over',
      signal: null,
    });
  });

  it('rejects lines that are not results', () => {
    expect(parseRunReply({ op: 'result', id: 'x', verdict: 'maybe' })).toBeUndefined();
    expect(parseRunReply({ op: 'pong', id: 'x' })).toBeUndefined();
  });
});

describe('hardenedContainerSpec', () => {
  it('locks the container down', () => {
    const spec = hardenedContainerSpec({
      image: 'img',
      name: 'n',
      poolId: 'p',
      owner: 'h:1',
      uidBase: 100_000,
      limits: {
        memoryMb: 256,
        overheadMb: 128,
        cpus: 1,
        pidsLimit: 128,
        workDirSizeMb: 64,
        fileSizeLimitBytes: 1 << 24,
        openFiles: 256,
        processesPerJob: 64,
      },
    });
    expect(spec.NetworkDisabled).toBe(true);
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      CapAdd: ['SETUID', 'SETGID', 'KILL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Memory: 384 * 1024 * 1024,
      MemorySwap: 384 * 1024 * 1024,
      PidsLimit: 128,
      NanoCpus: 1e9,
      AutoRemove: true,
    });
    expect(spec.HostConfig?.Tmpfs?.['/work']).toMatch(/noexec.*mode=0711/);
    expect(spec.HostConfig).toMatchObject({ IpcMode: 'private', Sysctls: { 'kernel.shmall': '4096' } });
    expect(spec.Labels).toMatchObject({ 'org.evalfleet.sandbox': 'true', 'org.evalfleet.sandbox.pool': 'p' });
  });
});

describe('demultiplex', () => {
  it("splits Docker's framed stream, across chunk boundaries", async () => {
    const { PassThrough } = await import('node:stream');
    const { demultiplex } = await import('./demux.js');
    const frame = (type: number, text: string): Buffer => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const source = new PassThrough();
    const out = new PassThrough();
    const err = new PassThrough();
    const collected = { out: '', err: '' };
    out.on('data', (c: Buffer) => (collected.out += c.toString()));
    err.on('data', (c: Buffer) => (collected.err += c.toString()));
    demultiplex(source, out, err);
    const bytes = Buffer.concat([frame(1, '{"op":'), frame(2, 'log line\n'), frame(1, '"ready"}\n')]);
    source.write(bytes.subarray(0, 5));
    source.write(bytes.subarray(5, 20));
    source.end(bytes.subarray(20));
    await new Promise((resolve) => out.on('end', resolve).resume());
    expect(collected).toEqual({ out: '{"op":"ready"}\n', err: 'log line\n' });
  });

  it('passes a large frame on piece by piece, whatever the chunk boundaries', async () => {
    const { PassThrough } = await import('node:stream');
    const { demultiplex } = await import('./demux.js');
    const frame = (type: number, payload: Buffer): Buffer => {
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const big = Buffer.from('x'.repeat(1 << 20) + '\n');
    const bytes = Buffer.concat([frame(1, big), frame(2, Buffer.alloc(0)), frame(2, Buffer.from('e')), frame(1, big)]);
    const source = new PassThrough();
    const out = new PassThrough();
    const err = new PassThrough();
    const seen = { out: 0, err: '' };
    out.on('data', (c: Buffer) => (seen.out += c.length));
    err.on('data', (c: Buffer) => (seen.err += c.toString()));
    demultiplex(source, out, err);
    for (let at = 0; at < bytes.length; at += 1021) source.write(bytes.subarray(at, at + 1021));
    source.end();
    await new Promise((resolve) => out.on('end', resolve));
    expect(seen).toEqual({ out: 2 * big.length, err: 'e' });
  });
});

describe('evalplus jobs', () => {
  const check: SandboxEvalPlusJob = {
    jobId: 'e',
    runner: 'evalplus',
    code: 'def f(x):\n    return x\n',
    entryPoint: 'f',
    timeoutMs: 5000,
    evalplus: {
      mode: 'check',
      dataset: 'custom',
      taskId: 't/0',
      atol: 0,
      floorMs: 1000,
      factor: 4,
      phaseCapMs: 60_000,
      phases: [{ name: 'base', inputs: '[[1]]', expected: '["BQE="]', refMs: [0.1], indices: [0] }],
    },
  };

  it('sends the program, the entry point and the options, and nothing else', () => {
    expect(validateJob(check)).toBeUndefined();
    expect(runRequest('r', check, limits).job).toEqual({
      runner: 'evalplus',
      code: check.code,
      entryPoint: 'f',
      evalplus: check.evalplus,
    });
    const reference: SandboxEvalPlusJob = {
      ...check,
      evalplus: { mode: 'reference', dataset: 'mbpp', taskId: 'Mbpp/2', inputs: '[[1]]' },
    };
    expect(validateJob(reference)).toBeUndefined();
  });

  it.each<[string, Partial<SandboxEvalPlusJob> | Record<string, unknown>]>([
    ['no entry point', { entryPoint: '' }],
    ['no options', { evalplus: undefined }],
    ['an unknown mode', { evalplus: { ...check.evalplus, mode: 'grade' } }],
    ['no phases', { evalplus: { ...check.evalplus, phases: [] } }],
    ['three phases', { evalplus: { ...check.evalplus, phases: [1, 2, 3] } }],
    ['inputs that are not text', { evalplus: { ...check.evalplus, phases: [{ inputs: [[1]], expected: '[]' }] } }],
    ['data over the cap', { evalplus: { mode: 'reference', inputs: 'x'.repeat(EVALPLUS_LIMITS.dataBytes + 1) } }],
  ])('rejects %s', (_name, change) => {
    expect(validateJob({ ...check, ...change })).toEqual(expect.any(String));
  });

  it("keeps the checker's data in the reply", () => {
    const reply = parseRunReply({
      op: 'result',
      id: 'r',
      verdict: 'failed',
      tests: [],
      data: { base: 'pass', plus: 'fail' },
    });
    expect(reply?.data).toEqual({ base: 'pass', plus: 'fail' });
    expect(parseRunReply({ op: 'result', id: 'r', verdict: 'failed', data: [1] })?.data).toBeUndefined();
  });
});

import {
  EVALPLUS_LIMITS,
  projectProblem,
  type SandboxCodeJob,
  type SandboxEvalPlusJob,
  type SandboxMutantsJob,
  type SandboxProjectJob,
} from '@evalfleet/shared/workflow';

import type { Integrity, JobLimits, SandboxJob, SandboxResult, TestOutcome, Verdict } from './types.js';

/**
 * The supervisor protocol (services/evaluator/sandbox-runtime/supervisor.py): one JSON object per line,
 * requests on the supervisor's stdin, replies on its stdout.
 */
export const PROTOCOL_VERSION = 1;

const VERDICTS: readonly Verdict[] = ['passed', 'failed', 'error', 'timeout', 'oom', 'infra_error'];
const OUTCOMES: readonly TestOutcome['outcome'][] = ['passed', 'failed', 'error', 'skipped'];
const RUNNERS: readonly SandboxJob['runner'][] = [
  'humaneval',
  'mbpp',
  'pytest',
  'unittest',
  'project',
  'mutants',
  'evalplus',
];
const INTEGRITY: readonly Integrity[] = ['checker', 'handle', 'in-process'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const MAX_SOURCE_BYTES = 8 * 1024 * 1024;
const MAX_TIMEOUT_MS = 30 * 60_000;

export type RunRequest = {
  op: 'run';
  id: string;
  job:
    | Pick<SandboxCodeJob, 'runner' | 'code' | 'tests' | 'entryPoint' | 'setupCode' | 'moduleName' | 'trustedCode'>
    | Pick<SandboxProjectJob, 'runner' | 'files' | 'testFramework' | 'testFiles' | 'select'>
    | Pick<SandboxMutantsJob, 'runner' | 'files' | 'plan'>
    | Pick<SandboxEvalPlusJob, 'runner' | 'code' | 'entryPoint' | 'evalplus'>;
  limits: {
    timeoutMs: number;
    callTimeoutMs: number;
    memoryBytes: number;
    outputBytes: number;
    fileBytes: number;
    openFiles: number;
    processes: number;
  };
};

/** A reply as it left the supervisor, already checked for shape. */
export type RunReply = Omit<SandboxResult, 'passed' | 'sandbox'> & { id: string; recycle: boolean; anomaly?: string };

/** Why a job cannot be sent at all: verdict `error`, reason `invalid_job` (the caller's fault). */
export function validateJob(job: SandboxJob): string | undefined {
  if (!RUNNERS.includes(job.runner)) return `unknown runner ${String(job.runner)}`;
  if (!Number.isFinite(job.timeoutMs) || job.timeoutMs <= 0 || job.timeoutMs > MAX_TIMEOUT_MS) {
    return `timeoutMs must be in (0, ${MAX_TIMEOUT_MS}]`;
  }
  if (job.memoryMb !== undefined && (!Number.isFinite(job.memoryMb) || job.memoryMb < 32))
    return 'memoryMb must be >= 32';
  if (job.callTimeoutMs !== undefined && (!Number.isFinite(job.callTimeoutMs) || job.callTimeoutMs <= 0)) {
    return 'callTimeoutMs must be positive';
  }
  if (job.runner === 'project' || job.runner === 'mutants') return undefined; // files: projectProblem, invalid_project
  if (job.runner === 'evalplus') return evalplusProblem(job);
  if (typeof job.code !== 'string' || typeof job.tests !== 'string') return 'code and tests must be strings';
  if (
    Buffer.byteLength(job.code) +
      Buffer.byteLength(job.tests) +
      Buffer.byteLength(job.setupCode ?? '') +
      Buffer.byteLength(job.trustedCode ?? '') >
    MAX_SOURCE_BYTES
  ) {
    return `sources exceed ${MAX_SOURCE_BYTES} bytes`;
  }
  if (job.runner === 'humaneval' && !IDENTIFIER.test(job.entryPoint ?? '')) {
    return 'humaneval jobs need entryPoint, a Python identifier';
  }
  if (job.entryPoint !== undefined && !IDENTIFIER.test(job.entryPoint)) return 'entryPoint must be a Python identifier';
  if ((job.runner === 'pytest' || job.runner === 'unittest') && job.moduleName !== undefined) {
    if (!MODULE_NAME.test(job.moduleName) || job.moduleName.startsWith('efsbx_')) {
      return 'moduleName must be a Python identifier not starting with efsbx_';
    }
  }
  return undefined;
}

/** Why an evalplus job cannot be sent (the supervisor checks it again: efsbx_evalplus.job_files). */
function evalplusProblem(job: SandboxEvalPlusJob): string | undefined {
  if (typeof job.code !== 'string' || Buffer.byteLength(job.code) > MAX_SOURCE_BYTES)
    return `code must be a string of at most ${MAX_SOURCE_BYTES} bytes`;
  if (!IDENTIFIER.test(job.entryPoint ?? '')) return 'evalplus jobs need entryPoint, a Python identifier';
  const options: unknown = job.evalplus;
  if (!isRecord(options)) return 'evalplus jobs need their evalplus options';
  if (options.mode !== 'reference' && options.mode !== 'check') return 'evalplus.mode must be reference or check';
  let bytes = 0;
  if (options.mode === 'reference') {
    if (typeof options.inputs !== 'string') return 'evalplus.inputs must be a JSON array as text';
    bytes = options.inputs.length;
  } else {
    const phases: unknown = options.phases;
    if (!Array.isArray(phases) || phases.length === 0 || phases.length > 2)
      return 'evalplus.phases must hold one or two phases';
    for (const phase of phases as unknown[]) {
      if (!isRecord(phase) || typeof phase.inputs !== 'string' || typeof phase.expected !== 'string')
        return 'a phase needs inputs and expected outputs, JSON arrays as text';
      bytes += phase.inputs.length + phase.expected.length;
    }
  }
  // UTF-16 units: at most 3 bytes each in UTF-8, at least 1; the supervisor counts again.
  if (bytes > EVALPLUS_LIMITS.dataBytes) return `evalplus data exceed ${EVALPLUS_LIMITS.dataBytes} bytes`;
  return undefined;
}

/** Why a project's files or options are unacceptable: verdict `failed`, reason `invalid_project`. */
export function validateProject(job: SandboxJob): string | undefined {
  if (job.runner === 'mutants') return projectProblem({ files: job.files });
  return job.runner === 'project' ? projectProblem(job) : undefined;
}

function jobFields(job: SandboxJob): RunRequest['job'] {
  if (job.runner === 'mutants') return { runner: job.runner, files: job.files, plan: job.plan };
  if (job.runner === 'evalplus')
    return { runner: job.runner, code: job.code, entryPoint: job.entryPoint, evalplus: job.evalplus };
  if (job.runner === 'project') {
    return {
      runner: job.runner,
      files: job.files,
      testFramework: job.testFramework,
      testFiles: job.testFiles,
      select: job.select,
    };
  }
  return {
    runner: job.runner,
    code: job.code,
    tests: job.tests,
    entryPoint: job.entryPoint,
    setupCode: job.setupCode,
    moduleName: job.moduleName,
    trustedCode: job.trustedCode,
  };
}

export function runRequest(id: string, job: SandboxJob, limits: JobLimits): RunRequest {
  const memoryMb = Math.min(job.memoryMb ?? limits.memoryMb, limits.memoryMb);
  return {
    op: 'run',
    id,
    job: jobFields(job),
    limits: {
      timeoutMs: Math.ceil(job.timeoutMs),
      // A project's suite is one call into the candidate: only the job's limit applies.
      callTimeoutMs: Math.ceil(
        job.runner === 'project' || job.runner === 'mutants'
          ? job.timeoutMs
          : Math.min(job.callTimeoutMs ?? job.timeoutMs, job.timeoutMs),
      ),
      memoryBytes: Math.floor(memoryMb * 1024 * 1024),
      outputBytes: limits.outputLimitBytes,
      fileBytes: limits.fileSizeLimitBytes,
      openFiles: limits.openFiles,
      processes: limits.processesPerJob,
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseTests(value: unknown): TestOutcome[] {
  if (!Array.isArray(value)) return [];
  const tests: TestOutcome[] = [];
  for (const item of value) {
    if (!isRecord(item) || !OUTCOMES.includes(item.outcome as TestOutcome['outcome'])) continue;
    const test: TestOutcome = {
      name: typeof item.name === 'string' ? item.name : '',
      outcome: item.outcome as TestOutcome['outcome'],
    };
    if (typeof item.durationMs === 'number') test.durationMs = item.durationMs;
    if (typeof item.message === 'string') test.message = item.message;
    tests.push(test);
  }
  return tests;
}

/** Check a `result` line's shape; undefined when it is not one (a protocol desync). */
export function parseRunReply(message: Record<string, unknown>): RunReply | undefined {
  if (message.op !== 'result' || typeof message.id !== 'string') return undefined;
  if (!VERDICTS.includes(message.verdict as Verdict)) return undefined;
  const reply: RunReply = {
    id: message.id,
    verdict: message.verdict as Verdict,
    tests: parseTests(message.tests),
    stdout: typeof message.stdout === 'string' ? message.stdout : '',
    stderr: typeof message.stderr === 'string' ? message.stderr : '',
    truncated: message.truncated === true,
    durationMs: typeof message.durationMs === 'number' ? message.durationMs : 0,
    exitCode: typeof message.exitCode === 'number' ? message.exitCode : null,
    signal: typeof message.signal === 'string' ? message.signal : null,
    recycle: message.recycle === true,
    integrity: INTEGRITY.includes(message.integrity as Integrity) ? (message.integrity as Integrity) : 'checker',
  };
  if (typeof message.reason === 'string') reply.reason = message.reason;
  if (typeof message.message === 'string') reply.message = message.message;
  if (typeof message.anomaly === 'string') reply.anomaly = message.anomaly;
  if (isRecord(message.data)) reply.data = message.data;
  return reply;
}

export function toResult(reply: RunReply, sandbox: SandboxResult['sandbox']): SandboxResult {
  const result: SandboxResult = {
    verdict: reply.verdict,
    passed: reply.verdict === 'passed',
    tests: reply.tests,
    stdout: reply.stdout,
    stderr: reply.stderr,
    truncated: reply.truncated,
    durationMs: reply.durationMs,
    exitCode: reply.exitCode,
    signal: reply.signal,
    sandbox,
    integrity: reply.integrity,
  };
  if (reply.reason !== undefined) result.reason = reply.reason;
  if (reply.message !== undefined) result.message = reply.message;
  if (reply.data !== undefined) result.data = reply.data;
  return result;
}

/** A result that did not come from the supervisor: an invalid job, a backstop timeout or an infrastructure failure. */
export function syntheticResult(
  sandbox: SandboxResult['sandbox'],
  verdict: Verdict,
  reason: string,
  durationMs: number,
  message?: string,
): SandboxResult {
  const result: SandboxResult = {
    verdict,
    passed: false,
    tests: [],
    stdout: '',
    stderr: '',
    truncated: false,
    durationMs,
    exitCode: null,
    signal: null,
    reason,
    sandbox,
    integrity: 'checker',
  };
  if (message !== undefined) result.message = message;
  return result;
}

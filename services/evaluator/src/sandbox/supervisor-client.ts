import type { Readable, Writable } from 'node:stream';

import { PROTOCOL_VERSION, parseRunReply, type RunReply, type RunRequest } from './protocol.js';

/** Why a supervisor can no longer be used; the worker that owns it must be discarded. */
export type SupervisorFailureCode = 'lost' | 'desync' | 'backstop_timeout' | 'not_ready' | 'fatal';

export class SupervisorFailure extends Error {
  readonly code: SupervisorFailureCode;

  constructor(code: SupervisorFailureCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'SupervisorFailure';
  }
}

type Pending = {
  id: string;
  resolve: (reply: RunReply) => void;
  reject: (err: SupervisorFailure) => void;
  timer: NodeJS.Timeout;
};

/**
 * A reply carries at most two capped output streams (256 KiB each by default, up to 6x that as JSON escapes)
 * and capped test records (the supervisor keeps 2000 tests and 512 KiB of messages): far below this.
 */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * One supervisor's request/reply channel: a line of JSON out, a line of JSON back, one job at a time.
 * Anything unexpected (a line that is not the awaited reply, the stream ending, the backstop timer) marks the
 * client broken for good, because after that we cannot know what the supervisor is doing.
 */
export class SupervisorClient {
  /** Chunks of the line being received: each chunk is scanned once, so a long reply costs linear time. */
  private partial: string[] = [];
  private partialLength = 0;
  private pending: Pending | undefined;
  private failure: SupervisorFailure | undefined;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: SupervisorFailure) => void;

  private readonly input: Writable;

  constructor(input: Writable, output: Readable) {
    this.input = input;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A failure before anyone awaits ready() must not become an unhandled rejection.
    this.readyPromise.catch(() => undefined);
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.onData(chunk));
    output.on('end', () => this.fail(new SupervisorFailure('lost', 'supervisor output ended')));
    output.on('error', (err: Error) =>
      this.fail(new SupervisorFailure('lost', `supervisor output failed: ${err.message}`)),
    );
    input.on('error', (err: Error) =>
      this.fail(new SupervisorFailure('lost', `supervisor input failed: ${err.message}`)),
    );
  }

  get broken(): SupervisorFailure | undefined {
    return this.failure;
  }

  /** Resolves once the supervisor announced itself; rejects after `timeoutMs` or if it dies first. */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SupervisorFailure('not_ready', `supervisor not ready after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.readyPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Send one job; the reply, or a SupervisorFailure (the backstop fires after `backstopMs`). */
  run(request: RunRequest, backstopMs: number): Promise<RunReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new SupervisorFailure('desync', 'a job is already in flight'));
    return new Promise<RunReply>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new SupervisorFailure('backstop_timeout', `no reply within ${backstopMs} ms`)),
        backstopMs,
      );
      this.pending = { id: request.id, resolve, reject, timer };
      this.input.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Ask the supervisor to exit after its current job (it also exits on EOF). */
  shutdown(): void {
    if (!this.input.writableEnded && !this.input.destroyed) this.input.end(`${JSON.stringify({ op: 'shutdown' })}\n`);
  }

  private onData(chunk: string): void {
    if (this.failure) return;
    let start = 0;
    let newline = chunk.indexOf('\n');
    while (newline >= 0) {
      this.partial.push(chunk.slice(start, newline));
      const line = this.partial.join('');
      this.partial = [];
      this.partialLength = 0;
      if (line.trim() !== '') this.onLine(line);
      if (this.failure) return;
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) {
      this.partial.push(start === 0 ? chunk : chunk.slice(start));
      this.partialLength += chunk.length - start;
      if (this.partialLength > MAX_LINE_CHARS) this.fail(new SupervisorFailure('desync', 'reply line too long'));
    }
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.fail(new SupervisorFailure('desync', `not JSON: ${line.slice(0, 200)}`));
      return;
    }
    if (typeof message !== 'object' || message === null) {
      this.fail(new SupervisorFailure('desync', `not an object: ${line.slice(0, 200)}`));
      return;
    }
    const record = message as Record<string, unknown>;
    if (record.op === 'ready') {
      if (record.protocol !== PROTOCOL_VERSION) {
        this.fail(
          new SupervisorFailure(
            'fatal',
            `supervisor speaks protocol ${String(record.protocol)}, we speak ${PROTOCOL_VERSION}`,
          ),
        );
      } else {
        this.resolveReady();
      }
      return;
    }
    if (record.op === 'fatal') {
      this.fail(new SupervisorFailure('fatal', `supervisor refused to start: ${String(record.reason)}`));
      return;
    }
    const reply = parseRunReply(record);
    const pending = this.pending;
    if (!reply || !pending || reply.id !== pending.id) {
      this.fail(new SupervisorFailure('desync', `unexpected line: ${line.slice(0, 200)}`));
      return;
    }
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.resolve(reply);
  }

  private fail(failure: SupervisorFailure): void {
    if (this.failure) return;
    this.failure = failure;
    this.rejectReady(failure);
    const pending = this.pending;
    if (pending) {
      clearTimeout(pending.timer);
      this.pending = undefined;
      pending.reject(failure);
    }
  }
}

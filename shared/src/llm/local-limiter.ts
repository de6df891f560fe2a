import Bottleneck from 'bottleneck';
import { RetryableError } from '../errors/index.js';
import { LlmErrorCodes } from './types.js';

export interface LocalLimiterOptions {
  /** Provider calls in flight in this process at most. */
  maxConcurrent: number;
  /** Least time between two call starts in this process, in ms (0: no spacing). */
  minTimeMs?: number;
}

/** This process's cap on calls in flight and their spacing; the fleet-wide limits live in Redis. */
export interface LocalLimiter {
  /**
   * Runs `fn` once a slot is free, in arrival order. A `signal` that aborts while the call waits
   * rejects with a RetryableError('request_aborted') whose `details.dispatched` is false.
   */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly running: number;
  readonly queued: number;
  /** Lets running calls finish and refuses queued and new ones. */
  stop(): Promise<void>;
}

function abortedWhileQueued(): RetryableError {
  return new RetryableError(LlmErrorCodes.aborted, 'request aborted while waiting for a call slot', {
    details: { dispatched: false },
  });
}

export function createLocalLimiter(options: LocalLimiterOptions): LocalLimiter {
  if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
    throw new RangeError(`maxConcurrent must be a positive integer, got ${options.maxConcurrent}`);
  }
  const minTime = options.minTimeMs ?? 0;
  if (!Number.isFinite(minTime) || minTime < 0) throw new RangeError(`minTimeMs must be >= 0, got ${minTime}`);
  const bottleneck = new Bottleneck({ maxConcurrent: options.maxConcurrent, minTime });
  let stopping: Promise<void> | undefined;

  return {
    async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted === true) throw abortedWhileQueued();
      if (stopping !== undefined) {
        throw new RetryableError('shutting_down', 'the model caller is closing', { details: { dispatched: false } });
      }
      let started = false;
      const job = bottleneck.schedule(() => {
        started = true;
        // Aborted while queued: give the slot straight back without calling anyone.
        if (signal?.aborted === true) return Promise.reject(abortedWhileQueued());
        return fn();
      });
      if (signal === undefined) return job;
      // Bottleneck cannot withdraw a queued job, so a caller that gives up stops listening to it;
      // the job then runs the check above and rejects into this handler.
      job.catch(() => undefined);
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => {
          if (!started) reject(abortedWhileQueued());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        job.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
    get running() {
      return bottleneck.counts().EXECUTING;
    },
    get queued() {
      const counts = bottleneck.counts();
      return counts.RECEIVED + counts.QUEUED + counts.RUNNING;
    },
    stop() {
      stopping ??= bottleneck.stop({ dropWaitingJobs: false });
      return stopping;
    },
  };
}

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ResolvedOptions } from './options.js';
import { scopeRedisKeys } from './scope.js';
import { runScript } from './script-runner.js';

/** One of this process's reservations, remembered so it can be put back if Redis loses the scope. */
interface OwnReservation {
  /** Admission time in Redis time (ms), as the log scored it. */
  score: string;
  tokens: number;
  /** performance.now() at admission: only used to forget it once it has surely left the window. */
  at: number;
}

/**
 * What this process knows about one scope: the state epoch it last saw and its own live reservations.
 * When Redis comes back without the scope's state (or with a new epoch), the reservations are
 * replayed with their original Redis timestamps, so the window is what it was before the loss.
 */
export class ScopeState {
  readonly key: string;
  readonly keys: [string, string, string, string];
  epoch = '';
  /** Last provider-reported caps sent to Redis, so unchanged headers cost no round trip. */
  capRpm = '';
  capTpm = '';
  private readonly own = new Map<string, OwnReservation>();
  private replaying: Promise<void> | undefined;
  private readonly redis: Redis;
  private readonly options: ResolvedOptions;

  constructor(key: string, redis: Redis, options: ResolvedOptions) {
    this.key = key;
    this.keys = scopeRedisKeys(key);
    this.redis = redis;
    this.options = options;
  }

  /** The epoch to send: only an instance that holds live reservations can tell that state was lost. */
  knownEpoch(): string {
    return this.liveCount() > 0 ? this.epoch : '';
  }

  remember(id: string, score: string, tokens: number, epoch: string): void {
    this.epoch = epoch;
    this.own.set(id, { score, tokens, at: performance.now() });
  }

  update(id: string, tokens: number): void {
    const entry = this.own.get(id);
    if (entry !== undefined) entry.tokens = tokens;
  }

  forget(id: string): void {
    this.own.delete(id);
  }

  liveCount(): number {
    // A second past the window on our own clock: by then the log has expired it in Redis time too.
    const horizon = performance.now() - this.options.windowMs - 1000;
    for (const [id, entry] of this.own) if (entry.at < horizon) this.own.delete(id);
    return this.own.size;
  }

  /** Puts this process's live reservations into the scope's new state, then adopts its epoch. */
  replay(epoch: string): Promise<void> {
    this.replaying ??= this.replayOnce(epoch).finally(() => {
      this.replaying = undefined;
    });
    return this.replaying;
  }

  private async replayOnce(epoch: string): Promise<void> {
    this.liveCount();
    const entries = [...this.own.entries()];
    for (let i = 0; i < entries.length || i === 0; i += 300) {
      const args: (string | number)[] = [epoch, this.options.windowMs];
      for (const [id, entry] of entries.slice(i, i + 300)) args.push(id, entry.score, entry.tokens);
      const [outcome] = await runScript(this.redis, 'replay', this.keys, args);
      // Someone recreated the state again meanwhile: the next acquire or heartbeat sees the newer epoch.
      if (outcome === 'stale') return;
    }
    this.epoch = epoch;
  }

  /** Heartbeat: marks this instance live and replays if the scope's state was lost or recreated. */
  async touch(instanceId: string): Promise<number> {
    const known = this.knownEpoch();
    const [epoch = '', live = '0'] = await runScript(this.redis, 'touch', this.keys, [
      instanceId,
      known,
      randomUUID(),
      this.options.warmupMs,
      youngMs(this.options),
      this.options.heartbeatMs * 3,
    ]);
    if (known !== '' && epoch !== known) await this.replay(epoch);
    else if (known === '') this.epoch = epoch;
    return Number(live);
  }
}

/** Redis younger than this may have restarted empty within the last window: new state then warms up. */
export function youngMs(options: ResolvedOptions): number {
  return options.windowMs + options.warmupMs;
}

import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/script.js';

// Reserve `amount` against a run's budget only if spent + reserved + amount stays within it.
// Values are micro-dollars (integers) so concurrent INCRBYs never drift.
const reserveScript = new LuaScript(`
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local reserved = tonumber(redis.call('GET', KEYS[2]) or '0')
local amount = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
if spent + reserved + amount > budget then
  return {0, spent, reserved}
end
redis.call('INCRBY', KEYS[2], amount)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {1, spent, reserved + amount}
`);

// Settle a reservation: release what was held, add what was really spent.
const settleScript = new LuaScript(`
local reserved = redis.call('DECRBY', KEYS[2], ARGV[1])
if reserved < 0 then redis.call('SET', KEYS[2], '0') end
local spent = redis.call('INCRBY', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return spent
`);

const micro = (usd: number) => Math.max(0, Math.ceil(usd * 1_000_000));

export type BudgetReservation = {
  /** Releases the hold and records the call's actual cost. */
  settle(actualUsd: number): Promise<void>;
};

/**
 * A run's spending limit, shared by the whole fleet. Before a call, the worst case cost
 * (prompt estimate + max output tokens at list price) is held; the call is refused when
 * spent + held + this call would pass the budget, so concurrent workers cannot overshoot.
 */
export class RunBudget {
  // Plain fields, not parameter properties: the benchmarks run these sources with type stripping only.
  private readonly redis: Redis;
  private readonly ttlSeconds: number;

  constructor(redis: Redis, ttlSeconds = 14 * 24 * 3600) {
    this.redis = redis;
    this.ttlSeconds = ttlSeconds;
  }

  private keys(runId: string): [string, string] {
    return [`run:${runId}:spend`, `run:${runId}:spend-held`];
  }

  /** Holds `worstCaseUsd` of `budgetUsd`; undefined when the run cannot afford the call. */
  async reserve(runId: string, budgetUsd: number, worstCaseUsd: number): Promise<BudgetReservation | undefined> {
    const [spentKey, heldKey] = this.keys(runId);
    const amount = micro(worstCaseUsd);
    const reply = (await reserveScript.run(
      this.redis,
      [spentKey, heldKey],
      [amount, micro(budgetUsd), this.ttlSeconds],
    )) as number[];
    if (reply[0] !== 1) return undefined;
    let settled = false;
    return {
      settle: async (actualUsd: number) => {
        if (settled) return;
        settled = true;
        await settleScript.run(this.redis, [spentKey, heldKey], [amount, micro(actualUsd), this.ttlSeconds]);
      },
    };
  }

  /** Records spend that needed no reservation (e.g. runs without a budget). */
  async record(runId: string, actualUsd: number): Promise<void> {
    const [spentKey] = this.keys(runId);
    await this.redis.multi().incrby(spentKey, micro(actualUsd)).expire(spentKey, this.ttlSeconds).exec();
  }

  async spentUsd(runId: string): Promise<number> {
    const [spentKey] = this.keys(runId);
    return Number((await this.redis.get(spentKey)) ?? '0') / 1_000_000;
  }
}

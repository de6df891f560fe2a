/**
 * The limiter's Redis Lua scripts. Every script takes the scope's four keys (state hash, reservation
 * log, reservation tokens, live instances: see `scopeRedisKeys`) and reads the time with Redis `TIME`,
 * so no worker's clock is ever trusted.
 *
 * The reservation log is a sorted set of reservation ids scored by admission time; each id's tokens
 * sit in a hash and their sum in the state's `used` field. A reservation gives its request and tokens
 * back exactly one window after it was admitted: a token bucket whose spent tokens return a window
 * later instead of trickling back. Unlike a continuously refilled bucket it can never admit more than
 * the limit in any window (which is how sliding-window providers count), it admits any request up to
 * the whole limit, and it lets a saturated fleet use the whole window.
 */

/** Shared by all scripts: time, number formatting, state creation, expiry, the adaptive rate factor. */
const prelude = `
local S, L, T, H = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
-- Lua's tostring keeps 14 digits, too few for a millisecond timestamp with a fraction.
local function fmt(x) return string.format('%.3f', x) end
local function num(v, default) if v then return tonumber(v) end return default end
-- The state outlives its window (pauses, rate factor, caps) but not a day without use.
local function keep_state() redis.call('PEXPIRE', S, 86400000) end

-- A scope with no state is either new or was lost (Redis restarted without persistence, or flushed).
-- Lost state must not look like an empty window: the scope pauses for 'warmup' ms while every live
-- instance replays its reservations. Lost is known when the caller still holds reservations, or
-- suspected when Redis itself started less than 'young' ms ago.
local function ensure_state(known, fresh, warmup, young)
  local epoch = redis.call('HGET', S, 'epoch')
  if epoch then
    keep_state()
    return epoch
  end
  redis.call('DEL', L, T)
  local lost = known ~= ''
  if not lost and warmup > 0 then
    local up = string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)')
    lost = up ~= nil and tonumber(up) * 1000 < young
  end
  redis.call('HSET', S, 'epoch', fresh, 'used', 0)
  if lost and warmup > 0 and now + warmup > num(redis.call('HGET', S, 'pause'), 0) then
    redis.call('HSET', S, 'pause', fmt(now + warmup), 'pause_reason', 'warmup')
  end
  keep_state()
  return fresh
end

-- Drops reservations older than the window and returns (requests, tokens) still in it.
local function expire(window)
  local cutoff = '(' .. fmt(now - window)
  local freed, removed = 0, 0
  while true do
    local ids = redis.call('ZRANGEBYSCORE', L, '-inf', cutoff, 'LIMIT', 0, 500)
    if #ids == 0 then break end
    local toks = redis.call('HMGET', T, unpack(ids))
    for i = 1, #toks do freed = freed + num(toks[i], 0) end
    redis.call('HDEL', T, unpack(ids))
    redis.call('ZREM', L, unpack(ids))
    removed = removed + #ids
  end
  local count = redis.call('ZCARD', L)
  local used = num(redis.call('HGET', S, 'used'), 0)
  if removed > 0 or (count == 0 and used ~= 0) then
    used = used - freed
    if count == 0 or used < 0 then used = 0 end
    redis.call('HSET', S, 'used', used)
  end
  return count, used
end

-- Fraction of the configured limits in force: cut on 429s, recovering linearly per period.
local function rate_factor(recover, period)
  local f = num(redis.call('HGET', S, 'factor'), 1)
  if f >= 1 then return 1 end
  f = f + recover * (now - num(redis.call('HGET', S, 'factor_at'), now)) / period
  if f > 1 then return 1 end
  return f
end

local function clear_hold() redis.call('HDEL', S, 'hold_id', 'hold_tok', 'hold_until', 'hold_since') end
`;

/**
 * ARGV: id, tokens, rpm, tpm (0 = none), window (period + margin), period, known epoch, fresh epoch,
 * warmup, young, recover per period, wait budget, hold slack, ms waited so far.
 * Replies: {admitted, 0, epoch, score, tracked} | {wait, ms, epoch, reason, holder} |
 * {too_large, 0, epoch, limit} | {replay, 0, epoch}.
 */
const acquireBody = `
local id, tokens = ARGV[1], tonumber(ARGV[2])
local rpm, tpm = tonumber(ARGV[3]), tonumber(ARGV[4])
local window, period = tonumber(ARGV[5]), tonumber(ARGV[6])
local known = ARGV[7]
local epoch = ensure_state(known, ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]))
if known ~= '' and known ~= epoch then return {'replay', '0', epoch} end

-- A call retried after a lost reply must not be admitted twice.
local score = redis.call('ZSCORE', L, id)
if score then return {'admitted', '0', epoch, score, '1'} end

-- Limits the provider reports win when they are lower than ours.
local cap_r, cap_t = num(redis.call('HGET', S, 'cap_rpm'), 0), num(redis.call('HGET', S, 'cap_tpm'), 0)
if cap_r > 0 and (rpm == 0 or cap_r < rpm) then rpm = cap_r end
if cap_t > 0 and (tpm == 0 or cap_t < tpm) then tpm = cap_t end
if tpm > 0 and tokens > tpm then return {'too_large', '0', epoch, tostring(tpm)} end

local pause = num(redis.call('HGET', S, 'pause'), 0)
if pause > now then
  return {'wait', tostring(math.ceil(pause - now)), epoch, redis.call('HGET', S, 'pause_reason') or 'paused', '0'}
end
if rpm == 0 and tpm == 0 then return {'admitted', '0', epoch, fmt(now), '0'} end

local count, used = expire(window)
local recover = tonumber(ARGV[11])
local f = rate_factor(recover, period)
local rpm_eff, tpm_eff = 0, 0
if rpm > 0 then rpm_eff = math.max(1, math.floor(rpm * f)) end
if tpm > 0 then tpm_eff = math.max(1, math.floor(tpm * f)) end
if tpm_eff > 0 and tokens > tpm_eff then
  -- Only the reduced rate keeps this request out: wait until it has recovered enough.
  return {'wait', tostring(math.ceil((tokens / tpm - f) * period / recover)), epoch, 'reduced', '0'}
end

-- The longest-waiting request holds the capacity it needs, so a stream of small requests cannot
-- starve a large one: others are admitted only into what is left beside the hold.
local h = redis.call('HMGET', S, 'hold_id', 'hold_tok', 'hold_until', 'hold_since')
local mine = h[1] == id
local active = h[1] and not mine and num(h[3], 0) > now
local xr, xt = 0, 0
if active then xr, xt = 1, num(h[2], 0) end

if (rpm_eff == 0 or count + 1 + xr <= rpm_eff) and (tpm_eff == 0 or used + tokens + xt <= tpm_eff) then
  redis.call('ZADD', L, fmt(now), id)
  redis.call('HSET', T, id, tokens)
  redis.call('HSET', S, 'used', used + tokens)
  local ttl = math.ceil(window * 2) + 1000
  redis.call('PEXPIRE', L, ttl)
  redis.call('PEXPIRE', T, ttl)
  if mine then clear_hold() end
  return {'admitted', '0', epoch, fmt(now), '1'}
end

-- When will enough reservations have expired? nil: never, while the hold stands.
local function wait_for(xr, xt)
  local wait = 0
  if rpm_eff > 0 then
    local k = count + 1 + xr - rpm_eff
    if k > count then return nil end
    if k > 0 then
      local e = redis.call('ZRANGE', L, k - 1, k - 1, 'WITHSCORES')
      wait = math.max(wait, tonumber(e[2]) + window - now)
    end
  end
  if tpm_eff > 0 then
    local need = used + tokens + xt - tpm_eff
    if need > 0 then
      if tokens + xt > tpm_eff then return nil end
      local freed, start, found = 0, 0, false
      while not found do
        local es = redis.call('ZRANGE', L, start, start + 199, 'WITHSCORES')
        if #es == 0 then break end
        local ids = {}
        for i = 1, #es, 2 do ids[#ids + 1] = es[i] end
        local toks = redis.call('HMGET', T, unpack(ids))
        for i = 1, #ids do
          freed = freed + num(toks[i], 0)
          if freed >= need then
            wait = math.max(wait, tonumber(es[2 * i]) + window - now)
            found = true
            break
          end
        end
        start = start + 200
      end
      if not found then return nil end
    end
  end
  return wait
end

local budget, slack, since = tonumber(ARGV[12]), tonumber(ARGV[13]), now - tonumber(ARGV[14])
local wait = wait_for(xr, xt)
local holder = false
if mine or not active or since < num(h[4], now) then
  local own = wait
  if active then own = wait_for(0, 0) end
  if own ~= nil and own <= budget then
    wait, holder = own, true
    redis.call('HSET', S, 'hold_id', id, 'hold_tok', tokens, 'hold_until', fmt(now + own + slack), 'hold_since', fmt(since))
  elseif mine then
    clear_hold()
  end
end
if wait == nil then
  if active then wait = num(h[3], now) - now else wait = window end
end
local flag = '0'
if holder then flag = '1' end
return {'wait', tostring(math.max(1, math.ceil(wait))), epoch, 'capacity', flag}
`;

/** ARGV: id, tokens. Sets a reservation's tokens to what the call really used. Reply: {ok|missing, delta}. */
const reconcileBody = `
local old = redis.call('HGET', T, ARGV[1])
if not old then return {'missing', '0'} end
local delta = tonumber(ARGV[2]) - tonumber(old)
redis.call('HSET', T, ARGV[1], ARGV[2])
redis.call('HINCRBY', S, 'used', delta)
return {'ok', tostring(delta)}
`;

/** ARGV: id. Gives a reservation (request and tokens) back, and the hold if it had one. Reply: {ok|missing}. */
const cancelBody = `
if redis.call('HGET', S, 'hold_id') == ARGV[1] then clear_hold() end
local old = redis.call('HGET', T, ARGV[1])
redis.call('ZREM', L, ARGV[1])
if not old then return {'missing'} end
redis.call('HDEL', T, ARGV[1])
redis.call('HINCRBY', S, 'used', -tonumber(old))
return {'ok'}
`;

/**
 * ARGV: pause ms, pause reason, 429 (1/0), decrease, floor, recover per period, period, decrease
 * cooldown, cap rpm, cap tpm ('' leave, '0' clear). Reply: {factor, paused for ms, decreased}.
 */
const observeBody = `
local pause_ms = tonumber(ARGV[1])
local until_ = num(redis.call('HGET', S, 'pause'), 0)
if pause_ms > 0 and now + pause_ms > until_ then
  until_ = now + pause_ms
  redis.call('HSET', S, 'pause', fmt(until_), 'pause_reason', ARGV[2])
end
local f = rate_factor(tonumber(ARGV[6]), tonumber(ARGV[7]))
local decreased = '0'
-- Many instances see the same burst of 429s: one cut per cooldown, not one per answer.
if ARGV[3] == '1' and now - num(redis.call('HGET', S, 'dec_at'), 0) >= tonumber(ARGV[8]) then
  f = math.max(tonumber(ARGV[5]), f * tonumber(ARGV[4]))
  redis.call('HSET', S, 'factor', string.format('%.6f', f), 'factor_at', fmt(now), 'dec_at', fmt(now))
  decreased = '1'
end
for i, field in ipairs({'cap_rpm', 'cap_tpm'}) do
  local v = ARGV[8 + i]
  if v == '0' then redis.call('HDEL', S, field) elseif v ~= '' then redis.call('HSET', S, field, v) end
end
keep_state()
return {string.format('%.6f', f), tostring(math.max(0, math.ceil(until_ - now))), decreased}
`;

/**
 * ARGV: instance id, known epoch, fresh epoch, warmup, young, live ttl. Marks the instance live and
 * creates lost state (with its warm-up pause). Reply: {epoch, live instances}.
 */
const touchBody = `
local epoch = ensure_state(ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
local ttl = tonumber(ARGV[6])
redis.call('ZADD', H, fmt(now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', H, '-inf', '(' .. fmt(now - ttl))
redis.call('PEXPIRE', H, math.ceil(ttl * 2))
return {epoch, tostring(redis.call('ZCARD', H))}
`;

/** ARGV: instance id. */
const leaveBody = `
redis.call('ZREM', H, ARGV[1])
return {'ok'}
`;

/**
 * ARGV: epoch, window, then (id, score, tokens) triples: puts an instance's own reservations back
 * after the state was lost. Reply: {ok|stale, added}.
 */
const replayBody = `
if redis.call('HGET', S, 'epoch') ~= ARGV[1] then return {'stale', '0'} end
local window = tonumber(ARGV[2])
local added, sum = 0, 0
for i = 3, #ARGV, 3 do
  local id, score, tok = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if score > now - window and not redis.call('ZSCORE', L, id) then
    redis.call('ZADD', L, ARGV[i + 1], id)
    redis.call('HSET', T, id, tok)
    added, sum = added + 1, sum + tok
  end
end
if added > 0 then
  redis.call('HINCRBY', S, 'used', sum)
  local ttl = math.ceil(window * 2) + 1000
  redis.call('PEXPIRE', L, ttl)
  redis.call('PEXPIRE', T, ttl)
end
return {'ok', tostring(added)}
`;

/**
 * ARGV: window, recover per period, period, live ttl.
 * Reply: {epoch, requests, tokens, factor, paused for ms, pause reason, live, cap rpm, cap tpm}.
 */
const statusBody = `
local epoch = redis.call('HGET', S, 'epoch')
local count, used = 0, 0
if epoch then count, used = expire(tonumber(ARGV[1])) end
local f = rate_factor(tonumber(ARGV[2]), tonumber(ARGV[3]))
local pause = num(redis.call('HGET', S, 'pause'), 0)
local live = redis.call('ZCOUNT', H, '(' .. fmt(now - tonumber(ARGV[4])), '+inf')
return {epoch or '', tostring(count), tostring(used), string.format('%.6f', f),
  tostring(math.max(0, math.ceil(pause - now))), redis.call('HGET', S, 'pause_reason') or '',
  tostring(live), redis.call('HGET', S, 'cap_rpm') or '', redis.call('HGET', S, 'cap_tpm') or ''}
`;

export const scriptSources = {
  acquire: prelude + acquireBody,
  reconcile: prelude + reconcileBody,
  cancel: prelude + cancelBody,
  observe: prelude + observeBody,
  touch: prelude + touchBody,
  leave: prelude + leaveBody,
  replay: prelude + replayBody,
  status: prelude + statusBody,
} as const;

export type ScriptName = keyof typeof scriptSources;

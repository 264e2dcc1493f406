-- The pre-trade check's atomic step for one account (DESIGN.md "The hot path").
-- Every key is in the account's cluster slot (hash tag {acct:<bucket>}): the account's
-- risk hash, this order's record, its open orders, its kill switch, the bucket's "synced"
-- flag, decision stream, policy hash and expiry index. Reads, checks, reservation,
-- idempotency record and the durable decision record happen in one step, so no
-- interleaving can exceed a limit. Numbers are integers (lots, micro-units of the quote
-- currency): Lua doubles stay exact.
--
-- KEYS: 1 risk hash, 2 order record, 3 open orders (zset), 4 kill key, 5 synced flag,
--       6 decision stream, 7 policy hash, 8 the bucket's expiry index (zset)
-- ARGV: 1 now_ms, 2 order_id, 3 fingerprint, 4 instrument, 5 side, 6 lots, 7 margin,
--       8 max_position_lots, 9 must_reduce, 10 reduce_only, 11 stateless_reject,
--       12 rate_interval_ms, 13 rate_burst, 14 expires_ms, 15 record json,
--       16 open_interest ("ok" | "held" | "exceeded" | "none"), 17 idempotency window ms,
--       18 account id, 19 the account's key prefix, 20..22 the rules, instruments and
--       sessions versions the stateless stage used, 23 the account's facts version used,
--       24 the answer's parts kept for a repeat of the order (a subset of the record)
-- Returns: {status, decision, codes, reduces, stored record or announced versions}
--   status: new | duplicate | conflict | unsynced | unpublished | stale

local risk, order_key, open, kill, synced, stream, policy, expiry =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local now = tonumber(ARGV[1])
local order_id, fingerprint, instrument, side = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local lots, margin, max_lots = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local must_reduce, reduce_only, stateless_reject = ARGV[9] == '1', ARGV[10] == '1', ARGV[11] == '1'
local interval, burst, expires_at = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local record, open_interest, window = ARGV[15], ARGV[16], tonumber(ARGV[17])
local account, prefix, replay = ARGV[18], ARGV[19], ARGV[24]

if redis.call('EXISTS', synced) == 0 then
  return {'unsynced', 'reject', '', '0', ''}
end

local previous = redis.call('GET', order_key)
if previous then
  local stored = cjson.decode(previous)
  local status = (stored.fp == fingerprint) and 'duplicate' or 'conflict'
  if status == 'duplicate' and stored.decision == 'accept' and not stored.acked then
    -- Answered now, if its own step's reply was lost: no in-doubt void may take it back.
    stored.acked = 1
    redis.call('SET', order_key, cjson.encode(stored), 'KEEPTTL')
  end
  return {status, stored.decision, stored.codes, tostring(stored.reduces), stored.record}
end

-- Read-your-writes (core/policy.py): decide only with what every acknowledged change says.
local announced = redis.call('HMGET', policy, 'r', 'i', 's', 'a:' .. account)
if not announced[1] then return {'unpublished', 'reject', '', '0', {}} end
local newer = {}
local names = {'r', 'i', 's', 'a:' .. account}
for n = 1, 4 do
  if announced[n] and tonumber(announced[n]) > tonumber(ARGV[19 + n]) then
    newer[#newer + 1] = names[n]
    newer[#newer + 1] = announced[n]
  end
end
if #newer > 0 then return {'stale', 'reject', '', '0', newer} end

-- Release this account's expired reservations first, so a check is exact at any instant.
local expired = redis.call('ZRANGEBYSCORE', open, '-inf', now, 'LIMIT', 0, 32)
for _, expired_id in ipairs(expired) do
  release_expired(prefix, account, expired_id, expiry, now)
end

local codes = {}
if redis.call('EXISTS', kill) == 1 then table.insert(codes, 'KILL_SWITCH') end

-- Message rate (GCRA, as go-redis/redis_rate): every new order counts, accepted or not.
local tat = tonumber(redis.call('HGET', risk, 'tat') or '0')
local new_tat = math.max(tat, now) + interval
if new_tat - now > burst * interval then
  table.insert(codes, 'RATE_LIMIT')
else
  redis.call('HSET', risk, 'tat', int(new_tat))
end

local position = tonumber(redis.call('HGET', risk, 'p:' .. instrument) or '0')
local reserved_buy = tonumber(redis.call('HGET', risk, 'rb:' .. instrument) or '0')
local reserved_sell = tonumber(redis.call('HGET', risk, 'rs:' .. instrument) or '0')

-- An order reduces when, together with every open order on its side, it cannot grow or
-- flip the position.
local reduces, exposure
if side == 'buy' then
  reduces = position < 0 and reserved_buy + lots <= -position
  exposure = math.abs(position + reserved_buy + lots)
else
  reduces = position > 0 and reserved_sell + lots <= position
  exposure = math.abs(position - reserved_sell - lots)
end

if reduce_only and not reduces then table.insert(codes, 'REDUCE_ONLY_VIOLATION') end
if must_reduce and not reduces then table.insert(codes, 'UNLESS_REDUCING') end
if not reduces then
  if exposure > max_lots then table.insert(codes, 'POSITION_LIMIT') end
  if open_interest == 'exceeded' then table.insert(codes, 'OPEN_INTEREST_LIMIT') end
  local collateral = tonumber(redis.call('HGET', risk, 'collateral') or '0')
  local reserved = tonumber(redis.call('HGET', risk, 'm_res') or '0')
  local used = tonumber(redis.call('HGET', risk, 'm_used') or '0')
  if margin > collateral - reserved - used then table.insert(codes, 'INSUFFICIENT_MARGIN') end
end

local decision = 'accept'
if stateless_reject or #codes > 0 then decision = 'reject' end
local reserved_margin = 0
local code_list = table.concat(codes, ',')
local reduces_flag = reduces and 1 or 0
local o = {
  fp = fingerprint, decision = decision, codes = code_list, reduces = reduces_flag,
  record = replay, inst = instrument, side = side, lots = int(lots),
  open_lots = '0', margin_left = '0', filled_lots = '0', state = 'rejected',
  expires = int(expires_at), idem = int(now + window),
}
if decision == 'accept' then
  if not reduces then reserved_margin = margin end
  redis.call('HINCRBY', risk, side_field(side) .. instrument, int(lots))
  redis.call('HINCRBY', risk, 'm_res', int(reserved_margin))
  redis.call('ZADD', open, int(expires_at), order_id)
  redis.call('ZADD', expiry, int(expires_at), account .. '|' .. order_id)
  o.open_lots, o.margin_left, o.state = int(lots), int(reserved_margin), 'open'
  local lifetime = math.max(window, expires_at - now + SWEEP_GRACE_MS)
  redis.call('SET', order_key, cjson.encode(o), 'PX', int(lifetime))
else
  finish(order_key, o, now)
end
redis.call('XADD', stream, '*', 'd', record, 'decision', decision, 'codes', code_list,
  'reduces', int(reduces_flag))
return {'new', decision, code_list, tostring(reduces_flag), ''}

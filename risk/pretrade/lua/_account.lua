-- Shared by account_step.lua and order_step.lua (prepended by risk/pretrade/steps.py, after
-- _orders.lua): the pre-trade check's decision for one account (DESIGN.md "The hot path").
-- The account's keys share its cluster slot (hash tag {acct:<bucket>}): the risk hash, the
-- order's record, its open orders, its kill switch, the bucket's "synced" flag, decision
-- stream, policy hash and expiry index. Reads, checks, reservation, idempotency record and
-- the durable decision record happen in one step, so no interleaving can exceed a limit.
-- Numbers are integers (lots, micro-units of the quote currency): Lua doubles stay exact.
--
-- KEYS: 1 risk hash, 2 order record, 3 open orders (zset), 4 kill key, 5 synced flag,
--       6 decision stream, 7 policy hash, 8 the bucket's expiry index (zset)
-- ARGV: 1 now_ms, 2 order_id, 3 fingerprint, 4 instrument, 5 side, 6 lots, 7 margin,
--       8 max_position_lots, 9 must_reduce, 10 reduce_only, 11 stateless_reject,
--       12 rate_interval_ms, 13 rate_burst, 14 expires_ms, 15 record json,
--       16 open interest (the step's own: see each step), 17 idempotency window ms,
--       18 account id, 19 the account's key prefix, 20..22 the rules, instruments and
--       sessions versions the stateless stage used, 23 the account's facts version used,
--       24 the answer's parts kept for a repeat of the order (a subset of the record)
-- Replies: {status, decision, codes, reduces, stored record or announced versions}
--   status: new | duplicate | conflict | unsynced | unpublished | stale (and order_step's
--   market)

-- What is answered before anything is decided: an unsynced bucket, a repeat (or a
-- conflicting reuse) of the order id, policy versions newer than the stateless stage used.
local function answered_before_deciding()
  if redis.call('EXISTS', KEYS[5]) == 0 then
    return {'unsynced', 'reject', '', '0', ''}
  end
  local order_key, fingerprint = KEYS[2], ARGV[3]
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
  local account = ARGV[18]
  local announced = redis.call('HMGET', KEYS[7], 'r', 'i', 's', 'a:' .. account)
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
  return nil
end

-- The decision. ``open_interest`` is the step's: ``verdict()`` ('exceeded' refuses an order
-- that adds exposure), asked only of such an order, and ``keep()``, called when it is
-- accepted (it holds its reservation from then on).
local function decide(open_interest)
  local risk, order_key, open, kill, stream, expiry =
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[8]
  local now = tonumber(ARGV[1])
  local order_id, fingerprint, instrument, side = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  local lots, margin, max_lots = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  local must_reduce, reduce_only = ARGV[9] == '1', ARGV[10] == '1'
  local stateless_reject = ARGV[11] == '1'
  local interval, burst, expires_at = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
  local record, window = ARGV[15], tonumber(ARGV[17])
  local account, prefix, replay = ARGV[18], ARGV[19], ARGV[24]

  -- Release this account's expired reservations first, so a check is exact at any instant.
  local expired = redis.call('ZRANGEBYSCORE', open, '-inf', now, 'LIMIT', 0, 32)
  for _, expired_id in ipairs(expired) do
    release_expired(prefix, account, expired_id, expiry, now)
  end

  local codes = {}
  if redis.call('EXISTS', kill) == 1 then table.insert(codes, 'KILL_SWITCH') end

  -- Everything of the account's risk hash the decision reads, in one call.
  local held = redis.call('HMGET', risk, 'tat', 'p:' .. instrument, 'rb:' .. instrument,
    'rs:' .. instrument, 'collateral', 'm_res', 'm_used')
  local function number(n) return tonumber(held[n] or '0') end

  -- Message rate (GCRA, as go-redis/redis_rate): every new order counts, accepted or not.
  local new_tat = math.max(number(1), now) + interval
  local within_rate = new_tat - now <= burst * interval
  if not within_rate then table.insert(codes, 'RATE_LIMIT') end

  local position, reserved_buy, reserved_sell = number(2), number(3), number(4)

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
    if open_interest.verdict() == 'exceeded' then table.insert(codes, 'OPEN_INTEREST_LIMIT') end
    local free = number(5) - number(6) - number(7)  -- collateral - reserved - used margin
    if margin > free then table.insert(codes, 'INSUFFICIENT_MARGIN') end
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
    if not reduces then
      reserved_margin = margin
      open_interest.keep()
    end
    -- The rate, the side's reservation and the margin reserved, from the values read above
    -- (nothing else writes them during this step).
    local side_reserved = side == 'buy' and reserved_buy or reserved_sell
    redis.call('HSET', risk, 'tat', int(new_tat), side_field(side) .. instrument,
      int(side_reserved + lots), 'm_res', int(number(6) + reserved_margin))
    redis.call('ZADD', open, int(expires_at), order_id)
    redis.call('ZADD', expiry, int(expires_at), account .. '|' .. order_id)
    o.open_lots, o.margin_left, o.state = int(lots), int(reserved_margin), 'open'
    local lifetime = math.max(window, expires_at - now + SWEEP_GRACE_MS)
    redis.call('SET', order_key, cjson.encode(o), 'PX', int(lifetime))
  else
    if within_rate then redis.call('HSET', risk, 'tat', int(new_tat)) end
    finish(order_key, o, now)
  end
  redis.call('XADD', stream, '*', 'd', record, 'decision', decision, 'codes', code_list,
    'reduces', int(reduces_flag))
  return {'new', decision, code_list, tostring(reduces_flag), ''}
end

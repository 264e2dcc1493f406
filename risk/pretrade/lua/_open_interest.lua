-- Shared by the steps that keep an instrument's open interest (prepended by
-- risk/pretrade/steps.py): the platform-wide sum of abs(positions) in lots, ``filled`` +
-- ``reserved`` in the instrument's ``oi`` hash, which must never pass the instrument's cap.
-- A reservation (field ``r:<account>|<order>``) lapses with its order (the ``oi_expiry``
-- index): lapsed ones are released before a verdict they could change, so the cap is exact
-- at any instant, and by the sweeper (expire_open_interest.lua) in any case.

-- Release at most ``limit`` reservations lapsed by ``now``; returns how many.
local function release_lapsed_open_interest(oi, oi_expiry, now, limit)
  local lapsed = redis.call('ZRANGEBYSCORE', oi_expiry, '-inf', now, 'LIMIT', 0, limit)
  for _, reservation in ipairs(lapsed) do
    local held = tonumber(redis.call('HGET', oi, 'r:' .. reservation) or '0')
    if held > 0 then redis.call('HINCRBY', oi, 'reserved', string.format('%d', -held)) end
    redis.call('HDEL', oi, 'r:' .. reservation)
    redis.call('ZREM', oi_expiry, reservation)
  end
  return #lapsed
end

-- Whether ``lots`` more fit under ``cap``: 'room', 'exceeded', or 'held' (this reservation
-- exists already), and the reserved total it judged by. Reserves nothing. Lapsed
-- reservations are released first only when they would make the difference: below the cap
-- they change nothing.
local function open_interest_verdict(oi, oi_expiry, reservation, lots, cap, now)
  local held = redis.call('HMGET', oi, 'r:' .. reservation, 'filled', 'reserved')
  local filled, reserved = tonumber(held[2] or '0'), tonumber(held[3] or '0')
  if held[1] then return 'held', reserved end
  if filled + reserved + lots <= cap then return 'room', reserved end
  release_lapsed_open_interest(oi, oi_expiry, now, 32)
  reserved = tonumber(redis.call('HGET', oi, 'reserved') or '0')
  if filled + reserved + lots > cap then return 'exceeded', reserved end
  return 'room', reserved
end

-- Reserve ``lots`` on top of ``reserved`` (what the verdict judged by, in the same step).
local function reserve_open_interest(oi, oi_expiry, reservation, lots, expires_at, reserved)
  redis.call('HSET', oi, 'reserved', string.format('%d', reserved + lots),
    'r:' .. reservation, string.format('%d', lots))
  redis.call('ZADD', oi_expiry, string.format('%d', expires_at), reservation)
end

-- The pre-trade check's step in the instrument's slot (hash tag {inst:<symbol>}): read the
-- market hash (state, reference, band inputs, kill switch) and tentatively reserve
-- open interest for an order that may add exposure. The account step decides whether the
-- order really adds exposure; a reservation that turns out unneeded is released after.
-- Open interest is the platform-wide sum of abs(positions) in lots: filled + reserved must
-- never exceed the cap, so a reservation is refused rather than granted past it.
-- A reservation lapses with its order (the expiry index): lapsed ones are released here
-- first, so the cap is exact at any instant, and by the sweeper when nobody trades.
--
-- KEYS: 1 market hash, 2 open-interest hash, 3 open-interest expiry index (zset)
-- ARGV: 1 reservation id (account|order), 2 lots (0: no reservation), 3 cap in lots,
--       4 now_ms, 5 the order's expiry (ms), 6.. the market-hash fields to return
-- Returns: {open_interest, the values of those fields}; open_interest is "ok" (reserved
--   now), "held" (this order's reservation already exists), "exceeded" or "none"

local market, oi, oi_expiry = KEYS[1], KEYS[2], KEYS[3]
local reservation, lots, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, expires_at = tonumber(ARGV[4]), ARGV[5]

local function int(n) return string.format('%d', n) end

for _, lapsed in ipairs(redis.call('ZRANGEBYSCORE', oi_expiry, '-inf', now, 'LIMIT', 0, 32)) do
  local held = tonumber(redis.call('HGET', oi, 'r:' .. lapsed) or '0')
  if held > 0 then redis.call('HINCRBY', oi, 'reserved', int(-held)) end
  redis.call('HDEL', oi, 'r:' .. lapsed)
  redis.call('ZREM', oi_expiry, lapsed)
end

local verdict = 'none'
if lots > 0 then
  if redis.call('HEXISTS', oi, 'r:' .. reservation) == 1 then
    verdict = 'held'
  else
    local filled = tonumber(redis.call('HGET', oi, 'filled') or '0')
    local reserved = tonumber(redis.call('HGET', oi, 'reserved') or '0')
    if filled + reserved + lots > cap then
      verdict = 'exceeded'
    else
      redis.call('HINCRBY', oi, 'reserved', int(lots))
      redis.call('HSET', oi, 'r:' .. reservation, int(lots))
      redis.call('ZADD', oi_expiry, expires_at, reservation)
      verdict = 'ok'
    end
  end
end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields == 0 then return {verdict, {}} end
return {verdict, redis.call('HMGET', market, unpack(fields))}

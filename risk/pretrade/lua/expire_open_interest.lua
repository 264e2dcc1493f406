-- The sweeper's release of lapsed open-interest reservations of one instrument.
-- KEYS: 1 open-interest hash, 2 its expiry index.  ARGV: 1 now_ms, 2 most to release
-- Returns: how many were released
local function int(n) return string.format('%d', n) end
local oi, oi_expiry = KEYS[1], KEYS[2]
local lapsed = redis.call('ZRANGEBYSCORE', oi_expiry, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, reservation in ipairs(lapsed) do
  local held = tonumber(redis.call('HGET', oi, 'r:' .. reservation) or '0')
  if held > 0 then redis.call('HINCRBY', oi, 'reserved', int(-held)) end
  redis.call('HDEL', oi, 'r:' .. reservation)
  redis.call('ZREM', oi_expiry, reservation)
end
return #lapsed

-- Release (all or part of) an open-interest reservation, idempotently.
-- KEYS: 1 open-interest hash, 2 its expiry index.
-- ARGV: 1 reservation id, 2 lots to release (-1: all),
--       3 change of filled open interest (signed lots; 0 for a plain release)
local function int(n) return string.format('%d', n) end
local oi, oi_expiry = KEYS[1], KEYS[2]
local field = 'r:' .. ARGV[1]
local held = tonumber(redis.call('HGET', oi, field) or '0')
local release = tonumber(ARGV[2])
if release < 0 or release > held then release = held end
if release > 0 then
  redis.call('HINCRBY', oi, 'reserved', int(-release))
end
if release == held then
  redis.call('HDEL', oi, field)
  redis.call('ZREM', oi_expiry, ARGV[1])
else
  redis.call('HSET', oi, field, int(held - release))
end
local filled_change = tonumber(ARGV[3])
if filled_change ~= 0 then redis.call('HINCRBY', oi, 'filled', int(filled_change)) end
return release

-- Cancel what is left of an order: release its reserved lots and margin. Harmless twice,
-- and harmless after a full fill or an expiry.
-- KEYS: 1 risk hash, 2 orders hash, 3 expiry zset.  ARGV: 1 order_id
-- Returns: {status ("cancelled" | "unknown" | <final state>), released lots, instrument}
local function int(n) return string.format('%d', n) end
local risk, orders, expiry = KEYS[1], KEYS[2], KEYS[3]
local raw = redis.call('HGET', orders, ARGV[1])
if not raw then return {'unknown', '0', ''} end
local o = cjson.decode(raw)
if o.state ~= 'open' then return {o.state, '0', o.inst} end
local lots = tonumber(o.open_lots)
redis.call('HINCRBY', risk, (o.side == 'buy' and 'rb:' or 'rs:') .. o.inst, int(-lots))
redis.call('HINCRBY', risk, 'm_res', int(-tonumber(o.margin_left)))
redis.call('ZREM', expiry, ARGV[1])
o.state, o.open_lots, o.margin_left = 'cancelled', '0', '0'
redis.call('HSET', orders, ARGV[1], cjson.encode(o))
return {'cancelled', int(lots), o.inst}

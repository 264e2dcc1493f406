-- Cancel what is left of an order: release its reserved lots and margin. Harmless twice,
-- and harmless after a full fill or an expiry.
-- KEYS: 1 risk hash, 2 order record, 3 open orders, 4 the bucket's expiry index
-- ARGV: 1 order_id, 2 now_ms, 3 account id
-- Returns: {status ("cancelled" | "unknown" | <final state>), released lots, instrument}
local risk, order_key, open, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local order_id, now, account = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local raw = redis.call('GET', order_key)
if not raw then return {'unknown', '0', ''} end
local o = cjson.decode(raw)
if o.state ~= 'open' then return {o.state, '0', o.inst} end
local lots = tonumber(o.open_lots)
redis.call('HINCRBY', risk, side_field(o.side) .. o.inst, int(-lots))
redis.call('HINCRBY', risk, 'm_res', int(-tonumber(o.margin_left)))
redis.call('ZREM', open, order_id)
redis.call('ZREM', expiry, account .. '|' .. order_id)
o.state, o.open_lots, o.margin_left = 'cancelled', '0', '0'
finish(order_key, o, now)
return {'cancelled', int(lots), o.inst}

-- Apply a fill: move reserved lots into the position and reserved margin into used margin
-- (released in proportion when the fill reduces the position). Idempotent on fill_id for
-- the idempotency window (the fill's record is its own key with that lifetime).
-- KEYS: 1 risk hash, 2 order record, 3 open orders, 4 fill record, 5 the bucket's expiry index
-- ARGV: 1 order_id, 2 fill_id, 3 fill fingerprint, 4 lots, 5 now_ms, 6 idempotency window ms,
--       7 account id
-- Returns: {status, old position, new position, lots left open, instrument,
--           margin charged, margin released} (micro-units; the ledger mirrors them)
local risk, order_key, open, fill_key, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local order_id, fill_id, fingerprint, lots = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now, window, account = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]

local seen = redis.call('GET', fill_key)
if seen then
  local f = cjson.decode(seen)
  if f.fp ~= fingerprint then return {'conflict', f.old, f.new, f.left, f.inst, '0', '0'} end
  return {'duplicate', f.old, f.new, f.left, f.inst, '0', '0'}
end
local raw = redis.call('GET', order_key)
if not raw then return {'unknown', '0', '0', '0', '', '0', '0'} end
local o = cjson.decode(raw)
if o.state ~= 'open' then return {'not_open:' .. o.state, '0', '0', '0', o.inst, '0', '0'} end
local open_lots = tonumber(o.open_lots)
if lots > open_lots then return {'overfill', '0', '0', int(open_lots), o.inst, '0', '0'} end

local inst = o.inst
local sign = (o.side == 'buy') and 1 or -1
local old = tonumber(redis.call('HGET', risk, 'p:' .. inst) or '0')
local new = old + sign * lots

-- Margin: the share of this order's reservation that the fill consumes.
local margin_left = tonumber(o.margin_left)
local take = margin_left
if lots < open_lots then take = math.floor(margin_left * lots / open_lots) end
redis.call('HINCRBY', risk, 'm_res', int(-take))

-- Used margin per instrument: released in proportion to the part of the position closed,
-- charged with the reservation for the part opened.
local used = tonumber(redis.call('HGET', risk, 'mu:' .. inst) or '0')
local closed = 0
if old ~= 0 and (old > 0) ~= (sign > 0) then closed = math.min(lots, math.abs(old)) end
local release = 0
if closed > 0 then
  if closed == math.abs(old) then release = used else release = math.floor(used * closed / math.abs(old)) end
end
local charge = 0
if lots > closed then charge = take end
redis.call('HINCRBY', risk, 'mu:' .. inst, int(charge - release))
redis.call('HINCRBY', risk, 'm_used', int(charge - release))

redis.call('HINCRBY', risk, side_field(o.side) .. inst, int(-lots))
redis.call('HSET', risk, 'p:' .. inst, int(new))
o.open_lots = int(open_lots - lots)
o.margin_left = int(margin_left - take)
o.filled_lots = int(tonumber(o.filled_lots) + lots)
if open_lots - lots == 0 then
  o.state = 'filled'
  redis.call('ZREM', open, order_id)
  redis.call('ZREM', expiry, account .. '|' .. order_id)
  finish(order_key, o, now)
else
  redis.call('SET', order_key, cjson.encode(o), 'KEEPTTL')
end
redis.call('SET', fill_key, cjson.encode({
  fp = fingerprint, old = int(old), new = int(new), left = o.open_lots, inst = inst }),
  'PX', int(window))
return {'filled', int(old), int(new), o.open_lots, inst, int(charge), int(release)}

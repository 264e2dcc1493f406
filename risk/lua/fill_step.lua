-- Apply a fill: move reserved lots into the position and reserved margin into used margin
-- (released in proportion when the fill reduces the position). Idempotent on fill_id.
-- KEYS: 1 risk hash, 2 orders hash, 3 expiry zset, 4 fills hash
-- ARGV: 1 order_id, 2 fill_id, 3 fill fingerprint, 4 lots
-- Returns: {status, old position, new position, lots left open, instrument,
--           margin charged, margin released} (micro-units; the ledger mirrors them)
local function int(n) return string.format('%d', n) end
local risk, orders, expiry, fills = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local order_id, fill_id, fingerprint, lots = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

local seen = redis.call('HGET', fills, fill_id)
if seen then
  local f = cjson.decode(seen)
  if f.fp ~= fingerprint then return {'conflict', f.old, f.new, f.left, f.inst, '0', '0'} end
  return {'duplicate', f.old, f.new, f.left, f.inst, '0', '0'}
end
local raw = redis.call('HGET', orders, order_id)
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

redis.call('HINCRBY', risk, (o.side == 'buy' and 'rb:' or 'rs:') .. inst, int(-lots))
redis.call('HSET', risk, 'p:' .. inst, int(new))
o.open_lots = int(open_lots - lots)
o.margin_left = int(margin_left - take)
o.filled_lots = int(tonumber(o.filled_lots) + lots)
if open_lots - lots == 0 then
  o.state = 'filled'
  redis.call('ZREM', expiry, order_id)
end
redis.call('HSET', orders, order_id, cjson.encode(o))
redis.call('HSET', fills, fill_id, cjson.encode({
  fp = fingerprint, old = int(old), new = int(new), left = o.open_lots, inst = inst }))
return {'filled', int(old), int(new), o.open_lots, inst, int(charge), int(release)}

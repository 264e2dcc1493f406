-- Shared by the order scripts (prepended to each by risk/atomic.py): an order's record and
-- its lifetime. An order's record is its own key, ``<account prefix>o:<order id>``:
-- while open it lives until its expiry (plus a grace for the sweeper); once finished
-- (rejected, filled, cancelled, expired) it lives until its idempotency window ends
-- (``idem``, milliseconds), then Redis drops it (API.md: the idempotency window).

-- Redis turns Lua numbers into strings with %.14g: format integers explicitly.
local function int(n) return string.format('%d', n) end

local function side_field(side) return side == 'buy' and 'rb:' or 'rs:' end

local SWEEP_GRACE_MS = 3600000

-- Lifetimes are durations from ``now`` (PX, not PXAT): the deadlines are the service's
-- clock's, the countdown Redis's own, so a virtual clock in a replay or a test cannot make
-- a record vanish at once or live for years.

-- Store a finished order's record for the rest of its idempotency window (or drop it).
local function finish(order_key, o, now)
  local left = tonumber(o.idem) - now
  if left <= 0 then
    redis.call('DEL', order_key)
  else
    redis.call('SET', order_key, cjson.encode(o), 'PX', int(left))
  end
end

-- Release an open order whose reservation has lapsed; 1 if it was open.
local function release_expired(prefix, account, order_id, expiry, now)
  local order_key = prefix .. 'o:' .. order_id
  redis.call('ZREM', prefix .. 'open', order_id)
  redis.call('ZREM', expiry, account .. '|' .. order_id)
  local raw = redis.call('GET', order_key)
  if not raw then return 0 end
  local o = cjson.decode(raw)
  if o.state ~= 'open' then return 0 end
  local risk = prefix .. 'risk'
  redis.call('HINCRBY', risk, side_field(o.side) .. o.inst, int(-tonumber(o.open_lots)))
  redis.call('HINCRBY', risk, 'm_res', int(-tonumber(o.margin_left)))
  o.state, o.open_lots, o.margin_left = 'expired', '0', '0'
  finish(order_key, o, now)
  return 1
end

-- The pre-trade check's step in the instrument's slot on a Redis Cluster (hash tag
-- {inst:<symbol>}): read the market hash (state, reference, band inputs, kill switch) and
-- tentatively reserve open interest for an order that may add exposure. The account step,
-- in another slot, decides whether the order really adds exposure; a reservation that turns
-- out unneeded is released after. (One Redis needs no tentative reservation: order_step.lua
-- does both in one step.)
--
-- KEYS: 1 market hash, 2 open-interest hash, 3 open-interest expiry index (zset)
-- ARGV: 1 reservation id (account|order), 2 lots (0: no reservation), 3 cap in lots,
--       4 now_ms, 5 the order's expiry (ms), 6.. the market-hash fields to return
-- Returns: {open_interest, the values of those fields}; open_interest is "ok" (reserved
--   now), "held" (this order's reservation already exists), "exceeded" or "none"

local market, oi, oi_expiry = KEYS[1], KEYS[2], KEYS[3]
local reservation, lots, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, expires_at = tonumber(ARGV[4]), ARGV[5]

local verdict = 'none'
if lots > 0 then
  local reserved
  verdict, reserved = open_interest_verdict(oi, oi_expiry, reservation, lots, cap, now)
  if verdict == 'room' then
    reserve_open_interest(oi, oi_expiry, reservation, lots, expires_at, reserved)
    verdict = 'ok'
  end
end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields == 0 then return {verdict, {}} end
return {verdict, redis.call('HMGET', market, unpack(fields))}

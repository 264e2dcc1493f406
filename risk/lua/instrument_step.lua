-- The pre-trade check's step in the instrument's slot (hash tag {inst:<symbol>}): read the
-- market hash (state, reference, band inputs, kill switch) and tentatively reserve
-- open interest for an order that may add exposure. The account step decides whether the
-- order really adds exposure; a reservation that turns out unneeded is released after.
-- Open interest is the platform-wide sum of abs(positions) in lots: filled + reserved must
-- never exceed the cap, so a reservation is refused rather than granted past it.
--
-- KEYS: 1 market hash, 2 open-interest hash
-- ARGV: 1 reservation id (account|order), 2 lots (0: no reservation), 3 cap in lots,
--       4.. the market-hash fields to return (the stored publication)
-- Returns: {open_interest ("ok"|"exceeded"|"none"), the values of those fields}

local market, oi = KEYS[1], KEYS[2]
local reservation, lots, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local verdict = 'none'
if lots > 0 then
  local existing = redis.call('HGET', oi, 'r:' .. reservation)
  if existing then
    verdict = 'ok'
  else
    local filled = tonumber(redis.call('HGET', oi, 'filled') or '0')
    local reserved = tonumber(redis.call('HGET', oi, 'reserved') or '0')
    if filled + reserved + lots > cap then
      verdict = 'exceeded'
    else
      redis.call('HINCRBY', oi, 'reserved', string.format('%d', lots))
      redis.call('HSET', oi, 'r:' .. reservation, string.format('%d', lots))
      verdict = 'ok'
    end
  end
end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields == 0 then return {verdict, {}} end
return {verdict, redis.call('HMGET', market, unpack(fields))}

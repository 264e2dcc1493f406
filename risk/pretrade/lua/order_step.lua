-- The whole pre-trade check's Redis part in one step, on a standalone or Sentinel-watched
-- Redis, where keys of several cluster slots may share a script: the account's decision
-- (_account.lua; KEYS 1-8 and ARGV 1-24 as listed there), the instrument's open interest
-- checked and reserved in the same step (no tentative reservation, nothing to release
-- after), and a check that the market publication and the global kill switch the
-- stateless stage used are still the stored ones.
--
-- The stateless stage ran on this process's copy of the market publication (its
-- ``pub_token``, a token rewritten with every write of the market hash) and on the bucket's
-- copy of the global kill switch as last seen. Either newer here: nothing is decided, and
-- the reply carries the current token, kill switch and publication fields, so the caller
-- judges the order again and sends it again ("market").
--
-- KEYS: 9 market hash, 10 open-interest hash, 11 open-interest expiry index,
--       12 the bucket's copy of the global kill switch
-- ARGV: 16 the open-interest cap in lots, 25 the publication token used ('-': the order
--       names no known instrument), 26 the global kill switch used ('1' engaged, else '0')
-- Replies: as _account.lua; "market": {'market', 'reject', '', '0',
--   {token, kill, field, value, ...}} (the publication fields that are set)

local early = answered_before_deciding()
if early then return early end

local market, oi, oi_expiry = KEYS[9], KEYS[10], KEYS[11]
local token_used, kill_used = ARGV[25], ARGV[26]
local killed = tostring(redis.call('EXISTS', KEYS[12]))
local token = '-'
if token_used ~= '-' then token = redis.call('HGET', market, 'pub_token') or '' end
if token ~= token_used or killed ~= kill_used then
  local current = {token, killed}
  if token_used ~= '-' then
    local values = redis.call('HMGET', market, unpack(PUBLICATION_FIELDS))
    for i, name in ipairs(PUBLICATION_FIELDS) do
      if values[i] then
        current[#current + 1] = name
        current[#current + 1] = values[i]
      end
    end
  end
  return {'market', 'reject', '', '0', current}
end

local now, expires_at = tonumber(ARGV[1]), tonumber(ARGV[14])
local reservation = ARGV[18] .. '|' .. ARGV[2]
local lots, cap = tonumber(ARGV[6]), tonumber(ARGV[16])
local verdict, reserved = 'none', 0
return decide({
  verdict = function()
    if ARGV[10] ~= '1' and lots > 0 then
      verdict, reserved = open_interest_verdict(oi, oi_expiry, reservation, lots, cap, now)
    end
    return verdict
  end,
  keep = function()
    if verdict == 'room' then
      reserve_open_interest(oi, oi_expiry, reservation, lots, expires_at, reserved)
    end
  end,
})

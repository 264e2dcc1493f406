-- The sweeper's release of lapsed orders of one account bucket, so a reservation ends at
-- its expiry even when the account sends nothing more (API.md: an order's own life).
-- KEYS: 1 the bucket's expiry index (members "account|order").
-- ARGV: 1 now_ms, 2 most to release, 3 the bucket's key prefix ("gh:{acct:<b>}:")
-- Returns: how many open orders were released
local expiry, now, bucket_prefix = KEYS[1], tonumber(ARGV[1]), ARGV[3]
local released = 0
for _, member in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local bar = string.find(member, '|', 1, true)
  local account, order_id = string.sub(member, 1, bar - 1), string.sub(member, bar + 1)
  released = released + release_expired(bucket_prefix .. account .. ':', account, order_id, expiry, now)
end
return released

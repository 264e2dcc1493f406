-- Raise version fields of a policy hash, never lowering one: announcements of writes may
-- arrive out of order, and a version only ever grows (core/policy.py).
-- KEYS: 1 policy hash.  ARGV: field, value, field, value, ...
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > current then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1

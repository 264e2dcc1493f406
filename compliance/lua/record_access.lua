-- The access check's one round trip: confirm that the rulebook and the account's facts it
-- decided with are at least as new as every acknowledged change (core/policy.py), then
-- append the decision to its bucket's durable stream. Both keys share the bucket's slot.
--
-- KEYS: 1 the bucket's policy hash, 2 the bucket's access-decision stream
-- ARGV: 1 rules version used, 2 account field ('' for an anonymous visitor),
--       3 the account's facts version used, 4 the decision record (JSON)
-- Returns: {'ok'} | {'unpublished'} | {'stale', {field, announced, ...}}
local policy, stream = KEYS[1], KEYS[2]
local account_field = ARGV[2]
local announced
if account_field == '' then
  announced = redis.call('HMGET', policy, 'r')
else
  announced = redis.call('HMGET', policy, 'r', account_field)
end
if not announced[1] then return {'unpublished'} end
local newer = {}
if tonumber(announced[1]) > tonumber(ARGV[1]) then
  newer[#newer + 1] = 'r'
  newer[#newer + 1] = announced[1]
end
if account_field ~= '' and announced[2] and tonumber(announced[2]) > tonumber(ARGV[3]) then
  newer[#newer + 1] = account_field
  newer[#newer + 1] = announced[2]
end
if #newer > 0 then return {'stale', newer} end
redis.call('XADD', stream, '*', 'd', ARGV[4])
return {'ok'}

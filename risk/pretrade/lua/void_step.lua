-- Void an accepted order whose write the replicas did not confirm in time (REDIS_MIN_REPLICAS,
-- risk/pretrade/check.py): its reservation is released, its record becomes the reject the
-- client was answered (DEGRADED_FAIL_CLOSED), so a repeat of the order answers the same,
-- and the decision stream gets the corrected decision (``void``), which the drain stores over
-- the accept. Harmless twice; a record that is gone (never replicated) still gets the entry.
-- KEYS: 1 risk hash, 2 order record, 3 open orders, 4 the bucket's expiry index,
--       5 decision stream
-- ARGV: 1 order_id, 2 fingerprint, 3 account id, 4 now_ms, 5 drained record json,
--       6 replayed parts json, 7 idempotency window end (ms)
-- Returns: {status ("voided" | "absent" | "other"), instrument}
local risk, order_key, open, expiry, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local order_id, fingerprint, account, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local record, replay, idem = ARGV[5], ARGV[6], ARGV[7]
local raw = redis.call('GET', order_key)
local instrument = ''
if raw then
  local o = cjson.decode(raw)
  if o.fp ~= fingerprint then return {'other', ''} end
  if o.state == 'voided' then return {'voided', o.inst} end
  instrument = o.inst
  if o.state == 'open' then
    redis.call('HINCRBY', risk, side_field(o.side) .. o.inst, int(-tonumber(o.open_lots)))
    redis.call('HINCRBY', risk, 'm_res', int(-tonumber(o.margin_left)))
    redis.call('ZREM', open, order_id)
    redis.call('ZREM', expiry, account .. '|' .. order_id)
  end
  o.state, o.open_lots, o.margin_left = 'voided', '0', '0'
  o.decision, o.codes, o.reduces, o.record = 'reject', '', 0, replay
  finish(order_key, o, now)
else
  redis.call('SET', order_key, cjson.encode({
    fp = fingerprint, decision = 'reject', codes = '', reduces = 0, record = replay,
    inst = '', side = '', lots = '0', open_lots = '0', margin_left = '0', filled_lots = '0',
    state = 'voided', expires = int(now), idem = idem,
  }), 'PX', int(math.max(tonumber(idem) - now, 1)))
end
redis.call('XADD', stream, '*', 'd', record, 'decision', 'reject', 'codes', '',
  'reduces', 0, 'void', 1)
return {raw and 'voided' or 'absent', instrument}

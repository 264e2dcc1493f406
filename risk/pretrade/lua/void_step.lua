-- Void an order the client was answered DEGRADED_FAIL_CLOSED for although its account step
-- may have accepted it: an accept whose write the replicas did not confirm in time
-- (REDIS_MIN_REPLICAS, risk/pretrade/check.py), or a step whose reply never came back (a
-- reset connection, a primary killed mid-answer: risk/pretrade/in_doubt.py). Its reservation
-- is released, its record becomes the reject the client was answered, so a repeat of the
-- order answers the same, and the decision stream gets the corrected decision (``void``),
-- which the drain stores over the accept. Harmless twice; a record that is gone (never
-- replicated, never applied) still gets the entry.
-- In doubt (ARGV 8 not empty) only the very attempt that went unanswered is voided: a record
-- written by another attempt (its replayed parts differ) or one a repeat of the order has
-- since answered (``acked``, set by account_step.lua) was acknowledged and is kept.
-- KEYS: 1 risk hash, 2 order record, 3 open orders, 4 the bucket's expiry index,
--       5 decision stream
-- ARGV: 1 order_id, 2 fingerprint, 3 account id, 4 now_ms, 5 drained record json,
--       6 replayed parts json, 7 idempotency window end (ms), 8 in doubt: the replayed parts
--       the unanswered attempt stored ('' for an unconfirmed accept)
-- Returns: {status ("voided" | "absent" | "other" | "kept"), instrument}
local risk, order_key, open, expiry, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local order_id, fingerprint, account, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local record, replay, idem, attempt = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local raw = redis.call('GET', order_key)
local instrument = ''
if raw then
  local o = cjson.decode(raw)
  if o.fp ~= fingerprint then return {'other', ''} end
  if o.state == 'voided' then return {'voided', o.inst} end
  if attempt ~= '' and (o.acked or o.record ~= attempt) then return {'kept', o.inst} end
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
